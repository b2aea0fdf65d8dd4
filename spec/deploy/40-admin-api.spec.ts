/**
 * Managing the plugins through Kong's Admin API (test gateway, real plugin server):
 *  - database mode (`database: 'memory'`): POST /plugins creates llm-token-accounting on a route,
 *    PATCH /plugins/{id} changes its budget, and the next requests see the effect;
 *  - DB-less: POST /config replaces the declarative config (entity writes answer 405).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import OpenAI from 'openai';
import type Redis from 'ioredis';
import { startGateway, REPO_ROOT, type GatewayHandle } from '../support/kong';
import { startMockLlm, type MockLlm } from '../support/mock-llm';
import { connectTestRedis, flushPrefix, redisTestConfig } from '../helpers/redis';

const CONF = join(REPO_ROOT, 'kong/pluginserver.conf');

describe('deploy: Admin API management (integration)', () => {
  let mock: MockLlm;
  let redis: Redis;
  const redisCfg = redisTestConfig('admin');
  const base = () => ({
    _format_version: '3.0',
    services: [
      {
        name: 'llm',
        url: `${mock.url}/v1`,
        routes: [{ name: 'ai', paths: ['/ai/v1'], response_buffering: false }],
      },
    ],
    consumers: [{ username: 'alice', keyauth_credentials: [{ key: 'alice-key' }] }],
    plugins: [{ name: 'key-auth' }],
  });
  const admin = async (gw: GatewayHandle, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gw.adminUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, unknown> };
  };
  const ask = (gw: GatewayHandle) =>
    new OpenAI({
      apiKey: 'x',
      baseURL: `${gw.proxyUrl}/ai/v1`,
      defaultHeaders: { apikey: 'alice-key' },
      maxRetries: 0,
    }).chat.completions
      .create({ model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hello' }] })
      .withResponse();

  before(async () => {
    redis = await connectTestRedis(redisCfg);
    mock = await startMockLlm();
  });
  after(async () => {
    await mock?.stop();
    if (redis) {
      await flushPrefix(redis, redisCfg.key_prefix);
      redis.disconnect();
    }
  });

  it('database mode: POST /plugins then PATCH /plugins/{id} change what the next request sees', async () => {
    const gw = await startGateway({ pluginServerConf: CONF, database: 'memory', config: base() });
    try {
      let r = await ask(gw);
      assert.equal(r.response.headers.get('x-ai-ratelimit-limit-3600-hourly'), null);
      const created = await admin(gw, 'POST', '/routes/ai/plugins', {
        name: 'llm-token-accounting',
        config: {
          strategy: 'redis',
          redis: redisCfg,
          policies: [{ name: 'hourly', limits: [{ limit: 5000, window_size: 3600 }] }],
        },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body['id'] as string;
      r = await ask(gw);
      assert.equal(r.response.headers.get('x-ai-ratelimit-limit-3600-hourly'), '5000');
      const listed = await admin(gw, 'GET', '/plugins');
      assert.ok((listed.body['data'] as { id: string }[]).some((p) => p.id === id));
      const patched = await admin(gw, 'PATCH', `/plugins/${id}`, {
        config: { policies: [{ name: 'hourly', limits: [{ limit: 10, window_size: 3600 }] }] },
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      await assert.rejects(ask(gw), (e: unknown) => e instanceof OpenAI.RateLimitError);
      const bad = await admin(gw, 'POST', '/plugins', {
        name: 'llm-token-accounting',
        config: { strategy: 'nope' },
      });
      assert.equal(bad.status, 400);
      assert.equal((await admin(gw, 'DELETE', `/plugins/${id}`)).status, 204);
      r = await ask(gw);
      assert.equal(r.response.status, 200);
    } finally {
      await gw.stop();
    }
  });

  it('DB-less: POST /config adds the plugin chain; entity writes answer 405', async () => {
    const gw = await startGateway({ pluginServerConf: CONF, config: base() });
    try {
      assert.equal((await admin(gw, 'POST', '/plugins', { name: 'llm-token-accounting' })).status, 405);
      const doc = base();
      (doc.services[0]!.routes[0] as Record<string, unknown>)['plugins'] = [
        {
          name: 'llm-token-accounting',
          config: {
            strategy: 'redis',
            redis: redisCfg,
            policies: [{ name: 'hourly', limits: [{ limit: 777, window_size: 3600 }] }],
          },
        },
      ];
      const res = await fetch(`${gw.adminUrl}/config`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(doc),
      });
      assert.equal(res.status, 201);
      const r = await ask(gw);
      assert.equal(r.response.headers.get('x-ai-ratelimit-limit-3600-hourly'), '777');
      const status = await fetch(`${gw.adminUrl}/status`);
      assert.equal(status.status, 200);
      assert.equal(
        (await fetch(`${gw.adminUrl}/`)).status,
        500,
        'GET / fails on 3.9.0-3.9.3 with a managed plugin server: health checks use /status',
      );
    } finally {
      await gw.stop();
    }
  });
});
