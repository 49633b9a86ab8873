import { createContext, useContext } from 'react';
import type { Schemas } from '../../api/client';

export type ProjectScope = {
  project: Schemas['ProjectResponse'];
  environments: Schemas['EnvironmentResponse'][];
  env: string;
  // Write controls follow the caller's role; the API enforces it regardless.
  canEdit: boolean;
  isOwner: boolean;
  href: (tail: string, env?: string) => string;
};

export const ProjectContext = createContext<ProjectScope | null>(null);

export function useProject(): ProjectScope {
  const scope = useContext(ProjectContext);
  if (!scope) throw new Error('useProject outside a project page');
  return scope;
}
