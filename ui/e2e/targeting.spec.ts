import { createFlag, createProject, evaluate, expect, screenshot, sdkKeys, signUp, test, uniqueEmail } from './support';

test('sign up, create a project, a flag, an attribute rule and a segment, and toggle the flag in staging only', async ({ page, request }) => {
  await signUp(page, uniqueEmail('owner'));
  const projectId = await createProject(page, 'Web shop');

  await createFlag(page, 'New checkout', 'new_checkout');
  // Rules are per environment: these are staging's.
  await page.getByLabel('Environment', { exact: true }).selectOption('staging');
  await expect(page.getByRole('heading', { name: 'Targeting rules in staging' })).toBeVisible();

  // An attribute rule: pro or enterprise customers on 2.4.0 or later.
  await page.getByRole('button', { name: 'Add rule' }).click();
  const rule = page.getByRole('form', { name: 'New rule' });
  await expect(rule.getByLabel('Rule type')).toHaveValue('attribute_match');
  const first = rule.getByRole('group', { name: 'Condition 1' });
  await first.getByLabel('Attribute').fill('plan');
  await first.getByLabel('Operator').selectOption('in');
  await first.getByLabel('Values').fill('pro, enterprise');
  await rule.getByRole('button', { name: 'Add condition' }).click();
  const second = rule.getByRole('group', { name: 'Condition 2' });
  await second.getByLabel('Attribute').fill('app_version');
  await second.getByLabel('Operator').selectOption('semver_gte');
  await second.getByLabel('Values').fill('2.4.0');
  await rule.getByRole('button', { name: 'Save rule' }).click();
  const rules = page.getByRole('list', { name: 'Rules in priority order' });
  await expect(rules.getByRole('listitem')).toHaveCount(1);
  await expect(rules).toContainText('plan in "pro", "enterprise" and app_version semver_gte "2.4.0"');

  // A segment, and a rule that targets it (added above the attribute rule).
  await page.getByRole('link', { name: 'Segments' }).click();
  await page.getByRole('button', { name: 'New segment' }).click();
  const segment = page.getByRole('form', { name: 'New segment' });
  await segment.getByLabel('Name', { exact: true }).fill('Beta testers');
  await segment.getByLabel('Key', { exact: true }).fill('beta_testers');
  await segment.getByLabel('Included identifiers').fill('user_7\nuser_42');
  await segment.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('listitem', { name: 'Beta testers' })).toContainText('2 included');

  await page.getByRole('link', { name: 'Flags', exact: true }).click();
  await page.getByRole('link', { name: 'New checkout' }).click();
  await page.getByRole('button', { name: 'Add rule' }).click();
  await rule.getByLabel('Rule type').selectOption('segment');
  await rule.getByLabel('Segment').selectOption('beta_testers');
  await rule.getByRole('button', { name: 'Save rule' }).click();
  await expect(rules.getByRole('listitem')).toHaveCount(2);
  await expect(rules.getByRole('listitem').first()).toContainText('in segment beta_testers');

  // Reorder: the attribute rule goes first.
  await page.getByRole('button', { name: 'Move rule 1 down' }).click();
  await expect(rules.getByRole('listitem').first()).toContainText('plan in');
  await expect(rules.getByRole('listitem').nth(1)).toContainText('in segment beta_testers');

  const keys = await sdkKeys(page, request, projectId);
  const before = { production: await evaluate(request, keys.production!, { user_id: 'user_42' }), staging: await evaluate(request, keys.staging!, { user_id: 'user_42' }) };
  expect(before.staging.new_checkout).toMatchObject({ enabled: false, reason: 'disabled' });

  // Turn it on in staging, from the flags list of staging.
  await page.getByRole('link', { name: 'Flags', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Flags in staging' })).toBeVisible();
  const toggle = page.getByRole('switch', { name: 'new_checkout' });
  await expect(toggle).toHaveAttribute('aria-checked', 'false');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByText('staging: on')).toBeVisible();

  // Only staging changed: its key now serves the flag through the segment rule; production answers as before.
  const staging = await evaluate(request, keys.staging!, { user_id: 'user_42' });
  expect(staging.new_checkout).toMatchObject({ enabled: true, reason: 'rule_match' });
  const pro = await evaluate(request, keys.staging!, { user_id: 'u1', custom_attributes: { plan: 'pro', app_version: '2.10.1' } });
  expect(pro.new_checkout).toMatchObject({ enabled: true, reason: 'rule_match' });
  expect(await evaluate(request, keys.production!, { user_id: 'user_42' })).toEqual(before.production);
  expect(before.production.new_checkout).toMatchObject({ enabled: false, reason: 'disabled' });
  await screenshot(page, 'flags');

  await page.getByLabel('Search flags').fill('checkout');
  await expect(page.getByRole('switch', { name: 'new_checkout' })).toBeVisible();
  await page.getByLabel('Search flags').fill('nothing-like-it');
  await expect(page.getByText('No flag matches')).toBeVisible();
  await page.getByLabel('Search flags').fill('');

  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.getByRole('switch', { name: 'new_checkout' })).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await screenshot(page, 'flags-phone');

  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto('/');
  await expect(page.getByRole('link', { name: 'Web shop' })).toBeVisible();
  await screenshot(page, 'projects');
});
