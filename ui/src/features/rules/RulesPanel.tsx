import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../../api/client';
import { ConfirmButton, ErrorNote, Loading, Switch } from '../../app/controls';
import type { Flag } from '../flags/FlagPage';
import { useProject } from '../projects/ProjectContext';
import { describeCondition } from './ConditionsEditor';
import { RuleForm } from './RuleForm';

export type Rule = Schemas['RuleResponse'];

export const rulesKey = (projectId: string, env: string, flagId: string) => ['rules', projectId, env, flagId];

// Rules in the order evaluation tries them (priority, highest first). Moving one rewrites the
// priorities of the list as 10, 20, 30… from the bottom, so the order shown is the order kept.
export function RulesPanel({ flag }: { flag: Flag }) {
  const { project, env, canEdit } = useProject();
  const queries = useQueryClient();
  const path = { projectId: project.id, env, flagId: flag.id };
  const rules = useQuery({
    queryKey: rulesKey(project.id, env, flag.id),
    queryFn: () => call(api.GET('/api/projects/{projectId}/environments/{env}/flags/{flagId}/rules', { params: { path } })),
  });
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const refresh = async () => {
    await queries.invalidateQueries({ queryKey: ['rules', project.id] });
    await queries.invalidateQueries({ queryKey: ['audit', project.id] });
  };
  const update = (rule: Rule, body: Schemas['UpdateRuleRequest']) =>
    call(api.PUT('/api/projects/{projectId}/environments/{env}/flags/{flagId}/rules/{ruleId}', { params: { path: { ...path, ruleId: rule.id } }, body }));
  const move = useMutation({
    mutationFn: async ({ from, to }: { from: number; to: number }) => {
      const order = [...(rules.data ?? [])];
      const [rule] = order.splice(from, 1);
      order.splice(to, 0, rule!);
      const writes = order.map((r, i) => ({ r, priority: (order.length - i) * 10 })).filter(({ r, priority }) => r.priority !== priority);
      for (const { r, priority } of writes) await update(r, { priority });
    },
    onSettled: refresh,
  });
  const enable = useMutation({ mutationFn: (rule: Rule) => update(rule, { enabled: !rule.enabled }), onSettled: refresh });
  const remove = useMutation({
    mutationFn: (rule: Rule) => call(api.DELETE('/api/projects/{projectId}/environments/{env}/flags/{flagId}/rules/{ruleId}', { params: { path: { ...path, ruleId: rule.id } } })),
    onSettled: refresh,
  });
  const list = rules.data ?? [];
  const top = list[0]?.priority ?? 0;

  return (
    <section className="panel" aria-labelledby="rules-title">
      <div className="page-head">
        <h3 id="rules-title">Targeting rules in {env}</h3>
        {canEdit && !adding && <button type="button" onClick={() => setAdding(true)}>Add rule</button>}
      </div>
      <p className="muted">Tried from the top; the first enabled rule that matches decides what the user gets.</p>
      {adding && <RuleForm flag={flag} priority={top + 10} onDone={() => { setAdding(false); void refresh(); }} />}
      {rules.isPending ? <Loading what="rules" /> : <ErrorNote error={rules.error} />}
      {rules.data?.length === 0 && <p className="muted">No rules: everyone gets the default serve.</p>}
      <ol className="rules" aria-label="Rules in priority order">
        {list.map((rule, i) => (
          <li key={rule.id} className={rule.enabled ? 'rule' : 'rule disabled'}>
            {editing === rule.id ? (
              <RuleForm flag={flag} rule={rule} priority={rule.priority} onDone={() => { setEditing(null); void refresh(); }} />
            ) : (
              <>
                <div className="rule-text">
                  <strong>{i + 1}.</strong> <RuleSummary rule={rule} flag={flag} />
                  <span className="muted"> priority {rule.priority}</span>
                </div>
                <div className="actions">
                  <Switch checked={rule.enabled} label={`Rule ${i + 1} enabled`} disabled={!canEdit} onChange={() => enable.mutate(rule)} />
                  {canEdit && (
                    <>
                      <button type="button" aria-label={`Move rule ${i + 1} up`} disabled={i === 0 || move.isPending} onClick={() => move.mutate({ from: i, to: i - 1 })}>↑</button>
                      <button type="button" aria-label={`Move rule ${i + 1} down`} disabled={i === list.length - 1 || move.isPending} onClick={() => move.mutate({ from: i, to: i + 1 })}>↓</button>
                      <button type="button" aria-label={`Edit rule ${i + 1}`} onClick={() => setEditing(rule.id)}>Edit</button>
                      <ConfirmButton label="Delete" confirmLabel="Delete rule" question={`Delete rule ${i + 1}?`} onConfirm={() => remove.mutate(rule)} />
                    </>
                  )}
                </div>
              </>
            )}
          </li>
        ))}
      </ol>
      <ErrorNote error={move.error ?? enable.error ?? remove.error} />
    </section>
  );
}

function RuleSummary({ rule, flag }: { rule: Rule; flag: Flag }) {
  const target =
    rule.rule_type === 'attribute_match' ? (rule.conditions ?? []).map(describeCondition).join(' and ')
    : rule.rule_type === 'segment' ? `in segment ${rule.rule_value}`
    : `${rule.rule_type.replace('_', ' ')} ${rule.rule_type === 'email_domain' ? 'is' : '='} ${rule.rule_value}`;
  const serve = flag.value_type === 'boolean'
    ? `${rule.rollout_percentage ?? 100}% on`
    : rule.serve?.variant ?? (rule.serve?.distribution ?? []).map((d) => `${d.variant} ${d.weight}%`).join(' · ');
  return <span><span className="badge">{rule.rule_type}</span> {target} → <em>{serve}</em></span>;
}
