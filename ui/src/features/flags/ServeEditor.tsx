import type { Schemas } from '../../api/client';
import { SelectField, TextField } from '../../app/controls';

export type Serve = Schemas['ServeRequest'];

// One variant, or a weighted split over the flag's variants (weights sum to 100).
export function ServeEditor({ label, variants, serve, onChange, error, readOnly }: {
  label: string; variants: string[]; serve: Serve; onChange: (s: Serve) => void; error?: string; readOnly?: boolean;
}) {
  const split = Array.isArray(serve.distribution);
  const weights = new Map((serve.distribution ?? []).map((d) => [d.variant, d.weight]));
  const total = [...weights.values()].reduce<number>((a, b) => a + (b ?? 0), 0);
  const setWeight = (variant: string, weight: number) =>
    onChange({ distribution: variants.map((v) => ({ variant: v, weight: v === variant ? weight : weights.get(v) ?? 0 })) });
  return (
    <fieldset className="serve">
      <legend>{label}</legend>
      <div className="radio-row">
        <label><input type="radio" name={`${label}-mode`} checked={!split} disabled={readOnly}
          onChange={() => onChange({ variant: serve.distribution?.[0]?.variant ?? variants[0] })} /> One variant</label>
        <label><input type="radio" name={`${label}-mode`} checked={split} disabled={readOnly}
          onChange={() => onChange({ distribution: variants.map((v, i) => ({ variant: v, weight: i === 0 ? 100 : 0 })) })} /> Distribution</label>
      </div>
      {split ? (
        <div className="weights">
          {variants.map((v) => (
            <TextField key={v} label={`Weight of ${v}`} type="number" min={0} max={100} value={weights.get(v) ?? 0} readOnly={readOnly}
              onChange={(e) => setWeight(v, Number(e.target.value))} />
          ))}
          <p className={total === 100 ? 'muted' : 'field-error'}>Total {total}% {total === 100 ? '' : '(must be 100%)'}</p>
        </div>
      ) : (
        <SelectField label="Variant" value={serve.variant ?? ''} disabled={readOnly} options={variants}
          onChange={(e) => onChange({ variant: e.target.value })} />
      )}
      {error && <p className="field-error">{error}</p>}
    </fieldset>
  );
}

export function serveRequest(serve: Schemas['ServeResponse'] | null | undefined): Serve {
  if (!serve) return {};
  return serve.distribution ? { distribution: serve.distribution.map((d) => ({ variant: d.variant, weight: d.weight })) } : { variant: serve.variant };
}
