/**
 * llm-semantic-cache end to end: a real Kong (spec/support/real-kong.ts) + the real plugin server serving
 * dist/plugins (`npm run build` first) + the Lua llm-response-tap + real Redis + the mock LLM, driven by
 * the official OpenAI SDK.
 */
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type Redis from 'ioredis';
import { startKong, type KongHandle } from '../../support/real-kong';
import { startMockLlm, type MockLlm } from '../../support/mock-llm';
import { connectTestRedis, flushPrefix, redisTestConfig } from '../../helpers/redis';

const Q = 'What is the capital of France?';
const PARAPHRASE = "What's the capital city of France?";

describe('llm-semantic-cache (integration)', () => {
  let gw: KongHandle;
  let mock: MockLlm;
  let redis: Redis;
  const redisCfg = redisTestConfig('cache');
  const prefix = redisCfg.key_prefix;
  const redisConf = { host: redisCfg.host, port: redisCfg.port, key_prefix: prefix };

  function config(cache: Record<string, unknown> = {}, opts: { accounting?: boolean; tap?: boolean } = {}) {
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
                ...(opts.accounting
                  ? [
                      {
                        name: 'llm-token-accounting',
                        config: { strategy: 'redis', redis: redisConf, policies: [] },
                      },
                    ]
                  : []),
                {
                  name: 'llm-semantic-cache',
                  config: {
                    vectordb: { strategy: 'redis', redis: redisConf, sync_interval_ms: 200 },
                    ...cache,
                  },
                },
                ...(opts.tap === false ? [] : [{ name: 'llm-response-tap' }]),
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

  const client = (key = 'alice-key', g: KongHandle = gw) =>
    new OpenAI({
      apiKey: 'unused',
      baseURL: `${g.proxyUrl}/ai/v1`,
      defaultHeaders: { apikey: key },
      maxRetries: 0,
    });

  async function ask(
    content: string,
    key = 'alice-key',
    headers: Record<string, string> = {},
    g: KongHandle = gw,
  ) {
    const { data, response } = await client(key, g)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }, { headers })
      .withResponse();
    await g.waitForLogs();
    return {
      text: data.choices[0]!.message.content ?? '',
      status: response.headers.get('x-cache-status'),
      headers: response.headers,
      data,
    };
  }

  const upstreamCalls = () => mock.requests.filter((r) => r.path.endsWith('/chat/completions')).length;

  before(async () => {
    redis = await connectTestRedis(redisCfg);
    mock = await startMockLlm();
    gw = await startKong({
      config: config(),
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.stop();
    await flushPrefix(redis, prefix);
    redis?.disconnect();
  });
  beforeEach(async () => {
    await gw.waitForLogs();
    await flushPrefix(redis, prefix);
    mock.reset();
  });

  it('miss → one upstream call → identical and paraphrased repeats are hits with the same answer', async () => {
    await gw.loadConfig(config());
    const first = await ask(Q);
    assert.equal(first.status, 'Miss');
    assert.ok(first.text.length > 0);
    const again = await ask(Q);
    assert.equal(again.status, 'Hit');
    assert.equal(again.text, first.text);
    assert.equal(again.headers.get('x-cache-similarity'), '1.0000');
    assert.equal(again.headers.get('x-cache-key'), first.headers.get('x-cache-key'));
    assert.ok(Number(again.headers.get('x-cache-ttl')) > 0);
    assert.ok(again.headers.get('age') !== null);
    const para = await ask(PARAPHRASE);
    assert.equal(para.status, 'Hit');
    assert.equal(para.text, first.text);
    const sim = Number(para.headers.get('x-cache-similarity'));
    assert.ok(sim >= 0.56 && sim < 1, String(sim));
    assert.equal(upstreamCalls(), 1);
    // a different question is not served from the cache
    const other = await ask('What is the capital of Germany?');
    assert.equal(other.status, 'Miss');
    assert.equal(upstreamCalls(), 2);
  });

  it('consumer A never receives consumer B’s entry under default isolation', async () => {
    await gw.loadConfig(config());
    const b = await ask(Q, 'bob-key');
    assert.equal(b.status, 'Miss');
    const a = await ask(Q, 'alice-key');
    assert.equal(a.status, 'Miss');
    const a2 = await ask(PARAPHRASE, 'alice-key');
    assert.equal(a2.status, 'Hit');
    assert.equal(upstreamCalls(), 2);
  });

  it('replays a stream request after a non-stream fill as a valid SSE stream (SDK)', async () => {
    await gw.loadConfig(config());
    const first = await ask(Q);
    const { data: stream, response } = await client()
      .chat.completions.create({
        model: 'gpt-4o-mini',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: Q }],
      })
      .withResponse();
    assert.equal(response.headers.get('x-cache-status'), 'Hit');
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, first.text);
    assert.equal(finish, 'stop');
    assert.deepEqual(usage && { p: usage.prompt_tokens, c: usage.completion_tokens }, {
      p: first.data.usage!.prompt_tokens,
      c: first.data.usage!.completion_tokens,
    });
    assert.equal(upstreamCalls(), 1);
  });

  it('fills from a streamed miss too (tap), and serves it as JSON', async () => {
    await gw.loadConfig(config());
    const stream = await client().chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: Q }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    await gw.waitForLogs();
    const hit = await ask(Q);
    assert.equal(hit.status, 'Hit');
    assert.equal(hit.text, text);
    assert.equal(upstreamCalls(), 1);
  });

  it('never caches errors (500), truncated answers (length) or aborted streams', async () => {
    await gw.loadConfig(config());
    await assert.rejects(
      () => ask(Q, 'alice-key', { 'x-mock-fault': 'status=500' }),
      (e: unknown) => e instanceof OpenAI.APIError && e.status === 500,
    );
    await gw.waitForLogs();
    const truncated = await ask(Q, 'alice-key', { 'x-mock-finish-reason': 'length' });
    assert.equal(truncated.data.choices[0]!.finish_reason, 'length');
    await assert.rejects(async () => {
      const s = await client().chat.completions.create(
        { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: Q }] },
        { headers: { 'x-mock-fault': 'drop=2' } },
      );
      for await (const _ of s) void _;
    });
    await gw.waitForLogs();
    assert.deepEqual(await redis.keys(`${prefix}:v1:cache:e:*`), []);
    const after = await ask(Q);
    assert.equal(after.status, 'Miss');
    assert.equal(upstreamCalls(), 4);
  });

  it('fills from the buffered body when the tap is not on the route', async () => {
    await gw.loadConfig(config({}, { tap: false }));
    const first = await ask(Q);
    assert.equal(first.status, 'Miss');
    const hit = await ask(PARAPHRASE);
    assert.equal(hit.status, 'Hit');
    assert.equal(hit.text, first.text);
  });

  it('expires entries after cache_ttl', async () => {
    await gw.loadConfig(config({ cache_ttl: 1 }));
    await ask(Q);
    assert.equal((await ask(Q)).status, 'Hit');
    await new Promise((r) => setTimeout(r, 1100)); // TTL expiry has no event to wait for
    assert.equal((await ask(Q)).status, 'Miss');
    assert.equal(upstreamCalls(), 2);
  });

  it('bypass and refresh request headers', async () => {
    await gw.loadConfig(config());
    await ask(Q);
    assert.equal((await ask(Q, 'alice-key', { 'x-cache-mode': 'bypass' })).status, 'Bypass');
    assert.equal((await ask(Q, 'alice-key', { 'x-cache-mode': 'refresh' })).status, 'Refresh');
    assert.equal((await ask(Q)).status, 'Hit');
    assert.equal(upstreamCalls(), 3);
  });

  it('two gateways (two plugin-server processes) sharing one Redis see each other’s fills', async () => {
    await gw.loadConfig(config());
    const gw2 = await startKong({
      config: config(),
    });
    try {
      // Warm the second node (its first request may reach a plugin server that is still starting: Kong
      // fails open) and its index, so later entries must arrive through the change stream.
      let warm: string | null = null;
      for (let i = 0; i < 20 && warm === null; i++) {
        warm = (await ask(`Warm-up question number ${i} about Rust lifetimes?`, 'alice-key', {}, gw2)).status;
        if (warm === null) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(warm, 'Miss');
      const calls = upstreamCalls();
      const first = await ask(Q, 'alice-key', {}, gw);
      // exact hits read the shared store directly
      assert.equal((await ask(Q, 'alice-key', {}, gw2)).status, 'Hit');
      // semantic hits need the other node's index to have read the change stream: it does so at a
      // lookup once older than sync_interval_ms (200 ms here) — bounded staleness, no event to wait for
      await new Promise((r) => setTimeout(r, 250));
      const para = await ask(PARAPHRASE, 'alice-key', {}, gw2);
      assert.equal(para.status, 'Hit');
      assert.equal(para.text, first.text);
      assert.equal((await ask('How can I reverse a list in Python?', 'alice-key', {}, gw2)).status, 'Miss');
      await new Promise((r) => setTimeout(r, 250));
      assert.equal((await ask('How do I reverse a list in Python?', 'alice-key', {}, gw)).status, 'Hit');
      assert.equal(upstreamCalls(), calls + 2);
    } catch (err) {
      console.error(gw2.pluginServerLog().slice(-40).join('\n'));
      throw err;
    } finally {
      await gw2.stop();
    }
  });

  it('with llm-token-accounting a hit costs 0 and books savings in the ledger', async () => {
    await gw.loadConfig(config({}, { accounting: true }));
    await ask(Q);
    await ask(PARAPHRASE);
    const rows = (await redis.xrange(`${prefix}:v1:ledger`, '-', '+')).map(([, kv]) =>
      Object.fromEntries(kv.flatMap((_, i) => (i % 2 ? [] : [[kv[i]!, kv[i + 1]!]]))),
    ) as Record<string, string>[];
    assert.equal(rows.length, 2);
    const [miss, hit] = rows as [Record<string, string>, Record<string, string>];
    assert.equal(miss.cache_status, 'Miss');
    assert.ok(Number(miss.cost_usd) > 0);
    assert.equal(hit.cache_status, 'Hit');
    assert.equal(Number(hit.cost_usd), 0);
    assert.equal(hit.usage_source, 'cache');
    assert.equal(Number(hit.savings_usd), Number(miss.cost_usd));
  });
});
