// The web (static-context) OpenFeature SDK with the OFREP web provider: one
// POST /ofrep/v1/evaluate/flags per context (and per poll), evaluations answered from that result.
// Each scenario uses its own domain, so its own provider instance and context.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { OpenFeature, ErrorCode, StandardResolutionReasons, ProviderEvents, ProviderStatus } from '@openfeature/web-sdk';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';
import { BASE_URL, sdkEvaluate, toggleFlag, eventually, findIdentifier, once } from './support/flagservice.mjs';
import { setUpProject, ALL_KEYS } from './support/project.mjs';

const POLL_MS = 250;
let fx;

// Headers must be [name, value] tuples: ofrep-web-provider 0.4.3 spreads them into an array.
function provider({ headers, pollInterval = 0 }) {
  return new OFREPWebProvider({
    baseUrl: BASE_URL,
    headers,
    pollInterval,
    changeDetection: 'polling',
    cacheMode: 'disabled', // no localStorage here; every start asks the server
    disableVisibilityRefresh: true,
    timeoutMs: 5_000,
  });
}

async function start(domain, context, options = {}) {
  await OpenFeature.setProviderAndWait(domain, provider({ headers: [['X-API-Key', fx.sdkKey]], ...options }), context);
  return OpenFeature.getClient(domain);
}

function assertResolved(details, { value, reason }) {
  assert.equal(details.errorCode, undefined, `unexpected error ${details.errorCode}: ${details.errorMessage}`);
  assert.equal(details.value, value);
  assert.equal(details.variant, value ? 'on' : 'off');
  assert.equal(details.reason, reason);
}

function assertDefaulted(details, { defaultValue, errorCode }) {
  assert.equal(details.errorCode, errorCode, details.errorMessage);
  assert.equal(details.value, defaultValue);
  assert.equal(details.reason, StandardResolutionReasons.ERROR);
}

// Set up on first use, so that a failure (say, no service at FLAGSERVICE_URL) fails every test.
const ready = once(async () => {
  fx = await setUpProject('web');
});
const it = (name, fn) => test(name, async () => fn(await ready()));

after(async () => {
  await OpenFeature.close();
  await fx?.cleanUp();
});

describe('web SDK + @openfeature/ofrep-web-provider', () => {
  it('one bulk evaluation serves every path: DISABLED, STATIC, TARGETING_MATCH', async () => {
    const client = await start('vip', { targetingKey: 'vip-user', email: 'Alice@Example.com', plan: 'pro' });
    assert.equal(client.providerStatus, ProviderStatus.READY);
    assertResolved(client.getBooleanDetails('off_flag', true), { value: false, reason: 'DISABLED' });
    assertResolved(client.getBooleanDetails('static_on', false), { value: true, reason: 'STATIC' });
    assertResolved(client.getBooleanDetails('static_off', true), { value: false, reason: 'STATIC' });
    assertResolved(client.getBooleanDetails('by_user', false), { value: true, reason: 'TARGETING_MATCH' });
    assertResolved(client.getBooleanDetails('by_email', false), { value: true, reason: 'TARGETING_MATCH' });
    assertResolved(client.getBooleanDetails('by_plan', false), { value: true, reason: 'TARGETING_MATCH' });
    assert.equal(client.getBooleanValue('by_domain', true), false);
    // Every flag of the project came back in the bulk response.
    for (const key of ALL_KEYS) {
      assert.notEqual(client.getBooleanDetails(key, false).errorCode, ErrorCode.FLAG_NOT_FOUND, `${key} missing from the bulk response`);
    }
  });

  it('a context change with the same targetingKey re-evaluates (the ETag depends on the context)', async () => {
    // The provider keeps its ETag while the targetingKey stays the same and sends it as If-None-Match
    // with the new context: a 304 here would leave the old answers in place.
    const client = await start('same-key', { targetingKey: 'ctx-user', email: 'alice@example.com', plan: 'pro' });
    assertResolved(client.getBooleanDetails('by_plan', false), { value: true, reason: 'TARGETING_MATCH' });
    assertResolved(client.getBooleanDetails('by_email', false), { value: true, reason: 'TARGETING_MATCH' });

    await OpenFeature.setContext('same-key', { targetingKey: 'ctx-user', email: 'alice@example.com', plan: 'free' });
    assert.equal(client.getBooleanDetails('by_plan', true).value, false);
    assertResolved(client.getBooleanDetails('by_email', false), { value: true, reason: 'TARGETING_MATCH' });

    await OpenFeature.setContext('same-key', { targetingKey: 'ctx-user', email: 'jo@company.com', plan: 'free' });
    assert.equal(client.getBooleanDetails('by_email', true).value, false);
    assertResolved(client.getBooleanDetails('by_domain', false), { value: true, reason: 'TARGETING_MATCH' });
  });

  it('SPLIT: the 50 % rollout agrees with /sdk/v1/evaluate as the user changes', async () => {
    const inside = findIdentifier('split_half', 'web-user', (b) => b < 50);
    const outside = findIdentifier('split_half', 'web-user', (b) => b >= 50);
    const client = await start('split', { targetingKey: inside });
    assertResolved(client.getBooleanDetails('split_half', false), { value: true, reason: 'SPLIT' });

    await OpenFeature.setContext('split', { targetingKey: outside });
    assertResolved(client.getBooleanDetails('split_half', true), { value: false, reason: 'SPLIT' });

    for (const user of ['user-1', 'user-2', 'user-3', 'user-4', 'user-5', 'user-6']) {
      await OpenFeature.setContext('split', { targetingKey: user });
      const sdk = (await sdkEvaluate(fx.sdkKey, { user_id: user })).split_half;
      assertResolved(client.getBooleanDetails('split_half', !sdk.enabled), { value: sdk.enabled, reason: 'SPLIT' });
    }
  });

  it('TARGETING_KEY_MISSING: only the rollout flag fails; the rest of the bulk answer is usable', async () => {
    const client = await start('anonymous', { plan: 'pro' });
    assert.equal(client.providerStatus, ProviderStatus.READY);
    assertDefaulted(client.getBooleanDetails('split_half', true), { defaultValue: true, errorCode: ErrorCode.TARGETING_KEY_MISSING });
    assertDefaulted(client.getBooleanDetails('split_half', false), { defaultValue: false, errorCode: ErrorCode.TARGETING_KEY_MISSING });
    assertResolved(client.getBooleanDetails('static_on', false), { value: true, reason: 'STATIC' });
    assertResolved(client.getBooleanDetails('by_plan', false), { value: true, reason: 'TARGETING_MATCH' });
  });

  it('FLAG_NOT_FOUND: a flag missing from the bulk answer gives the caller its default', async () => {
    const client = await start('not-found', { targetingKey: 'nf-user' });
    assertDefaulted(client.getBooleanDetails('no_such_flag', true), { defaultValue: true, errorCode: ErrorCode.FLAG_NOT_FOUND });
    assertDefaulted(client.getBooleanDetails('Not A Valid Key!', false), { defaultValue: false, errorCode: ErrorCode.FLAG_NOT_FOUND });
    assert.equal(client.getBooleanValue('no_such_flag', true), true);
  });

  it('TYPE_MISMATCH: values are JSON booleans', async () => {
    const client = await start('types', { targetingKey: 'type-user' });
    const details = client.getStringDetails('static_on', 'fallback');
    assert.equal(details.errorCode, ErrorCode.TYPE_MISMATCH);
    assert.equal(details.value, 'fallback');
  });

  it('the SDK key also works as Authorization: Bearer', async () => {
    const client = await start('bearer', { targetingKey: 'vip-user' }, { headers: [['Authorization', `Bearer ${fx.sdkKey}`]] });
    assertResolved(client.getBooleanDetails('by_user', false), { value: true, reason: 'TARGETING_MATCH' });
  });

  it('a bad SDK key: 401 at start makes the provider FATAL and every evaluation returns the default', async () => {
    const wrongKey = `sdk_${randomBytes(16).toString('hex')}`;
    await assert.rejects(OpenFeature.setProviderAndWait('bad-key', provider({ headers: [['X-API-Key', wrongKey]] }), { targetingKey: 'u' }));
    const client = OpenFeature.getClient('bad-key');
    assert.equal(client.providerStatus, ProviderStatus.FATAL);
    assertDefaulted(client.getBooleanDetails('static_on', false), { defaultValue: false, errorCode: ErrorCode.PROVIDER_FATAL });
    assertDefaulted(client.getBooleanDetails('static_on', true), { defaultValue: true, errorCode: ErrorCode.PROVIDER_FATAL });
  });

  it('a toggle through the management API reaches the provider on its next poll', async () => {
    const client = await start('polling', { targetingKey: 'poll-user' }, { pollInterval: POLL_MS });
    assertResolved(client.getBooleanDetails('kill_switch', false), { value: true, reason: 'STATIC' });

    const changed = [];
    client.addHandler(ProviderEvents.ConfigurationChanged, (event) => changed.push(...(event?.flagsChanged ?? [])));

    const off = await toggleFlag(fx.projectId, fx.flagId('kill_switch'));
    assert.equal(off.enabled, false);
    await eventually(() => client.getBooleanValue('kill_switch', true) === false, { what: 'kill_switch to turn off' });
    assertResolved(client.getBooleanDetails('kill_switch', true), { value: false, reason: 'DISABLED' });
    assert.ok(changed.includes('kill_switch'), `PROVIDER_CONFIGURATION_CHANGED named ${JSON.stringify(changed)}`);

    const on = await toggleFlag(fx.projectId, fx.flagId('kill_switch'));
    assert.equal(on.enabled, true);
    await eventually(() => client.getBooleanValue('kill_switch', false) === true, { what: 'kill_switch to turn back on' });
    assertResolved(client.getBooleanDetails('kill_switch', false), { value: true, reason: 'STATIC' });
  });
});
