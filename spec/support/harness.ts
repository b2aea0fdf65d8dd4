/**
 * End-to-end harness: starts what a test needs on free loopback ports and tears it down.
 *
 *  - Redis: REDIS_URL if set; else 127.0.0.1:6379 if reachable; else a private `redis-server` on a free
 *    port (`--save '' --appendonly no`). If none can be had the harness FAILS (never skips).
 *  - Gateway: the test gateway (spec/support/kong) — or, when KONG_PROXY_URL and KONG_ADMIN_URL are
 *    set, a real DB-less Kong: config is loaded with `POST /config` and only HTTP is used.
 *  - Mock LLM: optional, via `mockLlm` (a starter function; spec/support/mock-llm.ts's `startMockLlm`
 *    fits). Its URL replaces `${MOCK_LLM_URL}` in the config template.
 *
 * Config templates: `${NAME}` placeholders are replaced from `vars` + MOCK_LLM_URL + REDIS_URL,
 * REDIS_HOST, REDIS_PORT (+ UPSTREAM_URL if `upstreamUrl` is given).
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { startGateway, REPO_ROOT, type GatewayHandle, type LuaPluginRunner } from './kong';

export interface MockLlmLike {
  url: string;
  stop(): Promise<void>;
}

export interface StackOptions<M extends MockLlmLike = MockLlmLike> {
  /** declarative config (YAML/JSON text or object) with `${VAR}` placeholders */
  config: string | object;
  vars?: Record<string, string>;
  /** start a mock LLM (e.g. `startMockLlm` from spec/support/mock-llm.ts) */
  mockLlm?: () => Promise<M>;
  /** plugin-server settings (default: kong/pluginserver.conf of the repo) */
  pluginServerConf?: string;
  pluginsDir?: string;
  luaPlugins?: string[];
  luaRunner?: LuaPluginRunner;
  kongVersion?: '3.9' | '3.8';
  database?: 'off' | 'memory';
  /** needs Redis? (default true) */
  redis?: boolean;
  env?: Record<string, string>;
  upstreamUrl?: string;
}

export interface Stack<M extends MockLlmLike = MockLlmLike> {
  proxyUrl: string;
  adminUrl: string;
  redisUrl: string | undefined;
  mockLlm: M | undefined;
  /** the emulator handle; undefined against a real Kong */
  gateway: GatewayHandle | undefined;
  realKong: boolean;
  /** substitute placeholders and load a new config (POST /config on a real Kong) */
  loadConfig(cfg: string | object): Promise<void>;
  stop(): Promise<void>;
}

export function substitute(cfg: string | object, vars: Record<string, string>): string | object {
  const sub = (s: string): string => s.replace(/\$\{([A-Z0-9_]+)\}/g, (m, k: string) => vars[k] ?? m);
  if (typeof cfg === 'string') return sub(cfg);
  return JSON.parse(sub(JSON.stringify(cfg))) as object;
}

function canConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.end();
      resolve(true);
    });
    s.once('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function ensureRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (process.env['REDIS_URL']) return { url: process.env['REDIS_URL'], stop: async () => undefined };
  if (await canConnect('127.0.0.1', 6379))
    return { url: 'redis://127.0.0.1:6379', stop: async () => undefined };
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
  } catch (e) {
    throw new Error(
      `no Redis available (REDIS_URL unset, 127.0.0.1:6379 unreachable, redis-server failed: ${(e as Error).message})`,
    );
  }
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (e) => reject(new Error(`redis-server failed to start: ${e.message}`))),
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (await Promise.race([canConnect('127.0.0.1', port, 200), spawnError])) break;
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error('no Redis available: redis-server did not come up');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function postConfig(adminUrl: string, cfg: string | object): Promise<void> {
  const body = typeof cfg === 'string' ? cfg : JSON.stringify(cfg);
  const res = await fetch(`${adminUrl}/config?flatten_errors=1`, {
    method: 'POST',
    headers: {
      'content-type':
        typeof cfg === 'string' && !cfg.trim().startsWith('{') ? 'text/yaml' : 'application/json',
    },
    body,
  });
  if (res.status !== 201) throw new Error(`POST /config failed: ${res.status} ${await res.text()}`);
}

export async function startStack<M extends MockLlmLike = MockLlmLike>(
  opts: StackOptions<M>,
): Promise<Stack<M>> {
  const cleanups: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const vars: Record<string, string> = { ...(opts.vars ?? {}) };
    let redisUrl: string | undefined;
    if (opts.redis !== false) {
      const r = await ensureRedis();
      cleanups.push(r.stop);
      redisUrl = r.url;
      const u = new URL(r.url);
      vars['REDIS_URL'] ??= r.url;
      vars['REDIS_HOST'] ??= u.hostname;
      vars['REDIS_PORT'] ??= u.port || '6379';
    }
    let mock: M | undefined;
    if (opts.mockLlm) {
      mock = await opts.mockLlm();
      cleanups.push(() => (mock as M).stop());
      vars['MOCK_LLM_URL'] ??= mock.url;
    }
    if (opts.upstreamUrl) vars['UPSTREAM_URL'] ??= opts.upstreamUrl;
    const config = substitute(opts.config, vars);

    const proxy = process.env['KONG_PROXY_URL'];
    const admin = process.env['KONG_ADMIN_URL'];
    if (proxy && admin) {
      await postConfig(admin, config);
      return {
        proxyUrl: proxy.replace(/\/$/, ''),
        adminUrl: admin.replace(/\/$/, ''),
        redisUrl,
        mockLlm: mock,
        gateway: undefined,
        realKong: true,
        loadConfig: (c) => postConfig(admin, substitute(c, vars)),
        stop,
      };
    }
    const gw = await startGateway({
      pluginServerConf: opts.pluginServerConf ?? path.join(REPO_ROOT, 'kong', 'pluginserver.conf'),
      ...(opts.pluginsDir ? { pluginsDir: opts.pluginsDir } : {}),
      ...(opts.luaPlugins ? { luaPlugins: opts.luaPlugins } : {}),
      ...(opts.luaRunner ? { luaRunner: opts.luaRunner } : {}),
      ...(opts.kongVersion ? { kongVersion: opts.kongVersion } : {}),
      ...(opts.database ? { database: opts.database } : {}),
      env: { ...(redisUrl ? { REDIS_URL: redisUrl } : {}), ...(opts.env ?? {}) },
      config,
    });
    cleanups.push(() => gw.stop());
    return {
      proxyUrl: gw.proxyUrl,
      adminUrl: gw.adminUrl,
      redisUrl,
      mockLlm: mock,
      gateway: gw,
      realKong: false,
      loadConfig: (c) => gw.loadConfig(substitute(c, vars)),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
