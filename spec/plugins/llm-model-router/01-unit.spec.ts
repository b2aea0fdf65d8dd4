import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { ModelRouter, retryAfterSeconds, type CarriedRoute } from '../../../plugins/llm-model-router/handler';
import { MemoryStore } from '../../../lib/store/memory';
import { fakeKong, type FakeRequest } from '../../helpers/fake-kong';
import { chat, config, target } from './helpers';

const silent = pino({ level: 'silent' });

function make(partial: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  let now = 5_000_000;
  const clock = () => now;
  const store = new MemoryStore({ now: clock });
  const plugin = new ModelRouter(config(partial), {
    store,
    local: new MemoryStore({ now: clock }),
    now: clock,
    log: silent,
    env,
  });
  const run = async (req: FakeRequest) => {
    const k = fakeKong({
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      ...req,
    });
    await plugin.access(k.pdk);
    return k;
  };
  return { plugin, run, advance: (ms: number) => (now += ms) };
}

const three = [
  target({
    name: 'mini',
    model: 'gpt-4o-mini',
    url: 'https://mini.example/v1',
    auth: { header_name: 'Authorization', header_value: 'Bearer env:MINI_KEY' },
  }),
  target({
    name: 'big',
    model: 'gpt-4o',
    url: 'http://big.example:8081/openai/v1',
    auth: { header_name: 'api-key', header_value: 'k-big' },
  }),
  target({ name: 'backup', model: 'llama-3', url: 'http://backup.example/v1', priority: 1 }),
];
const base = {
  targets: three,
  aliases: [
    { name: 'fast', targets: ['mini'] },
    { name: 'smart', targets: ['big'] },
  ],
};
const env = { MINI_KEY: 'sk-mini' };

describe('llm-model-router access', () => {
  it('routes an alias: scheme, target, path, Host, auth, body model, response headers, llm.route', async () => {
    const { run } = make(base, env);
    const k = await run({
      body: chat('fast'),
      headers: { 'content-type': 'application/json', authorization: 'Bearer client', apikey: 'client-key' },
    });
    assert.equal(k.exited, undefined);
    assert.equal(k.upstream.scheme, 'https');
    assert.equal(k.upstream.host, 'mini.example');
    assert.equal(k.upstream.port, 443);
    assert.equal(k.upstream.path, '/v1/chat/completions');
    assert.equal(k.upstream.headers['host'], 'mini.example');
    assert.equal(k.upstream.headers['authorization'], 'Bearer sk-mini');
    assert.ok(k.upstream.cleared.includes('authorization') && k.upstream.cleared.includes('apikey'));
    // the provider auth header is set after the client's one is cleared
    const names = k.callNames();
    assert.ok(
      names.lastIndexOf('service.request.clearHeader') < names.lastIndexOf('service.request.setHeader'),
    );
    assert.equal(JSON.parse(k.upstream.body!).model, 'gpt-4o-mini');
    assert.deepEqual(k.responseHeaders, { 'X-LLM-Model': 'gpt-4o-mini', 'X-LLM-Target': 'mini' });
    const r = k.shared['llm.route'] as CarriedRoute;
    assert.equal(r.target, 'mini');
    assert.equal(r.model, 'gpt-4o-mini');
    assert.equal(r.requested_model, 'fast');
    assert.equal(r.provider, 'openai');
    assert.equal(r.upstream, 'https://mini.example/v1');
    assert.match(r.reason, /^alias:fast\/round-robin/);
    assert.ok(r.input_cost! > 0 && r.output_cost! > 0, 'catalog prices for gpt-4o-mini');
    assert.equal(r.stream, false);
  });

  it('keeps non-default ports in Host and sets include_usage on streams', async () => {
    const { run } = make(base, env);
    const k = await run({ body: chat('smart', { stream: true, stream_options: { foo: 1 } }) });
    assert.equal(k.upstream.headers['host'], 'big.example:8081');
    assert.equal(k.upstream.path, '/openai/v1/chat/completions');
    assert.equal(k.upstream.headers['api-key'], 'k-big');
    const body = JSON.parse(k.upstream.body!);
    assert.equal(body.model, 'gpt-4o');
    assert.deepEqual(body.stream_options, { foo: 1, include_usage: true });
    assert.equal((k.shared['llm.route'] as CarriedRoute).stream, true);
  });

  it('routes a real model name to the targets serving it, and other operations to their path', async () => {
    const { run } = make(base, env);
    const k = await run({ body: chat('gpt-4o') });
    assert.equal(k.upstream.host, 'big.example');
    const e = await run({ path: '/v1/embeddings', body: { model: 'fast', input: 'hi' } });
    assert.equal(e.upstream.path, '/v1/embeddings');
  });

  it('answers 400 MODEL_UNKNOWN listing the allowed names', async () => {
    const { run } = make(base, env);
    const k = await run({ body: chat('gpt-9') });
    assert.equal(k.exited?.status, 400);
    const b = k.exited!.body as { error: { code: string; allowed: string[] } };
    assert.equal(b.error.code, 'MODEL_UNKNOWN');
    assert.deepEqual(b.error.allowed, ['fast', 'gpt-4o', 'gpt-4o-mini', 'llama-3', 'smart']);
    assert.equal(k.upstream.host, undefined);
  });

  it('evaluates rules in order: consumer group, header, prompt size, stream', async () => {
    const { run } = make(
      {
        ...base,
        rules: [
          { name: 'vip', models: ['fast'], consumer_groups: ['premium'], targets: ['big'] },
          { name: 'beta', headers: [{ name: 'X-Beta', values: ['1'] }], targets: ['backup'] },
          { name: 'long', min_prompt_tokens: 50, targets: ['big'] },
          { name: 'streams', stream: true, targets: ['mini'] },
        ],
      },
      env,
    );
    const vip = await run({
      body: chat('fast'),
      consumer: { id: 'c1', username: 'alice' },
      groups: [{ id: 'g1', name: 'premium' }],
    });
    assert.equal(vip.upstream.host, 'big.example');
    assert.match((vip.shared['llm.route'] as CarriedRoute).reason, /^rule:vip/);
    const plain = await run({ body: chat('fast'), consumer: { id: 'c2' }, groups: [] });
    assert.equal(plain.upstream.host, 'mini.example');
    const beta = await run({
      body: chat('smart'),
      headers: { 'content-type': 'application/json', 'x-beta': '1' },
    });
    assert.equal(beta.upstream.host, 'backup.example');
    const long = await run({
      body: { model: 'fast', messages: [{ role: 'user', content: 'word '.repeat(200) }] },
    });
    assert.match((long.shared['llm.route'] as CarriedRoute).reason, /^rule:long/);
    const s = await run({ body: chat('smart', { stream: true }) });
    assert.match((s.shared['llm.route'] as CarriedRoute).reason, /^rule:streams/);
  });

  it('skips targets whose context window is too small', async () => {
    const { run } = make({
      targets: [
        target({ name: 'small', model: 'm', max_context: 20 }),
        target({ name: 'large', model: 'm', max_context: 100000 }),
      ],
    });
    const k = await run({ body: { model: 'm', messages: [{ role: 'user', content: 'word '.repeat(100) }] } });
    assert.equal(k.upstream.host, 'large.example');
  });

  it('serves lower priority groups only while the higher ones are unhealthy; 503 NO_HEALTHY_TARGET when none is left', async () => {
    const { plugin, run, advance } = make({
      targets: [target({ name: 'p0', model: 'm' }), target({ name: 'p1', model: 'm', priority: 1 })],
      balancer: { max_fails: 1, fail_timeout: 5 },
    });
    assert.equal((await run({ body: chat('m') })).upstream.host, 'p0.example');
    const ids = Object.fromEntries(plugin.router.targets.map((t) => [t.name, t.id]));
    await plugin.state.record(
      ids['p0']!,
      'p0',
      { ok: false, failure: true, status: 503 },
      plugin.router.health,
    );
    const f = await run({ body: chat('m') });
    assert.equal(f.upstream.host, 'p1.example');
    assert.match((f.shared['llm.route'] as CarriedRoute).reason, /priority-1/);
    await plugin.state.record(
      ids['p1']!,
      'p1',
      { ok: false, failure: true, status: 500 },
      plugin.router.health,
    );
    const none = await run({ body: chat('m') });
    assert.equal(none.exited?.status, 503);
    assert.equal((none.exited!.body as { error: { code: string } }).error.code, 'NO_HEALTHY_TARGET');
    assert.equal(none.exited!.headers?.['Retry-After'], '5');
    advance(5_001);
    const probe = await run({ body: chat('m') });
    assert.equal(probe.upstream.host, 'p0.example');
    assert.match((probe.shared['llm.route'] as CarriedRoute).reason, /probe/);
  });

  it('consistent hashing keeps a session on one target', async () => {
    const targets = ['a', 'b', 'c', 'd'].map((n) => target({ name: n, model: 'm' }));
    const { run } = make({ targets, balancer: { algorithm: 'consistent-hashing' } });
    for (const s of ['s1', 's2', 's3']) {
      const hosts = new Set<string>();
      for (let i = 0; i < 10; i++)
        hosts.add(
          (await run({ body: chat('m'), headers: { 'content-type': 'application/json', 'x-session-id': s } }))
            .upstream.host!,
        );
      assert.equal(hosts.size, 1);
    }
  });

  it('lowest-cost picks the cheapest target; budget downgrade switches to it when a budget runs low', async () => {
    const targets = [
      target({ name: 'pricey', model: 'm', input_cost: 10, output_cost: 30 }),
      target({ name: 'cheap', model: 'm', input_cost: 0.1, output_cost: 0.4 }),
    ];
    const lc = make({ targets, balancer: { algorithm: 'lowest-cost' } });
    for (let i = 0; i < 3; i++)
      assert.equal((await lc.run({ body: chat('m') })).upstream.host, 'cheap.example');
    const bd = make({
      targets: [{ ...targets[0]!, weight: 1000 }, targets[1]!],
      budget_downgrade: { enabled: true, threshold: 0.25 },
    });
    const plenty = {
      'llm.accounting': {
        prompt_tokens: 1,
        reserved: 1,
        stream: false,
        started_ms: 0,
        budget_before: [{ limit: 100, remaining: 90, window: 'day' }],
      },
    };
    const low = {
      'llm.accounting': {
        prompt_tokens: 1,
        reserved: 1,
        stream: false,
        started_ms: 0,
        budget_before: [{ limit: 100, remaining: 10, window: 'day' }],
      },
    };
    const k1 = fakeKong({ path: '/v1/chat/completions', body: chat('m') });
    Object.assign(k1.shared, low);
    await bd.plugin.access(k1.pdk);
    assert.equal(k1.upstream.host, 'cheap.example');
    assert.match((k1.shared['llm.route'] as CarriedRoute).reason, /budget-downgrade/);
    const k2 = fakeKong({ path: '/v1/chat/completions', body: chat('m') });
    Object.assign(k2.shared, plenty);
    await bd.plugin.access(k2.pdk);
    assert.equal(k2.upstream.host, 'pricey.example');
  });

  it('sets per-target timeouts only when configured', async () => {
    const { run } = make({ targets: [{ ...target({ name: 'a', model: 'm' }), read_timeout: 120000 }] });
    const k = await run({ body: chat('m') });
    assert.deepEqual(k.upstream.timeouts, [60000, 60000, 120000]);
    const plain = await make({ targets: [target({ name: 'a', model: 'm' })] }).run({ body: chat('m') });
    assert.ok(!plain.callNames().includes('service.setTimeouts'));
  });

  it('passes non-LLM requests through untouched', async () => {
    const { run } = make(base, env);
    const k = await run({ method: 'GET', path: '/v1/models', body: undefined, headers: {} });
    assert.equal(k.exited, undefined);
    assert.equal(k.upstream.host, undefined);
  });

  it('rejects requests with CONFIG_INVALID when the config has problems (missing env key)', async () => {
    const { run } = make(base, {});
    const k = await run({ body: chat('fast') });
    // an invalid config is the operator's error, not an outage: 500 for every plugin (lib/kong/guard.ts)
    assert.equal(k.exited?.status, 500);
    assert.equal((k.exited!.body as { error: { code: string } }).error.code, 'CONFIG_INVALID');
  });

  it('fails closed with 503 ROUTER_FAILURE on unexpected errors (open with fault_tolerant)', async () => {
    for (const ft of [false, true]) {
      const { plugin, run } = make({ ...base, fault_tolerant: ft }, env);
      plugin.router.decide = async () => {
        throw new Error('boom');
      };
      const k = await run({ body: chat('fast') });
      if (ft) assert.equal(k.exited, undefined);
      else {
        assert.equal(k.exited?.status, 503);
        assert.equal((k.exited!.body as { error: { code: string } }).error.code, 'ROUTER_FAILURE');
      }
    }
  });
});

describe('llm-model-router log', () => {
  it('records failures of the target that served (from llm.route) and ejects it; only log-safe PDK calls', async () => {
    const { plugin, run } = make({
      targets: [target({ name: 'a', model: 'm' }), target({ name: 'b', model: 'm' })],
      balancer: { max_fails: 2 },
    });
    for (let i = 0; i < 4; i++) {
      const k = await run({ body: chat('m') });
      const served = (k.shared['llm.route'] as CarriedRoute).target;
      k.serialized = { response: { status: served === 'a' ? 500 : 200, headers: {} } };
      await plugin.log(k.pdk);
      assert.deepEqual([...new Set(k.callNames().slice(-3))].sort(), ['ctx.shared.get', 'log.serialize']);
    }
    for (let i = 0; i < 5; i++) assert.equal((await run({ body: chat('m') })).upstream.host, 'b.example');
  });

  it('a 429 with Retry-After ejects for that long', async () => {
    const { plugin, run, advance } = make({
      targets: [target({ name: 'a', model: 'm' }), target({ name: 'b', model: 'm' })],
    });
    const k = await run({ body: chat('m') });
    const served = (k.shared['llm.route'] as CarriedRoute).target;
    k.serialized = { response: { status: 429, headers: { 'retry-after': '3' } } };
    await plugin.log(k.pdk);
    const other = served === 'a' ? 'b.example' : 'a.example';
    for (let i = 0; i < 4; i++) assert.equal((await run({ body: chat('m') })).upstream.host, other);
    advance(3_001);
    assert.equal(
      (await run({ body: chat('m') })).upstream.host,
      `${served}.example`,
      'probe after Retry-After',
    );
  });

  it('learns TTFT from llm.tap for streams and routes lowest-latency accordingly', async () => {
    const { plugin, run } = make({
      targets: [target({ name: 'slow', model: 'm' }), target({ name: 'quick', model: 'm' })],
      balancer: { algorithm: 'lowest-latency' },
    });
    for (let i = 0; i < 6; i++) {
      const k = await run({ body: chat('m', { stream: true }) });
      const served = (k.shared['llm.route'] as CarriedRoute).target;
      k.shared['llm.tap'] = {
        kind: 'sse',
        status: 200,
        ttft_ms: served === 'slow' ? 400 : 40,
        text_bytes: 1,
        text_truncated: false,
        frames: 1,
        bad_frames: 0,
        done: true,
        aborted: false,
        bytes: 1,
        restored: 0,
      };
      await plugin.log(k.pdk);
    }
    for (let i = 0; i < 5; i++)
      assert.equal((await run({ body: chat('m', { stream: true }) })).upstream.host, 'quick.example');
  });

  it('does nothing without a route decision or after another plugin exited', async () => {
    const { plugin } = make(base, env);
    const k = fakeKong({});
    await plugin.log(k.pdk);
    // without llm-sentinel's log facts (`llm.log`, absent on this fake) each fact is its own call
    assert.deepEqual(k.callNames().sort(), [
      'ctx.shared.get',
      'ctx.shared.get',
      'ctx.shared.get',
      'log.serialize',
    ]);
    assert.deepEqual(
      k.calls.filter((c) => c[0] === 'ctx.shared.get').map((c) => c[1][0]),
      ['llm.log', 'llm.route', 'llm.tap'],
    );
  });

  it('parses Retry-After seconds and dates', () => {
    assert.equal(retryAfterSeconds('2', 0), 2);
    assert.equal(retryAfterSeconds(new Date(10_000).toUTCString(), 4_000), 6);
    assert.equal(retryAfterSeconds('soon', 0), undefined);
  });
});
