import type { Schemas } from '../../api/client';
import { Checkbox, SelectField, TextField } from '../../app/controls';

export type Condition = Schemas['Conditions'][number];

export const operators: readonly Condition['operator'][] = [
  'equals', 'in', 'contains', 'starts_with', 'ends_with', 'matches',
  'gt', 'gte', 'lt', 'lte',
  'semver_eq', 'semver_gt', 'semver_gte', 'semver_lt', 'semver_lte',
  'before', 'after', 'exists',
];

const numeric = new Set<string>(['gt', 'gte', 'lt', 'lte']);

// Values are typed comma-separated; numbers are sent as numbers for the numeric operators.
export function parseValues(operator: string, text: string): (string | number)[] | undefined {
  if (operator === 'exists') return undefined;
  const parts = operator === 'matches' ? [text.trim()] : text.split(',').map((v) => v.trim());
  return parts.filter((v) => v !== '').map((v) => (numeric.has(operator) && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : v));
}

export const valuesText = (c: Condition) => (c.values ?? []).map(String).join(', ');

export type ConditionDraft = Condition & { text: string };

export const draftConditions = (conditions: Schemas['Conditions'] | null | undefined): ConditionDraft[] =>
  (conditions ?? []).map((c) => ({ ...c, text: valuesText(c) }));

export const conditionsRequest = (drafts: ConditionDraft[]): Schemas['Conditions'] =>
  drafts.map(({ text, ...c }) => ({ ...c, values: parseValues(c.operator, text) }));

export function ConditionsEditor({ drafts, onChange, error, readOnly }: {
  drafts: ConditionDraft[]; onChange: (d: ConditionDraft[]) => void; error: (field: string) => string | undefined; readOnly?: boolean;
}) {
  const set = (i: number, patch: Partial<ConditionDraft>) => onChange(drafts.map((d, j) => (i === j ? { ...d, ...patch } : d)));
  return (
    <fieldset className="conditions">
      <legend>Conditions (all must match)</legend>
      {error('conditions') && !drafts.length && <p className="field-error">{error('conditions')}</p>}
      {drafts.map((c, i) => {
        const at = `conditions[${i}]`;
        return (
          <div className="condition" key={i} role="group" aria-label={`Condition ${i + 1}`}>
            <TextField label="Attribute" value={c.attribute} readOnly={readOnly} placeholder="plan, country, user_id…"
              error={error(`${at}.attribute`)} onChange={(e) => set(i, { attribute: e.target.value })} />
            <SelectField label="Operator" value={c.operator} options={operators} disabled={readOnly}
              error={error(`${at}.operator`)} onChange={(e) => set(i, { operator: e.target.value as Condition['operator'] })} />
            {c.operator !== 'exists' && (
              <TextField label="Values" value={c.text} readOnly={readOnly} hint={c.operator === 'matches' ? 'One regular expression.' : 'Comma-separated.'}
                error={error(`${at}.values`)} onChange={(e) => set(i, { text: e.target.value })} />
            )}
            <Checkbox label="Negate" checked={c.negate} disabled={readOnly} onChange={(e) => set(i, { negate: e.target.checked })} />
            <Checkbox label="Ignore case" checked={c.ignore_case} disabled={readOnly} onChange={(e) => set(i, { ignore_case: e.target.checked })} />
            {error(at) && !error(`${at}.attribute`) && !error(`${at}.operator`) && !error(`${at}.values`) && <p className="field-error">{error(at)}</p>}
            {!readOnly && <button type="button" aria-label={`Remove condition ${i + 1}`} onClick={() => onChange(drafts.filter((_, j) => j !== i))}>Remove</button>}
          </div>
        );
      })}
      {!readOnly && (
        <button type="button" onClick={() => onChange([...drafts, { attribute: '', operator: 'equals', negate: false, ignore_case: false, text: '' }])}>
          Add condition
        </button>
      )}
    </fieldset>
  );
}

export function describeCondition(c: Condition): string {
  const values = c.operator === 'exists' ? '' : ` ${(c.values ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
  return `${c.negate ? 'not ' : ''}${c.attribute} ${c.operator}${values}${c.ignore_case ? ' (any case)' : ''}`;
}
