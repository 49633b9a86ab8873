import { useState, type FormEvent } from 'react';
import { useInfiniteQuery } from '@tanstack/react-query';
import { api, call, type Schemas } from '../../api/client';
import { ErrorNote, FormActions, Loading, SelectField, TextField } from '../../app/controls';
import { useProject } from '../projects/ProjectContext';

const resourceTypes = ['project', 'environment', 'flag', 'rule', 'segment', 'schedule', 'member', 'token'];

type Filters = { resource_type?: string; actor?: string; environment?: string; from?: string; to?: string };

const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);

export function AuditPage() {
  const { project, environments } = useProject();
  const [draft, setDraft] = useState({ resource_type: '', actor: '', environment: '', from: '', to: '' });
  const [filters, setFilters] = useState<Filters>({});
  const audit = useInfiniteQuery({
    queryKey: ['audit', project.id, filters],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => call(api.GET('/api/projects/{projectId}/audit', {
      params: { path: { projectId: project.id }, query: { ...filters, limit: '50', cursor: pageParam } },
    })),
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters({
      resource_type: draft.resource_type || undefined, actor: draft.actor.trim() || undefined,
      environment: draft.environment || undefined, from: iso(draft.from), to: iso(draft.to),
    });
  };
  const set = (patch: Partial<typeof draft>) => setDraft({ ...draft, ...patch });
  const entries = audit.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <>
      <h2>Audit log</h2>
      <form className="panel filters" onSubmit={apply} aria-label="Audit filters">
        <SelectField label="Resource type" value={draft.resource_type} options={[['', 'any'], ...resourceTypes]} onChange={(e) => set({ resource_type: e.target.value })} />
        <TextField label="Actor" value={draft.actor} placeholder="e-mail or id" onChange={(e) => set({ actor: e.target.value })} />
        <SelectField label="In environment" value={draft.environment} options={[['', 'any'], ...environments.map((e) => e.key)]} onChange={(e) => set({ environment: e.target.value })} />
        <TextField label="From" type="datetime-local" value={draft.from} onChange={(e) => set({ from: e.target.value })} />
        <TextField label="To" type="datetime-local" value={draft.to} onChange={(e) => set({ to: e.target.value })} />
        <FormActions submit="Filter" />
      </form>
      {audit.isPending ? <Loading what="the audit log" /> : <ErrorNote error={audit.error} />}
      {audit.data && entries.length === 0 && <p className="muted">No entries match.</p>}
      <ol className="audit" aria-label="Audit entries">
        {entries.map((e) => <Entry key={e.id} entry={e} />)}
      </ol>
      {audit.hasNextPage && <button type="button" onClick={() => void audit.fetchNextPage()} disabled={audit.isFetchingNextPage}>Load more</button>}
    </>
  );
}

function Entry({ entry: e }: { entry: Schemas['EntryResponse'] }) {
  return (
    <li className="audit-entry">
      <div>
        <time dateTime={e.at}>{new Date(e.at).toLocaleString()}</time>{' '}
        <strong>{e.action}</strong> {e.resource_key && <code>{e.resource_key}</code>}
        {e.environment && <span className="badge">{e.environment}</span>}
        <span className="muted"> by {e.actor.email ?? e.actor.type}{e.actor.type !== 'user' && ` (${e.actor.type})`}</span>
      </div>
      {(e.before !== null || e.after !== null) && (
        <details>
          <summary>Before and after</summary>
          <div className="grid2">
            <pre aria-label="Before">{JSON.stringify(e.before, null, 2)}</pre>
            <pre aria-label="After">{JSON.stringify(e.after, null, 2)}</pre>
          </div>
        </details>
      )}
    </li>
  );
}
