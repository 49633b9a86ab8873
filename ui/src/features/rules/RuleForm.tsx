import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { api, call } from '../../api/client';
import { Checkbox, ErrorNote, FormActions, SelectField, TextField, fieldError } from '../../app/controls';
import type { Flag } from '../flags/FlagPage';
import { ServeEditor, serveRequest, type Serve } from '../flags/ServeEditor';
import { useProject } from '../projects/ProjectContext';
import { segmentsQuery } from '../segments/queries';
import { ConditionsEditor, conditionsRequest, draftConditions, type ConditionDraft } from './ConditionsEditor';
import type { Rule } from './RulesPanel';

const ruleTypes = [
  ['user_id', 'User id'],
  ['user_email', 'User e-mail'],
  ['email_domain', 'E-mail domain'],
  ['attribute_match', 'Attributes'],
  ['segment', 'Segment'],
] as const;

const placeholders: Record<string, string> = { user_id: 'user_12345', user_email: 'alice@example.com', email_domain: '@example.com' };

export function RuleForm({ flag, rule, priority, onDone }: { flag: Flag; rule?: Rule; priority: number; onDone: () => void }) {
  const { project, env } = useProject();
  const boolean = flag.value_type === 'boolean';
  const [type, setType] = useState(rule?.rule_type ?? 'attribute_match');
  const [value, setValue] = useState(rule?.rule_value ?? '');
  const [conditions, setConditions] = useState<ConditionDraft[]>(() =>
    rule ? draftConditions(rule.conditions) : [{ attribute: '', operator: 'equals', negate: false, ignore_case: false, text: '' }]);
  const [rollout, setRollout] = useState(rule?.rollout_percentage ?? 100);
  const [serve, setServe] = useState<Serve>(rule?.serve ? serveRequest(rule.serve) : { variant: flag.variants[0]?.key });
  const [order, setOrder] = useState(priority);
  const [enabled, setEnabled] = useState(rule?.enabled ?? true);
  const segments = useQuery({ ...segmentsQuery(project.id), enabled: type === 'segment' });
  const path = { projectId: project.id, env, flagId: flag.id };

  const body = {
    rule_type: type,
    rule_value: type === 'attribute_match' ? undefined : value,
    conditions: type === 'attribute_match' ? conditionsRequest(conditions) : undefined,
    enabled,
    priority: order,
    ...(boolean ? { rollout_percentage: rollout } : { serve }),
  };
  const save = useMutation({
    mutationFn: () => rule
      ? call(api.PUT('/api/projects/{projectId}/environments/{env}/flags/{flagId}/rules/{ruleId}', { params: { path: { ...path, ruleId: rule.id } }, body }))
      : call(api.POST('/api/projects/{projectId}/environments/{env}/flags/{flagId}/rules', { params: { path }, body })),
    onSuccess: onDone,
  });
  const error = (field: string) => fieldError(save.error, field);
  const submit = (e: FormEvent) => { e.preventDefault(); save.mutate(); };

  return (
    <form className="panel rule-form" onSubmit={submit} aria-label={rule ? 'Edit rule' : 'New rule'}>
      <SelectField label="Rule type" value={type} options={ruleTypes} onChange={(e) => setType(e.target.value)} error={error('rule_type')} />
      {type === 'attribute_match' ? (
        <ConditionsEditor drafts={conditions} onChange={setConditions} error={error} />
      ) : type === 'segment' ? (
        <SelectField label="Segment" value={value} error={error('rule_value')}
          options={[['', segments.data?.length === 0 ? 'No segments yet' : 'Choose a segment'], ...(segments.data ?? []).map((s): [string, string] => [s.key, `${s.name} (${s.key})`])]}
          onChange={(e) => setValue(e.target.value)} />
      ) : (
        <TextField label="Value" value={value} placeholder={placeholders[type]} error={error('rule_value')} onChange={(e) => setValue(e.target.value)} />
      )}
      <div className="grid2">
        {boolean ? (
          <TextField label="Rule rollout percentage" type="number" min={0} max={100} value={rollout} error={error('rollout_percentage')}
            hint="Of the users who match, how many get the flag." onChange={(e) => setRollout(Number(e.target.value))} />
        ) : (
          <ServeEditor label="Serve" variants={flag.variants.map((v) => v.key)} serve={serve} onChange={setServe} error={error('serve')} />
        )}
        <TextField label="Priority" type="number" value={order} error={error('priority')} hint="Higher is tried first." onChange={(e) => setOrder(Number(e.target.value))} />
      </div>
      <Checkbox label="Enabled" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
      <ErrorNote error={save.error} />
      <FormActions submit="Save rule" pending={save.isPending} onCancel={onDone} />
    </form>
  );
}
