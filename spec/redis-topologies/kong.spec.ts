/**
 * The same plugin config on a real Kong with the three Redis topologies, changing only the redis block:
 * standalone, Sentinel (1 master + 1 replica + 3 sentinels) and Cluster (3 masters + 3 replicas).
 * Each must enforce a token budget (429 BUDGET_EXCEEDED with X-AI-RateLimit-* after the limit) and serve
 * a semantic-cache hit filled by another request — state that only lives in that Redis.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKong, type KongHandle } from '../support/real-kong';
import { startMockLlm, type MockLlm } from '../support/mock-llm';
import { startClusterTopology, startSentinelTopology } from '../support/redis-topology';
import { chat, post } from '../resilience/helpers';

const LIMIT = 300;

describe('redis topologies (real Kong): one config, three topologies', () => {
  let kong: KongHandle;
  let mock: MockLlm;
  const stops: Array<() => Promise<void>> = [];

  function config(redis: Record<string, unknown>) {
    return {
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
                    policies: [{ name: 'daily', limits: [{ limit: LIMIT, window_size: 3600 }] }],
                  },
                },
                { name: 'llm-semantic-cache', config: { vectordb: { strategy: 'redis', redis } } },
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

  before(async () => {
    mock = await startMockLlm();
    kong = await startKong();
  });
  after(async () => {
    await kong?.stop();
    await mock?.stop();
    for (const s of stops) await s();
  });

  async function exercise(label: string, redis: Record<string, unknown>): Promise<void> {
    await kong.loadConfig(config(redis));
    const url = `${kong.proxyUrl}/ai/chat/completions`;
    // cache: bob's answer is filled, then served from this topology
    // an answer cut by max_tokens (finish_reason length) is never cached: leave room for the whole answer
    const q = chat(`What is the tallest mountain on ${label}?`, { max_tokens: 100 });
    const first = await post(url, q, { apikey: 'bob-key' });
    assert.equal(first.status, 200, first.body);
    assert.equal(first.headers['x-cache-status'], 'Miss');
    await kong.waitForLogs();
    const again = await post(url, q, { apikey: 'bob-key' });
    assert.equal(again.headers['x-cache-status'], 'Hit', `${label}: cache hit`);
    // budget: alice spends until the next request is refused
    let refused: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const r = await post(url, chat(`${label} question ${i}`, { max_tokens: 20 }), { apikey: 'alice-key' });
      await kong.waitForLogs();
      if (r.status === 429) refused = r;
      else assert.equal(r.status, 200, r.body);
    }
    assert.ok(refused, `${label}: the budget was enforced`);
    assert.equal(refused.headers['x-ai-ratelimit-limit-3600-daily'], String(LIMIT));
    assert.equal((JSON.parse(refused.body) as { error: { code: string } }).error.code, 'BUDGET_EXCEEDED');
  }

  it('standalone Redis', async () => {
    const u = new URL(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
    await exercise('standalone', {
      host: u.hostname,
      port: Number(u.port || 6379),
      key_prefix: `topo-s-${process.pid}`,
    });
  });

  it('Redis Sentinel', async () => {
    const topo = await startSentinelTopology();
    stops.push(() => topo.stop());
    await exercise('sentinel', {
      sentinel_master: topo.masterName,
      sentinel_nodes: topo.sentinelNodes,
      key_prefix: `topo-t-${process.pid}`,
    });
  });

  it('Redis Cluster', async () => {
    const topo = await startClusterTopology();
    stops.push(() => topo.stop());
    await exercise('cluster', { cluster_nodes: topo.seeds, key_prefix: `topo-c-${process.pid}` });
  });
});
