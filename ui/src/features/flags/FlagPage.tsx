import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../../api/client';
import { ConfirmButton, ErrorNote, FormActions, Loading, Switch, TextArea, TextField, fieldError } from '../../app/controls';
import { Link, navigate } from '../../app/router';
import { EvaluationsChart } from '../analytics/EvaluationsChart';
import { useProject } from '../projects/ProjectContext';
import { RulesPanel } from '../rules/RulesPanel';
import { SchedulesPanel } from '../schedules/SchedulesPanel';
import { flagQuery, toggleFlag } from './queries';
import { StateEditor } from './StateEditor';
import { VariantsEditor, draftsOf, formatValue, variantsRequest } from './variants';

export type Flag = Schemas['FlagResponse'];

export function FlagPage({ flagId }: { flagId: string }) {
  const { project, env, href } = useProject();
  const flag = useQuery(flagQuery(project.id, env, flagId));
  if (flag.error) return <><ErrorNote error={flag.error} /><Link href={href('flags')}>Back to the flags</Link></>;
  if (!flag.data) return <Loading what="the flag" />;
  const f = flag.data;
  return (
    <div className="flag-page">
      <p><Link href={href('flags')}>← Flags</Link></p>
      <Details flag={f} />
      <Environments flag={f} />
      {/* Keyed by environment and version: the forms start from what the server has. */}
      <StateEditor key={`${env}-${f.updated_at}`} flag={f} />
      {f.value_type !== 'boolean' && <Variants key={f.updated_at} flag={f} />}
      <RulesPanel flag={f} />
      <SchedulesPanel flag={f} />
      <EvaluationsChart flag={f} />
    </div>
  );
}

// After a write to a flag: its pages, the lists and the audit log read it again.
export function useFlagWrite() {
  const { project } = useProject();
  const queries = useQueryClient();
  return async () => {
    await queries.invalidateQueries({ queryKey: ['flag', project.id] });
    await queries.invalidateQueries({ queryKey: ['flags', project.id] });
    await queries.invalidateQueries({ queryKey: ['audit', project.id] });
  };
}

function Details({ flag }: { flag: Flag }) {
  const { project, env, canEdit, href } = useProject();
  const refresh = useFlagWrite();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(flag.name);
  const [description, setDescription] = useState(flag.description ?? '');
  const path = { projectId: project.id, env, flagId: flag.id };
  const save = useMutation({
    mutationFn: () => call(api.PUT('/api/projects/{projectId}/environments/{env}/flags/{flagId}', { params: { path }, body: { name, description } })),
    onSuccess: async () => { await refresh(); setEditing(false); },
  });
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/api/projects/{projectId}/environments/{env}/flags/{flagId}', { params: { path } })),
    onSuccess: async () => { await refresh(); navigate(href('flags')); },
  });
  const submit = (e: FormEvent) => { e.preventDefault(); save.mutate(); };
  if (editing) {
    return (
      <form className="panel" onSubmit={submit} aria-label="Flag details">
        <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} error={fieldError(save.error, 'name')} />
        <TextArea label="Description" value={description} onChange={(e) => setDescription(e.target.value)} error={fieldError(save.error, 'description')} />
        <ErrorNote error={save.error} />
        <FormActions submit="Save" pending={save.isPending} onCancel={() => setEditing(false)} />
      </form>
    );
  }
  return (
    <section className="flag-head" aria-label="Flag">
      <h2>{flag.name} <code>{flag.key}</code> <span className="badge">{flag.value_type}</span></h2>
      {flag.description && <p>{flag.description}</p>}
      {canEdit && (
        <div className="actions">
          <button type="button" onClick={() => setEditing(true)}>Edit details</button>
          <ConfirmButton label="Delete flag" confirmLabel="Delete it" question={`Delete ${flag.key} in every environment?`} onConfirm={() => remove.mutate()} />
        </div>
      )}
      <ErrorNote error={remove.error} />
    </section>
  );
}

function Environments({ flag }: { flag: Flag }) {
  const { project, environments, canEdit, env, href } = useProject();
  const refresh = useFlagWrite();
  const toggle = useMutation({ mutationFn: (key: string) => toggleFlag(project.id, key, flag.id), onSuccess: refresh });
  return (
    <section className="panel" aria-labelledby="per-env">
      <h3 id="per-env">State per environment</h3>
      <table>
        <thead><tr><th>Environment</th><th>On</th><th>Rollout</th><th></th></tr></thead>
        <tbody>
          {environments.map((e) => {
            const state = flag.environments[e.key];
            return (
              <tr key={e.key} aria-current={e.key === env ? 'true' : undefined}>
                <td>{e.name} <code>{e.key}</code></td>
                <td><Switch checked={state?.enabled ?? false} label={`${flag.key} in ${e.key}`} disabled={!canEdit || toggle.isPending} onChange={() => toggle.mutate(e.key)} /></td>
                <td>{state?.rollout_percentage === null || state?.rollout_percentage === undefined ? '—' : `${state.rollout_percentage}%`}</td>
                <td>{e.key === env ? <strong>shown below</strong> : <Link href={href(`flags/${flag.id}`, e.key)}>Show</Link>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <ErrorNote error={toggle.error} />
    </section>
  );
}

function Variants({ flag }: { flag: Flag }) {
  const { project, env, canEdit } = useProject();
  const refresh = useFlagWrite();
  const [drafts, setDrafts] = useState(() => draftsOf(flag.variants, flag.value_type));
  const save = useMutation({
    mutationFn: () => call(api.PUT('/api/projects/{projectId}/environments/{env}/flags/{flagId}', {
      params: { path: { projectId: project.id, env, flagId: flag.id } },
      body: { variants: variantsRequest(flag.value_type, drafts) },
    })),
    onSuccess: refresh,
  });
  return (
    <section className="panel" aria-labelledby="variants-title">
      <h3 id="variants-title">Variants</h3>
      {canEdit ? (
        <form onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
          <VariantsEditor type={flag.value_type} drafts={drafts} onChange={setDrafts} error={(f) => fieldError(save.error, f)} />
          <ErrorNote error={save.error} />
          <button type="submit" className="primary" disabled={save.isPending}>Save variants</button>
        </form>
      ) : (
        <ul>{flag.variants.map((v) => <li key={v.key}><code>{v.key}</code> = {formatValue(v.value)} {v.name && `(${v.name})`}</li>)}</ul>
      )}
    </section>
  );
}
