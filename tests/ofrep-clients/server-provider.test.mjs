// The server-side OpenFeature SDK with the OFREP provider: one POST /ofrep/v1/evaluate/flags/{key}
// per evaluation, with the context of the call.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { OpenFeature, ErrorCode, StandardResolutionReasons } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { BASE_URL, sdkEvaluate, latestEvaluation, eventually, bucket, findIdentifier, once } from './support/flagservice.mjs';
import { setUpProject } from './support/project.mjs';

let fx; // the project fixture
let client; // SDK key sent as Authorization: Bearer
let apiKeyClient; // SDK key sent as X-API-Key

function useProvider(domain, headers) {
  return OpenFeature.setProviderAndWait(domain, new OFREPProvider({ baseUrl: BASE_URL, headers }));
}

// Set up on first use, so that a failure (say, no service at FLAGSERVICE_URL) fails every test.
const ready = once(async () => {
  fx = await setUpProject('server');
  await useProvider('bearer', [['Authorization', `Bearer ${fx.sdkKey}`]]);
  await useProvider('api-key', [['X-API-Key', fx.sdkKey]]);
  client = OpenFeature.getClient('bearer');
  apiKeyClient = OpenFeature.getClient('api-key');
});
const it = (name, fn) => test(name, async () => fn(await ready()));

after(async () => {
  await OpenFeature.close();
  await fx?.cleanUp();
});

// Asserts a successful evaluation: value, variant, reason, and no error.
function assertResolved(details, { value, reason }) {
  assert.equal(details.errorCode, undefined, `unexpected error ${details.errorCode}: ${details.errorMessage}`);
  assert.equal(details.value, value);
  assert.equal(details.variant, value ? 'on' : 'off');
  assert.equal(details.reason, reason);
  assert.equal(typeof details.flagMetadata, 'object');
}

// Asserts that the caller's default came back with the given error code.
function assertDefaulted(details, { defaultValue, errorCode }) {
  assert.equal(details.errorCode, errorCode, details.errorMessage);
  assert.equal(details.value, defaultValue);
  assert.equal(details.reason, StandardResolutionReasons.ERROR);
  assert.equal(details.variant, undefined);
}

describe('server SDK + @openfeature/ofrep-provider', () => {
  it('DISABLED: a disabled flag is false with variant off, even for a user a rule matches', async () => {
    const details = await client.getBooleanDetails('off_flag', true, { targetingKey: 'vip-user' });
    assertResolved(details, { value: false, reason: 'DISABLED' });
    assert.equal(await client.getBooleanValue('off_flag', true, { targetingKey: 'someone' }), false);
  });

  it('STATIC: enabled at 100 % (or 0 %) with no rules cannot vary, and needs no targetingKey', async () => {
    assertResolved(await client.getBooleanDetails('static_on', false, { targetingKey: 'anyone' }), { value: true, reason: 'STATIC' });
    assertResolved(await client.getBooleanDetails('static_on', false, {}), { value: true, reason: 'STATIC' });
    assertResolved(await client.getBooleanDetails('static_off', true, {}), { value: false, reason: 'STATIC' });
  });

  it('TARGETING_MATCH: a user_id rule matches the targetingKey', async () => {
    assertResolved(await client.getBooleanDetails('by_user', false, { targetingKey: 'vip-user' }), { value: true, reason: 'TARGETING_MATCH' });
    const other = await client.getBooleanDetails('by_user', true, { targetingKey: 'VIP-USER' }); // case-sensitive
    assert.equal(other.errorCode, undefined);
    assert.equal(other.value, false);
    assert.notEqual(other.reason, 'TARGETING_MATCH');
  });

  it('TARGETING_MATCH: user_email and email_domain rules match the `email` attribute', async () => {
    assertResolved(await client.getBooleanDetails('by_email', false, { targetingKey: 'u-1', email: 'Alice@Example.com' }), {
      value: true,
      reason: 'TARGETING_MATCH',
    });
    assertResolved(await client.getBooleanDetails('by_domain', false, { targetingKey: 'u-2', email: 'jo@Company.com' }), {
      value: true,
      reason: 'TARGETING_MATCH',
    });
    assert.equal(await client.getBooleanValue('by_email', true, { targetingKey: 'u-1', email: 'bob@example.com' }), false);
    assert.equal(await client.getBooleanValue('by_domain', true, { targetingKey: 'u-2', email: 'jo@notcompany.com' }), false);
  });

  it('TARGETING_MATCH: an attribute_match rule reads other context attributes as custom attributes', async () => {
    assertResolved(await client.getBooleanDetails('by_plan', false, { targetingKey: 'u-3', plan: 'pro' }), { value: true, reason: 'TARGETING_MATCH' });
    assertResolved(await client.getBooleanDetails('by_plan', false, { targetingKey: 'u-3', plan: 'enterprise' }), {
      value: true,
      reason: 'TARGETING_MATCH',
    });
    assert.equal(await client.getBooleanValue('by_plan', true, { targetingKey: 'u-3', plan: 'free' }), false);
  });

  it('SPLIT: a 50 % rollout agrees with the bucketing and with /sdk/v1/evaluate for every user', async () => {
    const inside = findIdentifier('split_half', 'split-user', (b) => b < 50);
    const outside = findIdentifier('split_half', 'split-user', (b) => b >= 50);
    assertResolved(await client.getBooleanDetails('split_half', false, { targetingKey: inside }), { value: true, reason: 'SPLIT' });
    assertResolved(await client.getBooleanDetails('split_half', true, { targetingKey: outside }), { value: false, reason: 'SPLIT' });

    for (let n = 1; n <= 12; n++) {
      const user = `user-${n}`;
      const details = await client.getBooleanDetails('split_half', false, { targetingKey: user });
      const sdk = (await sdkEvaluate(fx.sdkKey, { user_id: user })).split_half;
      assert.equal(details.errorCode, undefined, details.errorMessage);
      assert.equal(details.reason, 'SPLIT');
      assert.equal(details.value, sdk.enabled, `${user}: OFREP ${details.value}, /sdk/v1/evaluate ${sdk.enabled}`);
      assert.equal(details.value, bucket('split_half', user) < 50, `${user}: bucket ${bucket('split_half', user)}`);
    }
  });

  it('SPLIT: without a targetingKey the email is the identifier', async () => {
    const details = await client.getBooleanDetails('split_half', false, { email: 'Bob@Example.com' });
    const sdk = (await sdkEvaluate(fx.sdkKey, { user_email: 'Bob@Example.com' })).split_half;
    assertResolved(details, { value: sdk.enabled, reason: 'SPLIT' });
    assert.equal(details.value, bucket('split_half', 'bob@example.com') < 50);
  });

  it('TARGETING_KEY_MISSING: a rollout with no targetingKey (and no email) gives the caller its default', async () => {
    assertDefaulted(await client.getBooleanDetails('split_half', true, {}), { defaultValue: true, errorCode: ErrorCode.TARGETING_KEY_MISSING });
    assertDefaulted(await client.getBooleanDetails('split_half', false, { plan: 'pro' }), {
      defaultValue: false,
      errorCode: ErrorCode.TARGETING_KEY_MISSING,
    });
  });

  it('FLAG_NOT_FOUND: an unknown flag gives the caller its default', async () => {
    assertDefaulted(await client.getBooleanDetails('no_such_flag', true, { targetingKey: 'u' }), { defaultValue: true, errorCode: ErrorCode.FLAG_NOT_FOUND });
    assertDefaulted(await client.getBooleanDetails('no_such_flag', false, { targetingKey: 'u' }), {
      defaultValue: false,
      errorCode: ErrorCode.FLAG_NOT_FOUND,
    });
    assert.equal(await client.getBooleanValue('no_such_flag', true), true);
  });

  it('FLAG_NOT_FOUND: a key that no flag can have (spaces, capitals, too long) is just not found', async () => {
    for (const key of ['Not A Valid Key!', 'UPPER_CASE', 'x'.repeat(65)]) {
      assertDefaulted(await client.getBooleanDetails(key, true, { targetingKey: 'u' }), { defaultValue: true, errorCode: ErrorCode.FLAG_NOT_FOUND });
    }
  });

  it('TYPE_MISMATCH: the value is a JSON boolean, so asking for a string gives the default', async () => {
    const details = await client.getStringDetails('static_on', 'fallback', { targetingKey: 'u' });
    assert.equal(details.errorCode, ErrorCode.TYPE_MISMATCH);
    assert.equal(details.value, 'fallback');
  });

  it('the SDK key also works as X-API-Key', async () => {
    assertResolved(await apiKeyClient.getBooleanDetails('by_user', false, { targetingKey: 'vip-user' }), { value: true, reason: 'TARGETING_MATCH' });
    assertResolved(await apiKeyClient.getBooleanDetails('off_flag', true, { targetingKey: 'vip-user' }), { value: false, reason: 'DISABLED' });
  });

  it('a bad or missing SDK key: 401, which this provider reports as GENERAL with the default', async () => {
    // The right key works (so GENERAL below comes from the 401, not from a missing endpoint).
    assertResolved(await client.getBooleanDetails('static_on', false, { targetingKey: 'u' }), { value: true, reason: 'STATIC' });
    const wrongKey = `sdk_${randomBytes(16).toString('hex')}`;
    await useProvider('wrong-bearer', [['Authorization', `Bearer ${wrongKey}`]]);
    await useProvider('wrong-api-key', [['X-API-Key', wrongKey]]);
    await useProvider('no-key', []);
    for (const domain of ['wrong-bearer', 'wrong-api-key', 'no-key']) {
      const details = await OpenFeature.getClient(domain).getBooleanDetails('static_on', false, { targetingKey: 'u' });
      assertDefaulted(details, { defaultValue: false, errorCode: ErrorCode.GENERAL });
    }
  });

  it('OFREP evaluations are counted in the analytics, like /sdk/v1/evaluate', async () => {
    const user = `analytics-${randomBytes(4).toString('hex')}`;
    assert.equal(await client.getBooleanValue('static_on', false, { targetingKey: user }), true);
    const latest = await eventually(() => latestEvaluation(fx.projectId, fx.flagId('static_on'), user), {
      timeoutMs: 15_000,
      intervalMs: 500,
      what: `the analytics to record ${user}`,
    });
    assert.equal(latest.enabled, true);
    assert.equal(latest.reason, 'rollout');
  });
});
