import { createProject, evaluate, expect, screenshot, sdkKeys, signUp, test, uniqueEmail } from './support';

test('a multivariate flag with a distribution, read on its evaluations chart', async ({ page, request }) => {
  await signUp(page, uniqueEmail('ab'));
  const projectId = await createProject(page, 'Storefront');

  await page.getByRole('button', { name: 'New flag' }).click();
  const form = page.getByRole('form', { name: 'New flag' });
  await form.getByLabel('Name', { exact: true }).fill('Checkout color');
  await expect(form.getByLabel('Key', { exact: true })).toHaveValue('checkout_color');
  await form.getByLabel('Type').selectOption('string');
  await form.getByRole('group', { name: 'Variant 1' }).getByLabel('Value').fill('#000');
  await form.getByRole('group', { name: 'Variant 2' }).getByLabel('Value').fill('#0a0');
  await form.getByRole('button', { name: 'Add variant' }).click();
  await form.getByRole('group', { name: 'Variant 3' }).getByLabel('Variant key').fill('blue');
  await form.getByRole('group', { name: 'Variant 3' }).getByLabel('Value').fill('#00f');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('heading', { name: /Checkout color/ })).toBeVisible();

  // Production serves a 50/25/25 split once the flag is on.
  const serving = page.getByRole('region', { name: /Serving in production/ });
  await serving.getByLabel('Distribution').check();
  await serving.getByLabel('Weight of control').fill('50');
  await serving.getByLabel('Weight of treatment').fill('25');
  await serving.getByLabel('Weight of blue').fill('25');
  await expect(serving).toContainText('Total 100%');
  await serving.getByRole('button', { name: 'Save production' }).click();
  await page.getByRole('switch', { name: 'checkout_color in production' }).click();
  await expect(page.getByRole('switch', { name: 'checkout_color in production' })).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByRole('switch', { name: 'checkout_color in staging' })).toHaveAttribute('aria-checked', 'false');

  // Staff always see blue.
  await page.getByRole('button', { name: 'Add rule' }).click();
  const rule = page.getByRole('form', { name: 'New rule' });
  await rule.getByLabel('Rule type').selectOption('email_domain');
  await rule.getByLabel('Value', { exact: true }).fill('@example.com');
  await rule.getByLabel('Variant', { exact: true }).selectOption('blue');
  await rule.getByRole('button', { name: 'Save rule' }).click();
  await expect(page.getByRole('list', { name: 'Rules in priority order' })).toContainText('email domain is @example.com → blue');

  // Evaluations through the SDK, then the chart shows the same counts by variant.
  const key = (await sdkKeys(page, request, projectId)).production!;
  const served: Record<string, number> = {};
  for (let i = 0; i < 30; i++) {
    const answer = await evaluate(request, key, i < 3 ? { user_email: `staff${i}@example.com` } : { user_id: `user_${i}` });
    const variant = answer.checkout_color!.variant;
    served[variant] = (served[variant] ?? 0) + 1;
  }
  expect(Object.keys(served).length).toBeGreaterThan(1);
  const chart = page.getByRole('figure', { name: 'Evaluations' });
  await expect(async () => {
    await page.getByRole('button', { name: 'Refresh' }).click();
    for (const [variant, count] of Object.entries(served)) {
      await expect(chart.getByRole('list', { name: 'Totals' })).toContainText(`${variant}: ${count}`, { timeout: 1000 });
    }
  }).toPass({ timeout: 20_000 });
  await expect(chart.getByRole('img')).toHaveAttribute('aria-label', /by variant/);
  await page.getByLabel('Group by').selectOption('reason');
  await expect(chart.getByRole('list', { name: 'Totals' })).toContainText('rule_match: 3');
  await page.getByLabel('Group by').selectOption('variant');
  await screenshot(page, 'flag-page');

  // The audit log has every write, filtered to rules.
  await page.getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('list', { name: 'Audit entries' })).toContainText('flag.created');
  await page.getByLabel('Resource type').selectOption('rule');
  await page.getByRole('button', { name: 'Filter' }).click();
  const entries = page.getByRole('list', { name: 'Audit entries' }).getByRole('listitem');
  await expect(entries).toHaveCount(1);
  await expect(entries.first()).toContainText('rule.created');
  await page.getByLabel('Resource type').selectOption('');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByRole('list', { name: 'Audit entries' })).toContainText('flag.created');
  await screenshot(page, 'audit');
});
