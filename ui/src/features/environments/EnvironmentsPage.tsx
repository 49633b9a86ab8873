import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../../api/client';
import { ConfirmButton, CopyButton, ErrorNote, FormActions, SelectField, TextField, fieldError } from '../../app/controls';
import { useProject } from '../projects/ProjectContext';

type Environment = Schemas['EnvironmentResponse'];

const mask = (key: string | null) => (key ? `${key.slice(0, 8)}…` : '—');

export function EnvironmentsPage() {
  const { environments, isOwner } = useProject();
  const [creating, setCreating] = useState(false);
  // Keys are shown in full once, right after they are made; the list shows their prefix.
  const [fresh, setFresh] = useState<Environment | null>(null);
  return (
    <>
      <div className="page-head">
        <h2>Environments</h2>
        {isOwner && <button type="button" className="primary" onClick={() => setCreating(true)} aria-expanded={creating}>New environment</button>}
      </div>
      {creating && <NewEnvironment onCreated={(e) => { setCreating(false); setFresh(e); }} onCancel={() => setCreating(false)} />}
      {fresh && <FreshKeys environment={fresh} onClose={() => setFresh(null)} />}
      <ul className="cards">
        {environments.map((e) => <EnvironmentCard key={e.id} environment={e} onKeys={setFresh} />)}
      </ul>
      <CopyState />
    </>
  );
}

function useRefresh() {
  const { project } = useProject();
  const queries = useQueryClient();
  return async () => {
    await queries.invalidateQueries({ queryKey: ['environments', project.id] });
    await queries.invalidateQueries({ queryKey: ['project', project.id] });
  };
}

function FreshKeys({ environment, onClose }: { environment: Environment; onClose: () => void }) {
  return (
    <section className="panel keys" role="region" aria-label={`Keys of ${environment.key}`}>
      <h3>Keys of {environment.key}</h3>
      <p>Copy them now: they are shown in full only this once.</p>
      <dl>
        <dt>SDK key (for browsers and apps)</dt>
        <dd><code>{environment.sdk_key}</code> <CopyButton value={environment.sdk_key} label={`Copy the SDK key of ${environment.key}`} /></dd>
        {environment.server_key && (
          <>
            <dt>Server key (secret, for backends)</dt>
            <dd><code>{environment.server_key}</code> <CopyButton value={environment.server_key} label={`Copy the server key of ${environment.key}`} /></dd>
          </>
        )}
      </dl>
      <button type="button" onClick={onClose}>Done</button>
    </section>
  );
}

function NewEnvironment({ onCreated, onCancel }: { onCreated: (e: Environment) => void; onCancel: () => void }) {
  const { project, environments } = useProject();
  const refresh = useRefresh();
  const [key, setKey] = useState('');
  const [name, setName] = useState('');
  const [copyFrom, setCopyFrom] = useState('');
  const create = useMutation({
    mutationFn: () => call(api.POST('/api/projects/{projectId}/environments', {
      params: { path: { projectId: project.id } }, body: { key, name, copy_from: copyFrom || undefined },
    })),
    onSuccess: async (e) => { await refresh(); onCreated(e); },
  });
  const submit = (e: FormEvent) => { e.preventDefault(); create.mutate(); };
  return (
    <form className="panel" onSubmit={submit} aria-label="New environment">
      <div className="grid3">
        <TextField label="Key" value={key} onChange={(e) => setKey(e.target.value)} error={fieldError(create.error, 'key')} autoFocus />
        <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} error={fieldError(create.error, 'name')} />
        <SelectField label="Start from" value={copyFrom} error={fieldError(create.error, 'copy_from')}
          options={[['', 'every flag off'], ...environments.map((e): [string, string] => [e.key, `a copy of ${e.key}`])]} onChange={(e) => setCopyFrom(e.target.value)} />
      </div>
      <ErrorNote error={create.error} />
      <FormActions submit="Create" pending={create.isPending} onCancel={onCancel} />
    </form>
  );
}

function EnvironmentCard({ environment: e, onKeys }: { environment: Environment; onKeys: (e: Environment) => void }) {
  const { project, isOwner } = useProject();
  const refresh = useRefresh();
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(e.name);
  const path = { projectId: project.id, env: e.key };
  const update = useMutation({
    mutationFn: (body: Schemas['UpdateEnvironmentRequest']) => call(api.PUT('/api/projects/{projectId}/environments/{env}', { params: { path }, body })),
    onSuccess: async () => { await refresh(); setRenaming(false); },
  });
  const regenerate = useMutation({
    mutationFn: () => call(api.POST('/api/projects/{projectId}/environments/{env}/regenerate-keys', { params: { path } })),
    onSuccess: async (fresh) => { await refresh(); onKeys(fresh); },
  });
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/api/projects/{projectId}/environments/{env}', { params: { path } })),
    onSuccess: refresh,
  });
  return (
    <li className="card" aria-label={`Environment ${e.key}`}>
      {renaming ? (
        <form onSubmit={(ev) => { ev.preventDefault(); update.mutate({ name }); }}>
          <TextField label="Name" value={name} onChange={(ev) => setName(ev.target.value)} error={fieldError(update.error, 'name')} autoFocus />
          <FormActions submit="Save" onCancel={() => setRenaming(false)} />
        </form>
      ) : (
        <h3>{e.name} <code>{e.key}</code> {e.is_default && <span className="badge on">default</span>}</h3>
      )}
      <EnvironmentKeys environment={e} />
      {isOwner && !renaming && (
        <div className="actions">
          <button type="button" onClick={() => setRenaming(true)} aria-label={`Rename ${e.key}`}>Rename</button>
          {!e.is_default && <button type="button" onClick={() => update.mutate({ is_default: true })}>Make default</button>}
          <ConfirmButton label="Regenerate keys" confirmLabel="Regenerate" question={`The current keys of ${e.key} stop working at once. Go on?`} onConfirm={() => regenerate.mutate()} />
          {!e.is_default && <ConfirmButton label="Delete" confirmLabel="Delete environment" question={`Delete ${e.key} and its flag states?`} onConfirm={() => remove.mutate()} />}
        </div>
      )}
      <ErrorNote error={update.error ?? regenerate.error ?? remove.error} />
    </li>
  );
}

// Owners and editors may reveal and copy the keys the API gives them (the server key to owners
// only); viewers see the prefixes. Shown in full only on request, so a shared screen keeps them.
function EnvironmentKeys({ environment: e }: { environment: Environment }) {
  const { canEdit } = useProject();
  const [revealed, setRevealed] = useState(false);
  const show = (key: string | null) => (revealed && canEdit ? key ?? '—' : mask(key));
  return (
    <div className="env-keys">
      <p>
        SDK key <code aria-label={`SDK key of ${e.key}`}>{show(e.sdk_key)}</code>
        {canEdit && <CopyButton value={e.sdk_key} label={`Copy SDK key of ${e.key}`} />}
      </p>
      {e.server_key && (
        <p>
          Server key <code aria-label={`Server key of ${e.key}`}>{show(e.server_key)}</code>
          {canEdit && <CopyButton value={e.server_key} label={`Copy server key of ${e.key}`} />}
        </p>
      )}
      {canEdit && (
        <button type="button" aria-pressed={revealed} onClick={() => setRevealed(!revealed)} aria-label={`Reveal keys of ${e.key}`}>
          {revealed ? 'Hide keys' : 'Reveal keys'}
        </button>
      )}
    </div>
  );
}

function CopyState() {
  const { project, environments, canEdit } = useProject();
  const queries = useQueryClient();
  const [source, setSource] = useState(environments[1]?.key ?? '');
  const [target, setTarget] = useState(environments[0]?.key ?? '');
  const [keys, setKeys] = useState('');
  const copy = useMutation({
    mutationFn: () => call(api.POST('/api/projects/{projectId}/environments/{env}/copy-from/{source}', {
      params: { path: { projectId: project.id, env: target, source } },
      body: { flag_keys: keys.trim() ? keys.split(',').map((k) => k.trim()).filter(Boolean) : undefined },
    })),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['flags', project.id] }),
  });
  if (!canEdit || environments.length < 2) return null;
  const keysOf = environments.map((e) => e.key);
  return (
    <form className="panel" aria-label="Copy flag states" onSubmit={(e) => { e.preventDefault(); copy.mutate(); }}>
      <h3>Promote: copy flag states between environments</h3>
      <div className="grid3">
        <SelectField label="From" value={source} options={keysOf} onChange={(e) => setSource(e.target.value)} />
        <SelectField label="To" value={target} options={keysOf} onChange={(e) => setTarget(e.target.value)} />
        <TextField label="Flag keys" value={keys} placeholder="all flags" hint="Comma-separated; empty copies every flag." error={fieldError(copy.error, 'flag_keys')}
          onChange={(e) => setKeys(e.target.value)} />
      </div>
      <ErrorNote error={copy.error} />
      {copy.data && <p role="status">Copied {copy.data.copied.length ? copy.data.copied.join(', ') : 'nothing'}.</p>}
      <button type="submit" className="primary" disabled={copy.isPending}>Copy state</button>
    </form>
  );
}
