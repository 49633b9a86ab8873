import { api, call } from '../../api/client';

export const flagsKey = (projectId: string, env: string) => ['flags', projectId, env];
export const flagKey = (projectId: string, env: string, flagId: string) => ['flag', projectId, env, flagId];

export const flagsQuery = (projectId: string, env: string) => ({
  queryKey: flagsKey(projectId, env),
  queryFn: () => call(api.GET('/api/projects/{projectId}/environments/{env}/flags', { params: { path: { projectId, env } } })),
});

export const flagQuery = (projectId: string, env: string, flagId: string) => ({
  queryKey: flagKey(projectId, env, flagId),
  queryFn: () => call(api.GET('/api/projects/{projectId}/environments/{env}/flags/{flagId}', { params: { path: { projectId, env, flagId } } })),
});

export const toggleFlag = (projectId: string, env: string, flagId: string) =>
  call(api.POST('/api/projects/{projectId}/environments/{env}/flags/{flagId}/toggle', { params: { path: { projectId, env, flagId } } }));
