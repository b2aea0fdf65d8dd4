/**
 * On a real Kong: read once, write once (issue #17). Each JS plugin phase costs the HandleEvent round
 * trip plus at most two PDK round trips (one read, one write: kong/plugins/llm-sentinel/bridge.lua);
 * on 3.9 an access phase is one round trip (fast.lua). Counted by the patched plugin server
 * (GetStatus Rpc), reported per route so regressions show.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { keepAliveAgent, postJson } from '../support/http';
import { startKong, type KongHandle } from '../support/real-kong';
import { startMockLlm, type MockLlm } from '../support/mock-llm';

const N = 20;

describe('runtime (real Kong): round trips per plugin phase', () => {
  let kong: KongHandle;
  let mock: MockLlm;
  const agent = keepAliveAgent(4);
  const memory = { strategy: 'memory' };
  const plugins: Record<string, Record<string, unknown>> = {
    'llm-prompt-guard': {},
    'llm-pii-redaction': {},
    'llm-token-accounting': {
      ...memory,
      policies: [{ name: 'big', limits: [{ limit: 1e12, window_size: 3600 }] }],
    },
    'llm-semantic-cache': { vectordb: memory },
    'llm-model-router': {
      ...memory,
      targets: [{ name: 'mock', model: { name: 'gpt-4o-mini', options: { upstream_url: 'MOCK' } } }],
    },
  };
  const routes: { name: string; plugins: string[] }[] = [
    ...Object.keys(plugins).map((p) => ({ name: p, plugins: [p] })),
    { name: 'chain', plugins: Object.keys(plugins) },
  ];

  before(async () => {
    mock = await startMockLlm();
    const conf = (p: string) => JSON.parse(JSON.stringify(plugins[p]).replace('MOCK', `${mock.url}/v1`));
    kong = await startKong({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'llm',
            url: `${mock.url}/v1`,
            routes: routes.map((r) => ({
              name: r.name,
              paths: [`/${r.name}/v1`],
              strip_path: true,
              plugins: [
                { name: 'key-auth' },
                ...r.plugins.map((p) => ({ name: p, config: conf(p) })),
                { name: 'llm-response-tap' },
                { name: 'llm-sentinel' },
              ],
            })),
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

  let seq = 0;
  async function send(route: string): Promise<void> {
    const r = await postJson(
      `${kong.proxyUrl}/${route}/v1/chat/completions`,
      {
        model: 'gpt-4o-mini',
        max_tokens: 16,
        messages: [{ role: 'user', content: `Round trip question ${seq++}, reach me at ana@example.com` }],
      },
      { apikey: 'alice-key' },
      agent,
    );
    assert.equal(r.status, 200, `${route}: ${JSON.stringify(r.body)}`);
  }

  it('every plugin phase takes at most 3 round trips (HandleEvent, one read, one write)', async (t) => {
    const rows: string[] = [];
    for (const r of routes) {
      for (let i = 0; i < 3; i++) await send(r.name); // instances created, caches warm
      await kong.waitForLogs();
      const s0 = (await kong.pluginServerStatus()).Rpc ?? {};
      for (let i = 0; i < N; i++) await send(r.name);
      await kong.waitForLogs();
      const s1 = (await kong.pluginServerStatus()).Rpc ?? {};
      const events = ((s1['HandleEvent'] ?? 0) - (s0['HandleEvent'] ?? 0)) / N;
      const steps = ((s1['Step'] ?? 0) - (s0['Step'] ?? 0)) / N;
      const perPhase = (events + steps) / events;
      rows.push(`${r.name}: ${events} phases, ${events + steps} round trips per request`);
      // one access phase per plugin, plus a log phase for accounting, cache and router
      const expectedPhases = r.plugins.length + r.plugins.filter((p) => !/guard|pii/.test(p)).length;
      assert.equal(events, expectedPhases, `${r.name}: phases per request`);
      assert.ok(perPhase <= 3, `${r.name}: ${perPhase} round trips per phase`);
      if (kong.line === '3.9') {
        // fast path: an access phase is one round trip (facts sent with the event, effects returned
        // as its last message); a log phase two (HandleEvent, the log facts)
        const logPhases = expectedPhases - r.plugins.length;
        assert.equal(events + steps, r.plugins.length + 2 * logPhases, `${r.name}: round trips on 3.9`);
      }
    }
    t.diagnostic(rows.join('; '));
  });
});
