// Talks to a running FlagService through its documented management and SDK APIs (the OpenAPI document at /openapi/v1.json):
// one account per suite run, one fresh project per test file, flags and rules created over HTTP.
import { randomBytes, createHash } from 'node:crypto';
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync, unlinkSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const BASE_URL = (process.env.FLAGSERVICE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');

export class HttpError extends Error {
  constructor(method, path, status, body) {
    super(`${method} ${path} -> ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`);
    this.status = status;
    this.body = body;
  }
}

// fetch, with a message that says which service could not be reached and why.
export async function reach(url, init) {
  try {
    return await fetch(url, init);
  } catch (error) {
    const why = error.cause?.code ?? error.cause?.message ?? error.message;
    throw new Error(`cannot reach FlagService at ${BASE_URL} (set FLAGSERVICE_URL): ${init?.method ?? 'GET'} ${url}: ${why}`, { cause: error });
  }
}

// Runs `fn` once, on first use; every caller gets the same promise (and the same failure).
export function once(fn) {
  let promise;
  return () => (promise ??= fn());
}

// One HTTP call; the JSON body is parsed when there is one. Throws HttpError on an unexpected status.
export async function call(method, path, { body, token, headers = {}, expect = [200, 201, 204] } = {}) {
  const init = { method, headers: { ...headers } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await reach(BASE_URL + path, init);
  const text = await response.text();
  let parsed = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  if (!expect.includes(response.status)) throw new HttpError(method, path, response.status, parsed);
  return { status: response.status, headers: response.headers, body: parsed };
}

// ---------------------------------------------------------------------------------------------
// The account. /auth/register and /auth/login are rate limited per address (10 a minute by
// default), and `node --test` runs every test file in its own process, so the first file to ask
// registers and logs in, and the others read the token from a file keyed by the test runner's pid.

const SESSION_DIR = join(tmpdir(), 'flagservice-ofrep-clients');
const sessionTag = createHash('sha256').update(`${BASE_URL}|${process.ppid}`).digest('hex').slice(0, 16);
const SESSION_FILE = join(SESSION_DIR, `${sessionTag}.json`);
const LOCK_FILE = `${SESSION_FILE}.lock`;

function readSession() {
  if (!existsSync(SESSION_FILE)) return null;
  try {
    const session = JSON.parse(readFileSync(SESSION_FILE, 'utf8'));
    // Keep a margin of ten minutes before the token expires.
    return Date.parse(session.expires_at) - Date.now() > 10 * 60 * 1000 ? session : null;
  } catch {
    return null;
  }
}

async function createSession() {
  const email = `ofrep-${Date.now()}-${randomBytes(4).toString('hex')}@example.com`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  await call('POST', '/auth/register', { body: { email, password }, expect: [201] });
  const login = await call('POST', '/auth/login', { body: { email, password }, expect: [200] });
  return { email, token: login.body.token, expires_at: login.body.expires_at };
}

let sessionPromise;
export function session() {
  sessionPromise ??= (async () => {
    mkdirSync(SESSION_DIR, { recursive: true });
    for (let attempt = 0; attempt < 300; attempt++) {
      const cached = readSession();
      if (cached) return cached;
      let lock;
      try {
        lock = openSync(LOCK_FILE, 'wx');
      } catch {
        // Another test file is logging in; a lock left by a killed run is removed after 30 s.
        try {
          if (Date.now() - statSync(LOCK_FILE).mtimeMs > 30_000) unlinkSync(LOCK_FILE);
        } catch {
          // gone already
        }
        await sleep(100);
        continue;
      }
      try {
        const fresh = readSession() ?? (await createSession());
        writeFileSync(SESSION_FILE, JSON.stringify(fresh));
        return fresh;
      } finally {
        closeSync(lock);
        unlinkSync(LOCK_FILE);
      }
    }
    throw new Error('timed out waiting for another test file to log in');
  })();
  return sessionPromise;
}

// ---------------------------------------------------------------------------------------------
// Management API helpers (JWT).

export async function createProject(name) {
  const { token } = await session();
  const { body } = await call('POST', '/api/projects', { token, body: { name, description: 'OFREP client checks' }, expect: [201] });
  return body;
}

export async function deleteProject(projectId) {
  const { token } = await session();
  await call('DELETE', `/api/projects/${projectId}`, { token, expect: [204, 404] });
}

// Any other field of the flag (value_type, variants, serve, off_variant) is passed through.
export async function createFlag(projectId, { key, name = key, ...fields }) {
  const { token } = await session();
  const { body } = await call('POST', `/api/projects/${projectId}/flags`, {
    token,
    body: { name, key, ...fields },
    expect: [201],
  });
  return body;
}

export async function createRule(projectId, flagId, rule) {
  const { token } = await session();
  const { body } = await call('POST', `/api/projects/${projectId}/flags/${flagId}/rules`, { token, body: rule, expect: [201] });
  return body;
}

export async function toggleFlag(projectId, flagId) {
  const { token } = await session();
  const { body } = await call('POST', `/api/projects/${projectId}/flags/${flagId}/toggle`, { token, expect: [200] });
  return body;
}

// The latest result recorded by the analytics for one identifier, or null while there is none.
export async function latestEvaluation(projectId, flagId, identifier) {
  const { token } = await session();
  const { status, body } = await call(
    'GET',
    `/api/projects/${projectId}/flags/${flagId}/evaluations?user=${encodeURIComponent(identifier)}`,
    { token, expect: [200, 404] },
  );
  return status === 200 ? body : null;
}

// FlagService's own SDK endpoint: {"<flag key>": {"enabled": bool, "reason": "..."}}.
export async function sdkEvaluate(sdkKey, context) {
  const { body } = await call('POST', '/sdk/v1/evaluate', { headers: { 'X-SDK-Key': sdkKey }, body: context, expect: [200] });
  return body;
}

// Raw OFREP calls, for the protocol details the providers do not surface.
export async function ofrep(path, { body, headers = {} } = {}) {
  const init = { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await reach(`${BASE_URL}/ofrep/v1/evaluate/flags${path}`, init);
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: json };
}

// Polls `probe` until it returns something other than undefined/null/false, or fails after `timeoutMs`.
export async function eventually(probe, { timeoutMs = 10_000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last !== undefined && last !== null && last !== false) return last;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

// ---------------------------------------------------------------------------------------------
// Bucketing as the contract defines it: murmur3_x86_32(utf8(flag_key + ":" + identifier), seed 0) % 100.

export function murmur3(text, seed = 0) {
  const data = Buffer.from(text, 'utf8');
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const blocks = data.length >> 2;
  for (let i = 0; i < blocks; i++) {
    let k = data.readUInt32LE(i * 4);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const tail = blocks * 4;
  switch (data.length & 3) {
    case 3:
      k ^= data[tail + 2] << 16;
    // falls through
    case 2:
      k ^= data[tail + 1] << 8;
    // falls through
    case 1:
      k ^= data[tail];
      k = Math.imul(k, c1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, c2);
      h ^= k;
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export const bucket = (flagKey, identifier) => murmur3(`${flagKey}:${identifier}`) % 100;

// The first identifier `${prefix}-N` whose bucket for `flagKey` satisfies `predicate`.
export function findIdentifier(flagKey, prefix, predicate) {
  for (let n = 1; n < 10_000; n++) {
    const id = `${prefix}-${n}`;
    if (predicate(bucket(flagKey, id))) return id;
  }
  throw new Error(`no identifier found for ${flagKey}`);
}
