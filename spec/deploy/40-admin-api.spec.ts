/**
 * Managing the plugins through the Admin API of a real DB-less Kong 3.9 (the plugin server started by
 * Kong from the shipped settings, dist/plugins): POST /config adds and changes the plugin chain and the
 * next requests see it; GET /plugins lists what runs; /schemas/plugins/<name> serves our schemas and
 * POST /schemas/plugins/validate rejects an invalid config with a field error; entity writes answer
 * 405. Database mode (POST/PATCH/DELETE /plugins) cannot be run here: DB-less only.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import type Redis from 'ioredis';
import { startKong, REPO_ROOT, type KongHandle } from '../support/real-kong';
import { startMockLlm, type MockLlm } from '../support/mock-llm';
import { connectTestRedis, flushPrefix, redisTestConfig } from '../helpers/redis';

/** our plugins: the JS plugins Kong's plugin server serves, and the Lua plugins of kong/plugins */
const OURS = [
  ...readdirSync(join(REPO_ROOT, 'dist', 'plugins'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name),
  ...readdirSync(join(REPO_ROOT, 'kong', 'plugins')),
];

describe('deploy (real Kong): Admin API management, DB-less', () => {
  let kong: KongHandle;
  let mock: MockLlm;
  let redis: Redis;
  const redisCfg = redisTestConfig('admin');
  const base = () => ({
    _format_version: '3.0',
    services: [
      {
        name: 'llm',
        url: `${mock.url}/v1`,
        routes: [{ name: 'ai', paths: ['/ai/v1'], response_buffering: false } as Record<string, unknown>],
      },
    ],
    consumers: [{ username: 'alice', keyauth_credentials: [{ key: 'alice-key' }] }],
    plugins: [{ name: 'key-auth' }],
  });
  const withBudget = (limit: number) => {
    const doc = base();
    doc.services[0]!.routes[0]!['plugins'] = [
      {
        name: 'llm-token-accounting',
        config: {
          strategy: 'redis',
          redis: { host: redisCfg.host, port: redisCfg.port, key_prefix: redisCfg.key_prefix },
          policies: [{ name: 'hourly', limits: [{ limit, window_size: 3600 }] }],
        },
      },
      { name: 'llm-response-tap' },
    ];
    return doc;
  };
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${kong.adminUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, unknown> };
  };
  const ask = () =>
    new OpenAI({
      apiKey: 'x',
      baseURL: `${kong.proxyUrl}/ai/v1`,
      defaultHeaders: { apikey: 'alice-key' },
      maxRetries: 0,
    }).chat.completions
      .create({ model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hello' }] })
      .withResponse();

  before(async () => {
    redis = await connectTestRedis(redisCfg);
    mock = await startMockLlm();
    kong = await startKong();
    await kong.loadConfig(base());
  });
  after(async () => {
    await kong?.stop();
    await mock?.stop();
    if (redis) {
      await flushPrefix(redis, redisCfg.key_prefix);
      redis.disconnect();
    }
  });

  it('POST /config adds the plugin chain, then changes the budget: the next requests see each change; GET /plugins lists it', async () => {
    let r = await ask();
    assert.equal(r.response.status, 200);
    assert.equal(r.response.headers.get('x-ai-ratelimit-limit-3600-hourly'), null);

    await kong.loadConfig(withBudget(777));
    r = await ask();
    assert.equal(r.response.headers.get('x-ai-ratelimit-limit-3600-hourly'), '777');
    const listed = await admin('GET', '/plugins');
    const plugins = listed.body['data'] as { name: string; config: Record<string, unknown> }[];
    assert.deepEqual(plugins.map((p) => p.name).sort(), [
      'key-auth',
      'llm-response-tap',
      'llm-token-accounting',
    ]);
    const acc = plugins.find((p) => p.name === 'llm-token-accounting')!;
    assert.equal((acc.config['policies'] as { limits: { limit: number }[] }[])[0]!.limits[0]!.limit, 777);
    assert.equal(acc.config['fault_tolerant'], true, 'schema defaults are filled in by Kong');

    // DB-less "PATCH": the same document with a budget the next request cannot fit
    await kong.loadConfig(withBudget(10));
    await assert.rejects(ask(), (e: unknown) => e instanceof OpenAI.RateLimitError);

    // and removing the plugin again
    await kong.loadConfig(base());
    r = await ask();
    assert.equal(r.response.status, 200);
    assert.equal(r.response.headers.get('x-ai-ratelimit-limit-3600-hourly'), null);
  });

  it('entity writes answer 405; /status 200; GET / 500 with a managed plugin server (Kong/kong#14260)', async () => {
    const w = await admin('POST', '/plugins', { name: 'llm-token-accounting' });
    assert.equal(w.status, 405);
    assert.match(String(w.body['message']), /not using a database/);
    assert.equal((await admin('PATCH', '/consumers/alice', { custom_id: 'x' })).status, 405);
    assert.equal((await admin('DELETE', '/consumers/alice')).status, 405);
    assert.equal((await fetch(`${kong.adminUrl}/status`)).status, 200);
    assert.equal(
      (await fetch(`${kong.adminUrl}/`)).status,
      500,
      'GET / fails on 3.9.0-3.9.3 with a managed plugin server: health checks use /status',
    );
  });

  it('/plugins/enabled and /schemas/plugins/<name> serve every one of our plugins', async () => {
    const en = (await admin('GET', '/plugins/enabled')).body['enabled_plugins'] as string[];
    for (const p of OURS) {
      assert.ok(en.includes(p), `${p} enabled`);
      const s = await admin('GET', `/schemas/plugins/${p}`);
      assert.equal(s.status, 200, p);
      const config = (s.body['fields'] as Record<string, { type?: string; fields?: unknown[] }>[]).find(
        (f) => 'config' in f,
      )?.['config'];
      assert.equal(config?.type, 'record', `${p} has a config record`);
      assert.ok((config?.fields?.length ?? 0) > 0, `${p} config has fields`);
    }
  });

  it('POST /schemas/plugins/validate (and POST /config) reject an invalid config of our plugins with a field error', async () => {
    const ok = await admin('POST', '/schemas/plugins/validate', {
      name: 'llm-token-accounting',
      config: { policies: [{ name: 'hourly', limits: [{ limit: 5, window_size: 3600 }] }] },
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));

    const bad = await admin('POST', '/schemas/plugins/validate', {
      name: 'llm-token-accounting',
      config: { strategy: 'nope' },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body['name'], 'schema violation');
    const fields = bad.body['fields'] as { config?: Record<string, unknown> };
    assert.match(String(fields.config?.['strategy']), /expected one of/);

    const tap = await admin('POST', '/schemas/plugins/validate', {
      name: 'llm-response-tap',
      config: { max_text_bytes: -1 },
    });
    assert.equal(tap.status, 400);
    assert.ok((tap.body['fields'] as { config?: Record<string, unknown> }).config?.['max_text_bytes']);

    // llm-sentinel: the status must be a 5xx, required_plugins only names our JS plugins
    for (const config of [{ status: 200 }, { required_plugins: ['key-auth'] }]) {
      const sent = await admin('POST', '/schemas/plugins/validate', { name: 'llm-sentinel', config });
      assert.equal(sent.status, 400, JSON.stringify(config));
    }
    const sentOk = await admin('POST', '/schemas/plugins/validate', {
      name: 'llm-sentinel',
      config: { required_plugins: ['llm-pii-redaction', 'llm-semantic-cache'] },
    });
    assert.equal(sentOk.status, 200, JSON.stringify(sentOk.body));

    const doc = withBudget(5);
    (doc.services[0]!.routes[0]!['plugins'] as { config: Record<string, unknown> }[])[0]!.config['strategy'] =
      'nope';
    const res = await fetch(`${kong.adminUrl}/config?flatten_errors=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(doc),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as {
      flattened_errors: { entity_name: string; errors: { field: string; message: string }[] }[];
    };
    const errs = body.flattened_errors.flatMap((e) => e.errors.map((x) => ({ entity: e.entity_name, ...x })));
    assert.ok(
      errs.some(
        (e) =>
          e.entity === 'llm-token-accounting' &&
          e.field === 'config.strategy' &&
          /expected one of/.test(e.message),
      ),
      JSON.stringify(errs),
    );
    // the running configuration is untouched
    const r = await ask();
    assert.equal(r.response.status, 200);
  });
});
