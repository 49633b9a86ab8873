// The OFREP web provider with changeDetection: 'sse' and no polling: the bulk answer names an event
// stream (eventStreams), the provider opens it, and a flag toggle reaches it as a refetchEvaluation
// message, after which it fetches the new answers. Node 20 has no EventSource, so the standard
// interface is supplied (support/event-source.mjs) before the provider is loaded.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { FetchEventSource } from './support/event-source.mjs';
import { BASE_URL, ofrep, toggleFlag, eventually, once } from './support/flagservice.mjs';
import { setUpProject } from './support/project.mjs';

globalThis.EventSource ??= FetchEventSource;
const { OpenFeature, ProviderEvents } = await import('@openfeature/web-sdk');
const { OFREPWebProvider } = await import('@openfeature/ofrep-web-provider');

let fx;
const ready = once(async () => {
  fx = await setUpProject('sse');
});
const it = (name, fn) => test(name, async () => fn(await ready()));

after(async () => {
  await OpenFeature.close();
  await fx?.cleanUp();
});

describe('web SDK + @openfeature/ofrep-web-provider with changeDetection: sse', () => {
  it('the bulk answer carries an SSE event stream for the sdk key', async () => {
    const response = await ofrep('', { headers: { 'X-API-Key': fx.sdkKey }, body: { context: { targetingKey: 'u1' } } });
    assert.equal(response.status, 200);
    assert.equal(response.body.eventStreams.length, 1);
    const [stream] = response.body.eventStreams;
    assert.equal(stream.type, 'sse');
    assert.equal(stream.inactivityDelaySec, 120);
    assert.ok(stream.url.startsWith(`${BASE_URL}/sdk/v1/stream?`), stream.url);

    // The stream speaks OFREP: a refetchEvaluation message at connect.
    const source = new FetchEventSource(stream.url);
    try {
      const message = await new Promise((resolve, reject) => {
        source.addEventListener('message', (e) => resolve(JSON.parse(e.data)));
        source.addEventListener('error', () => reject(new Error('stream failed')));
      });
      assert.equal(message.type, 'refetchEvaluation');
      assert.equal(typeof message.etag, 'string');
      assert.equal(typeof message.lastModified, 'number');
    } finally {
      source.close();
    }
  });

  it('a toggle reaches the provider through the stream, without polling', async () => {
    const provider = new OFREPWebProvider({
      baseUrl: BASE_URL,
      headers: [['X-API-Key', fx.sdkKey]],
      pollInterval: 0, // no polling at all: only the stream can bring the change
      changeDetection: 'sse',
      cacheMode: 'disabled',
      disableVisibilityRefresh: true,
      timeoutMs: 5_000,
    });
    const before = FetchEventSource.opened.length;
    await OpenFeature.setProviderAndWait('sse', provider, { targetingKey: 'sse-user' });
    const client = OpenFeature.getClient('sse');
    assert.equal(client.getBooleanValue('kill_switch', false), true);
    await eventually(() => FetchEventSource.opened.length > before, { what: 'the provider to open the event stream' });
    assert.ok(FetchEventSource.opened.at(-1).url.includes('format=ofrep'));

    const changed = [];
    client.addHandler(ProviderEvents.ConfigurationChanged, (event) => changed.push(...(event?.flagsChanged ?? [])));
    const started = Date.now();
    const off = await toggleFlag(fx.projectId, fx.flagId('kill_switch'));
    assert.equal(off.enabled, false);
    await eventually(() => client.getBooleanValue('kill_switch', true) === false, { timeoutMs: 5_000, intervalMs: 10, what: 'kill_switch to turn off' });
    const elapsed = Date.now() - started;
    assert.ok(changed.includes('kill_switch'), `PROVIDER_CONFIGURATION_CHANGED named ${JSON.stringify(changed)}`);
    console.log(`# toggle -> web provider updated through SSE in ${elapsed} ms (the provider debounces events)`);
  });
});
