import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../../api/client';
import { ErrorNote, FormActions, SelectField, TextField, fieldError } from '../../app/controls';
import type { Flag } from '../flags/FlagPage';
import { useProject } from '../projects/ProjectContext';

type Change = Schemas['ChangeRequest'];

function describe(change: Schemas['ChangeResponse']): string {
  const parts = [];
  if (change.enabled !== null) parts.push(change.enabled ? 'turn on' : 'turn off');
  if (change.rollout_percentage !== null) parts.push(`rollout ${change.rollout_percentage}%`);
  else if (change.serve?.variant) parts.push(`serve ${change.serve.variant}`);
  else if (change.serve?.distribution) parts.push(change.serve.distribution.map((d) => `${d.variant} ${d.weight}%`).join(' · '));
  if (change.off_variant) parts.push(`off variant ${change.off_variant}`);
  return parts.join(', ');
}

export function SchedulesPanel({ flag }: { flag: Flag }) {
  const { project, env, canEdit } = useProject();
  const queries = useQueryClient();
  const path = { projectId: project.id, env, flagId: flag.id };
  const key = ['schedules', project.id, env, flag.id];
  const schedules = useQuery({
    queryKey: key,
    queryFn: () => call(api.GET('/api/projects/{projectId}/environments/{env}/flags/{flagId}/schedules', { params: { path } })),
  });
  const [at, setAt] = useState('');
  const [turn, setTurn] = useState('');
  const [amount, setAmount] = useState('');
  const refresh = () => queries.invalidateQueries({ queryKey: key });
  const change = (): Change => ({
    ...(turn ? { enabled: turn === 'on' } : {}),
    ...(amount === '' ? {} : flag.value_type === 'boolean' ? { rollout_percentage: Number(amount) } : { serve: { variant: amount } }),
  });
  const create = useMutation({
    mutationFn: () => call(api.POST('/api/projects/{projectId}/environments/{env}/flags/{flagId}/schedules', {
      params: { path }, body: { at: at ? new Date(at).toISOString() : '', change: change() },
    })),
    onSuccess: async () => { setAt(''); setTurn(''); setAmount(''); await refresh(); },
  });
  const cancel = useMutation({
    mutationFn: (id: string) => call(api.DELETE('/api/projects/{projectId}/environments/{env}/flags/{flagId}/schedules/{scheduleId}', { params: { path: { ...path, scheduleId: id } } })),
    onSettled: refresh,
  });
  const submit = (e: FormEvent) => { e.preventDefault(); create.mutate(); };
  const error = (field: string) => fieldError(create.error, field);

  return (
    <section className="panel" aria-labelledby="schedules-title">
      <h3 id="schedules-title">Scheduled changes in {env}</h3>
      {schedules.data?.length === 0 && <p className="muted">Nothing scheduled.</p>}
      <ul className="schedules">
        {schedules.data?.map((s) => (
          <li key={s.id}>
            <time dateTime={s.at}>{new Date(s.at).toLocaleString()}</time>: {describe(s.change)} <span className={`badge ${s.status}`}>{s.status}</span>
            {s.failure_reason && <span className="field-error"> {s.failure_reason}</span>}
            {canEdit && s.status === 'pending' && <button type="button" onClick={() => cancel.mutate(s.id)}>Cancel schedule</button>}
          </li>
        ))}
      </ul>
      <ErrorNote error={schedules.error ?? cancel.error} />
      {canEdit && (
        <form onSubmit={submit} aria-label="Schedule a change" className="grid3">
          <TextField label="At" type="datetime-local" value={at} onChange={(e) => setAt(e.target.value)} error={error('at')} />
          <SelectField label="Turn" value={turn} options={[['', 'no change'], ['on', 'on'], ['off', 'off']]} onChange={(e) => setTurn(e.target.value)}
            error={error('change.enabled') ?? error('change')} />
          {flag.value_type === 'boolean' ? (
            <TextField label="New rollout percentage" type="number" min={0} max={100} value={amount} onChange={(e) => setAmount(e.target.value)}
              error={error('change.rollout_percentage')} />
          ) : (
            <SelectField label="Serve variant" value={amount} options={[['', 'no change'], ...flag.variants.map((v) => v.key)]}
              onChange={(e) => setAmount(e.target.value)} error={error('change.serve')} />
          )}
          <ErrorNote error={create.error} />
          <FormActions submit="Schedule" pending={create.isPending} />
        </form>
      )}
    </section>
  );
}
