// String, number and object flags through both official OFREP providers: typed values, variant
// keys and reasons, and the type mismatch an OpenFeature SDK reports when asked for the wrong type.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { OpenFeature as ServerFeature, ErrorCode, StandardResolutionReasons } from '@openfeature/server-sdk';
import { OpenFeature as WebFeature } from '@openfeature/web-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';
import { BASE_URL, bucket, once } from './support/flagservice.mjs';
import { createProject, createFlag, createRule, deleteProject } from './support/flagservice.mjs';

const COLORS = [
  { key: 'control', value: '#000' },
  { key: 'blue', value: '#00f' },
  { key: 'green', value: '#0a0' },
];
const SPLIT = { distribution: [{ variant: 'control', weight: 50 }, { variant: 'blue', weight: 25 }, { variant: 'green', weight: 25 }] };

let project;
let server;

const ready = once(async () => {
  project = await createProject(`ofrep multivariate ${randomBytes(3).toString('hex')}`);
  await createFlag(project.id, { key: 'checkout_color', value_type: 'string', enabled: true, variants: COLORS, serve: SPLIT, off_variant: 'control' });
  await createFlag(project.id, { key: 'color_off', value_type: 'string', enabled: false, variants: COLORS, off_variant: 'blue' });
  const timeout = await createFlag(project.id, {
    key: 'timeout_ms', value_type: 'number', enabled: true,
    variants: [{ key: 'short', value: 250 }, { key: 'long', value: 1500.5 }], serve: { variant: 'short' },
  });
  await createRule(project.id, timeout.id, { rule_type: 'user_id', rule_value: 'slow-user', serve: { variant: 'long' } });
  await createFlag(project.id, {
    key: 'layout', value_type: 'json', enabled: true,
    variants: [{ key: 'compact', value: { columns: 2, dense: true } }, { key: 'wide', value: { columns: 4, panels: ['a', 'b'] } }],
    serve: { variant: 'wide' },
  });
  await ServerFeature.setProviderAndWait('multivariate', new OFREPProvider({ baseUrl: BASE_URL, headers: [['X-API-Key', project.sdk_key]] }));
  server = ServerFeature.getClient('multivariate');
});
const it = (name, fn) => test(name, async () => fn(await ready()));

after(async () => {
  await ServerFeature.close();
  await WebFeature.close();
  if (project) await deleteProject(project.id);
});

function assertResolved(details, { value, variant, reason }) {
  assert.equal(details.errorCode, undefined, `unexpected error ${details.errorCode}: ${details.errorMessage}`);
  assert.deepEqual(details.value, value);
  assert.equal(details.variant, variant);
  assert.equal(details.reason, reason);
}

function assertMismatch(details, defaultValue) {
  assert.equal(details.errorCode, ErrorCode.TYPE_MISMATCH, details.errorMessage);
  assert.deepEqual(details.value, defaultValue);
  assert.equal(details.reason, StandardResolutionReasons.ERROR);
}

describe('server SDK + @openfeature/ofrep-provider, multivariate', () => {
  it('getStringValue: a weighted split serves the contract example variants, reason SPLIT', async () => {
    assert.equal(bucket('checkout_color', 'user_1'), 19);
    assertResolved(await server.getStringDetails('checkout_color', 'none', { targetingKey: 'user_1' }), { value: '#000', variant: 'control', reason: 'SPLIT' });
    assertResolved(await server.getStringDetails('checkout_color', 'none', { targetingKey: 'user_42' }), { value: '#0a0', variant: 'green', reason: 'SPLIT' });
    assert.equal(await server.getStringValue('checkout_color', 'none', { targetingKey: 'user_1' }), '#000');
  });

  it('getStringValue: a disabled flag serves its off variant, reason DISABLED', async () => {
    assertResolved(await server.getStringDetails('color_off', 'none', { targetingKey: 'user_1' }), { value: '#00f', variant: 'blue', reason: 'DISABLED' });
  });

  it('getNumberValue: the default variant, and a rule serving its own', async () => {
    assertResolved(await server.getNumberDetails('timeout_ms', 0, { targetingKey: 'fast-user' }), { value: 250, variant: 'short', reason: 'DEFAULT' });
    assertResolved(await server.getNumberDetails('timeout_ms', 0, { targetingKey: 'slow-user' }), { value: 1500.5, variant: 'long', reason: 'TARGETING_MATCH' });
  });

  it('getObjectValue: a JSON value arrives whole, reason STATIC', async () => {
    assertResolved(await server.getObjectDetails('layout', {}, { targetingKey: 'anyone' }), { value: { columns: 4, panels: ['a', 'b'] }, variant: 'wide', reason: 'STATIC' });
  });

  it('the wrong typed call is a TYPE_MISMATCH and gives the default back', async () => {
    assertMismatch(await server.getNumberDetails('checkout_color', 7, { targetingKey: 'user_1' }), 7);
    assertMismatch(await server.getBooleanDetails('timeout_ms', false, { targetingKey: 'user_1' }), false);
    assertMismatch(await server.getStringDetails('layout', 'x', { targetingKey: 'user_1' }), 'x');
  });
});

describe('web SDK + @openfeature/ofrep-web-provider, multivariate', () => {
  it('one bulk call answers typed values for every flag, and mismatches are reported', async () => {
    const provider = new OFREPWebProvider({
      baseUrl: BASE_URL, headers: [['X-API-Key', project.sdk_key]], pollInterval: 0, changeDetection: 'polling',
      cacheMode: 'disabled', disableVisibilityRefresh: true, timeoutMs: 5_000,
    });
    await WebFeature.setProviderAndWait('multivariate-web', provider, { targetingKey: 'user_42' });
    const web = WebFeature.getClient('multivariate-web');

    assertResolved(web.getStringDetails('checkout_color', 'none'), { value: '#0a0', variant: 'green', reason: 'SPLIT' });
    assertResolved(web.getNumberDetails('timeout_ms', 0), { value: 250, variant: 'short', reason: 'DEFAULT' });
    assertResolved(web.getObjectDetails('layout', {}), { value: { columns: 4, panels: ['a', 'b'] }, variant: 'wide', reason: 'STATIC' });
    assertMismatch(web.getBooleanDetails('checkout_color', true), true);

    await WebFeature.setContext('multivariate-web', { targetingKey: 'slow-user' });
    assertResolved(web.getNumberDetails('timeout_ms', 0), { value: 1500.5, variant: 'long', reason: 'TARGETING_MATCH' });
  });
});
