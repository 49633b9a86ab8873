import { acceptInvitation, createFlag, createProject, expect, screenshot, signUp, test, uniqueEmail, watchConsole } from './support';

test('an invited viewer sees read-only screens', async ({ page, browser }) => {
  await signUp(page, uniqueEmail('owner'));
  await createProject(page, 'Team project');
  await createFlag(page, 'Kill switch', 'kill_switch');

  const viewerEmail = uniqueEmail('viewer');
  await page.getByRole('link', { name: 'Members' }).click();
  const invite = page.getByRole('form', { name: 'Invite a member' });
  await invite.getByLabel('Email').fill(viewerEmail);
  await invite.getByLabel('Role').selectOption('viewer');
  await invite.getByRole('button', { name: 'Invite' }).click();
  await expect(page.getByRole('status')).toContainText(`${viewerEmail} is invited as viewer`);

  // The invitation becomes a membership when the viewer, signed in with the invited address,
  // accepts the e-mailed link (registering alone grants nothing).
  const context = await browser.newContext();
  const viewer = await context.newPage();
  const check = watchConsole(viewer);
  await signUp(viewer, viewerEmail);
  await acceptInvitation(viewer, viewerEmail);
  await expect(viewer.getByText('viewer', { exact: true })).toBeVisible();
  await expect(viewer.getByRole('button', { name: /Rename|Delete/ })).toHaveCount(0);
  await viewer.getByRole('link', { name: 'Team project' }).click();

  await expect(viewer.getByRole('note')).toContainText('read-only');
  await expect(viewer.getByRole('button', { name: 'New flag' })).toHaveCount(0);
  await expect(viewer.getByRole('switch', { name: 'kill_switch' })).toBeDisabled();
  await viewer.getByRole('link', { name: 'Kill switch' }).click();
  await expect(viewer.getByRole('heading', { name: /Kill switch/ })).toBeVisible();
  await expect(viewer.getByRole('button', { name: 'Add rule' })).toHaveCount(0);
  await expect(viewer.getByRole('button', { name: 'Edit details' })).toHaveCount(0);
  await expect(viewer.getByRole('button', { name: /^Save/ })).toHaveCount(0);
  await expect(viewer.getByRole('switch', { name: 'kill_switch in production' })).toBeDisabled();
  await expect(viewer.getByLabel('Rollout percentage')).toHaveAttribute('readonly', '');
  await expect(viewer.getByRole('figure', { name: 'Evaluations' })).toBeVisible();

  await viewer.getByRole('link', { name: 'Members' }).click();
  await expect(viewer.getByRole('form', { name: 'Invite a member' })).toHaveCount(0);
  await expect(viewer.getByRole('table')).toContainText(viewerEmail);
  await viewer.getByRole('link', { name: 'Environments' }).click();
  await expect(viewer.getByRole('button', { name: /New environment|Regenerate keys/ })).toHaveCount(0);
  await viewer.getByRole('link', { name: 'Segments' }).click();
  await expect(viewer.getByRole('button', { name: 'New segment' })).toHaveCount(0);
  await viewer.getByRole('link', { name: 'Audit log' }).click();
  await expect(viewer.getByRole('list', { name: 'Audit entries' })).toContainText('member.added');
  check();
  await context.close();
});
