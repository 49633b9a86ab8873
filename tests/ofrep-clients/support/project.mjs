// A fresh project per test file, holding one flag per evaluation path.
import { randomBytes } from 'node:crypto';
import { createProject, createFlag, createRule, deleteProject } from './flagservice.mjs';

// key -> how the flag is set up, and the answer FlagService's engine gives (see the README's Targeting section).
export const FLAGS = {
  // Disabled wins over everything, even a rule that matches.
  off_flag: { enabled: false, rollout_percentage: 100, rules: [{ rule_type: 'user_id', rule_value: 'vip-user', priority: 10 }] },
  // Enabled, no rules, 100 % or 0 %: the answer cannot vary -> STATIC.
  static_on: { enabled: true, rollout_percentage: 100 },
  static_off: { enabled: true, rollout_percentage: 0 },
  // Targeting rules on a flag that is otherwise off (rollout 0 %).
  by_user: { enabled: true, rollout_percentage: 0, rules: [{ rule_type: 'user_id', rule_value: 'vip-user', priority: 10 }] },
  by_email: { enabled: true, rollout_percentage: 0, rules: [{ rule_type: 'user_email', rule_value: 'alice@example.com', priority: 10 }] },
  by_domain: { enabled: true, rollout_percentage: 0, rules: [{ rule_type: 'email_domain', rule_value: '@company.com', priority: 10 }] },
  by_plan: {
    enabled: true,
    rollout_percentage: 0,
    rules: [{ rule_type: 'attribute_match', priority: 10, conditions: [{ attribute: 'plan', operator: 'in', values: ['pro', 'enterprise'] }] }],
  },
  // A percentage rollout: SPLIT with an identifier, TARGETING_KEY_MISSING without one.
  split_half: { enabled: true, rollout_percentage: 50 },
  // Toggled by the tests (the kill switch).
  kill_switch: { enabled: true, rollout_percentage: 100 },
};

export const ALL_KEYS = Object.keys(FLAGS);

// Creates the project and every flag above; returns ids, the SDK key and a cleanup function.
export async function setUpProject(label) {
  const project = await createProject(`ofrep ${label} ${randomBytes(3).toString('hex')}`);
  const flags = {};
  for (const [key, spec] of Object.entries(FLAGS)) {
    const flag = await createFlag(project.id, { key, enabled: spec.enabled, rollout_percentage: spec.rollout_percentage });
    for (const rule of spec.rules ?? []) await createRule(project.id, flag.id, rule);
    flags[key] = flag;
  }
  return {
    project,
    projectId: project.id,
    sdkKey: project.sdk_key,
    flags,
    flagId: (key) => flags[key].id,
    cleanUp: () => deleteProject(project.id),
  };
}
