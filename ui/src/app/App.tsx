import type { ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call, session, signInPath } from '../api/client';
import { ForgotPassword } from '../features/auth/ForgotPassword';
import { Register } from '../features/auth/Register';
import { ResetPassword } from '../features/auth/ResetPassword';
import { SignIn } from '../features/auth/SignIn';
import { AuditPage } from '../features/audit/AuditPage';
import { EnvironmentsPage } from '../features/environments/EnvironmentsPage';
import { FlagPage } from '../features/flags/FlagPage';
import { FlagsPage } from '../features/flags/FlagsPage';
import { MembersPage } from '../features/members/MembersPage';
import { ProjectLayout } from '../features/projects/ProjectLayout';
import { ProjectsPage } from '../features/projects/ProjectsPage';
import { SegmentsPage } from '../features/segments/SegmentsPage';
import { TokensPage } from '../features/tokens/TokensPage';
import { Link, Redirect, match, navigate, useLocation } from './router';

const publicPages: Record<string, () => ReactNode> = {
  '/sign-in': () => <SignIn />,
  '/register': () => <Register />,
  '/forgot-password': () => <ForgotPassword />,
  '/reset-password': () => <ResetPassword />,
};

const projectPages: [pattern: string, tab: string, page: (p: Record<string, string>) => ReactNode][] = [
  ['/projects/:projectId/flags', 'flags', () => <FlagsPage />],
  ['/projects/:projectId/flags/:flagId', 'flags', (p) => <FlagPage flagId={p.flagId!} />],
  ['/projects/:projectId/segments', 'segments', () => <SegmentsPage />],
  ['/projects/:projectId/environments', 'environments', () => <EnvironmentsPage />],
  ['/projects/:projectId/members', 'members', () => <MembersPage />],
  ['/projects/:projectId/audit', 'audit', () => <AuditPage />],
];

export function App() {
  const { path } = useLocation();
  const publicPage = publicPages[path];
  const signedIn = session.token() !== null;

  if (publicPage) return publicPage();
  if (!signedIn) return <Redirect to={signInPath()} />;
  return <SignedIn path={path} />;
}

function SignedIn({ path }: { path: string }) {
  return (
    <>
      <Header />
      <Route path={path} />
    </>
  );
}

function Route({ path }: { path: string }) {
  if (path === '/' || path === '/projects') return <ProjectsPage />;
  if (path === '/tokens') return <TokensPage />;
  for (const [pattern, tab, page] of projectPages) {
    const params = match(pattern, path);
    if (params) {
      return <ProjectLayout key={params.projectId} projectId={params.projectId!} tab={tab}>{page(params)}</ProjectLayout>;
    }
  }
  const project = match('/projects/:projectId', path);
  if (project) return <Redirect to={`/projects/${project.projectId}/flags`} />;
  return (
    <main className="page">
      <h1>Not found</h1>
      <p>There is no page at {path}. <Link href="/">Back to the projects</Link></p>
    </main>
  );
}

function Header() {
  const queries = useQueryClient();
  const me = useQuery({ queryKey: ['me'], queryFn: () => call(api.GET('/api/me')) });
  const signOut = () => {
    session.end();
    queries.clear();
    navigate('/sign-in');
  };
  return (
    <header className="top">
      <Link href="/" className="brand">FlagService</Link>
      <nav aria-label="Main">
        <Link href="/">Projects</Link>
        <Link href="/tokens">API tokens</Link>
      </nav>
      <span className="me">{me.data?.email}</span>
      <button type="button" onClick={signOut}>Sign out</button>
    </header>
  );
}
