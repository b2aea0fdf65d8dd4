/**
 * llm-token-accounting end to end: a real Kong (spec/support/real-kong.ts) + the real plugin server serving
 * dist/plugins + the Lua llm-response-tap + real Redis + the mock LLM, driven by the official OpenAI SDK.
 */
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type Redis from 'ioredis';
import { startKong, type KongHandle } from '../../support/real-kong';
import { startMockLlm, type MockLlm } from '../../support/mock-llm';
import { connectTestRedis, flushPrefix, redisTestConfig } from '../../helpers/redis';
import { lookupModel, costOf } from '../../../lib/pricing';
import { runUsageReport } from '../../../scripts/usage-report';

describe('llm-token-accounting: (integration)', () => {
  let gw: KongHandle;
  let mock: MockLlm;
  let redis: Redis;
  const redisCfg = redisTestConfig('acct');
  const prefix = redisCfg.key_prefix;

  function config(policies: unknown[], extra: Record<string, unknown> = {}) {
    return {
      _format_version: '3.0',
      services: [
        {
          name: 'llm',
          url: `${mock.url}/v1`,
          routes: [
            {
              name: 'ai-chat',
              paths: ['/ai/v1'],
              strip_path: true,
              response_buffering: false,
              plugins: [
                { name: 'key-auth' },
                {
                  name: 'llm-token-accounting',
                  config: {
                    strategy: 'redis',
                    redis: { host: redisCfg.host, port: redisCfg.port, key_prefix: prefix },
                    policies,
                    ...extra,
                  },
                },
                { name: 'llm-response-tap' },
              ],
            },
          ],
        },
      ],
      consumers: [
        { username: 'alice', keyauth_credentials: [{ key: 'alice-key' }] },
        { username: 'bob', keyauth_credentials: [{ key: 'bob-key' }] },
      ],
    };
  }

  const client = (key = 'alice-key') =>
    new OpenAI({
      apiKey: 'unused',
      baseURL: `${gw.proxyUrl}/ai/v1`,
      defaultHeaders: { apikey: key },
      maxRetries: 0,
    });

  async function ledger(): Promise<Record<string, string>[]> {
    await gw.waitForLogs();
    const rows = await redis.xrange(`${prefix}:v1:ledger`, '-', '+');
    return rows.map(([, kv]) =>
      Object.fromEntries(kv.flatMap((_, i) => (i % 2 ? [] : [[kv[i]!, kv[i + 1]!]]))),
    );
  }

  before(async () => {
    redis = await connectTestRedis(redisCfg);
    mock = await startMockLlm();
    gw = await startKong({
      config: config([]),
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.stop();
    await flushPrefix(redis, prefix);
    redis?.disconnect();
  });
  beforeEach(async () => {
    await gw.waitForLogs(); // the previous test's log phases must not write after the flush
    await flushPrefix(redis, prefix);
    mock.reset();
  });

  it('books exactly the upstream usage of a non-stream call, at catalog prices', async () => {
    await gw.loadConfig(config([]));
    const res = await client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Count to three.' }],
    });
    const rows = await ledger();
    assert.equal(rows.length, 1);
    const r = rows[0]!;
    assert.equal(Number(r.prompt_tokens), res.usage!.prompt_tokens);
    assert.equal(Number(r.completion_tokens), res.usage!.completion_tokens);
    assert.equal(r.usage_source, 'provider');
    assert.equal(r.payer, 'consumer=alice');
    const prices = lookupModel('gpt-4o-mini')!.prices;
    assert.equal(Number(r.cost_usd), costOf(res.usage!, prices).total);
  });

  it('books exactly the usage of a streamed call (via the Lua tap)', async () => {
    await gw.loadConfig(config([]));
    const stream = await client().chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Tell me a short story.' }],
    });
    let usage: OpenAI.CompletionUsage | undefined;
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.ok(usage && text.length > 0);
    const [r] = await ledger();
    assert.equal(Number(r!.prompt_tokens), usage.prompt_tokens);
    assert.equal(Number(r!.completion_tokens), usage.completion_tokens);
    assert.equal(r!.stream, 'true');
    assert.equal(r!.usage_source, 'provider');
  });

  it('estimates a stream without usage instead of booking zero', async () => {
    await gw.loadConfig(config([]));
    const stream = await client().chat.completions.create(
      { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Say something.' }] },
      { headers: { 'x-mock-fault': 'no-usage' } },
    );
    for await (const _ of stream) void _;
    const [r] = await ledger();
    assert.equal(r!.usage_source, 'estimate');
    assert.ok(Number(r!.completion_tokens) > 0);
    assert.ok(Number(r!.prompt_tokens) > 0);
  });

  it('stops the next request once a budget is spent, with 429 and rate-limit headers', async () => {
    const limit = 120;
    await gw.loadConfig(config([{ name: 'daily', limits: [{ limit, window_size: 3600 }] }]));
    const c = client();
    let spent = 0;
    let rejected: InstanceType<typeof OpenAI.RateLimitError> | undefined;
    for (let i = 0; i < 20 && !rejected; i++) {
      try {
        const res = await c.chat.completions.create({
          model: 'gpt-4o-mini',
          max_tokens: 20,
          messages: [{ role: 'user', content: `hi ${i}` }],
        });
        spent += res.usage!.total_tokens;
        await gw.waitForLogs();
      } catch (err) {
        if (err instanceof OpenAI.RateLimitError) rejected = err;
        else throw err;
      }
    }
    assert.ok(rejected, 'a request was rejected');
    assert.ok(spent <= limit, `spent ${spent} <= ${limit}`);
    const h = rejected.headers;
    assert.ok(Number(h.get('retry-after')) > 0);
    assert.equal(h.get('x-ai-ratelimit-limit-3600-daily'), String(limit));
    assert.equal(Number(h.get('x-ai-ratelimit-remaining-3600-daily')), limit - spent);
    assert.equal((rejected.error as { code?: string }).code, 'BUDGET_EXCEEDED');
    // the state behind it is in Redis: the window counters and one ledger row per served request
    const keys = await redis.keys(`${prefix}:*`);
    assert.ok(
      keys.some((k) => !k.endsWith(':ledger')),
      `window keys in Redis: ${keys.join(', ')}`,
    );
    assert.ok((await ledger()).length > 0, 'ledger rows');
    // another payer has its own budget
    await client('bob-key').chat.completions.create({
      model: 'gpt-4o-mini',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'hi' }],
    });
  });

  it('never overshoots a nearly spent budget under 40 concurrent requests', async () => {
    const limit = 400;
    await gw.loadConfig(config([{ name: 'tight', limits: [{ limit, window_size: 3600 }] }]));
    const c = client();
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        c.chat.completions.create({
          model: 'gpt-4o-mini',
          max_tokens: 30,
          messages: [{ role: 'user', content: `question ${i}` }],
        }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const rows = await ledger();
    const committed = rows.reduce((s, r) => s + Number(r.prompt_tokens) + Number(r.completion_tokens), 0);
    assert.ok(ok > 0 && ok < 40, `${ok} served`);
    assert.equal(rows.length, ok);
    assert.ok(committed <= limit, `committed ${committed} <= ${limit}`);
  });

  it('frees the reservation of a request whose log phase never runs (Kong node lost mid-request)', async () => {
    const policies = [{ name: 'small', limits: [{ limit: 100, window_size: 3600 }] }];
    const cfg = config(policies, { reservation_ttl: 8 }); // long enough for a loaded CI machine to check it still holds
    // A second "Kong node" sharing the same Redis.
    const node2 = await startKong({
      config: cfg,
    });
    const node1 = await startKong({
      config: cfg,
    });
    try {
      const body: OpenAI.ChatCompletionCreateParamsNonStreaming = {
        model: 'gpt-4o-mini',
        max_tokens: 80,
        messages: [{ role: 'user', content: 'slow one' }],
      };
      const inflight = fetch(`${node1.proxyUrl}/ai/v1/chat/completions`, {
        method: 'POST',
        headers: { apikey: 'alice-key', 'content-type': 'application/json', 'x-mock-ttft-ms': '20000' },
        body: JSON.stringify(body),
      }).catch(() => undefined);
      // wait until the upstream has the request: the reservation is in Redis by then
      for (let i = 0; mock.requests.length === 0; i++) {
        assert.ok(i < 500, 'request reached the upstream');
        await new Promise((r) => setTimeout(r, 10));
      }
      await node1.crash(); // the node dies (SIGKILL): no log phase, no settle
      await inflight;
      const c2 = new OpenAI({
        apiKey: 'x',
        baseURL: `${node2.proxyUrl}/ai/v1`,
        defaultHeaders: { apikey: 'alice-key' },
        maxRetries: 0,
      });
      await assert.rejects(
        c2.chat.completions.create(body),
        OpenAI.RateLimitError,
        'the lost reservation still holds the budget',
      );
      // no event marks the expiry: poll until the reservation TTL (8 s) has passed
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          await c2.chat.completions.create(body);
          break;
        } catch (err) {
          if (!(err instanceof OpenAI.RateLimitError) || Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    } finally {
      await node1.stop().catch(() => undefined);
      await node2.stop();
    }
  });

  it('answers malformed bodies with 400 and a stable code', async () => {
    await gw.loadConfig(config([]));
    const res = await fetch(`${gw.proxyUrl}/ai/v1/chat/completions`, {
      method: 'POST',
      headers: { apikey: 'alice-key', 'content-type': 'application/json' },
      body: '{"model": "gpt-4o-mini", "messages": [',
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'BODY_NOT_JSON');
    assert.equal(mock.requests.length, 0);
  });

  it('agrees with scripts/usage-report', async () => {
    await gw.loadConfig(config([]));
    for (const key of ['alice-key', 'alice-key', 'bob-key']) {
      await client(key).chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hello' }],
      });
    }
    const rows = await ledger();
    const report = await runUsageReport({
      redisUrl: `redis://${redisCfg.host}:${redisCfg.port}`,
      prefix,
      format: 'json',
    });
    const alice = report.find((r) => r.payer === 'consumer=alice')!;
    const sum = (p: string) =>
      rows
        .filter((r) => r.payer === p)
        .reduce((s, r) => s + Number(r.prompt_tokens) + Number(r.completion_tokens), 0);
    assert.equal(alice.requests, 2);
    assert.equal(alice.total_tokens, sum('consumer=alice'));
    assert.equal(report.find((r) => r.payer === 'consumer=bob')!.requests, 1);
  });
});
