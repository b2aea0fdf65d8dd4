/**
 * Abuse: llm-token-accounting with `identifier: consumer` behind key-auth, on a real Kong 3.9.3
 * (spec/support/real-kong.ts: DB-less, plugin server started by Kong from dist/plugins, the Lua
 * llm-response-tap on Kong's Lua path), a private Redis and the mock LLM.
 *   - spoofed payer headers never change the payer (ledger `payer`) or the budget partition;
 *   - negative / non-integer / huge `max_tokens` → 400 BODY_SHAPE, nothing reserved, nothing proxied;
 *   - 100 parallel requests of one consumer never exceed the limit.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKong, type KongHandle } from '../support/real-kong';
import { startMockLlm, type MockLlm } from '../support/mock-llm';
import { PrivateRedis, chat, keysUnder, ledgerRows, post } from './helpers';

const PREFIX = `resil-budget-${process.pid}`;
const LIMIT = 1_500;

describe('abuse: token budgets (payer spoofing, max_tokens, parallel burst)', () => {
  let gw: KongHandle;
  let mock: MockLlm;
  let rds: PrivateRedis;

  before(async () => {
    rds = await PrivateRedis.start();
    mock = await startMockLlm();
    const redis = { host: '127.0.0.1', port: rds.port, key_prefix: PREFIX };
    gw = await startKong({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'llm',
            url: `${mock.url}/v1`,
            routes: [
              {
                name: 'ai',
                paths: ['/ai'],
                strip_path: true,
                response_buffering: false,
                plugins: [
                  { name: 'key-auth' },
                  {
                    name: 'llm-token-accounting',
                    config: {
                      strategy: 'redis',
                      redis,
                      identifier: ['consumer'],
                      policies: [
                        // partitioned by the payer (identifier)
                        { name: 'per-payer', limits: [{ limit: LIMIT, window_size: 3600 }] },
                        // partitioned by the consumer's username (a match key a client could mimic)
                        {
                          name: 'by-username',
                          match: [{ type: 'consumer', key: 'username', partition_by: true }],
                          limits: [{ limit: 10 * LIMIT, window_size: 3600 }],
                        },
                      ],
                    },
                  },
                  { name: 'llm-response-tap' },
                ],
              },
            ],
          },
        ],
        consumers: [
          { username: 'alice', custom_id: 'alice-cid', keyauth_credentials: [{ key: 'alice-key' }] },
          { username: 'bob', custom_id: 'bob-cid', keyauth_credentials: [{ key: 'bob-key' }] },
          { username: 'carol', keyauth_credentials: [{ key: 'carol-key' }] },
        ],
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.stop();
    await rds?.stop();
  });

  const url = () => `${gw.proxyUrl}/ai/chat/completions`;
  const upstream = () => mock.requests.filter((r) => r.path.endsWith('/chat/completions')).length;
  const budgetKeys = async () =>
    (await keysUnder(await rds.client(), PREFIX)).filter((k) => k.includes(':budget:'));

  async function openReservations(): Promise<number> {
    const r = await rds.client();
    let sum = 0;
    for (const k of await keysUnder(r, PREFIX)) if (k.endsWith(':rs')) sum += Number((await r.get(k)) ?? 0);
    return sum;
  }

  it('spoofed payer headers never change the payer or the partition', async (t) => {
    const plain = await post(url(), chat('plain', { max_tokens: 5 }), { apikey: 'alice-key' });
    assert.equal(plain.status, 200);
    await gw.waitForLogs();
    const keysBefore = await budgetKeys();
    const spoofs: Record<string, string>[] = [
      { 'X-Consumer-Username': 'bob' },
      { 'X-Consumer-ID': 'bob' },
      { 'X-Consumer-Custom-ID': 'bob-cid' },
      { 'X-Credential-Identifier': 'bob-key' },
      { 'X-Anonymous-Consumer': 'true' },
      { username: 'bob' },
      { consumer: 'bob' },
      { 'X-Consumer-Groups': 'admins' },
      { 'X-Forwarded-For': '10.9.9.9' },
    ];
    for (const h of spoofs) {
      const r = await post(url(), chat(`spoof ${Object.keys(h)[0]}`, { max_tokens: 5 }), {
        apikey: 'alice-key',
        ...h,
      });
      assert.equal(r.status, 200, JSON.stringify(h));
    }
    await gw.waitForLogs();
    const rows = await ledgerRows(await rds.client(), PREFIX);
    assert.equal(rows.length, 1 + spoofs.length);
    for (const row of rows) assert.equal(row['payer'], 'consumer=alice', `payer of ${JSON.stringify(row)}`);
    assert.deepEqual(await budgetKeys(), keysBefore, 'no new budget partition was created');
    assert.ok(!(await budgetKeys()).some((k) => k.includes('bob')), "no key names bob's partition");
    t.diagnostic(
      `budget keys: ${keysBefore.length}, ledger payers: ${new Set(rows.map((r) => r['payer'])).size}`,
    );
  });

  it('negative / non-integer / huge / wrong-type max_tokens → 400 BODY_SHAPE, no reservation, not proxied', async () => {
    const before = upstream();
    const keysBefore = await budgetKeys();
    const r = await rds.client();
    const countersBefore = await Promise.all(keysBefore.map((k) => r.get(k).catch(() => 'non-string')));
    const bad: Record<string, unknown>[] = [
      { max_tokens: -1 },
      { max_tokens: -1e12 },
      { max_tokens: 1.5 },
      { max_tokens: 1e12 },
      { max_tokens: '100' },
      { max_tokens: true },
      { max_completion_tokens: -5 },
      { max_completion_tokens: 1e12 },
      { max_tokens: 1e308 },
    ];
    for (const extra of bad) {
      const res = await post(url(), chat('budget probe', extra), { apikey: 'bob-key' });
      assert.equal(res.status, 400, `${JSON.stringify(extra)}: ${res.body}`);
      const code = (JSON.parse(res.body) as { error?: { code?: string } }).error?.code;
      assert.equal(code, 'BODY_SHAPE', JSON.stringify(extra));
    }
    await gw.waitForLogs();
    assert.equal(upstream(), before, 'nothing proxied');
    assert.equal(await openReservations(), 0, 'no open reservation');
    assert.deepEqual(await budgetKeys(), keysBefore, 'no budget key created');
    const countersAfter = await Promise.all(keysBefore.map((k) => r.get(k).catch(() => 'non-string')));
    assert.deepEqual(countersAfter, countersBefore, 'no counter moved');
  });

  it('100 parallel requests of one consumer never exceed the limit', async (t) => {
    const res = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        post(url(), chat(`burst ${i}`, { max_tokens: 40 }), { apikey: 'carol-key' }, 60_000),
      ),
    );
    await gw.waitForLogs();
    const ok = res.filter((r) => r.status === 200).length;
    const limited = res.filter((r) => r.status === 429).length;
    assert.equal(ok + limited, 100, `statuses: ${[...new Set(res.map((r) => r.status))].join(',')}`);
    assert.ok(ok > 0 && limited > 0, `ok ${ok}, limited ${limited}`);
    for (const r of res.filter((x) => x.status === 429))
      assert.equal((JSON.parse(r.body) as { error?: { code?: string } }).error?.code, 'BUDGET_EXCEEDED');
    const rows = (await ledgerRows(await rds.client(), PREFIX)).filter(
      (r) => r['payer'] === 'consumer=carol',
    );
    const used = rows
      .filter((r) => r['status'] === '200')
      .reduce((s, r) => s + Number(r['prompt_tokens']) + Number(r['completion_tokens']), 0);
    assert.ok(used <= LIMIT, `carol used ${used} > limit ${LIMIT}`);
    assert.equal(await openReservations(), 0);
    t.diagnostic(`200: ${ok}, 429: ${limited}, tokens used ${used} / ${LIMIT}`);
  });
});
