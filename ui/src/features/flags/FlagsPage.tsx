import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../../api/client';
import { ErrorNote, FormActions, Loading, SelectField, Switch, TextArea, TextField, fieldError } from '../../app/controls';
import { Link, navigate } from '../../app/router';
import { useProject } from '../projects/ProjectContext';
import { flagsQuery, toggleFlag } from './queries';
import { ServesNoOne } from './ServesNoOne';
import { VariantsEditor, valueTypes, variantsRequest, type VariantDraft } from './variants';

export function FlagsPage() {
  const { project, env, canEdit } = useProject();
  const flags = useQuery(flagsQuery(project.id, env));
  const [search, setSearch] = useState('');
  const [creating, setCreating] = useState(false);
  const needle = search.trim().toLowerCase();
  const shown = (flags.data ?? []).filter((f) => !needle || f.key.includes(needle) || f.name.toLowerCase().includes(needle)
    || (f.description ?? '').toLowerCase().includes(needle));

  return (
    <>
      <div className="page-head">
        <h2>Flags in {env}</h2>
        {canEdit && <button type="button" className="primary" onClick={() => setCreating(true)} aria-expanded={creating}>New flag</button>}
      </div>
      {creating && <NewFlag onDone={() => setCreating(false)} />}
      <div className="field search">
        <label htmlFor="flag-search">Search flags</label>
        <input id="flag-search" type="search" value={search} placeholder="Key, name or description" onChange={(e) => setSearch(e.target.value)} />
      </div>
      {flags.isPending ? <Loading what="flags" /> : <ErrorNote error={flags.error} />}
      {flags.data?.length === 0 && <p className="muted">No flags yet.</p>}
      {flags.data && flags.data.length > 0 && shown.length === 0 && <p className="muted">No flag matches “{search}”.</p>}
      <ul className="flag-list" aria-label="Flags">
        {shown.map((f) => <FlagRow key={f.id} flag={f} />)}
      </ul>
    </>
  );
}

function FlagRow({ flag }: { flag: Schemas['FlagResponse'] }) {
  const { project, env, environments, canEdit, href } = useProject();
  const queries = useQueryClient();
  const toggle = useMutation({
    mutationFn: () => toggleFlag(project.id, env, flag.id),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['flags', project.id] }),
  });
  return (
    <li className="flag-row">
      <Switch checked={flag.enabled} label={flag.key} disabled={!canEdit || toggle.isPending} onChange={() => toggle.mutate()} />
      <div className="flag-main">
        <Link href={href(`flags/${flag.id}`)}><strong>{flag.name}</strong></Link>
        <code>{flag.key}</code>
        {flag.description && <span className="muted">{flag.description}</span>}
      </div>
      <span className="muted">{flag.value_type}</span>
      <span className="serve-summary">{serveSummary(flag)}</span>
      <span className="env-dots" aria-label={`State in every environment of ${flag.key}`}>
        {environments.map((e) => {
          const on = flag.environments[e.key]?.enabled;
          return <span key={e.key} className={on ? 'dot on' : 'dot'} title={`${e.key}: ${on ? 'on' : 'off'}`}>{e.key}: {on ? 'on' : 'off'}</span>;
        })}
      </span>
      <ServesNoOne flag={flag} env={env} />
      <ErrorNote error={toggle.error} />
    </li>
  );
}

export function serveSummary(flag: Pick<Schemas['FlagResponse'], 'value_type' | 'rollout_percentage' | 'serve'>): string {
  if (flag.value_type === 'boolean' && flag.rollout_percentage !== null) return `${flag.rollout_percentage}% on`;
  if (flag.serve.variant) return `serves ${flag.serve.variant}`;
  return (flag.serve.distribution ?? []).map((d) => `${d.variant} ${d.weight}%`).join(' · ');
}

const slug = (name: string) => name.toLowerCase().trim().replace(/[^a-z0-9]+/g, '_').replace(/^[^a-z]+/, '').replace(/_+$/, '').slice(0, 64);

function NewFlag({ onDone }: { onDone: () => void }) {
  const { project, env, environments, href } = useProject();
  const queries = useQueryClient();
  const [name, setName] = useState('');
  const [key, setKey] = useState('');
  const [keyEdited, setKeyEdited] = useState(false);
  const [description, setDescription] = useState('');
  const [type, setType] = useState<string>('boolean');
  const [variants, setVariants] = useState<VariantDraft[]>([{ key: 'control', value: '', name: '' }, { key: 'treatment', value: '', name: '' }]);
  const create = useMutation({
    // A boolean flag starts at 100 % in every environment, so that switching it on serves `on` to
    // everyone, as users of other flag services expect. The API's default (0 %) stays the contract:
    // the create call sets this environment, and one PUT per other environment sets the rest.
    mutationFn: async () => {
      const boolean = type === 'boolean';
      const flag = await call(api.POST('/api/projects/{projectId}/environments/{env}/flags', {
        params: { path: { projectId: project.id, env } },
        body: {
          name, key, description: description || undefined, value_type: type,
          variants: boolean ? undefined : variantsRequest(type, variants),
          rollout_percentage: boolean ? 100 : undefined,
        },
      }));
      if (boolean) {
        await Promise.all(environments.filter((e) => e.key !== env).map((e) => call(api.PUT('/api/projects/{projectId}/environments/{env}/flags/{flagId}', {
          params: { path: { projectId: project.id, env: e.key, flagId: flag.id } }, body: { rollout_percentage: 100 },
        }))));
      }
      return flag;
    },
    onSuccess: async (flag) => {
      await queries.invalidateQueries({ queryKey: ['flags', project.id] });
      onDone();
      navigate(href(`flags/${flag.id}`));
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const error = (field: string) => fieldError(create.error, field);
  return (
    <form className="panel" onSubmit={submit} aria-label="New flag">
      <div className="grid2">
        <TextField label="Name" value={name} autoFocus error={error('name')}
          onChange={(e) => { setName(e.target.value); if (!keyEdited) setKey(slug(e.target.value)); }} />
        <TextField label="Key" value={key} error={error('key')} hint="Lower case letters, digits, _ and -; it cannot change later."
          onChange={(e) => { setKey(e.target.value); setKeyEdited(true); }} />
      </div>
      <TextArea label="Description" value={description} onChange={(e) => setDescription(e.target.value)} error={error('description')} />
      <SelectField label="Type" value={type} options={valueTypes} onChange={(e) => setType(e.target.value)} error={error('value_type')} />
      {type !== 'boolean' && <VariantsEditor type={type} drafts={variants} onChange={setVariants} error={error} />}
      <p className="muted">The flag starts off in every environment{type === 'boolean' ? '; switched on, it serves on to everyone' : ''}.</p>
      <ErrorNote error={create.error} />
      <FormActions submit="Create" pending={create.isPending} onCancel={onDone} />
    </form>
  );
}
