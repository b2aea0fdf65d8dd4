/**
 * Real Kong 3.9 around the plugin server: a real Lua plugin (llm-response-tap, on Kong's Lua path)
 * beside the fixture JS plugins, the DB-less Admin API, routing. One Kong for the file; each test loads
 * its configuration with POST /config.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { fixtureKong, lockstep, reports, startUpstream, type Upstream } from './helpers';
import type { KongHandle } from '../support/real-kong';

describe('real Kong: gateway features around the plugin server', () => {
  let up: Upstream;
  let kong: KongHandle;

  before(async () => {
    up = await startUpstream();
    kong = await fixtureKong({ _format_version: '3.0' });
  });
  after(async () => {
    await kong?.stop();
    await up?.stop();
  });

  test('real Kong: a Lua body_filter plugin (llm-response-tap) keeps the stream streaming and hands its result to a JS log phase through kong.ctx.shared', async () => {
    await kong.loadConfig({
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
              plugins: [{ name: 'llm-response-tap' }, { name: 'js-echo', config: { tag: 'lua' } }],
            },
          ],
        },
      ],
    });
    const n = reports(kong, 'js-echo').length;
    const r = await lockstep(up, `${kong.proxyUrl}/l/sse-step?n=3`);
    assert.equal(r.status, 200);
    const expected = ['data: {"i":0}', 'data: {"i":1}', 'data: {"i":2}', 'data: [DONE]'];
    assert.deepEqual(r.events, expected, 'the tap passes the bytes through unchanged, event by event');
    await kong.waitForLogs();
    const rep = reports(kong, 'js-echo');
    assert.equal(rep.length, n + 1);
    const tap = rep.at(-1)?.['tap'] as Record<string, unknown>;
    assert.ok(tap, 'the JS log phase reads kong.ctx.shared["llm.tap"] written by the Lua body_filter');
    assert.equal(tap['kind'], 'sse');
    assert.equal(tap['status'], 200);
    assert.equal(tap['done'], true);
    assert.equal(tap['aborted'], false);
    assert.equal(tap['bytes'], Buffer.byteLength(expected.map((e) => `${e}\n\n`).join('')));
  });

  test('real Kong: Admin API (DB-less): /status, GET / 500 with a managed plugin server, /plugins/enabled, schemas, 405 on entity writes, POST /config (YAML)', async () => {
    await kong.loadConfig({
      _format_version: '3.0',
      services: [
        { name: 's', url: up.url, routes: [{ name: 'r', paths: ['/a'], plugins: [{ name: 'js-echo' }] }] },
      ],
    });
    assert.equal((await fetch(`${kong.adminUrl}/status`)).status, 200);
    assert.equal((await fetch(`${kong.adminUrl}/`)).status, 500); // Kong/kong#14260 (3.9.0-3.9.3)
    const en = (await (await fetch(`${kong.adminUrl}/plugins/enabled`)).json()) as {
      enabled_plugins: string[];
    };
    for (const p of ['js-echo', 'key-auth', 'llm-response-tap']) assert.ok(en.enabled_plugins.includes(p), p);
    const sch = (await (await fetch(`${kong.adminUrl}/schemas/plugins/js-echo`)).json()) as {
      fields: Array<Record<string, { fields?: Array<Record<string, { default?: unknown }>> }>>;
    };
    const config = sch.fields.find((f) => 'config' in f)?.['config'];
    assert.ok(config, 'the JS plugin schema has a config record');
    assert.deepEqual(
      config.fields?.find((f) => 'tag' in f),
      { tag: { type: 'string', default: 'echo' } },
      'the schema is the fixture plugin’s Schema',
    );
    const pl = (await (await fetch(`${kong.adminUrl}/plugins`)).json()) as { data: Array<{ name: string }> };
    assert.deepEqual(
      pl.data.map((p) => p.name),
      ['js-echo'],
    );
    const w = await fetch(`${kong.adminUrl}/plugins`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"js-echo"}',
    });
    assert.equal(w.status, 405);
    assert.match(((await w.json()) as { message: string }).message, /not using a database/);
    // POST /config (YAML) → 201, new route live
    const yaml = `_format_version: "3.0"\nservices:\n  - name: s2\n    url: ${up.url}\n    routes:\n      - name: r2\n        paths: ["/b"]\n`;
    await kong.loadConfig(yaml);
    const b = await fetch(`${kong.proxyUrl}/b`);
    assert.equal(b.status, 200);
    await b.arrayBuffer();
    const a = await fetch(`${kong.proxyUrl}/a`);
    assert.equal(a.status, 404);
    assert.equal(((await a.json()) as { message: string }).message, 'no Route matched with those values');
  });

  test('real Kong: routing: regex paths, strip_path, service path, preserve_host, hosts', async () => {
    await kong.loadConfig({
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
    // node:http, because fetch does not let a caller set Host
    const get = (
      p: string,
      h: Record<string, string> = {},
    ): Promise<{ url: string; headers: Record<string, string> }> =>
      new Promise((resolve, reject) => {
        http
          .get(`${kong.proxyUrl}${p}`, { headers: h }, (res) => {
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
    assert.equal((await fetch(`${kong.proxyUrl}/v2/itemsX`)).status, 404);
    const h = await get('/p/z', { host: 'api.example.test' });
    assert.equal(h.headers['host'], `127.0.0.1:${up.port}`);
  });
});
