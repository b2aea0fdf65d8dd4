/**
 * Real Kong 3.9 + the patched plugin server against kong-runtime.md §2 (protocol, discovery,
 * instances, PDK encoding), with the fixture plugins of spec/fixtures/plugins served in the shipped
 * "split" layout (spec/fixtures/pluginserver.conf). Each test names the section it checks. One Kong for
 * the file (configs through POST /config); the discovery tests start Kongs that must refuse to start.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fixtureKong, reports, simpleConfig, startUpstream, FIXTURE_PLUGINS, type Upstream } from './helpers';
import { REPO_ROOT, type KongHandle } from '../support/real-kong';

const FIXTURES = ['js-buffer', 'js-echo', 'js-exit', 'js-noop', 'js-response', 'js-throw'];

describe('real Kong: plugin-server protocol (kong-runtime.md §2)', () => {
  let up: Upstream;
  let kong: KongHandle;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'conf-10-'));
  // While this file exists, a starting plugin server blocks in js-echo's module load (before it opens
  // its socket): the respawn gap after a kill lasts until the test removes it.
  const holdFile = path.join(tmp, 'hold');

  before(async () => {
    up = await startUpstream();
    kong = await fixtureKong(simpleConfig(up.url, [{ name: 'js-echo', config: { tag: 'one' } }]), {
      env: { FIXTURE_HOLD_FILE: holdFile },
    });
  });
  after(async () => {
    fs.rmSync(tmp, { recursive: true, force: true });
    await kong?.stop();
    await up?.stop();
  });

  test('§2.1 the query command prints exactly one JSON document with one plugin; Kong registers every fixture entry', async () => {
    const r = spawnSync(
      '/bin/sh',
      ['-c', `${path.join(REPO_ROOT, 'kong/bin/llm-pluginserver-query')} js-echo`],
      {
        env: { ...process.env, LLM_PLUGINS_HOME: REPO_ROOT, LLM_PLUGINS_DIR: FIXTURE_PLUGINS },
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0);
    const doc = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    assert.equal(doc.length, 1);
    assert.equal(doc[0]?.['Name'], 'js-echo');
    assert.equal(r.stdout.trim().split('\n').length, 1);
    // the split layout of spec/fixtures/pluginserver.conf: every entry is a plugin of the running Kong
    const en = (await (await fetch(`${kong.adminUrl}/plugins/enabled`)).json()) as {
      enabled_plugins: string[];
    };
    for (const p of FIXTURES) assert.ok(en.enabled_plugins.includes(p), p);
    const st = await kong.pluginServerStatus();
    assert.deepEqual(Object.keys(st.Plugins).sort(), FIXTURES);
  });

  test('§2.1 discovery failures stop kong start: 3.9 registers only the first plugin of a query output; a query printing anything but one JSON document is refused', async () => {
    // (1) one entry whose query prints every plugin (--dump-all-plugins): js-buffer (the first file)
    // is registered, the next plugin of `plugins =` is "enabled but not installed"
    const all = path.join(tmp, 'all.conf');
    fs.writeFileSync(
      all,
      [
        'pluginserver_names = js',
        'pluginserver_js_socket = /usr/local/kong/js.sock',
        `pluginserver_js_query_cmd = ${process.execPath} ${REPO_ROOT}/node_modules/kong-pdk/bin/kong-js-pluginserver -d ${FIXTURE_PLUGINS} --dump-all-plugins`,
      ].join('\n'),
    );
    // (2) a query that writes a line before its JSON (what a load-time console.log would do)
    const bad = path.join(tmp, 'bad.conf');
    fs.writeFileSync(
      bad,
      `pluginserver_names = bad\npluginserver_bad_socket = /usr/local/kong/bad.sock\npluginserver_bad_query_cmd = echo 'loaded'; echo '[{"Name":"x"}]'\n`,
    );
    // both Kongs at once: each start costs seconds and they share nothing
    await Promise.all([
      assert.rejects(
        fixtureKong({ _format_version: '3.0' }, { pluginServerConf: all }),
        /js-echo plugin is enabled but not installed/,
      ),
      assert.rejects(
        fixtureKong({ _format_version: '3.0' }, { pluginServerConf: bad }),
        /failed decoding plugin info/,
      ),
    ]);
  });

  test('§2.5 StartInstance config: schema defaults (nested records, arrays); unset fields are absent, not null', async () => {
    await kong.loadConfig(
      simpleConfig(up.url, [{ name: 'js-echo', config: { action: 'config', nested: { depth: 3 } } }]),
    );
    const r = await fetch(`${kong.proxyUrl}/t/x`);
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    await kong.waitForLogs();
    const rep = reports(kong, 'js-echo').at(-1);
    const cfg = rep?.['cfg'] as Record<string, unknown>;
    assert.equal(cfg['tag'], 'echo');
    assert.equal(cfg['action'], 'config');
    // Kong omits every unset field (the nested `note`, consumer_id/service_id on a route plugin, the
    // instance name): the reason for lib/kong/plugin.ts normalizeConfig (absent = unset)
    assert.deepEqual(cfg['nested'], { depth: 3, flags: ['a'] });
    for (const k of ['route_id', '__plugin_id', '__ws_id', '__key__', '__seq__'])
      assert.ok(k in cfg, `missing ${k}`);
    for (const k of ['consumer_id', 'service_id', 'plugin_instance_name'])
      assert.ok(!(k in cfg), `${k} is sent although unset`);
    assert.equal(typeof cfg['__seq__'], 'number');
  });

  test('§2.5 config validation: unknown fields and missing required fields are rejected (400 on POST /config)', async () => {
    const bad = simpleConfig(up.url, [
      { name: 'js-echo', config: { nope: 1 } },
      { name: 'js-noop', config: {} },
    ]);
    const r = await fetch(`${kong.adminUrl}/config?flatten_errors=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(bad),
    });
    assert.equal(r.status, 400);
    const body = (await r.json()) as {
      name: string;
      flattened_errors: Array<{ entity_type: string; errors: Array<{ field: string; message: string }> }>;
    };
    assert.equal(body.name, 'invalid declarative configuration');
    const msgs = body.flattened_errors.flatMap((e) => e.errors.map((x) => `${x.field}: ${x.message}`));
    assert.ok(msgs.includes('config.nope: unknown field'), msgs.join('; '));
    assert.ok(msgs.includes('config.label: required field missing'), msgs.join('; '));
  });

  test('§2.5 a config rebuild (new __seq__) starts a new instance and closes the old one', async () => {
    type Status = {
      Plugins: Record<string, { Instances: Array<{ Id: number; Config: Record<string, unknown> }> }>;
    };
    await kong.loadConfig(simpleConfig(up.url, [{ name: 'js-echo', config: { tag: 'a' } }]));
    await (await fetch(`${kong.proxyUrl}/t/1`)).arrayBuffer();
    await kong.waitForLogs();
    const s1 = (await kong.pluginServerStatus()) as unknown as Status;
    const i1 = s1.Plugins['js-echo']?.Instances ?? [];
    assert.equal(i1.length, 1);
    // same document again → new __seq__ → new instance; old closed
    await kong.loadConfig(simpleConfig(up.url, [{ name: 'js-echo', config: { tag: 'a' } }]));
    await (await fetch(`${kong.proxyUrl}/t/2`)).arrayBuffer();
    await kong.waitForLogs();
    const s2 = (await kong.pluginServerStatus()) as unknown as Status;
    const i2 = s2.Plugins['js-echo']?.Instances ?? [];
    assert.equal(i2.length, 1);
    assert.notEqual(i2[0]?.Id, i1[0]?.Id);
    assert.notEqual(i2[0]?.Config['__seq__'], i1[0]?.Config['__seq__']);
    assert.equal(i2[0]?.Config['__plugin_id'], i1[0]?.Config['__plugin_id']);
  });

  test('§2.7 PDK encoding: multimap headers/query, raw body is a Uint8Array, first return value only', async () => {
    await kong.loadConfig(simpleConfig(up.url, [{ name: 'js-echo', config: { tag: 'enc' } }]));
    const r = await fetch(`${kong.proxyUrl}/t/x?a=1&a=2&b=3&flag`, {
      method: 'POST',
      headers: [
        ['content-type', 'application/json'],
        ['X-Test', 'one'],
        ['X-Multi', 'm1'],
        ['X-Multi', 'm2'],
      ],
      body: JSON.stringify({ hello: 'world' }),
    });
    assert.equal(r.status, 200);
    const upBody = (await r.json()) as { headers: Record<string, string> };
    assert.equal(upBody.headers['x-echo-seen'], 'enc');
    await kong.waitForLogs();
    const echo = reports(kong, 'js-echo').at(-1)?.['echo'] as Record<string, unknown>;
    const headers = echo['headers'] as Record<string, string[]>;
    assert.deepEqual(headers['x-test'], ['one']);
    // fetch folds repeated request headers into one line before they reach Kong
    assert.deepEqual(headers['x-multi'], ['m1, m2']);
    for (const v of Object.values(headers)) assert.ok(Array.isArray(v));
    assert.equal(echo['single'], 'one');
    assert.deepEqual(echo['query'], { a: ['1', '2'], b: ['3'], flag: [] });
    assert.equal(echo['rawType'], 'Uint8Array');
    assert.equal(echo['rawLen'], 17);
    // get_body returns (body, err, mimetype): only the table reaches JS
    assert.equal(echo['parsedIsArray'], false);
    assert.deepEqual(echo['parsed'], { hello: 'world' });
  });

  test('§2.5/§2.8 killing the plugin server: requests in the gap fail open, then Kong respawns it and recovers from "no plugin instance"', async () => {
    await kong.loadConfig(simpleConfig(up.url, [{ name: 'js-echo', config: { tag: 'k' } }]));
    const warm = (await (await fetch(`${kong.proxyUrl}/t/1`)).json()) as { headers: Record<string, string> };
    assert.equal(warm.headers['x-echo-seen'], 'k');
    await kong.waitForLogs();
    const reportsBefore = reports(kong, 'js-echo').length;
    fs.writeFileSync(holdFile, '');
    const old = await kong.killPluginServer();
    try {
      // Kong reaps the old server (and starts the new one, which blocks on the hold file)
      const deadline = Date.now() + 20_000;
      while (!kong.pluginServerLog().some((l) => /pluginserver 'js_echo' terminated: signal 9/.test(l))) {
        assert.ok(Date.now() < deadline, 'Kong saw the plugin server die');
        await new Promise((r) => setTimeout(r, 20));
      }
      const logAt = kong.pluginServerLog().length;
      // the gap: Kong cannot reach the socket, logs it, skips the plugin and proxies (fail open)
      const r = await fetch(`${kong.proxyUrl}/t/gap`);
      assert.equal(r.status, 200);
      const body = (await r.json()) as { headers: Record<string, string> };
      assert.equal(body.headers['x-echo-seen'], undefined);
      await kong.waitForLogs();
      const gap = kong.pluginServerLog().slice(logAt);
      assert.ok(
        gap.some((l) => /\[error\].*\[js-echo\] trying to connect: connection refused/.test(l)),
        'the failed call is in the error log',
      );
      assert.equal(reports(kong, 'js-echo').length, reportsBefore, 'no phase of js-echo ran in the gap');
    } finally {
      fs.rmSync(holdFile, { force: true });
    }
    const pid = await kong.waitForPluginServer(old);
    assert.notEqual(pid, old);
    assert.ok(
      kong.pluginServerLog().some((l) => /\[pluginserver\] started, pid /.test(l)),
      'Kong respawned the server',
    );
    // Kong still holds the old instance id: the new server answers "no plugin instance", Kong
    // drops its cached instance, starts a new one and runs the phase
    const r2 = await fetch(`${kong.proxyUrl}/t/after`);
    const b2 = (await r2.json()) as { headers: Record<string, string> };
    assert.equal(b2.headers['x-echo-seen'], 'k');
    assert.ok(kong.pluginServerLog().some((l) => /\[warn\].*no plugin instance/.test(l)));
  });
});
