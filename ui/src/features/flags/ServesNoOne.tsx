import type { Schemas } from '../../api/client';

// A boolean flag that is on at 0 % serves `off` to everyone its rules do not catch: switched on, it
// looks live and is not. Said in words where the switch is, in the list and on the flag's page.
export function ServesNoOne({ flag, env }: { flag: Pick<Schemas['FlagResponse'], 'key' | 'enabled' | 'value_type' | 'rollout_percentage'>; env: string }) {
  if (!flag.enabled || flag.value_type !== 'boolean' || flag.rollout_percentage !== 0) return null;
  return <p className="warning">⚠ {flag.key} is on in {env} but serves on to no one outside its rules: its rollout is 0 %.</p>;
}
