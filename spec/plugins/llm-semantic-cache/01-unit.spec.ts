import { describe, it, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { withDefaults } from '../../../lib/schema/kong-schema';
import { MemoryStore } from '../../../lib/store/memory';
import type { Store } from '../../../lib/store/types';
import type { TapResult } from '../../../lib/kong/shared-ctx';
import { registry } from '../../../lib/metrics';
import { Schema, type SemanticCacheConfig } from '../../../plugins/llm-semantic-cache/schema';
import {
  SemanticCache,
  fromCompletion,
  fromTap,
  type CarriedCache,
} from '../../../plugins/llm-semantic-cache/handler';
import { resetSharedIndexes } from '../../../plugins/llm-semantic-cache/entries';
import {
  getEntry,
  opsTarget,
  purgeAll,
  purgeKey,
  purgePartition,
} from '../../../plugins/llm-semantic-cache/ops';
import { fakeKong, type FakeKong, type FakeRequest } from '../../helpers/fake-kong';

const silent = pino({ level: 'silent' });
const ANSWER = 'Paris is the capital of France.';

function tap(over: Partial<TapResult> = {}): TapResult {
  return {
    kind: 'json',
    status: 200,
    model: 'gpt-4o-mini-2024-07-18',
    usage: { prompt_tokens: 20, completion_tokens: 8, total_tokens: 28 },
    text: ANSWER,
    text_bytes: ANSWER.length,
    text_truncated: false,
    finish_reason: 'stop',
    frames: 0,
    bad_frames: 0,
    done: true,
    aborted: false,
    bytes: 300,
    restored: 0,
    ...over,
  };
}

function make(
  partial: Record<string, unknown> = {},
  store: Store = new MemoryStore({ now: () => clock.now }),
) {
  const config = withDefaults<SemanticCacheConfig>(Schema, {
    vectordb: { strategy: 'memory', sync_interval_ms: 0 },
    ...partial,
  });
  const plugin = new SemanticCache(config, { store, now: () => clock.now, log: silent });
  return { plugin, store, config };
}
const clock = { now: 1_700_000_000_000 };

const alice = { id: 'c-alice', username: 'alice' };
const bob = { id: 'c-bob', username: 'bob' };
function request(
  content: string,
  over: Partial<FakeRequest> = {},
  body: Record<string, unknown> = {},
): FakeRequest {
  return {
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
    consumer: alice,
    route: { id: 'r1', name: 'ai-chat' },
    body: { model: 'fast', messages: [{ role: 'user', content }], ...body },
    ...over,
  };
}

/** access, then (when proxied) the tap result and log. */
async function roundTrip(p: SemanticCache, req: FakeRequest, t: TapResult | null = tap()): Promise<FakeKong> {
  const k = fakeKong(req);
  await p.access(k.pdk);
  if (!k.exited) {
    if (t) k.shared['llm.tap'] = t;
    await p.log(k.pdk);
  }
  return k;
}

describe('llm-semantic-cache handler', () => {
  beforeEach(() => resetSharedIndexes());

  it('miss → fill from the tap → exact and paraphrased repeats are hits with the same answer', async () => {
    const { plugin } = make();
    const first = await roundTrip(plugin, request('What is the capital of France?'));
    assert.equal(first.exited, undefined);
    assert.equal(first.responseHeaders['X-Cache-Status'], 'Miss');
    assert.equal(first.upstream.buffering, true);
    const st = first.shared['llm.cache'] as CarriedCache;
    assert.equal(st.status, 'Miss');

    const exact = await roundTrip(plugin, request('What is the capital of France?'));
    assert.equal(exact.exited?.status, 200);
    const h = exact.exited!.headers!;
    assert.equal(h['X-Cache-Status'], 'Hit');
    assert.equal(h['X-Cache-Key'], st.key);
    assert.equal(h['X-Cache-Similarity'], '1.0000');
    assert.equal(h['Age'], '0');
    assert.equal(h['X-Cache-Ttl'], '300');
    const body = exact.exited!.body as {
      choices: { message: { content: string }; finish_reason: string }[];
      model: string;
      usage: { total_tokens: number };
    };
    assert.equal(body.choices[0]!.message.content, ANSWER);
    assert.equal(body.choices[0]!.finish_reason, 'stop');
    assert.equal(body.model, 'gpt-4o-mini-2024-07-18');
    assert.equal(body.usage.total_tokens, 28);
    const hit = exact.shared['llm.cache'] as CarriedCache;
    assert.deepEqual(hit.saved_usage, { prompt_tokens: 20, completion_tokens: 8, total_tokens: 28 });
    assert.equal(hit.saved_model, 'gpt-4o-mini-2024-07-18');

    clock.now += 5000;
    const para = await roundTrip(plugin, request("What's the capital city of France?"));
    assert.equal(para.exited?.headers?.['X-Cache-Status'], 'Hit');
    const sim = Number(para.exited!.headers!['X-Cache-Similarity']);
    assert.ok(sim >= 0.56 && sim < 1, String(sim));
    assert.equal(para.exited!.headers!['Age'], '5');
    assert.equal(
      (para.exited!.body as { choices: { message: { content: string } }[] }).choices[0]!.message.content,
      ANSWER,
    );
  });

  it('verification rejects a similar prompt with a different entity or negation', async () => {
    const { plugin } = make();
    await roundTrip(plugin, request('What is the capital of France?'));
    const germany = await roundTrip(plugin, request('What is the capital of Germany?'), null);
    assert.equal(germany.exited, undefined);
    await roundTrip(plugin, request('How do I enable logging in Kong?'));
    const disable = await roundTrip(plugin, request('How do I disable logging in Kong?'), null);
    assert.equal(disable.exited, undefined);
  });

  it('replays a hit as an OpenAI SSE stream with a usage chunk when asked', async () => {
    const { plugin } = make();
    await roundTrip(plugin, request('What is the capital of France?'));
    const k = await roundTrip(
      plugin,
      request(
        'What is the capital of France?',
        {},
        { stream: true, stream_options: { include_usage: true } },
      ),
    );
    assert.equal(k.exited?.status, 200);
    assert.equal(k.exited!.headers!['Content-Type'], 'text/event-stream');
    const sse = String(k.exited!.body);
    assert.ok(sse.endsWith('data: [DONE]\n\n'));
    const chunks = sse
      .split('\n\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)) as { choices: { delta: { content?: string } }[]; usage: unknown });
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), ANSWER);
    assert.deepEqual(chunks.at(-1)!.usage, {
      prompt_tokens: 20,
      completion_tokens: 8,
      total_tokens: 28,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  it('isolates consumers by default; partition_by global shares', async () => {
    const { plugin } = make();
    await roundTrip(plugin, request('What is the capital of France?'));
    const b = await roundTrip(plugin, request('What is the capital of France?', { consumer: bob }), null);
    assert.equal(b.exited, undefined);
    resetSharedIndexes();
    const g = make({ partition_by: 'global' });
    await roundTrip(g.plugin, request('What is the capital of France?'));
    const b2 = await roundTrip(g.plugin, request('What is the capital of France?', { consumer: bob }));
    assert.equal(b2.exited?.headers?.['X-Cache-Status'], 'Hit');
  });

  it('bypasses without an identity, with the control header, Cache-Control no-store, and n > 1', async () => {
    const { plugin, store } = make({ cache_control: true });
    const cases: FakeRequest[] = [
      request('Q1', { consumer: null }),
      request('Q1', { headers: { 'content-type': 'application/json', 'x-cache-mode': 'bypass' } }),
      request('Q1', { headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } }),
      request('Q1', {}, { n: 2 }),
    ];
    for (const r of cases) {
      const k = await roundTrip(plugin, r);
      assert.equal(k.responseHeaders['X-Cache-Status'], 'Bypass');
      assert.equal(k.upstream.buffering, false);
    }
    assert.deepEqual(await store.keys(''), []);
  });

  it('refresh skips the lookup and replaces the entry; max-age limits the age served', async () => {
    const { plugin } = make({ cache_control: true });
    await roundTrip(plugin, request('What is the capital of France?'));
    const r = await roundTrip(
      plugin,
      request('What is the capital of France?', {
        headers: { 'content-type': 'application/json', 'x-cache-mode': 'refresh' },
      }),
      tap({ text: 'Paris.' }),
    );
    assert.equal(r.exited, undefined);
    assert.equal(r.responseHeaders['X-Cache-Status'], 'Refresh');
    clock.now += 30_000;
    const hit = await roundTrip(plugin, request('What is the capital of France?'));
    assert.equal(
      (hit.exited!.body as { choices: { message: { content: string } }[] }).choices[0]!.message.content,
      'Paris.',
    );
    const old = await roundTrip(
      plugin,
      request('What is the capital of France?', {
        headers: { 'content-type': 'application/json', 'cache-control': 'max-age=10' },
      }),
      null,
    );
    assert.equal(old.exited, undefined);
  });

  it('never caches errors, truncated, aborted, unfinished or tool-call answers', async () => {
    const { plugin, store } = make();
    const bad: Partial<TapResult>[] = [
      { status: 500 },
      { status: 429 },
      { finish_reason: 'length' },
      { text_truncated: true },
      { kind: 'sse', aborted: true },
      { kind: 'sse', done: false },
      { finish_reason: 'tool_calls', tool_calls: [{ id: 't', name: 'f', arguments: '{}' }] },
      { kind: 'other' },
    ];
    for (const [i, b] of bad.entries()) await roundTrip(plugin, request(`Question number ${i}`), tap(b));
    assert.deepEqual(await store.keys(''), []);
  });

  it('caches tool calls only with cache_tool_calls', async () => {
    const t = tap({
      text: '',
      finish_reason: 'tool_calls',
      tool_calls: [{ id: 't1', name: 'weather', arguments: '{"city":"Paris"}' }],
    });
    assert.ok('reason' in fromTap(t, { cache_tool_calls: false }));
    const ok = fromTap(t, { cache_tool_calls: true });
    assert.ok('answer' in ok && ok.answer.tool_calls?.[0]?.function?.name === 'weather');
  });

  it('fills from the buffered body when the tap is not on the route (status 200, stop only)', async () => {
    const { plugin } = make();
    const completion = (finish: string) =>
      JSON.stringify({
        id: 'x',
        object: 'chat.completion',
        model: 'm-1',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Buffered.' }, finish_reason: finish }],
        usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
      });
    const run = async (q: string, status: number, finish: string) => {
      const k = fakeKong(request(q));
      await plugin.access(k.pdk);
      k.upstreamResponse = { status, body: completion(finish) };
      k.serialized = { response: { status } };
      await plugin.log(k.pdk);
      return k;
    };
    const miss = await run('Buffered question one', 200, 'stop');
    assert.ok(miss.callNames().includes('service.response.getRawBody'));
    await run('Buffered question two', 500, 'stop');
    await run('Buffered question three', 200, 'length');
    const hit = await roundTrip(plugin, request('Buffered question one'), null);
    assert.equal(hit.exited?.headers?.['X-Cache-Status'], 'Hit');
    assert.equal((await roundTrip(plugin, request('Buffered question two'), null)).exited, undefined);
    assert.equal((await roundTrip(plugin, request('Buffered question three'), null)).exited, undefined);
    assert.ok('reason' in fromCompletion({ error: { message: 'x' } }, { cache_tool_calls: false }));
  });

  it('streams are not buffered; the log phase never reads the body of an unbuffered request', async () => {
    const { plugin } = make();
    const k = fakeKong(request('Stream me', {}, { stream: true }));
    await plugin.access(k.pdk);
    assert.equal(k.upstream.buffering, false);
    await plugin.log(k.pdk); // no tap, not buffered: nothing to store, and no getRawBody call
    assert.ok(!k.callNames().includes('service.response.getRawBody'));
  });

  it('expires entries after cache_ttl (store and index)', async () => {
    const { plugin } = make({ cache_ttl: 60 });
    await roundTrip(plugin, request('What is the capital of France?'));
    clock.now += 61_000;
    assert.equal(
      (await roundTrip(plugin, request('What is the capital of France?'), null)).exited,
      undefined,
    );
    assert.equal(
      (await roundTrip(plugin, request("What's the capital city of France?"), null)).exited,
      undefined,
    );
  });

  it('serves a cached answer only when it fits the request max_tokens', async () => {
    const { plugin } = make();
    await roundTrip(plugin, request('What is the capital of France?'));
    assert.equal(
      (await roundTrip(plugin, request('What is the capital of France?', {}, { max_tokens: 4 }), null))
        .exited,
      undefined,
    );
    assert.equal(
      (await roundTrip(plugin, request('What is the capital of France?', {}, { max_tokens: 100 }))).exited
        ?.status,
      200,
    );
  });

  it('store down: miss and proxy by default, 503 CACHE_UNAVAILABLE with stop_on_failure', async () => {
    const broken = new MemoryStore();
    const fail = () => Promise.reject(new Error('connection refused'));
    Object.assign(broken, {
      get: fail,
      mget: fail,
      set: fail,
      keys: fail,
      streamRead: fail,
      streamAdd: fail,
    });
    const open = make({}, broken);
    const k = await roundTrip(open.plugin, request('What is the capital of France?'));
    assert.equal(k.exited, undefined);
    assert.equal(k.responseHeaders['X-Cache-Status'], 'Miss');
    resetSharedIndexes();
    const closed = make({ stop_on_failure: true }, broken);
    const k2 = await roundTrip(closed.plugin, request('What is the capital of France?'));
    assert.equal(k2.exited?.status, 503);
    assert.equal((k2.exited!.body as { error: { code: string } }).error.code, 'CACHE_UNAVAILABLE');
  });

  it('shadow mode never serves, and records whether the cached answer agrees', async () => {
    const { plugin } = make({ shadow_mode: true });
    await roundTrip(plugin, request('What is the capital of France?'));
    const same = await roundTrip(plugin, request("What's the capital city of France?"));
    assert.equal(same.exited, undefined);
    assert.equal(same.responseHeaders['X-Cache-Status'], 'Miss');
    assert.equal((same.shared['llm.cache'] as CarriedCache).shadow, true);
    await roundTrip(plugin, request('Tell me the capital of France.'), tap({ text: 'It is Paris.' }));
    const m = await registry.getSingleMetricAsString('ai_llm_cache_shadow_total');
    assert.match(m, /agree="true"[^\n]* 1/);
    assert.match(m, /agree="false"[^\n]* 1/);
  });

  it('ops: read an entry, purge by key, partition and all', async () => {
    const store = new MemoryStore({ now: () => clock.now });
    const { plugin, config } = make({}, store);
    const t = opsTarget(config, store);
    const first = await roundTrip(plugin, request('What is the capital of France?'));
    const key = (first.shared['llm.cache'] as CarriedCache).key!;
    const e = await getEntry(t, key);
    assert.equal(e?.partition, 'consumer:c-alice');
    assert.equal(await purgeKey(t, key), true);
    assert.equal(
      (await roundTrip(plugin, request("What's the capital city of France?"), null)).exited,
      undefined,
      'index dropped it too',
    );
    await roundTrip(plugin, request('What is the capital of France?'));
    await roundTrip(plugin, request('What is the capital of France?', { consumer: bob }));
    assert.equal(await purgePartition(t, 'consumer:c-alice'), 1);
    assert.equal(
      (await roundTrip(plugin, request('What is the capital of France?'), null)).exited,
      undefined,
    );
    assert.equal(
      (await roundTrip(plugin, request('What is the capital of France?', { consumer: bob }), null)).exited
        ?.status,
      200,
    );
    assert.equal(await purgeAll(t), 1); // bob's
    assert.equal(
      (await roundTrip(plugin, request('What is the capital of France?', { consumer: bob }), null)).exited,
      undefined,
    );
    await assert.rejects(() => purgeKey(t, 'nope'));
  });

  it('passes non-chat calls through untouched', async () => {
    const { plugin } = make();
    const k = fakeKong({
      path: '/v1/embeddings',
      headers: { 'content-type': 'application/json' },
      consumer: alice,
      body: { model: 'e', input: 'x' },
    });
    await plugin.access(k.pdk);
    assert.equal(k.exited, undefined);
    assert.deepEqual(k.responseHeaders, {});
  });
});
