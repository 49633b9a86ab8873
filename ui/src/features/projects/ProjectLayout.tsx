import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { api, call } from '../../api/client';
import { ErrorNote, Loading } from '../../app/controls';
import { Link, navigate, useLocation, withQuery } from '../../app/router';
import { ProjectContext, type ProjectScope } from './ProjectContext';

const tabs = [
  ['flags', 'Flags'],
  ['segments', 'Segments'],
  ['environments', 'Environments'],
  ['members', 'Members'],
  ['audit', 'Audit log'],
] as const;

export function useEnvironments(projectId: string) {
  return useQuery({
    queryKey: ['environments', projectId],
    queryFn: () => call(api.GET('/api/projects/{projectId}/environments', { params: { path: { projectId } } })),
  });
}

// A project's pages share its header: name, the caller's role, the environment they look at
// (kept in the address, ?env=, so a link or a reload shows the same), and the tabs.
export function ProjectLayout({ projectId, tab, children }: { projectId: string; tab: string; children: ReactNode }) {
  const { path, query } = useLocation();
  const project = useQuery({
    queryKey: ['project', projectId],
    queryFn: () => call(api.GET('/api/projects/{projectId}', { params: { path: { projectId } } })),
  });
  const environments = useEnvironments(projectId);

  if (project.error || environments.error) return <main className="page"><ErrorNote error={project.error ?? environments.error} /></main>;
  if (!project.data || !environments.data) return <main className="page"><Loading what="the project" /></main>;

  const list = environments.data;
  const wanted = query.get('env');
  const env = list.find((e) => e.key === wanted)?.key ?? list.find((e) => e.is_default)?.key ?? list[0]?.key ?? 'production';
  const role = project.data.role;
  const scope: ProjectScope = {
    project: project.data,
    environments: list,
    env,
    canEdit: role === 'owner' || role === 'editor',
    isOwner: role === 'owner',
    href: (tail, e = env) => withQuery(`/projects/${projectId}/${tail}`, { env: e }),
  };
  const chooseEnvironment = (key: string) => navigate(withQuery(path, { ...Object.fromEntries(query), env: key }), { replace: true });

  return (
    <ProjectContext.Provider value={scope}>
      <div className="project-head">
        <div className="project-title">
          <Link href="/" className="muted">Projects</Link> /
          <h1>{project.data.name}</h1>
          <span className={`badge ${role}`} title="Your role in this project">{role}</span>
        </div>
        <div className="field inline">
          <label htmlFor="environment">Environment</label>
          <select id="environment" value={env} onChange={(e) => chooseEnvironment(e.target.value)}>
            {list.map((e) => <option key={e.id} value={e.key}>{e.name} ({e.key})</option>)}
          </select>
        </div>
      </div>
      <nav className="tabs" aria-label="Project">
        {tabs.map(([key, text]) => (
          <Link key={key} href={scope.href(key)} aria-current={tab === key ? 'page' : undefined}>{text}</Link>
        ))}
      </nav>
      {role === 'viewer' && <p className="notice" role="note">You are a viewer in this project: everything is read-only.</p>}
      <main className="page">{children}</main>
    </ProjectContext.Provider>
  );
}
