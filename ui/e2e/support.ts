import { test as base, expect, type APIRequestContext, type Page } from '@playwright/test';
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

// Every page is watched: an error in the console or an uncaught exception fails the test, except
// the browser's own line for an HTTP error that the test provokes on purpose (allowConsoleErrors).
export function watchConsole(page: Page, allowed?: RegExp) {
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(`${e.name}: ${e.message}`));
  return () => expect(errors.filter((e) => !allowed?.test(e)), 'console errors').toEqual([]);
}

export const test = base.extend<{ allowConsoleErrors: RegExp | undefined }>({
  allowConsoleErrors: [undefined, { option: true }],
  page: async ({ page, allowConsoleErrors }, use) => {
    const check = watchConsole(page, allowConsoleErrors);
    await use(page);
    check();
  },
});
export { expect };

export const failedRequests = (...statuses: number[]) =>
  new RegExp(`^Failed to load resource: the server responded with a status of (${statuses.join('|')}) `);

let counter = 0;
export const uniqueEmail = (who: string) => `${who}-${Date.now().toString(36)}-${counter++}@example.com`;
export const password = 'correct horse battery';

// Under TestResults/ by default, so that a test run leaves the tree clean; scripts/screenshots.sh
// points this at docs/screenshots to refresh the README's pictures.
const shots = resolve(process.env.SCREENSHOTS_DIR ?? '../TestResults/screenshots');
export async function screenshot(page: Page, name: string) {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: resolve(shots, `${name}.png`), fullPage: name.includes('page') });
}

export async function signUp(page: Page, email: string) {
  await page.goto('/register');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
}

export async function signIn(page: Page, email: string, secret = password) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function createProject(page: Page, name: string): Promise<string> {
  await page.goto('/');
  await page.getByRole('button', { name: 'New project' }).click();
  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Create' }).click();
  await page.waitForURL(/\/projects\/[0-9a-f-]{36}\/flags/);
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
  return page.url().match(/projects\/([0-9a-f-]{36})/)![1]!;
}

export async function createFlag(page: Page, name: string, key: string) {
  await page.getByRole('button', { name: 'New flag' }).click();
  const form = page.getByRole('form', { name: 'New flag' });
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Key', { exact: true }).fill(key);
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('heading', { name: new RegExp(name) })).toBeVisible();
}

// The API as the signed-in user: the token the UI keeps in sessionStorage.
export async function asUser(page: Page, request: APIRequestContext) {
  const token = await page.evaluate(() => sessionStorage.getItem('flagservice.token'));
  const headers = { Authorization: `Bearer ${token}` };
  return {
    get: async <T>(path: string): Promise<T> => {
      const response = await request.get(path, { headers });
      expect(response.status(), path).toBe(200);
      return (await response.json()) as T;
    },
  };
}

export async function sdkKeys(page: Page, request: APIRequestContext, projectId: string): Promise<Record<string, string>> {
  const environments = await (await asUser(page, request)).get<{ key: string; sdk_key: string }[]>(`/api/projects/${projectId}/environments`);
  return Object.fromEntries(environments.map((e) => [e.key, e.sdk_key]));
}

export type Evaluation = { enabled: boolean; reason: string; variant: string; value: unknown };

export async function evaluate(request: APIRequestContext, sdkKey: string, context: object): Promise<Record<string, Evaluation>> {
  const response = await request.post('/sdk/v1/evaluate', { headers: { 'X-SDK-Key': sdkKey }, data: context });
  expect(response.status()).toBe(200);
  return (await response.json()) as Record<string, Evaluation>;
}

// The invitation token the service logs for an invited address (as resetLink).
export function invitationToken(email: string): string | undefined {
  const log = readFileSync(process.env.FLAGSERVICE_LOG ?? '', 'utf8');
  const at = log.lastIndexOf(`mail to ${email}`);
  return at < 0 ? undefined : log.slice(at).match(/\/invitations\/accept\?token=([^\s]+)/)?.[1];
}

// Accepts the invitation mailed to `email` as that user (signed up already), through the API, then
// reloads the page so the new membership shows.
export async function acceptInvitation(page: Page, email: string, secret = password) {
  let token: string | undefined;
  await expect.poll(() => (token = invitationToken(email)), { timeout: 10_000 }).toBeTruthy();
  const login = await page.request.post('/auth/login', { data: { email, password: secret } });
  const { token: jwt } = (await login.json()) as { token: string };
  const accepted = await page.request.post('/api/invitations/accept', { data: { token }, headers: { Authorization: `Bearer ${jwt}` } });
  expect(accepted.ok()).toBeTruthy();
  await page.reload();
}

// The reset link the service logs when no SMTP server is configured (e2e/run.sh keeps the log).
export function resetLink(email: string): string | undefined {
  const log = readFileSync(process.env.FLAGSERVICE_LOG ?? '', 'utf8');
  const at = log.lastIndexOf(`mail to ${email}`);
  return at < 0 ? undefined : log.slice(at).match(/https?:\/\/\S+\/reset-password\?token=[^\s]+/)?.[0];
}
