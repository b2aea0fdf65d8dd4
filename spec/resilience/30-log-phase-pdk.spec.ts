/**
 * Log phases and the PDK on a real Kong 3.9.3 (kong-runtime.md §2.9, §9 item 8).
 *
 * Kong runs a JS plugin's log phase in an `ngx.timer.at(0)` timer; only the PDK calls that Kong answers
 * from its snapshot (or that read ngx.ctx) work there. A call that needs the live request raises on the
 * Lua side: the timer aborts, the JS handler never resumes, and (re-checked here on 3.9.3) Kong keeps
 * the failing request's snapshot keyed by the dead timer thread, which nginx reuses for later requests:
 * their JS phases can then read the FAILING request's headers and kong.ctx.shared.
 *
 * 1. unit (PDK fake, no Kong): every PDK call each shipped log phase makes in five scenarios is mapped
 *    to the facade and checked against PHASES_OF (fast, names the offending call).
 * 2. real Kong (spec/support/real-kong.ts: DB-less, the plugin server started by Kong from dist/plugins
 *    plus the test-only fixtures/llm-log-probe.js, the Lua llm-response-tap): the shipped log phases in
 *    the same five scenarios leave no aborted timer, no stuck event and do their work; then the probe
 *    makes failing log-phase calls and the spec records what that does on this Kong.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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
import { startKong, shippedPluginServerConf, REPO_ROOT, type KongHandle } from '../support/real-kong';
import { startMockLlm, type MockLlm } from '../support/mock-llm';
import { PrivateRedis, abortAfterFrames, chat, ledgerRows, post, until } from './helpers';

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

describe('resilience (unit, PDK fake): log phases only make PDK calls valid in the log timer', () => {
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

// ---- real Kong ------------------------------------------------------------------------------------

const PREFIX = `resil-logpdk-${process.pid}`;
/** The plugin server frees an event nobody stepped for this long (patched kong-pdk; default 60 s). */
const IDLE_MS = 5_000;
/** Calls that need the live request (they raise in the log timer), and Kong's message for each. */
const FAILING: [string, RegExp][] = [
  ['request.getRawBody', /function cannot be called in log phase/],
  ['request.getMethod', /API disabled in the current context/],
  ['client.getIp', /API disabled in the current context/],
];

interface Status {
  Events?: number;
  EventsSwept?: number;
}

/** A plugins folder: dist/plugins (symlinked) plus the probe, and the shipped settings plus its entry. */
function probeSetup(): { dir: string; conf: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resil-logpdk-'));
  fs.chmodSync(dir, 0o755); // Kong's workers (user kong) start the plugin server
  const dist = path.join(REPO_ROOT, 'dist', 'plugins');
  // one folder per shipped plugin whose index.js re-exports the built one (its relative requires stay
  // valid, and the harness lists real folders as plugins, not symlinks)
  for (const p of fs.readdirSync(dist)) {
    fs.mkdirSync(path.join(dir, p), { mode: 0o755 });
    fs.writeFileSync(
      path.join(dir, p, 'index.js'),
      `module.exports = require(${JSON.stringify(path.join(dist, p))});\n`,
    );
  }
  fs.copyFileSync(path.join(__dirname, 'fixtures', 'llm-log-probe.js'), path.join(dir, 'llm-log-probe.js'));
  const conf = path.join(dir, 'pluginserver.conf');
  fs.writeFileSync(
    conf,
    fs
      .readFileSync(shippedPluginServerConf('3.9'), 'utf8')
      .replace(/^(pluginserver_names = .*)$/m, '$1,llm_log_probe') +
      '\npluginserver_llm_log_probe_socket = /usr/local/kong/llm-plugins.sock\n' +
      'pluginserver_llm_log_probe_query_cmd = /usr/local/bin/llm-pluginserver-query llm-log-probe\n',
  );
  return { dir, conf };
}

describe('resilience (real Kong): log-phase PDK calls', () => {
  let kong: KongHandle;
  let mock: MockLlm;
  let rds: PrivateRedis;
  let setup: { dir: string; conf: string };

  before(async () => {
    setup = probeSetup();
    rds = await PrivateRedis.start();
    mock = await startMockLlm();
    const redis = { host: '127.0.0.1', port: rds.port, key_prefix: PREFIX };
    kong = await startKong({
      pluginsDir: setup.dir,
      pluginServerConf: setup.conf,
      env: { KONG_JS_EVENT_IDLE_TIMEOUT_MS: String(IDLE_MS) },
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'llm',
            url: `${mock.url}/v1`,
            read_timeout: 1000,
            retries: 0,
            routes: [
              {
                name: 'all',
                paths: ['/all'],
                strip_path: true,
                response_buffering: false,
                plugins: [
                  { name: 'key-auth' },
                  {
                    name: 'llm-token-accounting',
                    config: {
                      strategy: 'redis',
                      redis,
                      policies: [{ name: 'h', limits: [{ limit: 50_000_000, window_size: 3600 }] }],
                    },
                  },
                  {
                    name: 'llm-semantic-cache',
                    config: { semantic_caching: false, vectordb: { strategy: 'memory' } },
                  },
                  {
                    name: 'llm-model-router',
                    config: {
                      targets: [
                        {
                          name: 'a',
                          model: {
                            name: 'gpt-4o-mini',
                            provider: 'mock',
                            options: { upstream_url: `${mock.url}/v1` },
                          },
                        },
                      ],
                      default_targets: ['a'],
                      unknown_model: 'default',
                    },
                  },
                  { name: 'llm-response-tap' },
                ],
              },
              {
                name: 'probe',
                paths: ['/probe'],
                strip_path: true,
                plugins: [{ name: 'llm-log-probe' }],
              },
            ],
          },
        ],
        consumers: [{ username: 'alice', keyauth_credentials: [{ key: 'alice-key' }] }],
      },
    });
  });
  after(async () => {
    await kong?.stop();
    await mock?.stop();
    await rds?.stop();
    if (setup) fs.rmSync(setup.dir, { recursive: true, force: true });
  });

  const status = async () => (await kong.pluginServerStatus()) as Status;
  /** Index of the next error.log line (pluginServerLog() ends with the '' after the last newline). */
  const logMark = () => Math.max(0, kong.pluginServerLog().length - 1);
  /** Error-log lines from `mark` on that show a Lua error (a raised PDK call aborts its timer). */
  const luaErrors = (mark: number) =>
    kong
      .pluginServerLog()
      .slice(mark)
      .filter((l) =>
        /lua entry thread aborted|runtime error|could not find pdk method|unhandled exception/.test(l),
      );

  it('shipped log phases (accounting, cache, router + tap) in five scenarios: no aborted timer, no stuck event, work done', async (t) => {
    const mark = logMark();
    const s0 = await status();
    const url = `${kong.proxyUrl}/all/chat/completions`;
    const h = { apikey: 'alice-key' };
    const rows0 = (await ledgerRows(await rds.client(), PREFIX)).length;
    const seen: string[] = [];

    // no max_tokens here: a 'length' answer is not cached
    const buffered = await post(url, chat('log phase buffered'), h);
    assert.equal(buffered.status, 200);
    await kong.waitForLogs();
    const hit = await post(url, chat('log phase buffered'), h);
    assert.equal(hit.headers['x-cache-status'], 'Hit', 'the cache log phase stored the buffered answer');
    const stream = await post(url, chat('log phase stream', { max_tokens: 10, stream: true }), h);
    assert.equal(stream.status, 200);
    assert.ok(stream.body.includes('data: [DONE]'));
    const frames = await abortAfterFrames(
      url,
      chat('log phase abort', { stream: true, max_tokens: 60 }),
      {
        ...h,
        'x-mock-ttft-ms': '50',
        'x-mock-tokens-per-s': '40',
      },
      3,
    );
    assert.ok(frames >= 3);
    const limited = await post(url, chat('log phase 429', { max_tokens: 10 }), {
      ...h,
      'x-mock-fault': 'status=429',
    });
    assert.equal(limited.status, 429);
    const timedOut = await post(url, chat('log phase 504', { max_tokens: 10 }), {
      ...h,
      'x-mock-fault': 'timeout',
    });
    assert.equal(timedOut.status, 504, 'Kong answers 504 itself (read_timeout 1 s)');
    seen.push(
      `buffered ${buffered.status}, hit ${hit.status}, stream ${stream.status}, abort after ${frames} frames, 429, 504`,
    );
    await kong.waitForLogs();

    // every log phase finished: its ledger row is there (the abort's once the tap saw eof never come)
    const rows = await until(
      'six ledger rows (the cache hit is booked too)',
      async () => {
        const r = (await ledgerRows(await rds.client(), PREFIX)).slice(rows0);
        return r.length >= 6 ? r : undefined;
      },
      10_000,
    );
    const statuses = rows.map((r) => r['status']).sort();
    seen.push(`ledger statuses ${statuses.join(',')}`);
    assert.deepEqual(statuses, ['200', '200', '200', '200', '429', '504']);
    assert.ok(
      rows.some((r) => r['aborted'] === 'true'),
      'the client abort was booked as aborted',
    );
    assert.deepEqual(luaErrors(mark), [], 'no log timer aborted on a PDK call');
    const s1 = await status();
    t.diagnostic(`${seen.join('; ')}; Events ${s1.Events}, EventsSwept ${s0.EventsSwept}→${s1.EventsSwept}`);
    assert.equal(s1.Events, 0, 'no event waits for a Step Kong will never send');
    assert.equal(s1.EventsSwept, s0.EventsSwept, 'no event had to be swept');
  });

  it('probe: a PDK call that raises in the log timer aborts it, strands its event, and can leak its request into later ones', async (t) => {
    const s0 = await status();
    const probe = (tag: string, fail?: string) =>
      post(`${kong.proxyUrl}/probe/chat/completions`, chat('probe'), {
        'x-probe-tag': tag,
        ...(fail ? { 'x-probe-fail': fail } : {}),
      });
    const failedTags = new Set<string>();
    const contaminated: string[] = [];
    let normal = 0;
    for (const [round, [call, message]] of FAILING.entries()) {
      const mark = logMark();
      const tag = `F${round}`;
      failedTags.add(tag);
      const r = await probe(tag, call);
      assert.equal(r.status, 200, 'the failure happens after the answer');
      await kong.waitForLogs();
      // the timer's Lua error (polled: the line is written when nginx ends the aborted timer thread)
      const errs = await until(
        `${call}: Kong logs the aborted log timer`,
        () => {
          const found = luaErrors(mark).filter((l) => l.includes('lua entry thread aborted'));
          return found.length ? found : undefined;
        },
        10_000,
      ).catch((e: Error) => {
        throw new Error(`${e.message}: ${kong.pluginServerLog().slice(mark).join('\n').slice(0, 4000)}`);
      });
      assert.ok(
        errs.some((l) => message.test(l)),
        `${call}: Kong's message (${errs.join(' | ')})`,
      );
      const mine = kong
        .pluginServerLog()
        .slice(mark)
        .filter((l) => l.includes(`PROBE`) && l.includes(`tag=${tag} `));
      assert.ok(
        mine.some((l) => l.includes('log-start')),
        `${call}: the log phase started`,
      );
      assert.ok(
        !mine.some((l) => l.includes('after-fail') || l.includes('log-end')),
        `${call}: the JS handler never resumed (its await never settles)`,
      );
      // later requests: each should see only its own header and kong.ctx.shared value
      for (let i = 0; i < 6; i++) {
        const own = `N${round}.${i}`;
        const n = await probe(own);
        normal++;
        assert.equal(n.status, 200);
        const sawTag = String(n.headers['x-probe-seen-tag']);
        const sawShared = String(n.headers['x-probe-seen-shared']);
        if (sawTag !== own || sawShared !== own) {
          contaminated.push(`${own} saw ${sawTag}/${sawShared} after ${call}`);
          // whatever leaks is the snapshot of a request whose log timer aborted, never another one
          assert.ok(failedTags.has(sawTag) && failedTags.has(sawShared), contaminated.at(-1));
        }
        await kong.waitForLogs();
      }
    }
    const s1 = await status();
    assert.equal((s1.Events ?? 0) - (s0.Events ?? 0), FAILING.length, 'one stranded event per aborted timer');
    // the patched server's idle sweep frees them (KONG_JS_EVENT_IDLE_TIMEOUT_MS here; 60 s by default)
    await until('stranded events swept', async () => (await status()).Events === 0, IDLE_MS * 5);
    const s2 = await status();
    assert.ok((s2.EventsSwept ?? 0) - (s0.EventsSwept ?? 0) >= FAILING.length);
    t.diagnostic(
      `${FAILING.length} aborted log timers; ${contaminated.length} of ${normal} later requests read a failed request's ` +
        `header/ctx.shared in their own access/response phase${contaminated.length ? `: ${contaminated.join('; ')}` : ''}`,
    );
  });
});
