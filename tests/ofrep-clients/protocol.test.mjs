// The wire details of OFREP that the providers rely on but do not surface: status codes, body
// shapes, ETag / If-None-Match / 304, and CORS for browsers. Plain fetch, no SDK.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BASE_URL, ofrep, toggleFlag, reach, once } from './support/flagservice.mjs';
import { setUpProject, ALL_KEYS } from './support/project.mjs';

let fx;
let auth; // X-API-Key header for the fixture's project

// Set up on first use, so that a failure (say, no service at FLAGSERVICE_URL) fails every test.
const ready = once(async () => {
  fx = await setUpProject('protocol');
  auth = { 'X-API-Key': fx.sdkKey };
});
const it = (name, fn) => test(name, async () => fn(await ready()));

after(async () => {
  await fx?.cleanUp();
});

const isJson = (headers) => /^application\/([a-z.+-]*\+)?json\b/i.test(headers.get('content-type') ?? '');

function assertFailure(response, { status, key, errorCode }) {
  assert.equal(response.status, status, response.text);
  assert.ok(isJson(response.headers), `content type ${response.headers.get('content-type')}`);
  assert.equal(response.body?.errorCode, errorCode, response.text);
  if (key !== undefined) assert.equal(response.body.key, key, response.text);
  assert.equal('value' in response.body, false);
}

describe('single flag: POST /ofrep/v1/evaluate/flags/{key}', () => {
  it('200 with key, boolean value, variant and reason, for either way of sending the SDK key', async () => {
    for (const headers of [auth, { Authorization: `Bearer ${fx.sdkKey}` }]) {
      const response = await ofrep('/by_user', { headers, body: { context: { targetingKey: 'vip-user' } } });
      assert.equal(response.status, 200, response.text);
      assert.match(response.headers.get('content-type'), /^application\/json/);
      assert.equal(response.body.key, 'by_user');
      assert.equal(response.body.value, true);
      assert.equal(response.body.variant, 'on');
      assert.equal(response.body.reason, 'TARGETING_MATCH');
      if ('metadata' in response.body) {
        for (const value of Object.values(response.body.metadata)) assert.ok(['string', 'number', 'boolean'].includes(typeof value));
      }
    }
  });

  it('401 for a missing or unknown SDK key', async () => {
    const wrong = `sdk_${randomBytes(16).toString('hex')}`;
    for (const headers of [{}, { 'X-API-Key': wrong }, { Authorization: `Bearer ${wrong}` }, { Authorization: 'Bearer ' }]) {
      const response = await ofrep('/static_on', { headers, body: { context: {} } });
      assert.equal(response.status, 401, `${JSON.stringify(headers)}: ${response.text}`);
    }
  });

  it('404 FLAG_NOT_FOUND names the key', async () => {
    assertFailure(await ofrep('/no_such_flag', { headers: auth, body: { context: { targetingKey: 'u' } } }), {
      status: 404,
      key: 'no_such_flag',
      errorCode: 'FLAG_NOT_FOUND',
    });
  });

  it('400 TARGETING_KEY_MISSING when a rollout needs an identifier', async () => {
    assertFailure(await ofrep('/split_half', { headers: auth, body: { context: {} } }), {
      status: 400,
      key: 'split_half',
      errorCode: 'TARGETING_KEY_MISSING',
    });
  });

  it('400 PARSE_ERROR for a body that is not JSON', async () => {
    assertFailure(await ofrep('/static_on', { headers: auth, body: '{"context": {' }), { status: 400, key: 'static_on', errorCode: 'PARSE_ERROR' });
  });

  it('400 INVALID_CONTEXT for a context that is not an object, or a targetingKey that is not a string', async () => {
    for (const body of [{ context: 'nope' }, { context: [1, 2] }, { context: { targetingKey: 42 } }]) {
      assertFailure(await ofrep('/static_on', { headers: auth, body }), { status: 400, key: 'static_on', errorCode: 'INVALID_CONTEXT' });
    }
  });
});

describe('bulk: POST /ofrep/v1/evaluate/flags', () => {
  it('200 lists every flag of the project once, each with its key', async () => {
    const response = await ofrep('', { headers: auth, body: { context: { targetingKey: 'vip-user', plan: 'pro' } } });
    assert.equal(response.status, 200, response.text);
    assert.match(response.headers.get('content-type'), /^application\/json/);
    assert.ok(Array.isArray(response.body.flags));
    assert.deepEqual(response.body.flags.map((f) => f.key).sort(), [...ALL_KEYS].sort());
    const byKey = Object.fromEntries(response.body.flags.map((f) => [f.key, f]));
    assert.deepEqual(
      { value: byKey.by_user.value, variant: byKey.by_user.variant, reason: byKey.by_user.reason },
      { value: true, variant: 'on', reason: 'TARGETING_MATCH' },
    );
    assert.deepEqual(
      { value: byKey.off_flag.value, variant: byKey.off_flag.variant, reason: byKey.off_flag.reason },
      { value: false, variant: 'off', reason: 'DISABLED' },
    );
    assert.equal(byKey.static_on.reason, 'STATIC');
    assert.equal(byKey.split_half.reason, 'SPLIT');
  });

  it('a flag that needs a targetingKey fails alone, inside a 200', async () => {
    const response = await ofrep('', { headers: { Authorization: `Bearer ${fx.sdkKey}` }, body: { context: {} } });
    assert.equal(response.status, 200, response.text);
    const split = response.body.flags.find((f) => f.key === 'split_half');
    assert.equal(split.errorCode, 'TARGETING_KEY_MISSING');
    assert.equal('value' in split, false);
    const staticOn = response.body.flags.find((f) => f.key === 'static_on');
    assert.equal(staticOn.value, true);
    assert.equal(staticOn.errorCode, undefined);
  });

  it('401 for a missing or unknown SDK key; 400 PARSE_ERROR / INVALID_CONTEXT for a bad body', async () => {
    assert.equal((await ofrep('', { body: { context: {} } })).status, 401);
    assert.equal((await ofrep('', { headers: { 'X-API-Key': `sdk_${randomBytes(16).toString('hex')}` }, body: { context: {} } })).status, 401);
    assertFailure(await ofrep('', { headers: auth, body: 'not json' }), { status: 400, errorCode: 'PARSE_ERROR' });
    assertFailure(await ofrep('', { headers: auth, body: { context: 'nope' } }), { status: 400, errorCode: 'INVALID_CONTEXT' });
  });
});

describe('bulk ETag and If-None-Match', () => {
  const contextPro = { context: { targetingKey: 'etag-user', plan: 'pro' } };
  const contextFree = { context: { targetingKey: 'etag-user', plan: 'free' } };

  it('the same question gets the same ETag, and If-None-Match then gets 304 with no body', async () => {
    const first = await ofrep('', { headers: auth, body: contextPro });
    const etag = first.headers.get('etag');
    assert.ok(etag, 'no ETag on the bulk response');
    const again = await ofrep('', { headers: auth, body: contextPro });
    assert.equal(again.headers.get('etag'), etag);

    const notModified = await ofrep('', { headers: { ...auth, 'If-None-Match': etag }, body: contextPro });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.text, '');
    assert.equal(notModified.headers.get('etag'), etag);

    const listed = await ofrep('', { headers: { ...auth, 'If-None-Match': `"something-else", ${etag}` }, body: contextPro });
    assert.equal(listed.status, 304);
  });

  it('an ETag never answers for another context whose answers differ', async () => {
    const pro = await ofrep('', { headers: auth, body: contextPro });
    const free = await ofrep('', { headers: { ...auth, 'If-None-Match': pro.headers.get('etag') }, body: contextFree });
    assert.equal(free.status, 200, 'a 304 here would keep plan=pro answers for a plan=free user');
    assert.notEqual(free.headers.get('etag'), pro.headers.get('etag'));
    assert.equal(free.body.flags.find((f) => f.key === 'by_plan').value, false);
  });

  it('a toggle changes the ETag, and the old one gets the new answers', async () => {
    const previous = await ofrep('', { headers: auth, body: contextPro });
    const etag = previous.headers.get('etag');
    try {
      await toggleFlag(fx.projectId, fx.flagId('kill_switch'));
      let next;
      for (let attempt = 0; attempt < 50; attempt++) {
        next = await ofrep('', { headers: { ...auth, 'If-None-Match': etag }, body: contextPro });
        if (next.status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(next.status, 200, 'still 304 five seconds after the toggle');
      assert.notEqual(next.headers.get('etag'), etag);
      assert.equal(next.body.flags.find((f) => f.key === 'kill_switch').value, false);
    } finally {
      await toggleFlag(fx.projectId, fx.flagId('kill_switch'));
    }
  });

  it('an SDK key is checked before If-None-Match', async () => {
    const etag = (await ofrep('', { headers: auth, body: contextPro })).headers.get('etag');
    const response = await ofrep('', { headers: { 'X-API-Key': `sdk_${randomBytes(16).toString('hex')}`, 'If-None-Match': etag }, body: contextPro });
    assert.equal(response.status, 401);
  });
});

describe('CORS for the web provider in a browser', () => {
  const origin = 'https://app.example.test';

  it('preflight allows the headers the provider sends', async () => {
    const response = await reach(`${BASE_URL}/ofrep/v1/evaluate/flags`, {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,x-api-key,authorization,if-none-match',
      },
    });
    assert.ok(response.status === 204 || response.status === 200, `preflight status ${response.status}`);
    const allowOrigin = response.headers.get('access-control-allow-origin');
    assert.ok(allowOrigin === '*' || allowOrigin === origin, `Access-Control-Allow-Origin: ${allowOrigin}`);
    const allowed = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const header of ['content-type', 'x-api-key', 'authorization', 'if-none-match']) {
      // A wildcard never covers Authorization (Fetch standard), so that one must be named.
      const ok = allowed.split(/\s*,\s*/).includes(header) || (allowed === '*' && header !== 'authorization');
      assert.ok(ok, `${header} not in Access-Control-Allow-Headers: ${allowed}`);
    }
  });

  it('responses expose ETag to the page', async () => {
    const response = await ofrep('', { headers: { ...auth, Origin: origin }, body: { context: { targetingKey: 'cors-user' } } });
    assert.equal(response.status, 200);
    const exposed = (response.headers.get('access-control-expose-headers') ?? '').toLowerCase();
    assert.ok(exposed.split(/\s*,\s*/).includes('etag'), `Access-Control-Expose-Headers: ${exposed}`);
  });
});
