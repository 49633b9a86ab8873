import { api, call } from '../../api/client';

export const segmentsQuery = (projectId: string) => ({
  queryKey: ['segments', projectId],
  queryFn: () => call(api.GET('/api/projects/{projectId}/segments', { params: { path: { projectId } } })),
});
