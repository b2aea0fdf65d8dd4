/**
 * Runs Kong Lua plugins (kong/plugins/<name>/handler.lua) in a real LuaJIT child process so the
 * test gateway exercises the exact Lua code Kong runs, byte for byte.
 *
 * One long-lived `luajit spec/support/lua-host-driver.lua` serves all requests; calls are
 * multiplexed by id over a length-prefixed binary protocol on stdin/stdout (see the driver).
 * kong.ctx.shared crosses as JSON snapshots: each call sends the shared values the request can
 * see, and the Lua side's writes come back and are applied with `shared.set`.
 * Needs the Debian packages `luajit` and `lua-cjson`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';

// The runner interface is the test gateway's (spec/support/kong/gateway.ts); this module implements it.
import type { LuaPluginInfo, LuaPluginRunner, LuaRequest, SharedCtx } from './kong/gateway';
export type { LuaPluginInfo, LuaPluginRunner, LuaRequest, SharedCtx };

export interface LuaRunnerOptions {
  /** default <repo>/kong/plugins */
  pluginsDir?: string;
  /** default ['llm-response-tap'] */
  plugins?: string[];
  /** LuaJIT binary; default $LUAJIT or `luajit` */
  luajit?: string;
  /** shared keys sent to Lua when the SharedCtx cannot list its keys */
  sharedKeys?: string[];
  /** receives kong.log / ngx.log lines; default: err and worse go to stderr */
  onLog?: (level: string, message: string, plugin: string) => void;
  /** clock for ngx.now(); default Date.now */
  now?: () => number;
}

const REPO = path.resolve(__dirname, '..', '..');
const DRIVER = path.join(__dirname, 'lua-host-driver.lua');
// the llm.* keys of lib/kong/shared-ctx.ts
const DEFAULT_SHARED_KEYS = [
  'llm.pii_restore',
  'llm.tap',
  'llm.route',
  'llm.accounting',
  'llm.cache',
  'llm.guard',
];

const OP = { hello: 1, start: 2, header: 3, body: 4, log: 5, end: 6 } as const;

interface FieldInfo {
  name: string;
  type?: string;
  default?: unknown;
  required?: boolean;
  fields?: FieldInfo[];
}
interface PluginHello {
  name: string;
  priority: number;
  version: string;
  phases: string[];
  config: FieldInfo[];
}
interface Reply {
  json: Record<string, unknown>;
  raw: Buffer;
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Kong fills absent (or null) fields with schema defaults, recursing into records. */
function applyDefaults(fields: FieldInfo[], conf: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...conf };
  for (const f of fields) {
    const v = out[f.name];
    if (f.type === 'record' && f.fields) {
      if (v === undefined || v === null) {
        out[f.name] = f.default !== undefined ? clone(f.default) : applyDefaults(f.fields, {});
      } else if (typeof v === 'object' && !Array.isArray(v)) {
        out[f.name] = applyDefaults(f.fields, v as Record<string, unknown>);
      }
    } else if ((v === undefined || v === null) && f.default !== undefined) {
      out[f.name] = clone(f.default);
    }
  }
  return out;
}

function asArray<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

/** Lone UTF-16 surrogates (valid in a JS string, e.g. from a JSON body's "\ud800" escape). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * JSON for the Lua driver. lua-cjson rejects a lone-surrogate escape ("\ud800") and the driver would exit;
 * Kong's msgpack transport passes such strings as (invalid) bytes or U+FFFD instead, so replace them.
 */
function toLuaJson(json: unknown): string {
  return JSON.stringify(json ?? {}, (_k, v: unknown) =>
    typeof v === 'string' ? v.replace(LONE_SURROGATE, '\uFFFD') : v,
  );
}

function encode(op: number, id: number, json: unknown, raw?: Buffer): Buffer {
  const j = Buffer.from(toLuaJson(json), 'utf8');
  const r = raw ?? Buffer.alloc(0);
  const head = Buffer.alloc(13);
  head.writeUInt32BE(9 + j.length + r.length, 0);
  head.writeUInt8(op, 4);
  head.writeUInt32BE(id, 5);
  head.writeUInt32BE(j.length, 9);
  return Buffer.concat([head, j, r]);
}

/** Lists what the request can see; MapSharedCtx (spec/support/kong/pdk.ts) exposes its Map. */
function sharedSnapshot(shared: SharedCtx, keys: Set<string>): Record<string, unknown> {
  const all = new Set(keys);
  const s = shared as unknown as { map?: unknown; keys?: unknown };
  let listed: Iterable<unknown> = [];
  if (s.map instanceof Map) listed = s.map.keys();
  else if (typeof s.keys === 'function') listed = (s.keys as () => Iterable<unknown>).call(shared);
  for (const k of listed) if (typeof k === 'string') all.add(k);
  const snap: Record<string, unknown> = {};
  for (const k of all) {
    const v = shared.get(k);
    if (v !== undefined && v !== null && typeof v !== 'function') snap[k] = v;
  }
  return snap;
}

class Host implements LuaPluginRunner {
  private child: ChildProcessWithoutNullStreams;
  private nextId = 1;
  private nextRid = 1;
  private pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private buf: Buffer = Buffer.alloc(0);
  private dead: Error | undefined;
  private stderr = '';
  private exited: Promise<void>;
  private infos = new Map<string, LuaPluginInfo>();

  constructor(
    private opts: Required<Pick<LuaRunnerOptions, 'pluginsDir' | 'plugins' | 'luajit'>> & LuaRunnerOptions,
  ) {
    this.child = spawn(opts.luajit, [DRIVER, opts.pluginsDir, opts.plugins.join(',')], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.child.once('close', () => resolve()));
    // A runner a test forgot to close must not keep the test process alive (node:test waits for
    // every file's process to exit): the driver and its pipes do not hold the event loop.
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr])
      (s as unknown as { unref?: () => void }).unref?.();
    this.child.stdout.on('data', (d: Buffer) => this.onData(d));
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-4000);
    });
    this.child.on('error', (e) =>
      this.fail(
        new Error(`lua-host: cannot run ${opts.luajit}: ${e.message} (apt-get install -y luajit lua-cjson)`),
      ),
    );
    this.child.on('close', (code, signal) =>
      this.fail(new Error(`lua-host: luajit exited (${code ?? signal}) ${this.stderr.trim()}`)),
    );
    this.child.stdin.on('error', () => undefined); // reported through 'close'
  }

  private fail(e: Error): void {
    if (!this.dead) this.dead = e;
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (this.buf.length < 4 + len) break;
      const body = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      const status = body.readUInt8(0);
      const id = body.readUInt32BE(1);
      const jlen = body.readUInt32BE(5);
      const json = JSON.parse(body.subarray(9, 9 + jlen).toString('utf8')) as Record<string, unknown>;
      const raw = Buffer.from(body.subarray(9 + jlen));
      const p = this.pending.get(id);
      if (!p) continue;
      this.pending.delete(id);
      if (this.pending.size === 0) this.holdLoop(false);
      if (status === 0) p.resolve({ json, raw });
      else p.reject(new Error(`lua-host: ${String(json['error'])}`));
    }
  }

  /** Keep the event loop alive only while a call waits for the driver. */
  private holdLoop(hold: boolean): void {
    for (const h of [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as unknown as {
      ref?: () => void;
      unref?: () => void;
    }[]) {
      if (hold) h.ref?.();
      else h.unref?.();
    }
  }

  call(op: number, json: unknown, raw?: Buffer): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.holdLoop(true);
      this.child.stdin.write(encode(op, id, json, raw));
    });
  }

  async hello(): Promise<void> {
    const r = await this.call(OP.hello, {});
    const plugins = (r.json['plugins'] ?? {}) as Record<string, PluginHello>;
    for (const [name, p] of Object.entries(plugins)) {
      const fields = asArray<FieldInfo>(p.config);
      this.infos.set(name, {
        name,
        priority: p.priority,
        version: p.version,
        phases: asArray<string>(p.phases),
        defaults: (conf) => applyDefaults(fields, conf ?? {}),
      });
    }
  }

  info(name: string): LuaPluginInfo | undefined {
    return this.infos.get(name);
  }

  startRequest(
    name: string,
    conf: Record<string, unknown>,
    shared: SharedCtx,
    req: { startMs: number; method: string; path: string; headers: Record<string, string | string[]> },
  ): LuaRequest {
    const info = this.infos.get(name);
    if (!info) throw new Error(`lua-host: unknown Lua plugin ${name}`);
    const rid = this.nextRid++;
    const keys = new Set(this.opts.sharedKeys ?? DEFAULT_SHARED_KEYS);
    const now = this.opts.now ?? Date.now;
    const onLog =
      this.opts.onLog ??
      ((level: string, msg: string, plugin: string) => {
        if (['err', 'crit', 'alert', 'emerg'].includes(level))
          process.stderr.write(`[lua-host ${plugin}] ${level}: ${msg}\n`);
      });
    // calls of one request are chained so they reach Lua in order even if not awaited
    let chain: Promise<unknown> = this.call(OP.start, {
      rid,
      plugin: name,
      conf: info.defaults(conf),
      startMs: req.startMs,
      method: req.method,
      path: req.path,
      headers: req.headers,
    });
    let finished = false;
    const apply = (r: Reply): void => {
      const writes = (r.json['writes'] ?? {}) as Record<string, unknown>;
      for (const [k, v] of Object.entries(writes)) {
        keys.add(k);
        shared.set(k, v);
      }
      // cjson encodes an empty Lua table as {}: only trust real arrays
      for (const k of asArray<string>(r.json['deleted'])) shared.set(k, undefined);
      for (const l of asArray<[string, string]>(r.json['logs'])) onLog(l[0], l[1], name);
    };
    const send = (op: number, json: Record<string, unknown>, raw?: Buffer): Promise<Reply> => {
      const p = chain.then(
        () => this.call(op, { rid, nowMs: now(), shared: sharedSnapshot(shared, keys), ...json }, raw),
        () => this.call(op, { rid, nowMs: now(), shared: sharedSnapshot(shared, keys), ...json }, raw),
      );
      chain = p.catch(() => undefined);
      return p.then((r) => {
        apply(r);
        return r;
      });
    };
    return {
      headerFilter: async (status, headers) => {
        const r = await send(OP.header, { status, headers });
        return (r.json['headers'] ?? {}) as Record<string, string | string[]>;
      },
      bodyFilter: async (chunk, eof) => {
        if (finished) return chunk;
        if (eof) finished = true;
        const r = await send(OP.body, { eof }, chunk);
        return r.raw;
      },
      log: async () => {
        if (finished) return;
        finished = true;
        await send(OP.log, {});
      },
    };
  }

  async close(): Promise<void> {
    this.holdLoop(true); // wait for the driver to exit
    if (!this.dead) this.child.stdin.end();
    await this.exited;
  }
}

export async function createLuaRunner(opts: LuaRunnerOptions = {}): Promise<LuaPluginRunner> {
  const host = new Host({
    ...opts,
    pluginsDir: path.resolve(opts.pluginsDir ?? path.join(REPO, 'kong', 'plugins')),
    plugins: opts.plugins ?? ['llm-response-tap'],
    luajit: opts.luajit ?? process.env['LUAJIT'] ?? 'luajit',
  });
  try {
    await host.hello();
  } catch (e) {
    await host.close().catch(() => undefined);
    throw e;
  }
  return host;
}

export default createLuaRunner;
