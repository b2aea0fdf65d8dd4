/**
 * Plugin-server discovery, process management and instance handling, as Kong 3.9 does it
 * (kong/runloop/plugin_servers/{process,plugin}.lua, rpc/mp_rpc.lua). Test double: see README.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RpcClient, stepMethodFor } from './rpc';
import { applyPluginSchema, type FieldDef, type SchemaErrors } from './schema';

export type KongVersion = '3.9' | '3.8';

/** Repo root = three levels above spec/support/kong. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Parses kong.conf-style `key = value` lines (`#` comments; Kong also strips trailing comments). */
export function parseKongConf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|[^\\])#.*$/, '$1').trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    out[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  return out;
}

export interface ServerDef {
  name: string;
  socket: string;
  startCmd?: string;
  queryCmd: string;
}

export interface ExternalPluginInfo {
  name: string;
  priority: number;
  version: string;
  phases: string[];
  schema: { name?: string; fields?: Array<Record<string, FieldDef>> };
  server: ServerDef;
  rpc: RpcClient;
}

export interface PluginServerOptions {
  confPath: string;
  pluginsDir?: string;
  kongVersion?: KongVersion;
  /** directory standing in for /usr/local/kong (sockets, prefix) */
  prefixDir: string;
  env?: Record<string, string>;
  logLimit?: number;
}

/** Log sink shared by the gateway (Kong's error log). */
export class KongLog {
  readonly lines: string[] = [];
  constructor(private readonly limit = 5000) {}
  push(level: string, msg: string): void {
    this.lines.push(`[${level}] ${msg}`);
    if (this.lines.length > this.limit) this.lines.splice(0, this.lines.length - this.limit);
  }
}

class ManagedProcess {
  child: ChildProcess | undefined;
  private stopping = false;
  private lastSpawn = 0;
  private respawnTimer: NodeJS.Timeout | undefined;
  exits: Array<{ code: number | null; signal: NodeJS.Signals | null }> = [];
  private exitWaiters: Array<() => void> = [];

  constructor(
    readonly def: ServerDef,
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: KongLog,
  ) {}

  start(): void {
    this.lastSpawn = Date.now();
    // process.lua:154: ngx_pipe.spawn("exec " .. start_command, { merge_stderr = true })
    const child = spawn('/bin/sh', ['-c', `exec ${this.def.startCmd}`], {
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const prefix = `[${this.def.name}:${child.pid ?? '?'}]`;
    const copy = (s: NodeJS.ReadableStream): void => {
      let buf = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          this.log.push('info', `${prefix} ${buf.slice(0, i)}`);
          buf = buf.slice(i + 1);
        }
      });
      s.on('end', () => {
        if (buf) this.log.push('info', `${prefix} ${buf}`);
      });
    };
    if (child.stdout) copy(child.stdout);
    if (child.stderr) copy(child.stderr);
    child.on('exit', (code, signal) => {
      this.exits.push({ code, signal });
      this.log.push(
        'notice',
        `external pluginserver '${this.def.name}' terminated: code ${code} signal ${signal}`,
      );
      if (this.child === child) this.child = undefined;
      const w = this.exitWaiters;
      this.exitWaiters = [];
      for (const f of w) f();
      if (this.stopping) return;
      // process.lua:169-173: exit 127 (command not found) stops respawning
      if (code === 127) {
        this.log.push(
          'error',
          `external pluginserver '${this.def.name}' start command not found; not respawning`,
        );
        return;
      }
      // process.lua:146-160: at least 1 s between spawns
      const wait = Math.max(0, 1000 - (Date.now() - this.lastSpawn));
      this.respawnTimer = setTimeout(() => {
        if (!this.stopping) this.start();
      }, wait);
    });
  }

  waitExit(): Promise<void> {
    if (!this.child) return Promise.resolve();
    return new Promise((r) => this.exitWaiters.push(r));
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.child;
    if (!c) return;
    const p = this.waitExit();
    c.kill(signal);
    await p;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.respawnTimer) clearTimeout(this.respawnTimer);
    // process.lua:206-224: SIGTERM on worker exit
    await this.kill('SIGTERM');
  }
}

export async function waitForSocket(p: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const dir = path.dirname(p);
  while (!fs.existsSync(p)) {
    if (Date.now() > deadline)
      throw new Error(`plugin server socket ${p} did not appear within ${timeoutMs} ms`);
    await new Promise<void>((resolve) => {
      let w: fs.FSWatcher | undefined;
      const t = setTimeout(done, 50);
      function done(): void {
        clearTimeout(t);
        w?.close();
        resolve();
      }
      try {
        w = fs.watch(dir, done);
      } catch {
        /* fall back to the timer */
      }
    });
  }
}

interface RunningInstance {
  id: number | undefined;
  seq: unknown;
  pluginId: unknown;
  creating?: Promise<number>;
}

export type PdkOutcome =
  | { kind: 'value'; value: unknown }
  /** a Lua error or ngx.exit: Kong never steps the event again */
  | { kind: 'abort'; error?: string };

export type PdkHandler = (method: string, args: unknown[]) => Promise<PdkOutcome>;

export interface EventResult {
  /** false when the RPC failed (Kong logs and continues: fail open) */
  ok: boolean;
  aborted?: boolean;
  error?: string;
  pdkCalls: number;
}

/**
 * Discovery + processes + instances. One per gateway.
 */
export class PluginServers {
  readonly plugins = new Map<string, ExternalPluginInfo>();
  readonly servers: ServerDef[] = [];
  private readonly processes: ManagedProcess[] = [];
  private readonly rpcs = new Map<string, RpcClient>();
  private readonly instances = new Map<string, RunningInstance>();
  readonly log: KongLog;
  readonly env: NodeJS.ProcessEnv;
  readonly kongVersion: KongVersion;

  constructor(
    private readonly opts: PluginServerOptions,
    log?: KongLog,
  ) {
    this.log = log ?? new KongLog(opts.logLimit);
    this.kongVersion = opts.kongVersion ?? '3.9';
    this.env = {
      ...process.env,
      LLM_PLUGINS_HOME: REPO_ROOT,
      LLM_PLUGINS_DIR: opts.pluginsDir ?? path.join(REPO_ROOT, 'dist', 'plugins'),
      LLM_PLUGINSERVER_PREFIX: opts.prefixDir,
      LLM_NODE: process.execPath,
      ...(opts.env ?? {}),
    };
  }

  /** `/usr/local/bin/<x>` → `<repo>/kong/bin/<x>`, `/usr/local/kong` → the per-gateway prefix dir. */
  mapPath(s: string): string {
    return s
      .replace(/\/usr\/local\/bin\//g, path.join(REPO_ROOT, 'kong', 'bin') + '/')
      .replace(/\/usr\/local\/kong(?=\/|\s|$)/g, this.opts.prefixDir);
  }

  /** Reads the settings and runs every query command (Kong init, process.lua:47-85). */
  discover(): void {
    const conf = parseKongConf(fs.readFileSync(this.opts.confPath, 'utf8'));
    const names = (conf['pluginserver_names'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const name of names) {
      const k = name.replace(/-/g, '_'); // conf_loader/init.lua:1048
      const socket = conf[`pluginserver_${k}_socket`] ?? `/usr/local/kong/${name}.socket`; // 3.9 default
      const queryCmd = conf[`pluginserver_${k}_query_cmd`];
      const startCmd = conf[`pluginserver_${k}_start_cmd`];
      if (!queryCmd && this.kongVersion === '3.9')
        // 3.9 default query is `/usr/local/bin/<name> -dump` (conf_loader/init.lua:1054-1067)
        throw new Error(`no query command for pluginserver '${name}'`);
      const def: ServerDef = {
        name,
        socket: this.mapPath(socket),
        queryCmd: this.mapPath(queryCmd ?? `/usr/local/bin/query_${name}`),
        ...(startCmd ? { startCmd: this.mapPath(startCmd) } : {}),
      };
      this.servers.push(def);
      for (const info of this.query(def)) {
        if (this.plugins.has(info.name))
          this.log.push(
            'warn',
            `plugin '${info.name}' already registered; ignoring duplicate from '${name}'`,
          );
        else this.plugins.set(info.name, info);
      }
    }
  }

  /** Total RPC calls made to every plugin server (benchmarks count PDK round trips with it). */
  rpcCalls(): number {
    let n = 0;
    for (const r of this.rpcs.values()) n += r.calls;
    return n;
  }

  private rpcFor(socket: string): RpcClient {
    let r = this.rpcs.get(socket);
    if (!r) {
      r = new RpcClient(socket);
      this.rpcs.set(socket, r);
    }
    return r;
  }

  private query(def: ServerDef): ExternalPluginInfo[] {
    const res = spawnSync('/bin/sh', ['-c', def.queryCmd], {
      env: this.env,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (res.error) throw new Error(`failed running query command of '${def.name}': ${res.error.message}`);
    if (res.stderr)
      for (const l of res.stderr.split('\n')) if (l) this.log.push('info', `[${def.name}:query] ${l}`);
    let dump: unknown;
    try {
      // Kong parses the whole stdout as one JSON document (process.lua:47-85)
      dump = JSON.parse(res.stdout);
    } catch (e) {
      throw new Error(
        `failed decoding plugin info of pluginserver '${def.name}' (stdout must be exactly one JSON document): ` +
          `${(e as Error).message}; stdout was: ${JSON.stringify(res.stdout.slice(0, 500))}; exit ${res.status}`,
      );
    }
    const list = (
      dump && typeof dump === 'object' && !Array.isArray(dump) && 'Plugins' in dump
        ? (dump as { Plugins: unknown }).Plugins
        : dump
    ) as unknown[];
    if (!Array.isArray(list) || list.length === 0)
      throw new Error(`pluginserver '${def.name}': query output holds no plugin info`);
    // 3.9: `local info = (dump.Plugins or dump)[1]` — only the first plugin (process.lua:69-84)
    const infos = this.kongVersion === '3.9' ? list.slice(0, 1) : list;
    return infos.map((raw) => {
      const i = raw as Record<string, unknown>;
      if (typeof i['Name'] !== 'string')
        throw new Error(`pluginserver '${def.name}': not a plugin info table`);
      return {
        name: i['Name'],
        priority: typeof i['Priority'] === 'number' ? i['Priority'] : 0,
        version: String(i['Version'] ?? ''),
        phases: Array.isArray(i['Phases']) ? (i['Phases'] as string[]) : [],
        schema: (i['Schema'] ?? {}) as ExternalPluginInfo['schema'],
        server: def,
        rpc: this.rpcFor(def.socket),
      };
    });
  }

  /** Spawns every entry with a start command and waits for the sockets (3.9: worker 0 timer). */
  async start(timeoutMs = 20_000): Promise<void> {
    fs.mkdirSync(this.opts.prefixDir, { recursive: true });
    for (const def of this.servers) {
      if (!def.startCmd) continue;
      const p = new ManagedProcess(def, this.env, this.log);
      this.processes.push(p);
      p.start();
    }
    const sockets = new Set(this.servers.map((s) => s.socket));
    await Promise.all([...sockets].map((s) => waitForSocket(s, timeoutMs)));
    // The file appears at bind(); listen() follows. Real Kong has the same start-up race (requests
    // in the first moments run without the plugin, kong-runtime.md §11); tests start once it answers.
    const deadline = Date.now() + timeoutMs;
    for (const s of sockets) {
      for (;;) {
        try {
          await this.rpcFor(s).call('plugin.GetStatus', null);
          break;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }
  }

  /** Kills the managed plugin server(s); Kong respawns them. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await Promise.all(this.processes.map((p) => p.kill(signal)));
  }

  processInfo(): Array<{ name: string; pid: number | undefined; exits: number }> {
    return this.processes.map((p) => ({ name: p.def.name, pid: p.child?.pid, exits: p.exits.length }));
  }

  async stop(): Promise<void> {
    for (const r of this.rpcs.values()) r.close();
    await Promise.all(this.processes.map((p) => p.stop()));
  }

  /** Config exactly as Kong would send it (defaults applied) — without the iterator's fields. */
  buildConfig(
    name: string,
    conf: Record<string, unknown> | null | undefined,
  ): {
    config: Record<string, unknown>;
    errors?: SchemaErrors;
  } {
    const info = this.plugins.get(name);
    if (!info) throw new Error(`plugin '${name}' is not installed`);
    return applyPluginSchema(info.schema, conf);
  }

  /** GetStatus over RPC on the socket serving `name` (or the first server). */
  async status(name?: string): Promise<unknown> {
    const info = name ? this.plugins.get(name) : this.plugins.values().next().value;
    if (!info) throw new Error('no external plugin registered');
    return info.rpc.call('plugin.GetStatus', null);
  }

  /** plugin.lua:201-224 — drop all cached instances of a plugin. */
  resetInstances(name: string): void {
    for (const [k, v] of this.instances)
      if (k.startsWith(`${name}\u0000`)) (this.instances.delete(k), void v);
  }

  /** plugin.lua:237-303 — get or (re)start the instance for this plugin entity/config. */
  async getInstance(name: string, conf: Record<string, unknown>): Promise<number> {
    const info = this.plugins.get(name);
    if (!info) throw new Error(`plugin '${name}' is not installed`);
    const key = `${name}\u0000${String(conf['__plugin_id'] ?? name)}`;
    let inst = this.instances.get(key);
    if (inst?.creating) {
      await inst.creating.catch(() => undefined);
      inst = this.instances.get(key);
    }
    // reuse iff id set, seq matches and __plugin_id matches (plugin.lua:258-265)
    if (
      inst &&
      inst.id !== undefined &&
      inst.seq === conf['__seq__'] &&
      inst.pluginId === conf['__plugin_id']
    )
      return inst.id;
    const old = inst?.id;
    const next: RunningInstance = { id: undefined, seq: conf['__seq__'], pluginId: conf['__plugin_id'] };
    next.creating = (async () => {
      const res = (await info.rpc.call('plugin.StartInstance', {
        Name: name,
        Config: JSON.stringify(conf), // mp_rpc.lua:224-241: Config is cjson.encode(conf)
      })) as { Id: number };
      return res.Id;
    })();
    this.instances.set(key, next);
    try {
      next.id = await next.creating;
    } catch (e) {
      if (this.instances.get(key) === next) this.instances.delete(key);
      throw e;
    } finally {
      delete next.creating;
    }
    if (old !== undefined) {
      // plugin.lua:281-300: close the old one, errors ignored
      info.rpc.call('plugin.CloseInstance', old).catch(() => undefined);
    }
    return next.id;
  }

  /**
   * Kong's bridge loop (mp_rpc.lua:264-320). Never throws: RPC errors are logged (fail open).
   * An error containing "no plugin instance" resets the plugin's instances and retries.
   */
  async runEvent(
    name: string,
    conf: Record<string, unknown>,
    phase: string,
    pdk: PdkHandler,
  ): Promise<EventResult> {
    const info = this.plugins.get(name);
    if (!info) return { ok: false, error: `plugin '${name}' not installed`, pdkCalls: 0 };
    let pdkCalls = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const iid = await this.getInstance(name, conf);
        let step = (await info.rpc.call('plugin.HandleEvent', { InstanceId: iid, EventName: phase })) as {
          EventId: number;
          Data: unknown;
        };
        while (step.Data !== 'ret') {
          const d = step.Data as { Method?: string; Args?: unknown[] } | null;
          const method = d?.Method ?? '';
          const args = Array.isArray(d?.Args) ? d.Args : [];
          pdkCalls++;
          const out = await pdk(method, args);
          if (out.kind === 'abort')
            return { ok: true, aborted: true, pdkCalls, ...(out.error ? { error: out.error } : {}) };
          step = (await info.rpc.call(stepMethodFor(method, out.value), {
            EventId: step.EventId,
            Data: out.value,
          })) as { EventId: number; Data: unknown };
        }
        return { ok: true, pdkCalls };
      } catch (e) {
        const msg = (e as Error).message;
        if (msg.includes('no plugin instance')) {
          this.log.push('notice', `[${name}] plugin server lost the instance (${msg}); resetting instances`);
          this.resetInstances(name);
          continue;
        }
        this.log.push('error', `[${name}] plugin server call failed in ${phase}: ${msg}`);
        return { ok: false, error: msg, pdkCalls };
      }
    }
    return { ok: false, error: 'too many instance resets', pdkCalls };
  }
}
