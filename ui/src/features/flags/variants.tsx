import type { Schemas } from '../../api/client';
import { TextField } from '../../app/controls';

export const valueTypes = ['boolean', 'string', 'number', 'json'] as const;

// A variant as typed in a form: its value is text until it is sent.
export type VariantDraft = { key: string; value: string; name: string };

export function draftsOf(variants: Schemas['VariantResponse'][], type: string): VariantDraft[] {
  return variants.map((v) => ({ key: v.key, value: type === 'string' ? String(v.value ?? '') : JSON.stringify(v.value), name: v.name ?? '' }));
}

// The value as the flag's type has it; text that does not parse is sent as it is, for the API to name.
function parse(type: string, text: string): unknown {
  if (type === 'string') return text;
  if (type === 'number') return text.trim() === '' || Number.isNaN(Number(text)) ? text : Number(text);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function variantsRequest(type: string, drafts: VariantDraft[]): Schemas['VariantRequest'][] {
  return drafts.map((d) => ({ key: d.key, value: parse(type, d.value) as Schemas['VariantRequest']['value'], name: d.name || undefined }));
}

export function formatValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function VariantsEditor({ type, drafts, onChange, error, readOnly }:
  { type: string; drafts: VariantDraft[]; onChange: (d: VariantDraft[]) => void; error: (field: string) => string | undefined; readOnly?: boolean }) {
  const set = (i: number, patch: Partial<VariantDraft>) => onChange(drafts.map((d, j) => (i === j ? { ...d, ...patch } : d)));
  return (
    <fieldset className="variants">
      <legend>Variants</legend>
      {error('variants') && <p className="field-error">{error('variants')}</p>}
      {drafts.map((d, i) => (
        <div className="row" key={i} role="group" aria-label={`Variant ${i + 1}`}>
          <TextField label="Variant key" value={d.key} readOnly={readOnly} onChange={(e) => set(i, { key: e.target.value })} />
          <TextField label={type === 'json' ? 'Value (JSON)' : 'Value'} value={d.value} readOnly={readOnly}
            onChange={(e) => set(i, { value: e.target.value })} />
          <TextField label="Variant name" value={d.name} readOnly={readOnly} onChange={(e) => set(i, { name: e.target.value })} />
          {!readOnly && <button type="button" aria-label={`Remove variant ${i + 1}`} onClick={() => onChange(drafts.filter((_, j) => j !== i))}>Remove</button>}
        </div>
      ))}
      {!readOnly && <button type="button" onClick={() => onChange([...drafts, { key: '', value: '', name: '' }])}>Add variant</button>}
    </fieldset>
  );
}
