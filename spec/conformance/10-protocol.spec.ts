/**
 * Conformance of the test gateway with kong-runtime.md §2 (protocol, discovery, instances, PDK
 * encoding) — each test names the section it checks.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  fixtureGateway,
  reports,
  simpleConfig,
  startUpstream,
  FIXTURE_CONF,
  FIXTURE_PLUGINS,
  type Upstream,
} from './helpers';
import { PluginServers, REPO_ROOT, parseKongConf } from '../support/kong/plugin-server';
import type { GatewayHandle } from '../support/kong';

let up: Upstream;
let gw: GatewayHandle;

before(async () => {
  up = await startUpstream();
  gw = await fixtureGateway(simpleConfig(up.url, [{ name: 'js-echo', config: { tag: 'one' } }]));
});
after(async () => {
  await gw?.stop();
  await up?.stop();
});

test('§2.1 query command prints exactly one JSON document with one plugin', () => {
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
});

test('§2.1 3.9 registers only the first plugin of a query output; 3.8 registers all', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kgw-conf-'));
  try {
    const conf = path.join(dir, 'all.conf');
    // one entry whose query prints every plugin (--dump-all-plugins)
    fs.writeFileSync(
      conf,
      [
        'pluginserver_names = js',
        'pluginserver_js_socket = /usr/local/kong/js.sock',
        `pluginserver_js_query_cmd = ${process.execPath} ${REPO_ROOT}/node_modules/kong-pdk/bin/kong-js-pluginserver -d ${FIXTURE_PLUGINS} --dump-all-plugins`,
      ].join('\n'),
    );
    const p39 = new PluginServers({ confPath: conf, prefixDir: dir, pluginsDir: FIXTURE_PLUGINS });
    p39.discover();
    assert.deepEqual([...p39.plugins.keys()], ['js-buffer']); // alphabetically first file
    const p38 = new PluginServers({
      confPath: conf,
      prefixDir: dir,
      pluginsDir: FIXTURE_PLUGINS,
      kongVersion: '3.8',
    });
    p38.discover();
    assert.deepEqual([...p38.plugins.keys()].sort(), [
      'js-buffer',
      'js-echo',
      'js-exit',
      'js-noop',
      'js-response',
      'js-throw',
    ]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('§2.1 a query command with anything but one JSON document on stdout fails loudly', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kgw-conf-'));
  try {
    const conf = path.join(dir, 'bad.conf');
    fs.writeFileSync(
      conf,
      `pluginserver_names = bad\npluginserver_bad_query_cmd = echo 'loaded'; echo '[{"Name":"x"}]'\n`,
    );
    const ps = new PluginServers({ confPath: conf, prefixDir: dir });
    assert.throws(() => ps.discover(), /failed decoding plugin info/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('settings parser: kong.conf lines, comments', () => {
  const c = parseKongConf(fs.readFileSync(FIXTURE_CONF, 'utf8'));
  assert.equal(c['pluginserver_js_echo_start_cmd'], '/usr/local/bin/llm-pluginserver');
  assert.match(c['pluginserver_names'] ?? '', /^js_echo,/);
});

test('§2.5 StartInstance config: schema defaults (nested records, arrays) + iterator fields', async () => {
  await gw.loadConfig(
    simpleConfig(up.url, [{ name: 'js-echo', config: { action: 'config', nested: { note: 'n' } } }]),
  );
  const r = await fetch(`${gw.proxyUrl}/t/x`);
  assert.equal(r.status, 200);
  await r.arrayBuffer();
  await gw.waitForLogs();
  const rep = reports(gw, 'js-echo').at(-1);
  const cfg = rep?.['cfg'] as Record<string, unknown>;
  assert.equal(cfg['tag'], 'echo');
  assert.deepEqual(cfg['nested'], { depth: 2, flags: ['a'], note: 'n' });
  for (const k of [
    'route_id',
    'service_id',
    'consumer_id',
    'plugin_instance_name',
    '__plugin_id',
    '__ws_id',
    '__key__',
    '__seq__',
  ])
    assert.ok(k in cfg, `missing ${k}`);
  assert.equal(cfg['consumer_id'], null);
  assert.equal(typeof cfg['__seq__'], 'number');
});

test('§2.5 config validation: unknown fields and missing required fields are rejected (400 on POST /config)', async () => {
  const bad = simpleConfig(up.url, [
    { name: 'js-echo', config: { nope: 1 } },
    { name: 'js-noop', config: {} },
  ]);
  const r = await fetch(`${gw.adminUrl}/config`, {
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
  await gw.loadConfig(simpleConfig(up.url, [{ name: 'js-echo', config: { tag: 'a' } }]));
  await (await fetch(`${gw.proxyUrl}/t/1`)).arrayBuffer();
  const s1 = (await gw.pluginServerStatus()) as {
    Plugins: Record<string, { Instances: Array<{ Id: number; Config: Record<string, unknown> }> }>;
  };
  const i1 = s1.Plugins['js-echo']?.Instances ?? [];
  assert.equal(i1.length, 1);
  // same document again → new __seq__ → new instance; old closed
  await gw.loadConfig(simpleConfig(up.url, [{ name: 'js-echo', config: { tag: 'a' } }]));
  await (await fetch(`${gw.proxyUrl}/t/2`)).arrayBuffer();
  await gw.waitForLogs();
  const s2 = (await gw.pluginServerStatus()) as typeof s1;
  const i2 = s2.Plugins['js-echo']?.Instances ?? [];
  assert.equal(i2.length, 1);
  assert.notEqual(i2[0]?.Id, i1[0]?.Id);
  assert.notEqual(i2[0]?.Config['__seq__'], i1[0]?.Config['__seq__']);
  assert.equal(i2[0]?.Config['__plugin_id'], i1[0]?.Config['__plugin_id']);
});

test('§2.7 PDK encoding: multimap headers/query, raw body is a Uint8Array, first return value only', async () => {
  await gw.loadConfig(simpleConfig(up.url, [{ name: 'js-echo', config: { tag: 'enc' } }]));
  const r = await fetch(`${gw.proxyUrl}/t/x?a=1&a=2&b=3&flag`, {
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
  await gw.waitForLogs();
  const echo = reports(gw, 'js-echo').at(-1)?.['echo'] as Record<string, unknown>;
  const headers = echo['headers'] as Record<string, string[]>;
  assert.deepEqual(headers['x-test'], ['one']);
  // fetch folds repeated request headers into one line before they reach the gateway
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

test('§2.5/§2.8 killing the plugin server: requests in the gap fail open, then "no plugin instance" recovery', async () => {
  await gw.loadConfig(simpleConfig(up.url, [{ name: 'js-echo', config: { tag: 'k' } }]));
  await (await fetch(`${gw.proxyUrl}/t/1`)).arrayBuffer();
  const before = ((await gw.pluginServerStatus()) as { Pid: number }).Pid;
  await gw.killPluginServer();
  // the gap: the plugin is skipped with an error logged, the request is proxied (fail open)
  const r = await fetch(`${gw.proxyUrl}/t/gap`);
  assert.equal(r.status, 200);
  const body = (await r.json()) as { headers: Record<string, string> };
  assert.equal(body.headers['x-echo-seen'], undefined);
  assert.ok(gw.pluginServerLog().some((l) => /plugin server call failed/.test(l)));
  // wait for the respawn (≥ 1 s after the previous spawn)
  const deadline = Date.now() + 10_000;
  let pid = before;
  while (pid === before && Date.now() < deadline) {
    pid = await gw.pluginServerStatus().then(
      (s: { Pid: number }) => s.Pid,
      () => before,
    );
    if (pid === before) await new Promise((r2) => setTimeout(r2, 100));
  }
  assert.notEqual(pid, before, 'plugin server was respawned');
  const r2 = await fetch(`${gw.proxyUrl}/t/after`);
  const b2 = (await r2.json()) as { headers: Record<string, string> };
  assert.equal(b2.headers['x-echo-seen'], 'k');
  assert.ok(gw.pluginServerLog().some((l) => /no plugin instance/.test(l)));
});
