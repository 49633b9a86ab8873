import { acceptInvitation, asUser, createFlag, createProject, evaluate, expect, screenshot, sdkKeys, signUp, test, uniqueEmail, watchConsole } from './support';

// What a newcomer expects on first use: a flag switched on serves `on` to everyone, a flag that is on
// but serves no one says so, and the keys an application needs can be revealed and copied.

test('a flag created and switched on in the UI serves on to everyone, and one at 0 % says it serves no one', async ({ page, request }) => {
  await signUp(page, uniqueEmail('newcomer'));
  const projectId = await createProject(page, 'First use');
  await createFlag(page, 'Launch banner', 'launch_banner');

  await page.getByRole('link', { name: 'Flags', exact: true }).click();
  await page.getByRole('switch', { name: 'launch_banner' }).click();
  await expect(page.getByRole('switch', { name: 'launch_banner' })).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByText(/serves on to no one/)).toHaveCount(0);

  const keys = await sdkKeys(page, request, projectId);
  for (const user of ['u1', 'u2', 'u3', 'someone@example.com']) {
    const answer = await evaluate(request, keys.production!, { user_id: user });
    expect(answer.launch_banner, user).toMatchObject({ enabled: true, variant: 'on' });
  }
  // Every environment starts at 100 %, not only the one the flag was created in.
  await page.getByRole('link', { name: 'Launch banner' }).click();
  await page.getByRole('switch', { name: 'launch_banner in staging' }).click();
  await expect(page.getByRole('switch', { name: 'launch_banner in staging' })).toHaveAttribute('aria-checked', 'true');
  expect((await evaluate(request, keys.staging!, { user_id: 'u1' })).launch_banner).toMatchObject({ enabled: true });

  // On at 0 %: the page and the list say that it serves no one.
  await page.getByLabel('Rollout percentage', { exact: true }).fill('0');
  await page.getByRole('button', { name: 'Save production' }).click();
  await expect(page.getByText('launch_banner is on in production but serves on to no one outside its rules: its rollout is 0 %.')).toBeVisible();
  await screenshot(page, 'flag-serves-no-one-page');
  await page.getByRole('link', { name: 'Flags', exact: true }).click();
  await expect(page.getByRole('list', { name: 'Flags' }).getByText(/launch_banner is on in production but serves on to no one/)).toBeVisible();
  await screenshot(page, 'flags-serves-no-one');
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.getByText(/serves on to no one/)).toBeVisible();
  await screenshot(page, 'flags-serves-no-one-phone');
});

test('owners and editors reveal and copy the keys; viewers see them masked', async ({ page, browser, request }) => {
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await signUp(page, uniqueEmail('owner'));
  const projectId = await createProject(page, 'Keys');
  const environments = await (await asUser(page, request)).get<{ key: string; sdk_key: string; server_key: string }[]>(
    `/api/projects/${projectId}/environments`);
  const production = environments.find((e) => e.key === 'production')!;

  await page.getByRole('link', { name: 'Environments' }).click();
  const card = page.getByRole('listitem', { name: 'Environment production' });
  await expect(card.getByLabel('SDK key of production', { exact: true })).toHaveText(`${production.sdk_key.slice(0, 8)}…`);
  await card.getByRole('button', { name: 'Reveal keys of production' }).click();
  await expect(card.getByLabel('SDK key of production', { exact: true })).toHaveText(production.sdk_key);
  await expect(card.getByLabel('Server key of production', { exact: true })).toHaveText(production.server_key);
  await card.getByRole('button', { name: 'Copy SDK key of production' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(production.sdk_key);
  await card.getByRole('button', { name: 'Copy server key of production' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(production.server_key);
  await screenshot(page, 'environment-keys');
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'environment-keys-phone');
  await page.setViewportSize({ width: 1280, height: 800 });

  // An editor gets the SDK key (the API keeps server keys to owners); a viewer only its prefix.
  for (const role of ['editor', 'viewer'] as const) {
    const email = uniqueEmail(role);
    await page.getByRole('link', { name: 'Members' }).click();
    const invite = page.getByRole('form', { name: 'Invite a member' });
    await invite.getByLabel('Email').fill(email);
    await invite.getByLabel('Role').selectOption(role);
    await invite.getByRole('button', { name: 'Invite' }).click();
    await expect(page.getByRole('status')).toContainText(`${email} is invited as ${role}`);

    const context = await browser.newContext();
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    const member = await context.newPage();
    const check = watchConsole(member);
    await signUp(member, email);
    await acceptInvitation(member, email);
    await member.getByRole('link', { name: 'Keys' }).click();
    await member.getByRole('link', { name: 'Environments' }).click();
    const memberCard = member.getByRole('listitem', { name: 'Environment production' });
    await expect(memberCard.getByLabel('SDK key of production', { exact: true })).toHaveText(`${production.sdk_key.slice(0, 8)}…`);
    await expect(memberCard.getByLabel('Server key of production', { exact: true })).toHaveCount(0);
    if (role === 'editor') {
      await memberCard.getByRole('button', { name: 'Reveal keys of production' }).click();
      await expect(memberCard.getByLabel('SDK key of production', { exact: true })).toHaveText(production.sdk_key);
      await memberCard.getByRole('button', { name: 'Copy SDK key of production' }).click();
      expect(await member.evaluate(() => navigator.clipboard.readText())).toBe(production.sdk_key);
    } else {
      await expect(memberCard.getByRole('button', { name: /Reveal keys|Copy/ })).toHaveCount(0);
    }
    check();
    await context.close();
  }
});
