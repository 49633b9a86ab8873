import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../../api/client';
import { ConfirmButton, CopyButton, ErrorNote, FormActions, Loading, SelectField, TextField, fieldError } from '../../app/controls';
import { projectsQuery } from '../projects/ProjectsPage';

const when = (t: string | null) => (t ? new Date(t).toLocaleString() : '—');

export function TokensPage() {
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: () => call(api.GET('/api/tokens')) });
  const projects = useQuery(projectsQuery);
  const [created, setCreated] = useState<Schemas['CreatedTokenResponse'] | null>(null);
  const projectName = (id: string | null) => (id ? projects.data?.find((p) => p.id === id)?.name ?? id : 'all your projects');
  return (
    <main className="page">
      <h1>API tokens</h1>
      <p className="muted">For CI and scripts: a token acts as you, capped at its role and, when set, at one project.</p>
      <NewToken projects={projects.data ?? []} onCreated={setCreated} />
      {created && (
        <section className="panel keys" role="region" aria-label="New token">
          <p>Copy the token now: it is shown only this once.</p>
          <code>{created.token}</code> <CopyButton value={created.token} label="Copy the token" />
          <button type="button" onClick={() => setCreated(null)}>Done</button>
        </section>
      )}
      {tokens.isPending ? <Loading what="tokens" /> : <ErrorNote error={tokens.error} />}
      {tokens.data?.length === 0 && <p className="muted">No tokens.</p>}
      <table>
        <thead><tr><th>Name</th><th>Prefix</th><th>Role</th><th>Project</th><th>Expires</th><th>Last used</th><th></th></tr></thead>
        <tbody>
          {tokens.data?.map((t) => (
            <tr key={t.id}>
              <td>{t.name}</td><td><code>{t.prefix}…</code></td><td>{t.role}</td><td>{projectName(t.project_id)}</td>
              <td>{when(t.expires_at)}</td><td>{when(t.last_used_at)}</td>
              <td><Revoke id={t.id} name={t.name} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}

function Revoke({ id, name }: { id: string; name: string }) {
  const queries = useQueryClient();
  const revoke = useMutation({
    mutationFn: () => call(api.DELETE('/api/tokens/{tokenId}', { params: { path: { tokenId: id } } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['tokens'] }),
  });
  return (
    <>
      <ConfirmButton label="Revoke" confirmLabel="Revoke token" question={`Revoke ${name}?`} onConfirm={() => revoke.mutate()} />
      <ErrorNote error={revoke.error} />
    </>
  );
}

function NewToken({ projects, onCreated }: { projects: Schemas['ProjectResponse'][]; onCreated: (t: Schemas['CreatedTokenResponse']) => void }) {
  const queries = useQueryClient();
  const [name, setName] = useState('');
  const [role, setRole] = useState('editor');
  const [projectId, setProjectId] = useState('');
  const [expires, setExpires] = useState('');
  const create = useMutation({
    mutationFn: () => call(api.POST('/api/tokens', {
      body: { name, role, project_id: projectId || undefined, expires_at: expires ? new Date(expires).toISOString() : undefined },
    })),
    onSuccess: async (t) => { setName(''); onCreated(t); await queries.invalidateQueries({ queryKey: ['tokens'] }); },
  });
  const error = (f: string) => fieldError(create.error, f);
  const submit = (e: FormEvent) => { e.preventDefault(); create.mutate(); };
  return (
    <form className="panel grid3" onSubmit={submit} aria-label="New token">
      <TextField label="Token name" value={name} onChange={(e) => setName(e.target.value)} error={error('name')} />
      <SelectField label="Role" value={role} options={['viewer', 'editor', 'owner']} onChange={(e) => setRole(e.target.value)} error={error('role')} />
      <SelectField label="Project" value={projectId} options={[['', 'all my projects'], ...projects.map((p): [string, string] => [p.id, p.name])]}
        onChange={(e) => setProjectId(e.target.value)} error={error('project_id')} />
      <TextField label="Expires" type="date" value={expires} onChange={(e) => setExpires(e.target.value)} error={error('expires_at')} />
      <ErrorNote error={create.error} />
      <FormActions submit="Create token" pending={create.isPending} />
    </form>
  );
}
