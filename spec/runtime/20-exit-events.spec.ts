/**
 * On a real Kong: every request our plugins answer with kong.response.exit (a guard block, a cache
 * hit) leaves no event behind in the plugin server. Kong never steps such an event again, so the
 * patched server frees it when it hands Kong the exit (patches/kong-pdk+0.6.0.patch).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { keepAliveAgent, postJson } from '../support/http';
import { startKong, type KongHandle } from '../support/real-kong';
import { startMockLlm, type MockLlm } from '../support/mock-llm';

const N = Number(process.env['EXIT_EVENTS_N'] ?? 10_000);

describe('runtime (real Kong): exits free their plugin-server events', () => {
  let kong: KongHandle;
  let mock: MockLlm;
  const agent = keepAliveAgent(8);

  before(async () => {
    mock = await startMockLlm();
    kong = await startKong({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'llm',
            url: `${mock.url}/v1`,
            routes: [
              {
                name: 'guarded',
                paths: ['/guarded/v1'],
                strip_path: true,
                plugins: [{ name: 'llm-prompt-guard', config: { deny_patterns: ['forbidden'] } }],
              },
              {
                name: 'cached',
                paths: ['/cached/v1'],
                strip_path: true,
                plugins: [
                  { name: 'key-auth' },
                  { name: 'llm-semantic-cache', config: { vectordb: { strategy: 'memory' } } },
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
    agent.destroy();
    await kong?.stop();
    await mock?.stop();
  });

  async function post(path: string, content: string): Promise<{ status: number; cache?: string }> {
    const r = await postJson(
      `${kong.proxyUrl}${path}/chat/completions`,
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content }] },
      { apikey: 'alice-key' },
      agent,
    );
    const cache = r.headers['x-cache-status'];
    return { status: r.status, cache: typeof cache === 'string' ? cache : undefined };
  }

  async function burst(n: number, one: (i: number) => Promise<void>, workers = 8): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (next < n) await one(next++);
      }),
    );
  }

  it(`${N} guard blocks and ${N} cache hits leave the event table at 0`, async (t) => {
    const before = await kong.pluginServerStatus();
    await burst(N, async () => {
      const r = await post('/guarded/v1', 'this is forbidden text');
      assert.equal(r.status, 400);
    });
    const fill = await post('/cached/v1', 'What is the capital of France?');
    assert.equal(fill.status, 200);
    await kong.waitForLogs(); // the fill is stored by the cache's log phase
    await burst(N, async () => {
      const r = await post('/cached/v1', 'What is the capital of France?');
      assert.equal(r.status, 200);
      assert.equal(r.cache, 'Hit');
    });
    await kong.waitForLogs();
    const after = await kong.pluginServerStatus();
    t.diagnostic(
      `events before=${before.Events} after=${after.Events} exited=${(after as { EventsExited?: number }).EventsExited} ` +
        `swept=${after.EventsSwept} rpc=${JSON.stringify(after.Rpc)}`,
    );
    assert.equal(after.Events, 0, 'no event left behind');
    assert.ok(
      ((after as { EventsExited?: number }).EventsExited ?? 0) >= 2 * N,
      'each exit was freed at once',
    );
    assert.equal(mock.requests.length, 1, 'only the cache fill reached the upstream');
  });
});
