/**
 * A real Kong for the integration tiers: one DB-less Kong per test file (or per run), started from the
 * `kong` CLI found on this machine, with the plugin server started *by Kong* from this repository's
 * start/query commands (kong/bin) and the Lua plugins of kong/plugins on Kong's Lua path.
 *
 * Where the Kong comes from (first that applies):
 *  - KONG_PROXY_URL + KONG_ADMIN_URL: a Kong you run yourself (e.g. the `kong:3.9` image with this
 *    build mounted, see docs/testing.md). Configs go through `POST /config`; operator actions (kill the
 *    plugin server, read its status or the error log) need KONG_PLUGINSERVER_SOCKET / KONG_ERROR_LOG.
 *  - KONG_TEST_VERSION=3.4: Kong 3.4 LTS from KONG34_HOME (an unpacked relocatable 3.4 build with
 *    bin/kong-env), configured with kong/pluginserver-3.4.conf.
 *  - otherwise Kong 3.9: `kong` on PATH (official package, or ../shared/kong/setup.sh here) or KONG_BIN.
 * No Kong → the start fails at once with a message that says how to get one (never a silent skip).
 *
 * Everything listens on free loopback ports; the prefix is a temp folder removed on stop.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { RpcClient } from './pluginserver-rpc';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export type KongLine = '3.9' | '3.4';

export interface KongOptions {
  /** declarative config loaded with POST /config once Kong is up */
  config?: string | object;
  /** plugin-server settings in kong.conf syntax (default: the shipped file for the Kong line) */
  pluginServerConf?: string;
  /** folder of JS plugins the server serves (default dist/plugins) */
  pluginsDir?: string;
  /** extra environment for the plugin server (exported by its start wrapper) */
  env?: Record<string, string>;
  /** extra kong.conf lines (`key = value`) */
  kongConf?: Record<string, string | number>;
  /** nginx workers (default 1: `waitForLogs` reads the one worker's timers) */
  workers?: number;
  /** Kong log level (default info: the plugin server's own log lines reach the error log at info) */
  logLevel?: string;
}

export interface KongHandle {
  proxyUrl: string;
  adminUrl: string;
  line: KongLine;
  version: string;
  /** prefix folder (undefined for an external Kong) */
  prefix: string | undefined;
  loadConfig(cfg: string | object): Promise<void>;
  /** plugin.GetStatus over the plugin server's socket (the patched server adds Events, Memory…) */
  pluginServerStatus(opts?: { Gc?: boolean }): Promise<PluginServerStatus>;
  /** Kong's error log (the plugin server's stdout/stderr lines are copied there at info) */
  pluginServerLog(): string[];
  /** signal the plugin server as an operator would (its pid from GetStatus) */
  killPluginServer(signal?: NodeJS.Signals): Promise<number>;
  /** resolves once a plugin server with another pid than `oldPid` answers */
  waitForPluginServer(oldPid?: number, timeoutMs?: number): Promise<number>;
  /** resolves when every log phase started so far (Kong's timers, plugin-server events) finished */
  waitForLogs(): Promise<void>;
  /** path of the plugin server socket */
  socketPath: string | undefined;
  /** the node is lost: SIGKILL nginx (master, workers) and the plugin server, no shutdown at all */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

export interface PluginServerStatus {
  Pid: number;
  Plugins: Record<string, { Name: string }>;
  Events?: number;
  EventsSwept?: number;
  Rpc?: Record<string, number>;
  Memory?: { Rss: number; HeapUsed: number; HeapTotal: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** How to reach a real Kong; thrown when none can be had. */
export const NO_KONG_HELP = [
  'No real Kong to test against. The integration tiers run on a real Kong 3.9 (or 3.4 LTS):',
  '  - install Kong OSS 3.9 so `kong` is on PATH (Kong package, or `bash ../shared/kong/setup.sh` in the',
  '    project environment), or set KONG_BIN to its CLI;',
  '  - or run the official image with this build mounted (`docker compose -f spec/kong-compose.yml up -d`)',
  '    and set KONG_PROXY_URL / KONG_ADMIN_URL (see docs/testing.md);',
  '  - `npm run test:unit` needs no Kong.',
].join('\n');

interface Flavor {
  line: KongLine;
  /** runs `kong <args>` with the right environment */
  kong(args: string[], extraEnv?: Record<string, string>): { status: number | null; out: string };
  /** extra lines for kong.conf */
  conf(prefix: string, luaRoot: string): string[];
  version: string;
}

function cleanEnv(): NodeJS.ProcessEnv {
  // Kong reads every KONG_* variable as configuration: never pass the test runner's own.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KONG_')) env[k] = v;
  return env;
}

function flavor(): Flavor {
  const line: KongLine = process.env['KONG_TEST_VERSION'] === '3.4' ? '3.4' : '3.9';
  if (line === '3.4') {
    const home = process.env['KONG34_HOME'];
    if (!home || !fs.existsSync(path.join(home, 'bin', 'kong-env')))
      throw new Error(
        `KONG_TEST_VERSION=3.4 needs KONG34_HOME (a Kong 3.4 with bin/kong-env)\n${NO_KONG_HELP}`,
      );
    const run = (args: string[], extraEnv: Record<string, string> = {}) => {
      const q = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
      const r = spawnSync(
        'bash',
        [
          '-c',
          `. "$KONG34_HOME/bin/kong-env" && export KONG_LUA_PACKAGE_PATH="\${LLM_LUA_PREPEND:-}$KONG_LUA_PACKAGE_PATH" && cd "$KONG34_HOME/share/lua/5.1" && kong ${q}`,
        ],
        {
          env: { ...cleanEnv(), KONG34_HOME: home, ...extraEnv },
          encoding: 'utf8',
        },
      );
      return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
    };
    const v = run(['version']);
    if (v.status !== 0) throw new Error(`Kong 3.4 at ${home} does not run: ${v.out}`);
    return {
      line,
      kong: run,
      // kong-env exports KONG_LUA_PACKAGE_PATH, which wins over kong.conf: the plugin folder is put in
      // front of it through the environment instead (see kong())
      conf: () => [],
      version: v.out.trim().split(/\s+/).pop() ?? '3.4',
    };
  }
  const bin = process.env['KONG_BIN'] ?? 'kong';
  const run = (args: string[], extraEnv: Record<string, string> = {}) => {
    const r = spawnSync(bin, args, { env: { ...cleanEnv(), ...extraEnv }, encoding: 'utf8' });
    if (r.error) return { status: 127, out: r.error.message };
    return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
  };
  const v = run(['version']);
  if (v.status !== 0) throw new Error(`${bin}: ${v.out.trim()}\n${NO_KONG_HELP}`);
  return {
    line,
    kong: run,
    conf: (_prefix, luaRoot) => [`lua_package_path = ${luaRoot}/?.lua;${luaRoot}/?/init.lua;;`],
    version: v.out.trim().split(/\s+/).pop() ?? '3.9',
  };
}

/** The shipped plugin-server settings for a Kong line. */
export function shippedPluginServerConf(line: KongLine): string {
  const f = path.join(REPO_ROOT, 'kong', line === '3.4' ? 'pluginserver-3.4.conf' : 'pluginserver.conf');
  return fs.existsSync(f) ? f : path.join(REPO_ROOT, 'kong', 'pluginserver.conf');
}

/** Can Kong's worker user (`kong`) read the checkout? Otherwise the test workers run as root. */
function workersCanBeKong(): boolean {
  if (process.getuid?.() !== 0) return false; // not root: nginx keeps the current user
  const r = spawnSync('runuser', [
    '-u',
    'kong',
    '--',
    'test',
    '-r',
    path.join(REPO_ROOT, 'kong', 'bin', 'query-one.js'),
  ]);
  const n = spawnSync('runuser', ['-u', 'kong', '--', 'test', '-x', process.execPath]);
  return r.status === 0 && n.status === 0;
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

async function postConfig(adminUrl: string, cfg: string | object): Promise<void> {
  const body = typeof cfg === 'string' ? cfg : JSON.stringify(cfg);
  const yaml = typeof cfg === 'string' && !cfg.trim().startsWith('{');
  const res = await fetch(`${adminUrl}/config?flatten_errors=1`, {
    method: 'POST',
    headers: { 'content-type': yaml ? 'text/yaml' : 'application/json' },
    body,
  });
  if (res.status !== 201) throw new Error(`POST /config failed: ${res.status} ${await res.text()}`);
}

async function waitHttp(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.ok) return true;
    } catch {
      /* not up yet */
    }
    await sleep(50);
  }
  return false;
}

function statusClient(socketPath: string) {
  return async (opts?: { Gc?: boolean }): Promise<PluginServerStatus> => {
    const c = new RpcClient(socketPath, { timeoutMs: 10_000, poolSize: 1 });
    try {
      return (await c.call('plugin.GetStatus', opts ?? {})) as PluginServerStatus;
    } finally {
      c.close();
    }
  };
}

async function logCounts(adminUrl: string): Promise<{ created: number; finished: number }> {
  const r = await fetch(`${adminUrl}/llm-test-probe/logs`);
  if (!r.ok) throw new Error(`GET /llm-test-probe/logs: ${r.status}`);
  return (await r.json()) as { created: number; finished: number };
}

/** Start a real Kong (or attach to the one named by KONG_PROXY_URL/KONG_ADMIN_URL). */
export async function startKong(opts: KongOptions = {}): Promise<KongHandle> {
  const extProxy = process.env['KONG_PROXY_URL'];
  const extAdmin = process.env['KONG_ADMIN_URL'];
  if (extProxy && extAdmin) return attachKong(extProxy.replace(/\/$/, ''), extAdmin.replace(/\/$/, ''), opts);

  const fl = flavor();
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'kong-it-'));
  const [proxyPort, adminPort, statusPort] = [await freePort(), await freePort(), await freePort()];
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const asKong = workersCanBeKong();

  // Start/query wrappers: nginx workers start commands with an empty environment (no PATH).
  const binDir = path.join(prefix, 'bin');
  fs.mkdirSync(binDir);
  const pluginsDir = opts.pluginsDir ?? path.join(REPO_ROOT, 'dist', 'plugins');
  const env: Record<string, string> = {
    PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    LLM_PLUGINS_HOME: REPO_ROOT,
    LLM_PLUGINS_DIR: pluginsDir,
    LLM_PLUGINSERVER_PREFIX: prefix,
    LLM_NODE: process.execPath,
    ...(opts.env ?? {}),
  };
  const exports = Object.entries(env)
    .map(([k, v]) => `export ${k}=${shQuote(v)}`)
    .join('\n');
  const wrap = (name: string, target: string) => {
    const f = path.join(binDir, name);
    fs.writeFileSync(f, `#!/bin/sh\n${exports}\nexec ${shQuote(target)} "$@"\n`, { mode: 0o755 });
    return f;
  };
  const startCmd = wrap('llm-pluginserver', path.join(REPO_ROOT, 'kong', 'bin', 'llm-pluginserver'));
  const queryCmd = wrap(
    'llm-pluginserver-query',
    path.join(REPO_ROOT, 'kong', 'bin', 'llm-pluginserver-query'),
  );

  // The shipped settings, with the image's paths mapped into this prefix.
  const psConf = fs
    .readFileSync(opts.pluginServerConf ?? shippedPluginServerConf(fl.line), 'utf8')
    .replaceAll('/usr/local/bin/llm-pluginserver-query', queryCmd)
    .replaceAll('/usr/local/bin/llm-pluginserver', startCmd)
    .replaceAll('/usr/local/kong/', `${prefix}/`);
  const socketPath = /_socket\s*=\s*(\S+)/.exec(psConf)?.[1];

  // Lua plugins of kong/plugins on the Lua path (a folder holding kong/plugins/<name>/handler.lua).
  const luaRoot = path.join(prefix, 'lua');
  // (+ the test-only probe that counts JS log phases, see waitForLogs)
  const luaDirs = [
    path.join(REPO_ROOT, 'kong', 'plugins'),
    path.join(REPO_ROOT, 'spec', 'fixtures', 'kong-plugins'),
  ];
  fs.mkdirSync(path.join(luaRoot, 'kong', 'plugins'), { recursive: true });
  const luaPlugins: string[] = [];
  for (const dir of luaDirs)
    for (const p of fs.readdirSync(dir)) {
      fs.symlinkSync(path.join(dir, p), path.join(luaRoot, 'kong', 'plugins', p));
      luaPlugins.push(p);
    }
  // kong-pdk serves every folder and .js/.ts file of the plugins directory as a plugin of that name
  const jsPlugins = fs
    .readdirSync(pluginsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() || /\.(js|ts)$/.test(d.name))
    .map((d) => d.name.replace(/\.(js|ts)$/, ''));

  const conf = [
    `prefix = ${prefix}`,
    'database = off',
    `proxy_listen = 127.0.0.1:${proxyPort}`,
    `admin_listen = 127.0.0.1:${adminPort}`,
    `status_listen = 127.0.0.1:${statusPort}`,
    'admin_gui_listen = off',
    'stream_listen = off',
    `nginx_worker_processes = ${opts.workers ?? 1}`,
    'anonymous_reports = off',
    `log_level = ${opts.logLevel ?? 'info'}`,
    `plugins = bundled,${[...jsPlugins, ...luaPlugins].join(',')}`,
    // as in kong/Dockerfile: prompts are large, keep request bodies in memory
    'nginx_http_client_body_buffer_size = 10m',
    'nginx_http_client_max_body_size = 16m',
    ...(asKong || process.getuid?.() !== 0 ? [] : ['nginx_user = root root']),
    ...fl.conf(prefix, luaRoot),
    ...Object.entries(opts.kongConf ?? {}).map(([k, v]) => `${k} = ${v}`),
    psConf,
  ].join('\n');
  const confFile = path.join(prefix, 'kong-it.conf');
  fs.writeFileSync(confFile, conf + '\n');
  if (asKong) spawnSync('chown', ['-R', 'kong:kong', prefix]);

  const kongEnv: Record<string, string> = {};
  if (fl.line === '3.4') {
    // kong-env's KONG_LUA_PACKAGE_PATH overrides kong.conf: prepend our Lua root to it
    kongEnv['LLM_LUA_PREPEND'] = `${luaRoot}/?.lua;${luaRoot}/?/init.lua;`;
  }
  const started = fl.kong(['start', '-c', confFile], kongEnv);
  const errorLog = path.join(prefix, 'logs', 'error.log');
  const stopKong = async () => {
    fl.kong(['stop', '-p', prefix]);
    const pidFile = path.join(prefix, 'pids', 'nginx.pid');
    for (let i = 0; i < 100; i++) {
      let alive = false;
      try {
        process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 0);
        alive = true;
      } catch {
        /* gone */
      }
      if (!alive) break;
      await sleep(50);
    }
    if (!process.env['KEEP_KONG_PREFIX']) fs.rmSync(prefix, { recursive: true, force: true });
  };
  if (started.status !== 0) {
    const tail = fs.existsSync(errorLog)
      ? fs.readFileSync(errorLog, 'utf8').split('\n').slice(-30).join('\n')
      : '';
    await stopKong();
    throw new Error(`kong start failed (${fl.line}): ${started.out}\n${tail}`);
  }
  const status = statusClient(socketPath ?? path.join(prefix, 'llm-plugins.sock'));
  const handle = makeHandle({
    proxyUrl,
    adminUrl,
    line: fl.line,
    version: fl.version,
    prefix,
    socketPath,
    errorLog,
    // the "declarative reconfigure took" line is logged at info
    workers: ['info', 'debug'].includes(opts.logLevel ?? 'info') ? (opts.workers ?? 1) : undefined,
    status,
    stop: stopKong,
  });
  try {
    if (!(await waitHttp(`${adminUrl}/status`, 30_000))) throw new Error('Kong Admin API did not answer');
    if (socketPath) await handle.waitForPluginServer(undefined, 30_000);
    if (opts.config) await handle.loadConfig(opts.config);
  } catch (e) {
    const tail = fs.existsSync(errorLog)
      ? fs.readFileSync(errorLog, 'utf8').split('\n').slice(-30).join('\n')
      : '';
    await stopKong();
    throw new Error(`${(e as Error).message}\n${tail}`);
  }
  return handle;
}

function makeHandle(h: {
  proxyUrl: string;
  adminUrl: string;
  line: KongLine;
  version: string;
  prefix: string | undefined;
  socketPath: string | undefined;
  errorLog: string | undefined;
  /** nginx workers of a Kong started here (loadConfig waits for each to apply a config) */
  workers?: number;
  status: ((opts?: { Gc?: boolean }) => Promise<PluginServerStatus>) | undefined;
  stop: () => Promise<void>;
}): KongHandle {
  const crash = async (): Promise<void> => {
    if (!h.prefix) throw new Error('crash() needs a Kong started by the harness');
    const pids: number[] = [];
    const st = h.status ? await h.status().catch(() => undefined) : undefined;
    if (st) pids.push(st.Pid);
    const master = Number(fs.readFileSync(path.join(h.prefix, 'pids', 'nginx.pid'), 'utf8'));
    const kids = spawnSync('pgrep', ['-P', String(master)], { encoding: 'utf8' }).stdout ?? '';
    pids.push(master, ...kids.split(/\s+/).filter(Boolean).map(Number));
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await h.stop(); // cleans the prefix (nothing left to stop)
  };
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined)
      throw new Error(
        `${what} is not reachable for this Kong (set KONG_PLUGINSERVER_SOCKET / KONG_ERROR_LOG)`,
      );
    return v;
  };
  const handle: KongHandle = {
    proxyUrl: h.proxyUrl,
    adminUrl: h.adminUrl,
    line: h.line,
    version: h.version,
    prefix: h.prefix,
    socketPath: h.socketPath,
    loadConfig: async (cfg) => {
      // POST /config answers 201 once the config is stored and the reconfigure event is posted; each
      // worker swaps in its new router and plugins iterator later, in its event handler, so a request
      // sent at once can still get 404 "no Route matched" (seen on 3.9.3). Wait until every worker
      // logged "declarative reconfigure took … ms" (info) for this POST.
      const log = h.errorLog;
      const count = (re: RegExp) =>
        log && fs.existsSync(log) ? (fs.readFileSync(log, 'utf8').match(re) ?? []).length : 0;
      const DONE = /declarative reconfigure (took|failed)/g;
      const FAILED = /declarative reconfigure failed/g;
      const [done0, failed0] = [count(DONE), count(FAILED)];
      await postConfig(h.adminUrl, cfg);
      if (!log || !h.workers) return; // external Kong, or a log level that hides the info line
      const deadline = Date.now() + 30_000;
      while (count(DONE) < done0 + h.workers) {
        if (Date.now() > deadline) throw new Error('Kong workers did not apply the new config within 30 s');
        await sleep(10);
      }
      if (count(FAILED) > failed0) throw new Error(`Kong could not apply the config (see ${log})`);
    },
    pluginServerStatus: (o) => need(h.status, 'the plugin server socket')(o),
    pluginServerLog: () => {
      const f = need(h.errorLog, "Kong's error log");
      return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n') : [];
    },
    killPluginServer: async (signal = 'SIGKILL') => {
      const st = await handle.pluginServerStatus();
      process.kill(st.Pid, signal);
      return st.Pid;
    },
    waitForPluginServer: async (oldPid, timeoutMs = 20_000) => {
      const status = need(h.status, 'the plugin server socket');
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      while (Date.now() < deadline) {
        try {
          const st = await status();
          if (st.Pid !== oldPid) return st.Pid;
        } catch (e) {
          last = e;
        }
        await sleep(25);
      }
      throw new Error(`plugin server did not answer within ${timeoutMs} ms: ${String(last)}`);
    },
    waitForLogs: async () => {
      // Kong runs each JS plugin's log phase in a native timer created in the request's log phase,
      // which nginx runs before the worker reads its next request. The test-only probe plugin
      // (spec/fixtures/kong-plugins/llm-test-probe) counts those phases created and finished.
      const deadline = Date.now() + 30_000;
      let c = await logCounts(h.adminUrl);
      while (c.finished < c.created) {
        if (Date.now() > deadline)
          throw new Error(`log phases did not finish within 30 s (${JSON.stringify(c)})`);
        await sleep(5);
        c = await logCounts(h.adminUrl);
      }
    },
    crash,
    stop: h.stop,
  };
  return handle;
}

async function attachKong(proxyUrl: string, adminUrl: string, opts: KongOptions): Promise<KongHandle> {
  if (!(await waitHttp(`${adminUrl}/status`, 10_000)))
    throw new Error(`KONG_ADMIN_URL ${adminUrl} does not answer\n${NO_KONG_HELP}`);
  const socketPath = process.env['KONG_PLUGINSERVER_SOCKET'];
  const handle = makeHandle({
    proxyUrl,
    adminUrl,
    line: process.env['KONG_TEST_VERSION'] === '3.4' ? '3.4' : '3.9',
    version: 'external',
    prefix: undefined,
    socketPath,
    errorLog: process.env['KONG_ERROR_LOG'],
    status: socketPath ? statusClient(socketPath) : undefined,
    stop: async () => undefined,
  });
  if (opts.config) await handle.loadConfig(opts.config);
  return handle;
}
