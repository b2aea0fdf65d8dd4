/**
 * Resilience: Redis faults under traffic, on a real Kong 3.9.3 (spec/support/real-kong.ts: DB-less, the
 * plugin server started by Kong from dist/plugins — `npm run build` first —, the Lua llm-response-tap on
 * Kong's Lua path) and the mock LLM; the plugins use a PRIVATE redis-server on a free port that this spec
 * kills, restarts, pauses, fills and turns read-only. Each plugin must follow its fail policy, log once per interval and recover alone:
 *   accounting fault_tolerant=true → serve and count locally; false → 503 BUDGET_UNAVAILABLE;
 *   router → in-process fallback state; cache → miss and proxy, nothing half-written.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import { startKong, type KongHandle } from '../support/real-kong';
import { startMockLlm, type MockLlm } from '../support/mock-llm';
import {
  PrivateRedis,
  chat,
  keysUnder,
  ledgerRows,
  linesWith,
  post,
  until,
  type HttpResult,
} from './helpers';

const PREFIX = `resil-redis-${process.pid}`;
const ACCT_DOWN = 'budget store unavailable';
const ROUTER_DOWN = 'router state store unavailable';
const CACHE_DOWN = 'semantic cache unavailable';
const CONN_ERR = 'redis connection error';

describe('resilience: Redis killed, slow, full and read-only under traffic', () => {
  let gw: KongHandle;
  let mock: MockLlm;
  let rds: PrivateRedis;
  const t0 = Date.now();

  function config() {
    const redis = { host: '127.0.0.1', port: rds.port, key_prefix: PREFIX, timeout: 1000 };
    const acct = (extra: Record<string, unknown> = {}) => ({
      name: 'llm-token-accounting',
      config: {
        strategy: 'redis',
        redis,
        policies: [{ name: 'hourly', limits: [{ limit: 50_000_000, window_size: 3600 }] }],
        ...extra,
      },
    });
    const route = (name: string, plugins: unknown[], service = 'llm') => ({
      name,
      service, // a top-level route names its service (real Kong refuses { name } here)
      paths: [`/${name}`],
      strip_path: true,
      response_buffering: false,
      plugins: [...plugins, { name: 'llm-response-tap' }],
    });
    return {
      _format_version: '3.0',
      services: [
        { name: 'llm', url: `${mock.url}/v1` },
        { name: 'routed', url: 'http://127.0.0.1:9' },
      ],
      routes: [
        route('acct', [{ name: 'key-auth' }, acct()]),
        route('strict', [{ name: 'key-auth' }, acct({ fault_tolerant: false })]),
        route(
          'router',
          [
            {
              name: 'llm-model-router',
              config: {
                strategy: 'redis',
                redis,
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
                aliases: [{ name: 'fast', targets: ['a'] }],
              },
            },
          ],
          'routed',
        ),
        route('cache', [
          { name: 'key-auth' },
          {
            name: 'llm-semantic-cache',
            config: {
              semantic_caching: false,
              vectordb: { strategy: 'redis', redis, sync_interval_ms: 200 },
            },
          },
        ]),
      ],
      consumers: [
        { username: 'alice', keyauth_credentials: [{ key: 'alice-key' }] },
        { username: 'bob', keyauth_credentials: [{ key: 'bob-key' }] },
      ],
    };
  }

  const call = (route: string, body: unknown, headers: Record<string, string> = {}) =>
    post(`${gw.proxyUrl}/${route}/chat/completions`, body, { apikey: 'alice-key', ...headers });

  /** One request to each route; returns the statuses. */
  async function sweep(tag: string): Promise<Record<string, HttpResult>> {
    const [acct, strict, router, cache] = await Promise.all([
      call('acct', chat(`acct ${tag}`, { max_tokens: 20 })),
      call('strict', chat(`strict ${tag}`, { max_tokens: 20 })),
      call('router', { ...chat(`router ${tag}`, { max_tokens: 20 }), model: 'fast' }),
      call('cache', chat(`cache ${tag}`, { max_tokens: 20 })),
    ]);
    return { acct, strict, router, cache };
  }

  const log = () => gw.pluginServerLog();
  const count = (needle: string) => linesWith(log(), needle).length;

  /**
   * Reservation sums and open holds under the prefix: both 0 once every request settled. A settled id
   * stays in the `:ra` hash as 's' for a while (idempotent settle, lib/store/redis.ts): only amounts
   * are open holds.
   */
  async function openReservations(r: Redis): Promise<{ sum: number; entries: number }> {
    let sum = 0;
    let entries = 0;
    for (const k of await keysUnder(r, PREFIX)) {
      if (k.endsWith(':rs')) sum += Number((await r.get(k)) ?? 0);
      if (k.endsWith(':ra')) entries += Object.values(await r.hgetall(k)).filter((v) => v !== 's').length;
    }
    return { sum, entries };
  }

  async function counters(r: Redis): Promise<number> {
    let total = 0;
    for (const k of await keysUnder(r, PREFIX))
      if (k.endsWith(':rs')) total += Number((await r.get(k.slice(0, -3))) ?? 0);
    return total;
  }

  const idOf = (res: HttpResult) => String(res.headers['x-kong-request-id']);

  /**
   * Ledger rows once every request in `ids` has its row (polled: a ledger write that failed over is
   * retried after the log phase returned). Each of them must be booked exactly once.
   */
  async function bookedRows(r: Redis, ids: string[]): Promise<Record<string, string>[]> {
    const rows = await until(
      `ledger rows of ${ids.length} requests`,
      async () => {
        const all = await ledgerRows(r, PREFIX);
        const have = new Set(all.map((x) => x['request_id']));
        return ids.every((id) => have.has(id)) ? all : undefined;
      },
      15_000,
    );
    for (const id of ids)
      assert.equal(rows.filter((x) => x['request_id'] === id).length, 1, `request ${id} booked once`);
    return rows;
  }

  const tokensOf = (rows: Record<string, string>[]) =>
    rows.reduce((s, r) => s + Number(r['prompt_tokens']) + Number(r['completion_tokens']), 0);

  /** Every cache entry under the prefix parses and carries a complete answer. */
  async function assertCacheEntriesWhole(r: Redis): Promise<number> {
    const keys = (await keysUnder(r, `${PREFIX}:v1:cache:e:`)).filter((k) => !k.endsWith(':log'));
    for (const k of keys) {
      const v = await r.get(k);
      assert.ok(v, `entry ${k} has a value`);
      const e = JSON.parse(v) as { answer?: { content?: string | null; finish_reason?: string } };
      assert.ok(e.answer && typeof e.answer.finish_reason === 'string', `entry ${k} is whole`);
    }
    return keys.length;
  }

  before(async () => {
    rds = await PrivateRedis.start();
    mock = await startMockLlm();
    gw = await startKong({
      config: config(),
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.stop();
    await rds?.stop();
  });

  it('baseline: every route answers 200 with Redis up', async (t) => {
    // The first request of each plugin instance opens its Redis connection inside the 1 s command
    // timeout; on a loaded 2-core machine that can take longer (strict then answers 503, as it must).
    // Wait until the strict route is served, then every route must answer 200.
    let attempts = 0;
    const warm = await until(
      'strict accounting served with Redis up',
      async () => {
        attempts++;
        const res = await call('strict', chat('warm up', { max_tokens: 5 }));
        return res.status === 200 ? res : undefined;
      },
      20_000,
    );
    t.diagnostic(`strict served after ${attempts} attempt(s)`);
    const r = await sweep('baseline');
    for (const [name, res] of Object.entries(r)) assert.equal(res.status, 200, `${name}: ${res.body}`);
    await gw.waitForLogs();
    await bookedRows(await rds.client(), [idOf(warm), idOf(r['acct']!), idOf(r['strict']!)]);
    assert.equal((await ledgerRows(await rds.client(), PREFIX)).length, 3, 'warm-up, acct and strict booked');
  });

  it('Redis killed mid-traffic: streams in flight finish, each plugin follows its fail policy, one log line', async (t) => {
    // Slow streams in flight when Redis dies: reserved in Redis, settled after the crash.
    const pace = { 'x-mock-ttft-ms': '300', 'x-mock-tokens-per-s': '40' };
    const reached0 = mock.requests.length;
    const inflight = Array.from({ length: 8 }, (_, i) =>
      call('acct', chat(`stream ${i}`, { stream: true, max_tokens: 30 }), pace),
    );
    await until('streams reached the mock', () => mock.requests.length >= reached0 + 8);
    const before = { acct: count(ACCT_DOWN), router: count(ROUTER_DOWN), cache: count(CACHE_DOWN) };
    await rds.kill();
    const during: Record<string, HttpResult>[] = [];
    for (let i = 0; i < 5; i++) during.push(await sweep(`down ${i}`));
    const streams = await Promise.all(inflight);
    await gw.waitForLogs();
    for (const s of streams) {
      assert.equal(s.status, 200);
      assert.ok(s.body.includes('data: [DONE]'), 'the stream completed');
    }
    for (const d of during) {
      assert.equal(d['acct']!.status, 200, 'fault_tolerant accounting serves');
      assert.equal(d['strict']!.status, 503, 'fault_tolerant=false answers 503');
      assert.equal(
        (JSON.parse(d['strict']!.body) as { error: { code: string } }).error.code,
        'BUDGET_UNAVAILABLE',
      );
      assert.equal(d['router']!.status, 200, 'router falls back to in-process state');
      assert.equal(d['cache']!.status, 200, 'cache misses and proxies');
    }
    const lines = {
      acct: count(ACCT_DOWN) - before.acct,
      router: count(ROUTER_DOWN) - before.router,
      cache: count(CACHE_DOWN) - before.cache,
    };
    t.diagnostic(
      `outage: ${during.length * 4} requests + 8 streams in flight; new log lines: accounting ${lines.acct}, router ${lines.router}, cache ${lines.cache}, connection ${count(CONN_ERR)}`,
    );
    assert.ok(lines.acct <= 1 && lines.router <= 1 && lines.cache <= 1, JSON.stringify(lines));
    assert.equal(lines.acct, 1, 'the accounting outage is logged once');
    assert.ok(count(CONN_ERR) <= 2, 'connection errors are rate limited');
  });

  it('recovers by itself after Redis restarts; reservations settle and usage equals the ledger', async (t) => {
    const down = Date.now();
    await rds.up();
    const r = await rds.client();
    // ioredis reconnects with backoff ≤ 2 s; the strict route answers 200 again once it has.
    const first = await until(
      'strict accounting to recover',
      async () => {
        const res = await call('strict', chat('recovery probe', { max_tokens: 10 }));
        return res.status === 200 ? res : undefined;
      },
      20_000,
    );
    t.diagnostic(`recovered ${Date.now() - down} ms after the restart`);
    assert.equal(first.status, 200);
    await gw.waitForLogs();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call('acct', chat(`after ${i}`, { max_tokens: 25, ...(i % 2 ? { stream: true } : {}) })),
      ),
    );
    assert.deepEqual(
      results.map((x) => x.status),
      Array(10).fill(200),
    );
    const sw = await sweep('after');
    for (const [name, res] of Object.entries(sw)) assert.equal(res.status, 200, name);
    await gw.waitForLogs();
    const mine = [first, ...results, sw['acct']!, sw['strict']!].map(idOf);
    const rows = await bookedRows(r, mine);
    await gw.waitForLogs();
    // Redis came back empty (no persistence): everything its windows hold was booked after the restart,
    // and every ledger row it holds is from then too (rows of requests served during the outage that a
    // retry wrote late included): the window usage equals the ledger.
    const all = await ledgerRows(r, PREFIX);
    t.diagnostic(
      `ledger after the restart: ${all.length} rows, ${all.length - mine.length} not from this test's requests`,
    );
    assert.ok(rows.length >= mine.length);
    assert.equal(await counters(r), tokensOf(all), 'window usage equals the settled ledger rows');
    assert.deepEqual(await openReservations(r), { sum: 0, entries: 0 }, 'no reservation left open');
    assert.ok((await assertCacheEntriesWhole(r)) >= 1);
  });

  it('Redis slow (CLIENT PAUSE longer than the 1 s timeout): requests fail over within the timeout', async (t) => {
    const r = await rds.client();
    await r.call('CLIENT', 'PAUSE', '3000', 'ALL');
    const res = await sweep('paused');
    t.diagnostic(
      `during pause: ${Object.entries(res)
        .map(([k, v]) => `${k} ${v.status} in ${v.ms.toFixed(0)} ms`)
        .join(', ')}`,
    );
    assert.equal(res['acct']!.status, 200);
    assert.equal(res['strict']!.status, 503);
    assert.equal(res['router']!.status, 200);
    assert.equal(res['cache']!.status, 200);
    for (const v of Object.values(res))
      assert.ok(v.ms < 2900, `answered before the pause ended (${v.ms} ms)`);
    await r.call('CLIENT', 'UNPAUSE');
    await gw.waitForLogs();
    await until('strict accounting after the pause', async () => {
      return (await call('strict', chat('after pause', { max_tokens: 5 }))).status === 200;
    });
    await gw.waitForLogs();
    // The timed-out reserves ran on Redis once the pause ended; the release queued behind them drops them.
    assert.deepEqual(
      await openReservations(r),
      { sum: 0, entries: 0 },
      'no reservation held by a timed-out reserve',
    );
  });

  it('Redis full (maxmemory, noeviction): writes fail, plugins fail over, nothing half-written', async (t) => {
    const r = await rds.client();
    await gw.waitForLogs();
    const rows0 = (await ledgerRows(r, PREFIX)).length;
    const entries0 = await assertCacheEntriesWhole(r);
    await r.config('SET', 'maxmemory-policy', 'noeviction');
    await r.config('SET', 'maxmemory', '1');
    try {
      const res = await sweep('full');
      t.diagnostic(
        `with Redis full: ${Object.entries(res)
          .map(([k, v]) => `${k} ${v.status}`)
          .join(', ')}`,
      );
      assert.equal(res['acct']!.status, 200);
      assert.equal(res['strict']!.status, 503);
      assert.equal(res['router']!.status, 200);
      assert.equal(res['cache']!.status, 200);
      await gw.waitForLogs();
      assert.equal((await ledgerRows(r, PREFIX)).length, rows0, 'no ledger row could be written');
    } finally {
      await r.config('SET', 'maxmemory', '0');
    }
    assert.equal(await assertCacheEntriesWhole(r), entries0, 'no cache entry was added half-written');
    const again = await sweep('not full');
    for (const [name, v] of Object.entries(again)) assert.equal(v.status, 200, name);
    await gw.waitForLogs();
    assert.deepEqual(await openReservations(r), { sum: 0, entries: 0 });
  });

  it('Redis read-only (REPLICAOF an unreachable master): plugins fail over, then recover', async (t) => {
    const r = await rds.client();
    await gw.waitForLogs();
    const rows0 = (await ledgerRows(r, PREFIX)).length;
    await r.call('REPLICAOF', '127.0.0.1', '1');
    try {
      await until('Redis to refuse writes', async () => {
        try {
          await r.set(`${PREFIX}:probe`, '1');
          return false;
        } catch (e) {
          return /READONLY/.test((e as Error).message);
        }
      });
      const res = await sweep('readonly');
      t.diagnostic(
        `read-only Redis: ${Object.entries(res)
          .map(([k, v]) => `${k} ${v.status}`)
          .join(', ')}`,
      );
      assert.equal(res['acct']!.status, 200);
      assert.equal(res['strict']!.status, 503);
      assert.equal(res['router']!.status, 200);
      assert.equal(res['cache']!.status, 200);
      await gw.waitForLogs();
      assert.equal((await ledgerRows(r, PREFIX)).length, rows0);
    } finally {
      await r.call('REPLICAOF', 'NO', 'ONE');
    }
    const again = await sweep('writable');
    for (const [name, v] of Object.entries(again)) assert.equal(v.status, 200, name);
    await gw.waitForLogs();
    await bookedRows(r, [idOf(again['acct']!), idOf(again['strict']!)]);
    assert.equal((await ledgerRows(r, PREFIX)).length, rows0 + 2, 'nothing else was written');
    assert.deepEqual(await openReservations(r), { sum: 0, entries: 0 });
  });

  it('logged each outage kind at most once per 30 s interval over the whole run', (t) => {
    const intervals = Math.ceil((Date.now() - t0) / 30_000);
    const n = {
      acct: count(ACCT_DOWN),
      router: count(ROUTER_DOWN),
      cache: count(CACHE_DOWN),
      conn: count(CONN_ERR),
    };
    t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)} s, log lines: ${JSON.stringify(n)}`);
    for (const [k, v] of Object.entries(n))
      assert.ok(v <= intervals + 1, `${k}: ${v} lines > ${intervals + 1}`);
    // no secrets or prompts leaked into these lines
    for (const l of log()) assert.ok(!l.includes('alice-key'), 'no API key in the log');
  });
});
