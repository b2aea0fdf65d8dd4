/**
 * Resilience: the plugin server killed mid-traffic (the emulator respawns it like Kong and recovers
 * from "no plugin instance"), upstream faults (timeout, drop mid-stream, 429/5xx storms, malformed
 * JSON, SSE without usage, gzip) and client disconnects mid-stream, through the test gateway with the
 * real plugin server (dist/plugins), the Lua tap, a private Redis and the mock LLM. Billing must
 * settle for every request and the plugin server's event table must return to its baseline.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startGateway, REPO_ROOT, type GatewayHandle } from '../support/kong';
import { startMockLlm, type MockLlm } from '../support/mock-llm';
import {
  PrivateRedis,
  abortAfterFrames,
  chat,
  keysUnder,
  ledgerRows,
  linesWith,
  post,
  until,
} from './helpers';

const PREFIX = `resil-ps-${process.pid}`;
const EMAIL = 'gap.tester@example.org';

interface Status {
  Events: number;
  Memory: { Rss: number; HeapUsed: number };
}

describe('resilience: plugin server killed, upstream faults, client disconnects', () => {
  let gw: GatewayHandle;
  let mock: MockLlm;
  let rds: PrivateRedis;

  before(async () => {
    rds = await PrivateRedis.start();
    mock = await startMockLlm();
    const redis = { host: '127.0.0.1', port: rds.port, key_prefix: PREFIX };
    gw = await startGateway({
      pluginServerConf: join(REPO_ROOT, 'kong/pluginserver.conf'),
      pluginsDir: join(REPO_ROOT, 'dist/plugins'),
      luaPlugins: ['llm-response-tap'],
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
  const upstreamSaw = (needle: string) =>
    mock.requests.filter((r) => r.rawBody.toString('utf8').includes(needle)).length;

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

  it('plugin server SIGKILLed mid-traffic: Kong-style respawn, fail-open gap measured, then full recovery', async (t) => {
    const warm = await call(chat(`mail me at ${EMAIL}`));
    assert.equal(warm.status, 200);
    assert.equal(upstreamSaw(EMAIL), 0, 'redacted while the plugin server runs');
    const pidBefore = gw.gateway.pluginServers?.processInfo()[0]?.pid;
    const results: { status: number; leaked: boolean }[] = [];
    let stop = false;
    const traffic = (async () => {
      for (let i = 0; !stop && i < 400; i++) {
        const marker = `gap${i}.user@example.org`;
        const r = await call(chat(`contact ${marker} please`, { max_tokens: 10 }));
        results.push({ status: r.status, leaked: upstreamSaw(marker) > 0 });
      }
    })();
    await until('traffic to start', () => results.length >= 3);
    await gw.killPluginServer('SIGKILL');
    await until(
      'the respawned plugin server to answer GetStatus',
      async () => {
        try {
          await status();
          return gw.gateway.pluginServers?.processInfo()[0]?.pid !== pidBefore;
        } catch {
          return false;
        }
      },
      20_000,
    );
    // a few requests after the respawn exercise "no plugin instance" recovery
    const n = results.length;
    await until('requests after the respawn', () => results.length >= n + 5, 20_000);
    stop = true;
    await traffic;
    const leaked = results.filter((r) => r.leaked).length;
    const failed = results.filter((r) => r.status !== 200).length;
    const log = gw.pluginServerLog();
    t.diagnostic(
      `${results.length} requests across the kill: ${failed} non-200, ${leaked} reached the upstream UNREDACTED (fail-open gap); ` +
        `log: ${linesWith(log, 'no plugin instance').length} "no plugin instance" resets, ${linesWith(log, 'call failed').length} failed calls`,
    );
    assert.equal(failed, 0, 'Kong fails open: no request fails because the plugin server is gone');
    // Known gap (kong-runtime.md §2.5): instance ids restart at 0 in the respawned server, so a cached
    // id of one plugin can name another plugin's new instance; Kong then runs the wrong plugin and never
    // sees "no plugin instance". Reported, not asserted: which plugin collides depends on start order.
    const after = await call(chat(`after the gap ${EMAIL}`));
    assert.equal(after.status, 200);
    t.diagnostic(
      `after the respawn PII redaction is ${upstreamSaw(EMAIL) === 0 ? 'active' : 'BYPASSED (instance id collision)'}`,
    );
    await gw.waitForLogs();
    const rows = await ledgerRows(await rds.client(), PREFIX);
    assert.ok(rows.at(-1)!['prompt_tokens'] !== undefined, 'accounting books again after the respawn');
    assert.ok(linesWith(log, 'lost the instance').length >= 1, 'instances were re-created after the respawn');
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
