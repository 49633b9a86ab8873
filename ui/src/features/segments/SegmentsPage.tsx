import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../../api/client';
import { ConfirmButton, ErrorNote, FormActions, Loading, TextArea, TextField, fieldError } from '../../app/controls';
import { useProject } from '../projects/ProjectContext';
import { ConditionsEditor, conditionsRequest, describeCondition, draftConditions, type ConditionDraft } from '../rules/ConditionsEditor';
import { segmentsQuery } from './queries';

type Segment = Schemas['SegmentResponse'];

const lines = (text: string) => text.split(/[\n,]/).map((l) => l.trim()).filter(Boolean);

export function SegmentsPage() {
  const { project, canEdit } = useProject();
  const segments = useQuery(segmentsQuery(project.id));
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  return (
    <>
      <div className="page-head">
        <h2>Segments</h2>
        {canEdit && <button type="button" className="primary" onClick={() => setCreating(true)} aria-expanded={creating}>New segment</button>}
      </div>
      <p className="muted">Audiences defined once and used by rules of any flag in any environment.</p>
      {creating && <SegmentForm onDone={() => setCreating(false)} />}
      {segments.isPending ? <Loading what="segments" /> : <ErrorNote error={segments.error} />}
      {segments.data?.length === 0 && <p className="muted">No segments yet.</p>}
      <ul className="cards">
        {segments.data?.map((s) => editing === s.id
          ? <li key={s.id} className="card"><SegmentForm segment={s} onDone={() => setEditing(null)} /></li>
          : <SegmentCard key={s.id} segment={s} onEdit={() => setEditing(s.id)} />)}
      </ul>
    </>
  );
}

function SegmentCard({ segment, onEdit }: { segment: Segment; onEdit: () => void }) {
  const { project, canEdit } = useProject();
  const queries = useQueryClient();
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/api/projects/{projectId}/segments/{segmentId}', { params: { path: { projectId: project.id, segmentId: segment.id } } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['segments', project.id] }),
  });
  return (
    <li className="card" aria-label={segment.name}>
      <h3>{segment.name} <code>{segment.key}</code></h3>
      {segment.description && <p>{segment.description}</p>}
      <p className="muted">{segment.included.length} included · {segment.excluded.length} excluded</p>
      {segment.conditions.length > 0 && <p>Also everyone with {segment.conditions.map(describeCondition).join(' and ')}</p>}
      {canEdit && (
        <div className="actions">
          <button type="button" onClick={onEdit} aria-label={`Edit ${segment.key}`}>Edit</button>
          <ConfirmButton label="Delete" confirmLabel="Delete segment" question={`Delete ${segment.key}?`} onConfirm={() => remove.mutate()} />
        </div>
      )}
      <ErrorNote error={remove.error} />
    </li>
  );
}

function SegmentForm({ segment, onDone }: { segment?: Segment; onDone: () => void }) {
  const { project } = useProject();
  const queries = useQueryClient();
  const [key, setKey] = useState(segment?.key ?? '');
  const [name, setName] = useState(segment?.name ?? '');
  const [description, setDescription] = useState(segment?.description ?? '');
  const [included, setIncluded] = useState(segment?.included.join('\n') ?? '');
  const [excluded, setExcluded] = useState(segment?.excluded.join('\n') ?? '');
  const [conditions, setConditions] = useState<ConditionDraft[]>(draftConditions(segment?.conditions));
  const body = { name, description, included: lines(included), excluded: lines(excluded), conditions: conditionsRequest(conditions) };
  const save = useMutation({
    mutationFn: () => segment
      ? call(api.PUT('/api/projects/{projectId}/segments/{segmentId}', { params: { path: { projectId: project.id, segmentId: segment.id } }, body }))
      : call(api.POST('/api/projects/{projectId}/segments', { params: { path: { projectId: project.id } }, body: { ...body, key } })),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ['segments', project.id] });
      onDone();
    },
  });
  const error = (field: string) => fieldError(save.error, field);
  const submit = (e: FormEvent) => { e.preventDefault(); save.mutate(); };
  return (
    <form className="panel" onSubmit={submit} aria-label={segment ? `Edit segment ${segment.key}` : 'New segment'}>
      <div className="grid2">
        <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} error={error('name')} autoFocus />
        <TextField label="Key" value={key} readOnly={!!segment} onChange={(e) => setKey(e.target.value)} error={error('key')}
          hint={segment ? 'Rules name the segment by its key: it cannot change.' : undefined} />
      </div>
      <TextArea label="Description" value={description} onChange={(e) => setDescription(e.target.value)} error={error('description')} />
      <div className="grid2">
        <TextArea label="Included identifiers" value={included} rows={4} hint="One user id or e-mail a line." onChange={(e) => setIncluded(e.target.value)} error={error('included')} />
        <TextArea label="Excluded identifiers" value={excluded} rows={4} hint="Excluded wins over everything." onChange={(e) => setExcluded(e.target.value)} error={error('excluded')} />
      </div>
      <ConditionsEditor drafts={conditions} onChange={setConditions} error={error} />
      <ErrorNote error={save.error} />
      <FormActions submit={segment ? 'Save segment' : 'Create'} pending={save.isPending} onCancel={onDone} />
    </form>
  );
}
