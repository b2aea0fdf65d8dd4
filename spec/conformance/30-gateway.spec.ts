/**
 * Gateway features around the plugin server: Lua runner interface (fake), Admin API (DB-less and the
 * in-memory database mode), routing, harness.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import {
  fixtureGateway,
  reports,
  startUpstream,
  timedChunks,
  FIXTURE_CONF,
  FIXTURE_PLUGINS,
  type Upstream,
} from './helpers';
import type { GatewayHandle, LuaPluginRunner, SharedCtx } from '../support/kong';
import { startStack, substitute } from '../support/harness';

let up: Upstream;
before(async () => {
  up = await startUpstream();
});
after(async () => {
  await up?.stop();
});

/** Fake Lua runner: a "tap" that upper-cases bodies, drops Content-Length and writes ctx.shared at eof. */
function fakeLua(): LuaPluginRunner {
  return {
    info: (name) =>
      name === 'fake-tap'
        ? {
            name,
            priority: 800,
            version: '0.1.0',
            phases: ['header_filter', 'body_filter'],
            defaults: (c) => ({ suffix: '', ...c }),
          }
        : undefined,
    startRequest(_name, conf, shared: SharedCtx) {
      let bytes = 0;
      return {
        headerFilter: async (_status, headers) => {
          const out = { ...headers };
          for (const k of Object.keys(out)) if (k.toLowerCase() === 'content-length') delete out[k];
          out['X-Tap'] = 'on';
          return out;
        },
        bodyFilter: async (chunk, eof) => {
          bytes += chunk.length;
          if (eof) {
            shared.set('tap', { bytes, suffix: conf['suffix'] });
            return Buffer.concat([chunk, Buffer.from(String(conf['suffix']))]);
          }
          return Buffer.from(chunk.toString('utf8').toUpperCase());
        },
      };
    },
    close: async () => undefined,
  };
}

test('Lua plugins: header/body filters per chunk, ctx.shared shared with JS log, streaming kept', async () => {
  const gw = await fixtureGateway(
    {
      _format_version: '3.0',
      services: [
        {
          name: 's',
          url: up.url,
          routes: [
            {
              name: 'r',
              paths: ['/l'],
              response_buffering: false,
              plugins: [{ name: 'fake-tap', config: { suffix: '!' } }, { name: 'js-echo' }],
            },
          ],
        },
      ],
    },
    { luaPlugins: ['fake-tap'], luaRunner: fakeLua() },
  );
  try {
    const r = await timedChunks(`${gw.proxyUrl}/l/sse?n=3&gap=100`);
    assert.equal(r.headers.get('x-tap'), 'on');
    const text = r.chunks.map((c) => c.text).join('');
    assert.ok(text.startsWith('DATA: {"I":0}'), text);
    assert.ok(text.endsWith('!'));
    assert.ok(r.chunks.length >= 3, 'streamed');
    await gw.waitForLogs();
    const tap = reports(gw, 'js-echo').at(-1)?.['tap'] as Record<string, unknown>;
    assert.equal(tap['suffix'], '!');
    assert.ok((tap['bytes'] as number) > 0);
  } finally {
    await gw.stop();
  }
});

test('Admin API (DB-less): /status, GET / 500 with a managed plugin server, /plugins/enabled, schemas, 405 on writes', async () => {
  const gw = await fixtureGateway({
    _format_version: '3.0',
    services: [
      { name: 's', url: up.url, routes: [{ name: 'r', paths: ['/a'], plugins: [{ name: 'js-echo' }] }] },
    ],
  });
  try {
    assert.equal((await fetch(`${gw.adminUrl}/status`)).status, 200);
    assert.equal((await fetch(`${gw.adminUrl}/`)).status, 500); // Kong/kong#14260 (3.9.0-3.9.3)
    const en = (await (await fetch(`${gw.adminUrl}/plugins/enabled`)).json()) as {
      enabled_plugins: string[];
    };
    assert.ok(en.enabled_plugins.includes('js-echo') && en.enabled_plugins.includes('key-auth'));
    const sch = (await (await fetch(`${gw.adminUrl}/schemas/plugins/js-echo`)).json()) as {
      fields: Array<Record<string, unknown>>;
    };
    assert.ok(sch.fields.some((f) => 'config' in f));
    const pl = (await (await fetch(`${gw.adminUrl}/plugins`)).json()) as { data: Array<{ name: string }> };
    assert.deepEqual(
      pl.data.map((p) => p.name),
      ['js-echo'],
    );
    const w = await fetch(`${gw.adminUrl}/plugins`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"js-echo"}',
    });
    assert.equal(w.status, 405);
    // POST /config (YAML) → 201, new route live
    const yaml = `_format_version: "3.0"\nservices:\n  - name: s2\n    url: ${up.url}\n    routes:\n      - name: r2\n        paths: ["/b"]\n`;
    const pc = await fetch(`${gw.adminUrl}/config`, {
      method: 'POST',
      headers: { 'content-type': 'text/yaml' },
      body: yaml,
    });
    assert.equal(pc.status, 201);
    assert.equal((await fetch(`${gw.proxyUrl}/b`)).status, 200);
    assert.equal((await fetch(`${gw.proxyUrl}/a`)).status, 404);
  } finally {
    await gw.stop();
  }
});

test('Admin API (database: memory): POST/PATCH/DELETE plugins and key-auth credentials take effect', async () => {
  const gw: GatewayHandle = await fixtureGateway(
    {
      _format_version: '3.0',
      services: [{ name: 's', url: up.url, routes: [{ name: 'r', paths: ['/m'] }] }],
      consumers: [{ username: 'c1' }],
    },
    { database: 'memory' },
  );
  try {
    const j = { 'content-type': 'application/json' };
    const p = await fetch(`${gw.adminUrl}/routes/r/plugins`, {
      method: 'POST',
      headers: j,
      body: JSON.stringify({ name: 'js-echo', config: { tag: 'db1' } }),
    });
    assert.equal(p.status, 201);
    const plugin = (await p.json()) as { id: string; config: Record<string, unknown> };
    assert.equal(plugin.config['tag'], 'db1');
    let b = (await (await fetch(`${gw.proxyUrl}/m`)).json()) as { headers: Record<string, string> };
    assert.equal(b.headers['x-echo-seen'], 'db1');
    assert.equal(
      (
        await fetch(`${gw.adminUrl}/plugins/${plugin.id}`, {
          method: 'PATCH',
          headers: j,
          body: JSON.stringify({ config: { tag: 'db2' } }),
        })
      ).status,
      200,
    );
    b = (await (await fetch(`${gw.proxyUrl}/m`)).json()) as { headers: Record<string, string> };
    assert.equal(b.headers['x-echo-seen'], 'db2');
    // key-auth on the route + a credential for c1
    assert.equal(
      (
        await fetch(`${gw.adminUrl}/routes/r/plugins`, {
          method: 'POST',
          headers: j,
          body: '{"name":"key-auth"}',
        })
      ).status,
      201,
    );
    assert.equal((await fetch(`${gw.proxyUrl}/m`)).status, 401);
    assert.equal(
      (
        await fetch(`${gw.adminUrl}/consumers/c1/key-auth`, {
          method: 'POST',
          headers: j,
          body: '{"key":"k1"}',
        })
      ).status,
      201,
    );
    assert.equal((await fetch(`${gw.proxyUrl}/m`, { headers: { apikey: 'k1' } })).status, 200);
    assert.equal((await fetch(`${gw.adminUrl}/plugins/${plugin.id}`, { method: 'DELETE' })).status, 204);
    b = (await (await fetch(`${gw.proxyUrl}/m`, { headers: { apikey: 'k1' } })).json()) as {
      headers: Record<string, string>;
    };
    assert.equal(b.headers['x-echo-seen'], undefined);
  } finally {
    await gw.stop();
  }
});

test('routing: regex paths, strip_path, service path, preserve_host, hosts', async () => {
  const gw = await fixtureGateway({
    _format_version: '3.0',
    services: [
      {
        name: 's',
        url: `${up.url}/base`,
        routes: [
          { name: 'strip', paths: ['/p'], strip_path: true },
          { name: 'keep', paths: ['/k'], strip_path: false, preserve_host: true },
          { name: 're', paths: ['~/v\\d+/items$'], strip_path: false },
          { name: 'host', hosts: ['api.example.test'], paths: ['/p'] },
        ],
      },
    ],
  });
  try {
    // node:http, because fetch does not let a caller set Host
    const get = (
      p: string,
      h: Record<string, string> = {},
    ): Promise<{ url: string; headers: Record<string, string> }> =>
      new Promise((resolve, reject) => {
        http
          .get(`${gw.proxyUrl}${p}`, { headers: h }, (res) => {
            const parts: Buffer[] = [];
            res.on('data', (c: Buffer) => parts.push(c));
            res.on('end', () =>
              resolve(
                JSON.parse(Buffer.concat(parts).toString('utf8')) as {
                  url: string;
                  headers: Record<string, string>;
                },
              ),
            );
          })
          .on('error', reject);
      });
    assert.equal((await get('/p/x?q=1')).url, '/base/x?q=1');
    const k = await get('/k/y', { host: 'client.test' });
    assert.equal(k.url, '/base/k/y');
    assert.equal(k.headers['host'], 'client.test');
    assert.equal((await get('/v2/items')).url, '/base/v2/items');
    assert.equal((await fetch(`${gw.proxyUrl}/v2/itemsX`)).status, 404);
    const h = await get('/p/z', { host: 'api.example.test' });
    assert.equal(h.headers['host'], `127.0.0.1:${up.port}`);
  } finally {
    await gw.stop();
  }
});

test('harness: startStack substitutes ${VARS}, provides Redis, and runs the emulator', async () => {
  assert.deepEqual(substitute({ a: '${X}/v1' }, { X: 'http://h' }), { a: 'http://h/v1' });
  const stack = await startStack({
    config: {
      _format_version: '3.0',
      services: [
        {
          name: 's',
          url: '${UPSTREAM_URL}',
          routes: [
            { name: 'r', paths: ['/h'], plugins: [{ name: 'js-echo', config: { tag: '${REDIS_PORT}' } }] },
          ],
        },
      ],
    },
    upstreamUrl: up.url,
    pluginServerConf: FIXTURE_CONF,
    pluginsDir: FIXTURE_PLUGINS,
  });
  try {
    assert.ok(stack.redisUrl);
    const b = (await (await fetch(`${stack.proxyUrl}/h`)).json()) as { headers: Record<string, string> };
    assert.equal(b.headers['x-echo-seen'], new URL(stack.redisUrl).port || '6379');
  } finally {
    await stack.stop();
  }
});
