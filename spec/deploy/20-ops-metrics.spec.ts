/**
 * Operations API, metrics endpoint and alert webhook end to end on a real Kong 3.9: Kong starts the
 * plugin server from the shipped settings (kong/pluginserver.conf, dist/plugins) with LLM_OPS_ADDR /
 * LLM_METRICS_ADDR / the alert webhook in its environment; real Redis, the mock LLM, the Lua tap on
 * Kong's Lua path and the official openai SDK.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type Redis from 'ioredis';
import { startKong, type KongHandle } from '../support/real-kong';
import { startMockLlm, type MockLlm } from '../support/mock-llm';
import { connectTestRedis, flushPrefix, redisTestConfig } from '../helpers/redis';
import { fetchWhenUp, freePort, parseProm, startReceiver, sumOf, type Receiver } from './helpers';

const TOKEN = 'ops-token-0123456789abcdef';

describe('deploy (real Kong): operations API, metrics and alerts', () => {
  let gw: KongHandle;
  let mock: MockLlm;
  let redis: Redis;
  let hook: Receiver;
  let opsUrl: string;
  let metricsUrl: string;
  const redisCfg = redisTestConfig('ops');
  const prefix = redisCfg.key_prefix;
  const LIMIT = 400;

  const config = () => ({
    _format_version: '3.0',
    services: [
      {
        name: 'llm',
        url: 'http://127.0.0.1:9/v1',
        routes: [
          {
            name: 'ai-chat',
            paths: ['/ai/v1'],
            response_buffering: false,
            plugins: [
              { name: 'key-auth' },
              {
                name: 'llm-token-accounting',
                config: {
                  strategy: 'redis',
                  redis: redisCfg,
                  policies: [{ name: 'hourly', limits: [{ limit: LIMIT, window_size: 3600 }] }],
                },
              },
              {
                name: 'llm-model-router',
                config: {
                  strategy: 'redis',
                  redis: redisCfg,
                  targets: [
                    {
                      name: 'main',
                      model: {
                        name: 'gpt-4o-mini',
                        provider: 'openai',
                        options: { upstream_url: `${mock.url}/v1` },
                      },
                      priority: 0,
                    },
                    {
                      name: 'spare',
                      model: {
                        name: 'gpt-4o-mini',
                        provider: 'openai',
                        options: { upstream_url: `${mock.url}/spare/v1` },
                      },
                      priority: 1,
                    },
                  ],
                  balancer: { max_fails: 1, fail_window: 60, fail_timeout: 300 },
                },
              },
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
  });

  const client = (key = 'alice-key') =>
    new OpenAI({
      apiKey: 'unused',
      baseURL: `${gw.proxyUrl}/ai/v1`,
      defaultHeaders: { apikey: key },
      maxRetries: 0,
    });
  const ops = (path: string, init: RequestInit = {}) =>
    fetchWhenUp(`${opsUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        ...(init.headers ?? {}),
      },
    });
  const scrape = async () => parseProm(await (await fetchWhenUp(`${metricsUrl}/metrics`)).text());

  const usageSeen = { prompt: 0, completion: 0, requests: 0 };
  async function chat(key = 'alice-key', content = 'Count to three.'): Promise<OpenAI.ChatCompletion> {
    const res = await client(key).chat.completions.create({
      model: 'gpt-4o-mini',
      max_tokens: 20,
      messages: [{ role: 'user', content }],
    });
    await gw.waitForLogs();
    usageSeen.prompt += res.usage!.prompt_tokens;
    usageSeen.completion += res.usage!.completion_tokens;
    usageSeen.requests++;
    return res;
  }

  before(async () => {
    redis = await connectTestRedis(redisCfg);
    mock = await startMockLlm();
    hook = await startReceiver();
    const [opsPort, metricsPort] = [await freePort(), await freePort()];
    opsUrl = `http://127.0.0.1:${opsPort}`;
    metricsUrl = `http://127.0.0.1:${metricsPort}`;
    gw = await startKong({
      env: {
        LLM_OPS_ADDR: `127.0.0.1:${opsPort}`,
        LLM_OPS_TOKEN: TOKEN,
        LLM_METRICS_ADDR: `127.0.0.1:${metricsPort}`,
        LLM_ALERT_WEBHOOK_URL: hook.url,
        LLM_ALERT_WEBHOOK_AUTH: 'Bearer hook-secret',
        LLM_ALERT_INTERVAL_MS: '100',
        LLM_ALERT_TOKENS_PER_MIN: '1000000000',
      },
    });
    await gw.loadConfig(config());
  });
  after(async () => {
    await gw?.stop();
    await mock?.stop();
    await hook?.stop();
    if (redis) {
      await flushPrefix(redis, prefix);
      redis.disconnect();
    }
  });

  it('answers 401 without the bearer token and lists its routes with it', async () => {
    await chat(); // the first plugin instance starts the listeners
    const bad = await fetchWhenUp(`${opsUrl}/ops/router/targets`);
    assert.equal(bad.status, 401);
    const wrong = await fetch(`${opsUrl}/ops`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    const idx = (await (await ops('/ops')).json()) as { plugins: string[]; routes: { path: string }[] };
    assert.ok(idx.plugins.includes('llm-token-accounting') && idx.plugins.includes('llm-model-router'));
    assert.ok(idx.routes.some((r) => r.path === '/ops/budgets'));
    assert.equal((await ops('/ops/nowhere')).status, 404);
  });

  it('shows a payer budget equal to the booked usage, and resets it', async () => {
    const bobUse = (await chat('bob-key')).usage!.total_tokens;
    const res = await ops('/ops/budgets?payer=' + encodeURIComponent('consumer=bob'));
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      budgets: {
        policy: string;
        used: number;
        limit: number;
        remaining: number;
        current: boolean;
        window: string;
      }[];
    };
    assert.equal(body.budgets.length, 1);
    const b = body.budgets[0]!;
    assert.deepEqual([b.policy, b.window, b.current, b.limit], ['hourly', '3600', true, LIMIT]);
    assert.equal(b.used, bobUse);
    assert.equal(b.remaining, LIMIT - bobUse);

    const parts = (await (await ops('/ops/budgets/partitions')).json()) as { partitions: string[] };
    assert.deepEqual(parts.partitions, ['consumer=alice', 'consumer=bob']);

    const reset = await ops('/ops/budgets/reset', {
      method: 'POST',
      body: JSON.stringify({ payer: 'consumer=bob' }),
    });
    assert.equal(reset.status, 200);
    assert.equal(((await reset.json()) as { windows: number }).windows, 1);
    const after = (await (await ops('/ops/budgets?payer=consumer%3Dbob')).json()) as { budgets: unknown[] };
    assert.deepEqual(after.budgets, []);
    // alice is untouched
    const alice = (await (await ops('/ops/budgets?payer=consumer%3Dalice')).json()) as {
      budgets: { used: number }[];
    };
    assert.ok(alice.budgets[0]!.used > 0);
    assert.equal((await ops('/ops/budgets')).status, 400);
  });

  it('shows router target health: an ejected target, then readmitted', async () => {
    let t = (await (await ops('/ops/router/targets')).json()) as {
      targets: { name: string; healthy: boolean; state: string; e2e_ms: number | null }[];
    };
    assert.deepEqual(
      t.targets.map((x) => [x.name, x.state]),
      [
        ['main', 'healthy'],
        ['spare', 'healthy'],
      ],
    );
    assert.ok(typeof t.targets[0]!.e2e_ms === 'number', 'latency of the served target is recorded');
    mock.setFault({ kind: 'status', status: 503 }, { times: 1 });
    await assert.rejects(
      client().chat.completions.create({
        model: 'gpt-4o-mini',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      }),
      (err: unknown) => err instanceof OpenAI.InternalServerError && err.status === 503,
    );
    await gw.waitForLogs();
    t = (await (await ops('/ops/router/targets')).json()) as typeof t;
    const main = t.targets.find((x) => x.name === 'main')!;
    assert.equal(main.state, 'ejected');
    assert.equal(main.healthy, false);
    const reset = await ops('/ops/router/targets/main/reset', { method: 'POST' });
    assert.equal(reset.status, 200);
    t = (await (await ops('/ops/router/targets')).json()) as typeof t;
    assert.equal(t.targets.find((x) => x.name === 'main')!.state, 'healthy');
    assert.equal((await ops('/ops/router/targets/nope/reset', { method: 'POST' })).status, 404);
    assert.equal((await ops('/ops/router/targets', { method: 'DELETE' })).status, 405);
  });

  it('exposes the series with the values of the traffic sent', async () => {
    await chat('alice-key', 'Name three colours.');
    const s = await scrape();
    const route = { route: 'ai-chat', model: 'gpt-4o-mini' };
    assert.equal(
      sumOf(s, 'ai_llm_tokens_total', { ...route, token_type: 'prompt_tokens' }),
      usageSeen.prompt,
    );
    assert.equal(
      sumOf(s, 'ai_llm_tokens_total', { ...route, token_type: 'completion_tokens' }),
      usageSeen.completion,
    );
    // the 503 is booked as a request with zero tokens
    assert.equal(
      sumOf(s, 'ai_llm_requests_total', { ...route, cache_status: 'None', stream: 'false' }),
      usageSeen.requests + 1,
    );
    assert.ok(sumOf(s, 'ai_llm_cost_usd_total', route) > 0);
    assert.equal(
      sumOf(s, 'ai_llm_target_healthy', { target: 'main' }),
      0,
      'the ejection is visible (readmission happens on the next success)',
    );
    assert.equal(
      sumOf(s, 'ai_llm_provider_latency_ms_count', { target: 'main', kind: 'e2e' }),
      usageSeen.requests,
    );
    const remaining = s.find((x) => x.name === 'ai_llm_budget_remaining' && x.labels['policy'] === 'hourly');
    assert.ok(remaining && remaining.value >= 0 && remaining.value < LIMIT);
  });

  it('fires the budget webhook at 80% and when the window is exhausted', async () => {
    const ratio = async () =>
      (
        (await (await ops('/ops/budgets?payer=consumer%3Dalice')).json()) as {
          budgets: { used_ratio: number }[];
        }
      ).budgets[0]!.used_ratio;
    const isAlice = (r: { body: unknown }) =>
      (r.body as { labels?: { partition?: string } }).labels?.partition === 'consumer=alice';
    const at = (t: number) => (r: { body: unknown }) =>
      isAlice(r) && (r.body as { threshold?: number }).threshold === t;
    for (let i = 0; i < 40 && (await ratio()) < 0.8; i++)
      await chat('alice-key', `Tell me fact number ${i}.`);
    assert.ok((await ratio()) >= 0.8);
    const warn = await hook.next(at(0.8));
    assert.equal(warn.headers.authorization, 'Bearer hook-secret');
    const w = warn.body as {
      type: string;
      severity: string;
      labels: Record<string, string>;
      summary: string;
    };
    assert.equal(w.type, 'budget_threshold');
    assert.equal(w.severity, 'warning');
    assert.equal(w.labels['policy'], 'hourly');
    assert.equal(hook.received.filter(at(1)).length, 0, 'not exhausted yet');
    // spend until a request is refused
    let refused = false;
    for (let i = 0; i < 40 && !refused; i++) {
      try {
        await chat('alice-key', `Tell me more, part ${i}.`);
      } catch (err) {
        if (err instanceof OpenAI.RateLimitError) refused = true;
        else throw err;
      }
    }
    assert.ok(refused, 'the budget ran out');
    const crit = await hook.next(at(1));
    assert.equal((crit.body as { severity: string }).severity, 'critical');
    assert.equal(hook.received.filter(at(0.8)).length, 1, 'once per window and threshold');
  });
});
