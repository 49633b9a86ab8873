import { createProject, expect, failedRequests, password, resetLink, screenshot, signIn, signUp, test, uniqueEmail } from './support';

test.describe('sessions and errors', () => {
  // These tests provoke 400, 401 and 409 answers on purpose; the browser logs each one.
  test.use({ allowConsoleErrors: failedRequests(400, 401, 409) });

  test('a wrong password is refused; the API errors show next to their fields', async ({ page }) => {
    const email = uniqueEmail('errors');
    await page.goto('/');
    await expect(page).toHaveURL(/\/sign-in$/);
    await screenshot(page, 'sign-in');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    const passwordField = page.getByLabel('Password');
    await expect(passwordField).toHaveAttribute('aria-invalid', 'true');
    await expect(passwordField).toHaveAccessibleDescription(/8/);

    await signUp(page, email);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, email, 'not the password');
    await expect(page.getByRole('alert')).toBeVisible();
    await signIn(page, email);
    await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();

    await createProject(page, 'Errors');
    await page.getByRole('button', { name: 'New flag' }).click();
    const form = page.getByRole('form', { name: 'New flag' });
    await form.getByLabel('Name', { exact: true }).fill('Bad key');
    await form.getByLabel('Key', { exact: true }).fill('Bad Key!');
    await form.getByRole('button', { name: 'Create' }).click();
    const key = form.getByLabel('Key', { exact: true });
    await expect(key).toHaveAttribute('aria-invalid', 'true');
    await expect(key).toHaveAccessibleDescription(/must match|pattern|\^\[a-z\]/i);
    await expect(form.getByLabel('Name', { exact: true })).not.toHaveAttribute('aria-invalid', 'true');

    // A duplicate key: a 409, whose detail is shown.
    await key.fill('dup');
    await form.getByRole('button', { name: 'Create' }).click();
    await expect(page.getByRole('heading', { name: /Bad key/ })).toBeVisible();
    await page.getByRole('link', { name: 'Flags', exact: true }).click();
    await page.getByRole('button', { name: 'New flag' }).click();
    await form.getByLabel('Name', { exact: true }).fill('Dup again');
    await form.getByLabel('Key', { exact: true }).fill('dup');
    await form.getByRole('button', { name: 'Create' }).click();
    await expect(form.getByRole('alert')).toBeVisible();
  });

  test('an expired session returns to sign-in and then to the same page', async ({ page }) => {
    const email = uniqueEmail('expired');
    await signUp(page, email);
    const projectId = await createProject(page, 'Long night');
    await page.getByLabel('Environment', { exact: true }).selectOption('staging');
    await expect(page).toHaveURL(/env=staging/);
    const where = new URL(page.url());

    // A token the service no longer accepts, as after 24 h or a password reset.
    await page.evaluate(() => sessionStorage.setItem('flagservice.token', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.expired'));
    await page.reload();
    await expect(page).toHaveURL(/\/sign-in\?next=/);
    await signIn(page, email);
    await expect(page).toHaveURL(`${where.pathname}${where.search}`);
    await expect(page.getByRole('heading', { name: 'Flags in staging' })).toBeVisible();
    expect(where.pathname).toContain(projectId);
  });

  test('forgot and reset password through the e-mailed link', async ({ page }) => {
    const email = uniqueEmail('forgot');
    await signUp(page, email);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await expect(page.getByRole('status')).toContainText('on its way');

    let link: string | undefined;
    await expect.poll(() => (link = resetLink(email)), { timeout: 10_000 }).toBeTruthy();
    await page.goto(link!);
    await page.getByLabel('New password').fill('a brand new passphrase');
    await page.getByRole('button', { name: 'Set password' }).click();
    await expect(page.getByRole('status')).toContainText('password was changed');
    await signIn(page, email, password);
    await expect(page.getByRole('alert')).toBeVisible();
    await signIn(page, email, 'a brand new passphrase');
    await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
  });
});
