import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { withDefaults } from '../../../lib/schema/kong-schema';
import { MemoryStore } from '../../../lib/store/memory';
import { PluginError } from '../../../lib/errors';
import type { Store } from '../../../lib/store/types';
import { Schema, type TokenAccountingConfig } from '../../../plugins/llm-token-accounting/schema';
import { TokenAccounting } from '../../../plugins/llm-token-accounting/handler';
import { FakeKong } from '../../helpers/fake-kong';

const silent = pino({ level: 'silent' });
const cfg = (partial: Record<string, unknown> = {}) =>
  withDefaults<TokenAccountingConfig>(Schema, {
    strategy: 'memory',
    ledger: { enabled: true, max_len: 1000, log: false },
    ...partial,
  });
const chat = (extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Hello there' }],
  ...extra,
});
const answer = (usage: Record<string, unknown>) =>
  JSON.stringify({ id: 'x', object: 'chat.completion', choices: [], usage });

function plugin(config: TokenAccountingConfig, store: Store = new MemoryStore()) {
  return { p: new TokenAccounting(config, { store, log: silent }), store };
}

describe('llm-token-accounting: (unit)', () => {
  it('reserves in access and settles the provider usage from the buffered body in log', async () => {
    const { p, store } = plugin(
      cfg({ policies: [{ name: 'h', limits: [{ limit: 10_000, window_size: 3600 }] }] }),
    );
    const k = new FakeKong({ body: chat({ max_tokens: 50 }), consumer: { id: 'u1', username: 'alice' } });
    await p.access(k.pdk);
    assert.equal(k.exited, undefined);
    assert.equal(k.upstream.buffering, true, 'non-stream requests are buffered');
    assert.equal(k.responseHeaders['X-AI-RateLimit-Limit-3600-h'], '10000');
    const state = k.shared['llm.accounting'] as { reserved: number; prompt_tokens: number };
    assert.equal(state.reserved, state.prompt_tokens + 50);
    k.upstreamResponse = {
      status: 200,
      body: answer({ prompt_tokens: 9, completion_tokens: 21, total_tokens: 30 }),
    };
    await p.log(k.pdk);
    const rows = await store.streamRead('llm:v1:ledger', '0', 10);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.fields.completion_tokens, '21');
    assert.equal(rows[0]!.fields.payer, 'consumer=alice');
    // the only log-phase PDK calls are the ones valid in the log timer
    const logCalls = k.calls.slice(k.calls.findIndex(([n]) => n === 'ctx.shared.get')).map(([n]) => n);
    assert.ok(
      logCalls.every((n) => ['ctx.shared.get', 'log.serialize', 'service.response.getRawBody'].includes(n)),
      logCalls.join(),
    );
  });

  it('does not buffer streams and takes their usage from the tap', async () => {
    const { p, store } = plugin(cfg());
    const k = new FakeKong({ body: chat({ stream: true }), consumer: { id: 'u1', username: 'alice' } });
    await p.access(k.pdk);
    assert.equal(k.upstream.buffering, false);
    k.shared['llm.tap'] = {
      kind: 'sse',
      status: 200,
      usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
      text_bytes: 5,
      text_truncated: false,
      frames: 3,
      bad_frames: 0,
      done: true,
      aborted: false,
      bytes: 100,
      restored: 0,
    };
    await p.log(k.pdk);
    const [row] = await store.streamRead('llm:v1:ledger', '0', 10);
    assert.equal(row!.fields.prompt_tokens, '7');
    assert.equal(row!.fields.usage_source, 'provider');
  });

  it('answers 429 with Retry-After once the worst case does not fit', async () => {
    const { p } = plugin(cfg({ policies: [{ name: 'tiny', limits: [{ limit: 20, window_size: 60 }] }] }));
    const k = new FakeKong({ body: chat({ max_tokens: 100 }), consumer: { id: 'u1', username: 'alice' } });
    await p.access(k.pdk);
    assert.equal(k.exited?.status, 429);
    const body = k.exited?.body as { error: { code: string; reason?: string } };
    assert.equal(body.error.code, 'BUDGET_EXCEEDED');
    assert.equal(body.error.reason, 'request_exceeds_limit', 'this request can never fit');
    const k2 = new FakeKong({ body: chat({ max_tokens: 5 }), consumer: { id: 'u1', username: 'alice' } });
    await p.access(k2.pdk);
    assert.equal(k2.exited, undefined, 'a small request still fits');
    const k3 = new FakeKong({ body: chat({ max_tokens: 10 }), consumer: { id: 'u1', username: 'alice' } });
    await p.access(k3.pdk);
    assert.equal(k3.exited?.status, 429);
    assert.ok(Number(k3.exited?.headers?.['Retry-After']) >= 1);
  });

  it('books a cache hit as zero cost with savings and releases the reservation', async () => {
    const { p, store } = plugin(
      cfg({ policies: [{ name: 'h', limits: [{ limit: 1000, window_size: 3600 }] }] }),
    );
    const k = new FakeKong({ body: chat({ max_tokens: 100 }), consumer: { id: 'u1', username: 'alice' } });
    await p.access(k.pdk);
    k.shared['llm.cache'] = {
      status: 'Hit',
      saved_usage: { prompt_tokens: 1000, completion_tokens: 1000, total_tokens: 2000 },
      saved_model: 'gpt-4o-mini',
    };
    await p.log(k.pdk);
    const [row] = await store.streamRead('llm:v1:ledger', '0', 10);
    assert.equal(row!.fields.cost_usd, '0');
    assert.ok(Number(row!.fields.savings_usd) > 0);
    const k2 = new FakeKong({ body: chat({ max_tokens: 900 }), consumer: { id: 'u1', username: 'alice' } });
    await p.access(k2.pdk);
    assert.equal(k2.exited, undefined, 'the released reservation no longer counts');
  });

  it('bills nothing for a failed upstream call without usage', async () => {
    const { p, store } = plugin(cfg());
    const k = new FakeKong({ body: chat(), consumer: { id: 'u1', username: 'alice' } });
    await p.access(k.pdk);
    k.upstreamResponse = { status: 503, body: '<html>busy</html>' };
    k.serialized = { response: { status: 503 } };
    await p.log(k.pdk);
    const [row] = await store.streamRead('llm:v1:ledger', '0', 10);
    assert.equal(row!.fields.prompt_tokens, '0');
    assert.equal(row!.fields.usage_source, 'none');
  });

  it('rejects bad bodies with a stable 4xx and lets non-LLM calls through', async () => {
    const { p } = plugin(cfg());
    const bad = new FakeKong({ body: '{"model":', headers: { 'content-type': 'application/json' } });
    await p.access(bad.pdk);
    assert.equal(bad.exited?.status, 400);
    assert.equal((bad.exited?.body as { error: { code: string } }).error.code, 'BODY_NOT_JSON');
    const other = new FakeKong({ method: 'GET', path: '/v1/models' });
    await p.access(other.pdk);
    assert.equal(other.exited, undefined);
    assert.equal(other.shared['llm.accounting'], undefined);
  });

  it('counts locally when the store is down (fault_tolerant) or answers 503', async () => {
    const down = new MemoryStore();
    down.reserve = () => Promise.reject(new PluginError('STORE_UNAVAILABLE', 'redis is reconnecting', 503));
    const open = plugin(
      cfg({ policies: [{ name: 'h', limits: [{ limit: 1000, window_size: 60 }] }] }),
      down,
    ).p;
    const k = new FakeKong({ body: chat({ max_tokens: 10 }), consumer: { id: 'u1', username: 'alice' } });
    await open.access(k.pdk);
    assert.equal(k.exited, undefined);
    assert.equal((k.shared['llm.accounting'] as { local: boolean }).local, true);
    const closed = plugin(
      cfg({ fault_tolerant: false, policies: [{ name: 'h', limits: [{ limit: 1000, window_size: 60 }] }] }),
      down,
    ).p;
    const k2 = new FakeKong({ body: chat({ max_tokens: 10 }), consumer: { id: 'u1', username: 'alice' } });
    await closed.access(k2.pdk);
    assert.equal(k2.exited?.status, 503);
    assert.equal((k2.exited?.body as { error: { code: string } }).error.code, 'BUDGET_UNAVAILABLE');
  });

  it('rejects an unknown model when configured to', async () => {
    const { p } = plugin(cfg({ unknown_model: 'reject' }));
    const k = new FakeKong({ body: chat({ model: 'my-private-model' }) });
    await p.access(k.pdk);
    assert.equal(k.exited?.status, 400);
    assert.equal((k.exited?.body as { error: { code: string } }).error.code, 'MODEL_UNKNOWN');
  });
});
