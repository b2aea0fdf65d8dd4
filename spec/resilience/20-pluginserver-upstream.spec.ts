/**
 * Resilience on a real Kong: upstream faults (timeout, drop mid-stream, 429/5xx storms, malformed
 * JSON, SSE without usage, gzip) and client disconnects mid-stream, with the plugin server Kong starts
 * (dist/plugins), the Lua tap, a private Redis and the mock LLM. Billing must settle for every request
 * and the plugin server's event table must return to 0. The plugin server killed or unreachable under
 * traffic is spec/resilience/25-fail-closed.spec.ts.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKong, type KongHandle } from '../support/real-kong';
import { startMockLlm, type MockLlm } from '../support/mock-llm';
import { PrivateRedis, abortAfterFrames, chat, keysUnder, ledgerRows, post, until } from './helpers';

const PREFIX = `resil-ps-${process.pid}`;

interface Status {
  Events: number;
  Memory: { Rss: number; HeapUsed: number };
}

describe('resilience (real Kong): upstream faults and client disconnects', () => {
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
            read_timeout: 1500,
            retries: 0,
            routes: [
              {
                name: 'ai',
                paths: ['/ai'],
                strip_path: true,
                response_buffering: false,
                plugins: [
                  { name: 'key-auth' },
                  { name: 'llm-prompt-guard', config: {} },
                  { name: 'llm-pii-redaction', config: {} },
                  {
                    name: 'llm-token-accounting',
                    config: {
                      strategy: 'redis',
                      redis,
                      policies: [{ name: 'hourly', limits: [{ limit: 50_000_000, window_size: 3600 }] }],
                    },
                  },
                  { name: 'llm-response-tap' },
                ],
              },
            ],
          },
        ],
        consumers: [{ username: 'alice', keyauth_credentials: [{ key: 'alice-key' }] }],
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.stop();
    await rds?.stop();
  });

  const url = () => `${gw.proxyUrl}/ai/chat/completions`;
  const call = (body: unknown, headers: Record<string, string> = {}) =>
    post(url(), body, { apikey: 'alice-key', ...headers });
  const status = async () => (await gw.pluginServerStatus()) as Status;

  async function openReservations(): Promise<number> {
    const r = await rds.client();
    let sum = 0;
    for (const k of await keysUnder(r, PREFIX)) if (k.endsWith(':rs')) sum += Number((await r.get(k)) ?? 0);
    return sum;
  }
  async function lastRows(n: number) {
    await gw.waitForLogs();
    return (await ledgerRows(await rds.client(), PREFIX)).slice(-n);
  }

  it('upstream timeout → 504, booked as zero usage, reservation released', async () => {
    const r = await call(chat('slow one', { max_tokens: 10 }), { 'x-mock-fault': 'timeout' });
    assert.equal(r.status, 504);
    const [row] = await lastRows(1);
    assert.equal(row!['status'], '504');
    assert.equal(Number(row!['prompt_tokens']) + Number(row!['completion_tokens']), 0);
    assert.equal(await openReservations(), 0);
  });

  it('429 and 5xx storms pass through unchanged, cost nothing, leave no reservation', async (t) => {
    const codes = [429, 500, 502, 503];
    const res = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        call(chat(`storm ${i}`, { max_tokens: 10 }), {
          'x-mock-fault': `status=${codes[i % 4]};retry-after=1`,
        }),
      ),
    );
    assert.deepEqual(
      res.map((r) => r.status),
      Array.from({ length: 40 }, (_, i) => codes[i % 4]),
    );
    assert.equal(res[0]!.headers['retry-after'], '1', 'the provider Retry-After reaches the client');
    const rows = await lastRows(40);
    assert.ok(rows.every((r) => r['cost_usd'] === '0' && r['usage_source'] === 'none'));
    assert.equal(await openReservations(), 0);
    t.diagnostic(`40 failing upstream answers: all booked at 0 cost`);
  });

  it('malformed JSON, SSE without usage and gzip bodies are proxied and billed (provider or estimate)', async (t) => {
    const mal = await call(chat('malformed please', { max_tokens: 10 }), { 'x-mock-fault': 'malformed' });
    const noUsage = await call(chat('stream without usage', { stream: true, max_tokens: 20 }), {
      'x-mock-fault': 'no-usage',
    });
    const gz = await call(chat('gzip please', { max_tokens: 20 }), { 'x-mock-fault': 'gzip' });
    assert.equal(mal.status, 200);
    assert.equal(noUsage.status, 200);
    assert.ok(noUsage.body.includes('[DONE]'));
    assert.equal(gz.status, 200);
    assert.equal(gz.headers['content-encoding'], 'gzip', 'gzip reaches the client untouched');
    const rows = await lastRows(3);
    t.diagnostic(
      rows.map((r) => `${r['usage_source']} ${r['prompt_tokens']}+${r['completion_tokens']}`).join('; '),
    );
    assert.equal(rows[1]!['usage_source'], 'estimate');
    assert.ok(Number(rows[1]!['completion_tokens']) > 0);
    for (const r of rows) assert.ok(Number(r['prompt_tokens']) > 0, 'prompt billed');
    assert.equal(await openReservations(), 0);
  });

  it('upstream drops the connection mid-stream: client sees a truncated stream, billing settles', async () => {
    const r = await call(chat('drop me', { stream: true, max_tokens: 60 }), { 'x-mock-fault': 'drop=3' });
    assert.ok(!r.body.includes('[DONE]'), 'the stream is cut');
    const [row] = await lastRows(1);
    assert.equal(row!['stream'], 'true');
    assert.ok(Number(row!['prompt_tokens']) > 0);
    assert.equal(await openReservations(), 0);
  });

  it('client disconnects mid-stream: ledger shows aborted=true with an estimate', async (t) => {
    const rows0 = (await ledgerRows(await rds.client(), PREFIX)).length;
    const seen = await abortAfterFrames(
      url(),
      chat('a long story please', { stream: true, max_tokens: 200 }),
      { apikey: 'alice-key', 'x-mock-ttft-ms': '50', 'x-mock-tokens-per-s': '40' },
      3,
    );
    const rows = await until('the aborted request to be booked', async () => {
      await gw.waitForLogs();
      const all = await ledgerRows(await rds.client(), PREFIX);
      return all.length > rows0 ? all : undefined;
    });
    const row = rows.at(-1)!;
    t.diagnostic(
      `aborted after ${seen} frames: aborted=${row['aborted']} source=${row['usage_source']} completion=${row['completion_tokens']}`,
    );
    assert.equal(row['aborted'], 'true');
    assert.equal(row['usage_source'], 'estimate');
    assert.ok(Number(row['completion_tokens']) > 0 && Number(row['completion_tokens']) < 200);
    assert.equal(await openReservations(), 0);
  });

  it('the plugin server event table returns to its baseline', async () => {
    await gw.waitForLogs();
    const s = await until('Events to drain', async () => {
      const st = await status();
      return st.Events === 0 ? st : undefined;
    });
    assert.equal(s.Events, 0);
  });
});
