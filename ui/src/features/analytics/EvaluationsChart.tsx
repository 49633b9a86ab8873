import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, call, type Schemas } from '../../api/client';
import { ErrorNote, SelectField } from '../../app/controls';
import type { Flag } from '../flags/FlagPage';
import { useProject } from '../projects/ProjectContext';

type Bucket = Schemas['Bucket'];

const ranges = {
  hour: { interval: 'minute', span: 60 * 60_000, text: 'Last hour, per minute' },
  day: { interval: 'hour', span: 24 * 60 * 60_000, text: 'Last 24 hours, per hour' },
  month: { interval: 'day', span: 30 * 24 * 60 * 60_000, text: 'Last 30 days, per day' },
} as const;

const groupings = {
  variant: { text: 'Variant', series: (b: Bucket) => b.by_variant },
  result: { text: 'Result', series: (b: Bucket) => ({ true: b.true, false: b.false }) },
  reason: { text: 'Reason', series: (b: Bucket) => b.by_reason },
} as const;

const palette = ['#2563eb', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#0ea5e9', '#84cc16', '#f97316'];

// Evaluations over time from the stats endpoint, stacked by variant, result or reason.
export function EvaluationsChart({ flag }: { flag: Flag }) {
  const { project, env } = useProject();
  const [range, setRange] = useState<keyof typeof ranges>('hour');
  const [group, setGroup] = useState<keyof typeof groupings>('variant');
  const { interval, span } = ranges[range];
  const stats = useQuery({
    queryKey: ['stats', project.id, env, flag.id, range],
    queryFn: () => {
      const to = new Date();
      return call(api.GET('/api/projects/{projectId}/flags/{flagId}/stats', {
        params: { path: { projectId: project.id, flagId: flag.id }, query: { environment: env, interval, from: new Date(to.getTime() - span).toISOString(), to: to.toISOString() } },
      }));
    },
    refetchInterval: 15_000,
  });
  const buckets = stats.data?.buckets ?? [];
  const series = groupings[group].series;
  const names = [...new Set(buckets.flatMap((b) => Object.keys(series(b))))].sort();
  const totals = names.map((n) => buckets.reduce((sum, b) => sum + ((series(b) as Record<string, number>)[n] ?? 0), 0));
  const summary = names.length ? names.map((n, i) => `${n} ${totals[i]}`).join(', ') : 'no evaluations';

  return (
    <section className="panel" aria-labelledby="chart-heading">
      <div className="page-head">
        <h3 id="chart-heading">Evaluations in {env}</h3>
        <button type="button" onClick={() => void stats.refetch()} disabled={stats.isFetching}>Refresh</button>
      </div>
      <div className="grid2">
        <SelectField label="Period" value={range} options={Object.entries(ranges).map(([k, r]) => [k, r.text])} onChange={(e) => setRange(e.target.value as keyof typeof ranges)} />
        <SelectField label="Group by" value={group} options={Object.entries(groupings).map(([k, g]) => [k, g.text])} onChange={(e) => setGroup(e.target.value as keyof typeof groupings)} />
      </div>
      <ErrorNote error={stats.error} />
      <figure className="chart" aria-labelledby="chart-title">
        <figcaption id="chart-title">Evaluations</figcaption>
        <Bars buckets={buckets} names={names} series={series} summary={`Evaluations over time by ${groupings[group].text.toLowerCase()}: ${summary}`} />
        <ul className="legend" aria-label="Totals">
          {names.map((n, i) => (
            <li key={n}><span className="swatch" style={{ background: palette[i % palette.length] }} aria-hidden="true" />{n}: {totals[i]}</li>
          ))}
          {names.length === 0 && <li className="muted">No evaluations in this period.</li>}
        </ul>
      </figure>
    </section>
  );
}

function Bars({ buckets, names, series, summary }: { buckets: Bucket[]; names: string[]; series: (b: Bucket) => Record<string, number>; summary: string }) {
  const width = 600;
  const height = 160;
  const max = Math.max(1, ...buckets.map((b) => b.total));
  const step = buckets.length ? width / buckets.length : width;
  const label = (b: Bucket) => new Date(b.start).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  return (
    <svg viewBox={`0 0 ${width} ${height + 18}`} role="img" aria-label={summary}>
      <line x1={0} x2={width} y1={height} y2={height} className="axis" />
      {buckets.map((b, i) => {
        let y = height;
        const values = series(b);
        return (
          <g key={b.start}>
            <title>{`${label(b)}: ${names.map((n) => `${n} ${values[n] ?? 0}`).join(', ')}`}</title>
            {names.map((n, j) => {
              const h = ((values[n] ?? 0) / max) * (height - 4);
              y -= h;
              return h > 0 ? <rect key={n} x={i * step + step * 0.1} width={Math.max(step * 0.8, 1)} y={y} height={h} fill={palette[j % palette.length]} /> : null;
            })}
          </g>
        );
      })}
      {buckets.length > 0 && (
        <>
          <text x={0} y={height + 14} className="tick">{label(buckets[0]!)}</text>
          <text x={width} y={height + 14} className="tick" textAnchor="end">{label(buckets[buckets.length - 1]!)}</text>
        </>
      )}
      <text x={4} y={12} className="tick">{max}</text>
    </svg>
  );
}
