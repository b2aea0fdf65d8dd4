/**
 * End to end: a real Kong with the REAL plugin server serving dist/plugins (run `npm run build`
 * first), real Redis, three mock LLMs, the Lua llm-response-tap (TTFT) and the official openai SDK.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type Redis from 'ioredis';
import { startKong, type KongHandle } from '../../support/real-kong';
import { startMockLlm, type MockLlm } from '../../support/mock-llm';
import { connectTestRedis, flushPrefix, redisTestConfig } from '../../helpers/redis';

const redisCfg = redisTestConfig('router-it');

let A: MockLlm, B: MockLlm, C: MockLlm;
let gw: KongHandle;
let gw2: KongHandle | undefined;
let redis: Redis;

function target(name: string, mock: MockLlm, model: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    model: {
      name: model,
      provider: 'mock',
      options: { upstream_url: `${mock.url}/v1`, input_cost: 1, output_cost: 2 },
    },
    auth: { header_name: 'Authorization', header_value: `Bearer env:ROUTER_KEY_${name.toUpperCase()}` },
    ...extra,
  };
}

function routerConf(extra: Record<string, unknown>) {
  return { strategy: 'redis', redis: redisCfg, ...extra };
}

function gatewayConfig() {
  const route = (name: string, p: string, conf: Record<string, unknown>) => ({
    name,
    paths: [p],
    response_buffering: false,
    plugins: [{ name: 'llm-model-router', config: routerConf(conf) }, { name: 'llm-response-tap' }],
  });
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'ai',
        url: 'http://127.0.0.1:9', // never used: the router sets the target
        routes: [
          route('main', '/ai', {
            targets: [
              target('a', A, 'model-a', { weight: 300 }),
              target('b', B, 'model-b', { weight: 100 }),
              target('c', C, 'model-c'),
            ],
            aliases: [
              { name: 'fast', targets: ['a', 'b'] },
              { name: 'smart', targets: ['c'] },
            ],
            rules: [{ name: 'premium', headers: [{ name: 'X-Tier', values: ['premium'] }], targets: ['c'] }],
          }),
          route('sticky', '/sticky', {
            targets: [target('a', A, 'model-a'), target('b', B, 'model-b'), target('c', C, 'model-c')],
            default_targets: ['a', 'b', 'c'],
            unknown_model: 'default',
            balancer: { algorithm: 'consistent-hashing', hash_on_header: 'X-Session-Id' },
          }),
          route('health', '/health', {
            targets: [target('a', A, 'model-a'), target('b', B, 'model-b')],
            aliases: [{ name: 'any', targets: ['a', 'b'] }],
            balancer: { max_fails: 2, fail_window: 30, fail_timeout: 2 },
          }),
        ],
      },
    ],
  };
}

const ENV = { ROUTER_KEY_A: 'key-a', ROUTER_KEY_B: 'key-b', ROUTER_KEY_C: 'key-c' };

async function gateway(): Promise<KongHandle> {
  return startKong({
    config: gatewayConfig(),
    env: ENV,
  });
}

async function post(base: string, p: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(`${base}${p}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: 'Bearer client-secret',
      apikey: 'client-apikey',
      ...headers,
    },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  return {
    status: r.status,
    served: r.headers.get('x-mock-llm-name'),
    target: r.headers.get('x-llm-target'),
    model: r.headers.get('x-llm-model'),
    text,
    headers: r.headers,
  };
}

const msg = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: 'user', content: 'Say hi' }],
  max_tokens: 5,
  ...extra,
});

describe('llm-model-router end to end', () => {
  before(async () => {
    redis = await connectTestRedis(redisCfg);
    [A, B, C] = await Promise.all([
      startMockLlm({ name: 'A' }),
      startMockLlm({ name: 'B' }),
      startMockLlm({ name: 'C' }),
    ]);
    gw = await gateway();
  });

  after(async () => {
    await gw?.stop();
    await gw2?.stop();
    await Promise.all([A?.stop(), B?.stop(), C?.stop()]);
    if (redis) {
      await flushPrefix(redis, redisCfg.key_prefix);
      redis.disconnect();
    }
  });

  it('sends weighted traffic within tolerance (3:1)', async () => {
    const n: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const r = await post(gw.proxyUrl, '/ai/v1/chat/completions', msg('fast'));
      assert.equal(r.status, 200, r.text);
      n[r.served ?? '?'] = (n[r.served ?? '?'] ?? 0) + 1;
    }
    assert.ok(Math.abs((n['A'] ?? 0) - 150) <= 10, JSON.stringify(n));
    assert.ok(Math.abs((n['B'] ?? 0) - 50) <= 10, JSON.stringify(n));
    assert.equal(n['C'], undefined);
    await gw.waitForLogs();
  });

  it('routes aliases and rules to the expected target; unknown models get 400 MODEL_UNKNOWN', async () => {
    const smart = await post(gw.proxyUrl, '/ai/v1/chat/completions', msg('smart'));
    assert.equal(smart.served, 'C');
    assert.equal(smart.target, 'c');
    assert.equal(smart.model, 'model-c');
    const premium = await post(gw.proxyUrl, '/ai/v1/chat/completions', msg('fast'), { 'X-Tier': 'premium' });
    assert.equal(premium.served, 'C');
    const direct = await post(gw.proxyUrl, '/ai/v1/chat/completions', msg('model-b'));
    assert.equal(direct.served, 'B');
    const bad = await post(gw.proxyUrl, '/ai/v1/chat/completions', msg('gpt-99'));
    assert.equal(bad.status, 400);
    const err = JSON.parse(bad.text) as { error: { code: string; allowed: string[] } };
    assert.equal(err.error.code, 'MODEL_UNKNOWN');
    assert.deepEqual(err.error.allowed, ['fast', 'model-a', 'model-b', 'model-c', 'smart']);
  });

  it('the upstream gets the target model, the provider key and include_usage, never the client credentials (openai SDK, streaming)', async () => {
    C.setOptions({ ttftMs: 60, tokensPerSecond: 40 });
    C.requests.length = 0;
    const client = new OpenAI({
      apiKey: 'client-secret',
      baseURL: `${gw.proxyUrl}/ai/v1`,
      maxRetries: 0,
      defaultHeaders: { apikey: 'client-apikey' },
    });
    const stream = await client.chat.completions.create({
      model: 'smart',
      messages: [{ role: 'user', content: 'Count slowly' }],
      max_tokens: 12,
      stream: true,
    });
    const arrivals: number[] = [];
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      arrivals.push(Date.now());
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    C.setOptions({ ttftMs: 0, tokensPerSecond: 0 });
    assert.ok(text.length > 0);
    assert.ok(usage, 'include_usage made the provider report usage');
    assert.ok(arrivals.length >= 5, `chunks: ${arrivals.length}`);
    assert.ok(
      arrivals[arrivals.length - 1]! - arrivals[0]! >= 100,
      'chunks arrived spread over time, not in one piece',
    );
    const rec = C.requests.at(-1)!;
    assert.equal(rec.path, '/v1/chat/completions');
    const body = rec.body as { model: string; stream_options?: { include_usage?: boolean } };
    assert.equal(body.model, 'model-c');
    assert.equal(body.stream_options?.include_usage, true);
    assert.equal(rec.headers['authorization'], 'Bearer key-c');
    assert.equal(rec.headers['apikey'], undefined);
    assert.ok(
      !JSON.stringify(rec.headers).includes('client-secret') &&
        !JSON.stringify(rec.headers).includes('client-apikey'),
    );
    const { response } = await client.chat.completions
      .create({ model: 'smart', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    assert.equal(response.headers.get('x-llm-target'), 'c');
    await gw.waitForLogs();
  });

  it('keeps sessions sticky with consistent hashing', async () => {
    for (const s of ['alpha', 'beta', 'gamma', 'delta']) {
      const seen = new Set<string | null>();
      for (let i = 0; i < 8; i++)
        seen.add(
          (await post(gw.proxyUrl, '/sticky/v1/chat/completions', msg('whatever'), { 'X-Session-Id': s }))
            .served,
        );
      assert.equal(seen.size, 1, `${s}: ${[...seen].join(',')}`);
    }
  });

  it('a target answering 5xx stops receiving traffic and comes back after fail_timeout', async () => {
    B.setFault({ kind: 'status', status: 503 });
    const served: string[] = [];
    for (let i = 0; i < 8; i++) {
      served.push((await post(gw.proxyUrl, '/health/v1/chat/completions', msg('any'))).served ?? '?');
      await gw.waitForLogs();
    }
    const lastB = served.lastIndexOf('B');
    assert.ok(lastB >= 0 && lastB < 4, `B ejected after max_fails: ${served.join('')}`);
    assert.ok(served.slice(lastB + 1).every((s) => s === 'A'));
    B.setFault(undefined);
    await new Promise((r) => setTimeout(r, 2_100)); // fail_timeout is a duration: nothing to wait on but time
    const after: string[] = [];
    for (let i = 0; i < 6; i++) {
      after.push((await post(gw.proxyUrl, '/health/v1/chat/completions', msg('any'))).served ?? '?');
      await gw.waitForLogs();
    }
    assert.ok(after.includes('B'), `B readmitted: ${after.join('')}`);
  });

  it('a 429 with Retry-After ejects the target for that long; a second gateway on the same Redis agrees', async () => {
    gw2 = await gateway();
    A.setFault({ kind: 'status', status: 429, retryAfter: 2 });
    let hitA = false;
    for (let i = 0; i < 4 && !hitA; i++) {
      const r = await post(gw.proxyUrl, '/health/v1/chat/completions', msg('any'));
      hitA = r.status === 429;
      await gw.waitForLogs();
    }
    assert.ok(hitA, 'A answered 429 once');
    const t0 = Date.now();
    for (let i = 0; i < 6; i++) {
      assert.equal((await post(gw.proxyUrl, '/health/v1/chat/completions', msg('any'))).served, 'B');
      assert.equal(
        (await post(gw2.proxyUrl, '/health/v1/chat/completions', msg('any'))).served,
        'B',
        'gateway 2 sees the ejection through Redis',
      );
    }
    assert.ok(Date.now() - t0 < 2_000, 'checked within the Retry-After period');
    A.setFault(undefined);
    await new Promise((r) => setTimeout(r, Math.max(0, 2_100 - (Date.now() - t0))));
    const back: string[] = [];
    for (let i = 0; i < 6; i++) {
      back.push((await post(gw2.proxyUrl, '/health/v1/chat/completions', msg('any'))).served ?? '?');
      await gw2.waitForLogs();
    }
    assert.ok(back.includes('A'), `A readmitted: ${back.join('')}`);
  });

  it('every target unhealthy → 503 NO_HEALTHY_TARGET', async () => {
    A.setFault({ kind: 'status', status: 429, retryAfter: 5 });
    B.setFault({ kind: 'status', status: 429, retryAfter: 5 });
    let last = await post(gw.proxyUrl, '/health/v1/chat/completions', msg('any'));
    for (let i = 0; i < 4 && last.status !== 503; i++) {
      await gw.waitForLogs();
      last = await post(gw.proxyUrl, '/health/v1/chat/completions', msg('any'));
    }
    A.setFault(undefined);
    B.setFault(undefined);
    assert.equal(last.status, 503, last.text);
    assert.equal((JSON.parse(last.text) as { error: { code: string } }).error.code, 'NO_HEALTHY_TARGET');
    assert.ok(Number(last.headers.get('retry-after')) >= 1);
  });
});
