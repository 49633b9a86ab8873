import { useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { api, call, type Schemas } from '../../api/client';
import { ErrorNote, SelectField, TextField, fieldError } from '../../app/controls';
import { useProject } from '../projects/ProjectContext';
import { useFlagWrite, type Flag } from './FlagPage';
import { flagsQuery } from './queries';
import { ServeEditor, serveRequest, type Serve } from './ServeEditor';
import { ServesNoOne } from './ServesNoOne';

type Prerequisite = Schemas['PrerequisiteRequest'];

// What the selected environment serves: the rollout (boolean) or the fallthrough variant or
// split, the off variant, and the flags this one requires.
export function StateEditor({ flag }: { flag: Flag }) {
  const { project, env, canEdit } = useProject();
  const refresh = useFlagWrite();
  const boolean = flag.value_type === 'boolean';
  const [rollout, setRollout] = useState(flag.rollout_percentage ?? 0);
  const [serve, setServe] = useState<Serve>(serveRequest(flag.serve));
  const [offVariant, setOffVariant] = useState(flag.off_variant);
  const [prerequisites, setPrerequisites] = useState<Prerequisite[]>(flag.prerequisites);
  const others = useQuery(flagsQuery(project.id, env)).data?.filter((f) => f.id !== flag.id) ?? [];
  const save = useMutation({
    mutationFn: () => call(api.PUT('/api/projects/{projectId}/environments/{env}/flags/{flagId}', {
      params: { path: { projectId: project.id, env, flagId: flag.id } },
      body: boolean
        ? { rollout_percentage: rollout, prerequisites }
        : { serve, off_variant: offVariant, prerequisites },
    })),
    onSuccess: refresh,
  });
  const error = (field: string) => fieldError(save.error, field);
  const variants = flag.variants.map((v) => v.key);
  const setPrerequisite = (i: number, p: Prerequisite) => setPrerequisites(prerequisites.map((q, j) => (i === j ? p : q)));

  return (
    <section className="panel" aria-labelledby="state-title">
      <h3 id="state-title">Serving in {env} <span className={flag.enabled ? 'badge on' : 'badge'}>{flag.enabled ? 'on' : 'off'}</span></h3>
      <ServesNoOne flag={flag} env={env} />
      <form onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        {boolean ? (
          <TextField label="Rollout percentage" type="number" min={0} max={100} value={rollout} readOnly={!canEdit}
            hint="Users outside every rule get the flag when their bucket is below this." error={error('rollout_percentage')}
            onChange={(e) => setRollout(Number(e.target.value))} />
        ) : (
          <>
            <ServeEditor label="Default serve (no rule matched)" variants={variants} serve={serve} onChange={setServe} error={error('serve')} readOnly={!canEdit} />
            <SelectField label="Off variant" value={offVariant} options={variants} disabled={!canEdit} error={error('off_variant')}
              hint="Served while the flag is off." onChange={(e) => setOffVariant(e.target.value)} />
          </>
        )}
        <fieldset>
          <legend>Prerequisites</legend>
          {prerequisites.length === 0 && <p className="muted">None: this flag depends on no other flag.</p>}
          {prerequisites.map((p, i) => {
            const required = others.find((f) => f.key === p.flag);
            return (
              <div className="row" key={i} role="group" aria-label={`Prerequisite ${i + 1}`}>
                <SelectField label="Required flag" value={p.flag ?? ''} disabled={!canEdit}
                  options={[['', 'Choose a flag'], ...others.map((f) => f.key)]} onChange={(e) => setPrerequisite(i, { flag: e.target.value, variant: undefined })} />
                <SelectField label="Must serve" value={p.variant ?? ''} disabled={!canEdit}
                  options={[['', required?.value_type === 'boolean' ? 'on' : 'Choose a variant'], ...(required?.variants.map((v) => v.key) ?? [])]}
                  onChange={(e) => setPrerequisite(i, { ...p, variant: e.target.value || undefined })} />
                {canEdit && <button type="button" aria-label={`Remove prerequisite ${i + 1}`} onClick={() => setPrerequisites(prerequisites.filter((_, j) => j !== i))}>Remove</button>}
              </div>
            );
          })}
          {error('prerequisites') && <p className="field-error">{error('prerequisites')}</p>}
          {canEdit && <button type="button" onClick={() => setPrerequisites([...prerequisites, { flag: '' }])}>Add prerequisite</button>}
        </fieldset>
        <ErrorNote error={save.error} />
        {canEdit && <button type="submit" className="primary" disabled={save.isPending}>Save {env}</button>}
      </form>
    </section>
  );
}
