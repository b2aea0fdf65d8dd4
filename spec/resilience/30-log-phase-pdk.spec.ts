/**
 * Every PDK call a shipped plugin's `log` phase makes must be valid in Kong's deferred log timer
 * (lib/kong/facade.ts PHASES_OF; kong-runtime.md §2.9, §9 item 8: a call that raises there leaks state
 * into the next request). Each plugin with a log phase runs access → (tap result) → log against the
 * PDK fake for a buffered answer, a stream, a client abort and a Kong-generated 504; the calls of the
 * log phase are mapped to facade names, checked and enumerated in the test output.
 * `service.response.getRawBody` is additionally only allowed when the request turned buffering on
 * and the upstream answered.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { withDefaults } from '../../lib/schema/kong-schema';
import { PHASES_OF, type FacadeCall } from '../../lib/kong/facade';
import { MemoryStore } from '../../lib/store/memory';
import type { KongPdk } from '../../lib/kong/pdk';
import { TokenAccounting } from '../../plugins/llm-token-accounting/handler';
import { Schema as AcctSchema, type TokenAccountingConfig } from '../../plugins/llm-token-accounting/schema';
import { SemanticCache } from '../../plugins/llm-semantic-cache/handler';
import { Schema as CacheSchema, type SemanticCacheConfig } from '../../plugins/llm-semantic-cache/schema';
import { ModelRouter } from '../../plugins/llm-model-router/handler';
import { config as routerConfig, target } from '../plugins/llm-model-router/helpers';
import { fakeKong, type FakeKong } from '../helpers/fake-kong';

const silent = pino({ level: 'silent' });

/** PDK method (as recorded by the fake) → facade call. Logging calls are valid everywhere. */
const FACADE_OF: Record<string, FacadeCall | 'logging'> = {
  'request.getHeader': 'header',
  'request.getHeaders': 'headers',
  'request.getMethod': 'method',
  'request.getPath': 'path',
  'request.getRawQuery': 'rawQuery',
  'request.getRawBody': 'rawBody',
  'client.getIp': 'clientIp',
  'client.getConsumer': 'consumer',
  'client.getConsumerGroups': 'consumerGroups',
  'client.getCredential': 'credential',
  'router.getRoute': 'route',
  'router.getService': 'service',
  'ctx.shared.get': 'sharedGet',
  'ctx.shared.set': 'sharedSet',
  'service.request.setHeader': 'setUpstreamHeader',
  'service.request.clearHeader': 'clearUpstreamHeader',
  'service.request.setRawBody': 'setUpstreamBody',
  'service.request.setPath': 'setUpstreamPath',
  'service.request.setScheme': 'setUpstreamScheme',
  'service.request.setRawQuery': 'setUpstreamQuery',
  'service.setTarget': 'setTarget',
  'service.setTimeouts': 'setTimeouts',
  'service.request.enableBuffering': 'enableBuffering',
  'response.setHeader': 'setResponseHeader',
  'response.setHeaders': 'setResponseHeaders',
  'response.exit': 'exit',
  'service.response.getStatus': 'upstreamStatus',
  'service.response.getHeaders': 'upstreamHeaders',
  'service.response.getRawBody': 'upstreamRawBody',
  'log.serialize': 'serialize',
  'log.setSerializeValue': 'setSerializeValue',
  'plugin.getId': 'pluginId',
  'log.err': 'logging',
  'log.warn': 'logging',
  'log.notice': 'logging',
  'log.info': 'logging',
  'log.debug': 'logging',
};

interface Scenario {
  name: string;
  stream: boolean;
  status: number;
  /** the upstream answered (false: Kong generated the status) */
  upstream: boolean;
  aborted: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'buffered 200', stream: false, status: 200, upstream: true, aborted: false },
  { name: 'stream 200', stream: true, status: 200, upstream: true, aborted: false },
  { name: 'client abort mid-stream', stream: true, status: 200, upstream: true, aborted: true },
  { name: 'upstream 429', stream: false, status: 429, upstream: true, aborted: false },
  { name: 'Kong 504 (upstream timeout)', stream: false, status: 504, upstream: false, aborted: false },
];

const ANSWER = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
};

interface Phased {
  access(k: KongPdk): Promise<void>;
  log(k: KongPdk): Promise<void>;
}

async function runScenario(plugin: Phased, s: Scenario): Promise<{ fake: FakeKong; logCalls: string[] }> {
  const fake = fakeKong({
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
    consumer: { id: 'c1', username: 'alice' },
    route: { id: 'r1', name: 'ai' },
    service: { id: 's1', name: 'llm' },
    body: {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello.' }],
      max_tokens: 20,
      ...(s.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    },
  });
  await plugin.access(fake.pdk);
  // what the upstream / Kong / the Lua tap left behind for the log timer
  if (s.upstream) {
    fake.upstreamResponse = {
      status: s.status,
      headers: { 'content-type': [s.stream ? 'text/event-stream' : 'application/json'] },
      ...(fake.upstream.buffering ? { body: JSON.stringify(s.status === 200 ? ANSWER : { error: {} }) } : {}),
    };
  }
  fake.serialized = { response: { status: s.status }, request: { id: 'req-1' } };
  if (s.upstream && s.status === 200)
    fake.shared['llm.tap'] = {
      kind: s.stream ? 'sse' : 'json',
      status: s.status,
      model: 'gpt-4o-mini',
      text: 'Hello there.',
      text_bytes: 12,
      ...(s.aborted ? {} : { usage: ANSWER.usage }),
      finish_reason: s.aborted ? null : 'stop',
      tool_calls: [],
      frames: 3,
      bad_frames: 0,
      done: !s.aborted,
      aborted: s.aborted,
      bytes: 300,
      restored: 0,
    };
  const mark = fake.calls.length;
  await plugin.log(fake.pdk);
  return { fake, logCalls: fake.calls.slice(mark).map((c) => c[0]) };
}

function plugins(): Record<string, () => Phased> {
  return {
    'llm-token-accounting': () =>
      new TokenAccounting(
        withDefaults<TokenAccountingConfig>(AcctSchema, {
          strategy: 'memory',
          policies: [{ name: 'hourly', limits: [{ limit: 1_000_000, window_size: 3600 }] }],
        }),
        { store: new MemoryStore(), log: silent },
      ),
    'llm-semantic-cache': () =>
      new SemanticCache(
        withDefaults<SemanticCacheConfig>(CacheSchema, {
          semantic_caching: false,
          vectordb: { strategy: 'memory', sync_interval_ms: 0 },
        }),
        { store: new MemoryStore(), log: silent },
      ),
    'llm-model-router': () =>
      new ModelRouter(
        routerConfig({
          targets: [target({ name: 'a', model: 'gpt-4o-mini' })],
          default_targets: ['a'],
          unknown_model: 'default',
        }),
        { store: new MemoryStore(), local: new MemoryStore(), log: silent },
      ),
  };
}

describe('resilience: log phases only make PDK calls valid in the log timer', () => {
  for (const [name, make] of Object.entries(plugins())) {
    it(`${name}: every log-phase call is valid in log (all scenarios)`, async (t) => {
      const seen = new Set<string>();
      for (const s of SCENARIOS) {
        const plugin = make();
        const { fake, logCalls } = await runScenario(plugin, s);
        t.diagnostic(`${s.name}: log calls [${logCalls.join(', ')}]`);
        for (const call of logCalls) {
          const facade = FACADE_OF[call];
          assert.ok(facade, `${name}/${s.name}: unknown PDK call ${call} in log`);
          seen.add(call);
          if (facade === 'logging') continue;
          assert.ok(
            (PHASES_OF[facade] as readonly string[]).includes('log'),
            `${name}/${s.name}: ${call} (${facade}) is not valid in the log timer`,
          );
          if (facade === 'upstreamRawBody')
            assert.ok(
              fake.upstream.buffering && s.upstream,
              `${name}/${s.name}: reads the buffered body without a buffered upstream answer`,
            );
        }
        // a log phase never answers the client
        assert.ok(!logCalls.includes('response.exit'));
      }
      t.diagnostic(`${name}: distinct log-phase calls: ${[...seen].sort().join(', ') || 'none'}`);
    });
  }

  it('llm-pii-redaction and llm-prompt-guard have no log phase (store-less, access only)', async () => {
    const { PiiRedaction } = await import('../../plugins/llm-pii-redaction/handler');
    const { PromptGuard } = await import('../../plugins/llm-prompt-guard/handler');
    assert.equal(typeof (PiiRedaction.prototype as unknown as Record<string, unknown>)['log'], 'undefined');
    assert.equal(typeof (PromptGuard.prototype as unknown as Record<string, unknown>)['log'], 'undefined');
  });
});
