/**
 * Test gateway: Kong 3.9's proxy path + Admin API around the REAL JS plugin server. Test double only
 * (see README.md for what is and is not emulated).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { BUNDLED, type BundledPlugin } from './bundled';
import {
  buildModel,
  ConfigError,
  parseConfigText,
  stableId,
  type Entity,
  type Model,
  type PluginEntity,
} from './config';
import {
  callPdk,
  Headers,
  kongError,
  KONG_VERSION,
  NODE_ID,
  RequestState,
  takeSnapshot,
  type ExitResponse,
  type LogSnapshot,
  type Phase,
  type SharedCtx,
} from './pdk';
import { KongLog, PluginServers, type EventResult, type KongVersion } from './plugin-server';
import { applyPluginSchema, processField, type FieldDef } from './schema';

// ---------------------------------------------------------------------------------------------
// Lua plugin runner interface (implemented by spec/support/lua-host.ts, written elsewhere)

export type { SharedCtx } from './pdk';
export interface LuaPluginInfo {
  name: string;
  priority: number;
  version: string;
  phases: string[];
  defaults(conf: Record<string, unknown>): Record<string, unknown>;
}
export interface LuaRequest {
  /** header_filter: returns the headers to send (may drop content-length) */
  headerFilter(
    status: number,
    headers: Record<string, string | string[]>,
  ): Promise<Record<string, string | string[]>>;
  /** body_filter: called per upstream chunk and once with eof=true (chunk may be empty); returns the bytes to send now */
  bodyFilter(chunk: Buffer, eof: boolean): Promise<Buffer>;
  /** log phase (Kong runs Lua log handlers in the log phase itself, before the JS log timers) */
  log?(): Promise<void>;
}
export interface LuaPluginRunner {
  info(name: string): LuaPluginInfo | undefined;
  startRequest(
    name: string,
    conf: Record<string, unknown>,
    shared: SharedCtx,
    req: { startMs: number; method: string; path: string; headers: Record<string, string | string[]> },
  ): LuaRequest;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------

export interface GatewayOptions {
  /** kong.conf-style file with the pluginserver_* settings; omit for a gateway without JS plugins */
  pluginServerConf?: string;
  pluginsDir?: string;
  kongVersion?: KongVersion;
  luaPlugins?: string[];
  luaRunner?: LuaPluginRunner;
  config?: string | object;
  database?: 'off' | 'memory';
  /** extra env for the plugin server / query commands */
  env?: Record<string, string>;
  /** verify upstream TLS certificates (Kong's default `nginx_proxy_ssl_verify` is off) */
  upstreamTlsVerify?: boolean;
  socketTimeoutMs?: number;
}

type PluginKind = 'external' | 'bundled' | 'lua';
interface PluginDef {
  name: string;
  kind: PluginKind;
  priority: number;
  version: string;
  phases: string[];
  schema: unknown;
  bundled?: BundledPlugin;
}

interface Collected {
  def: PluginDef;
  entity: PluginEntity;
  conf: Record<string, unknown>;
  lua?: LuaRequest;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

function headersFromNode(raw: string[]): Headers {
  const h = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) h.add(raw[i] as string, raw[i + 1] as string);
  return h;
}

function headersToRecord(h: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of h.list) {
    const cur = out[k];
    if (cur === undefined) out[k] = v;
    else if (Array.isArray(cur)) cur.push(v);
    else out[k] = [cur, v];
  }
  return out;
}

function headersFromRecord(r: Record<string, string | string[]>): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(r)) for (const x of Array.isArray(v) ? v : [v]) h.add(k, String(x));
  return h;
}

/** flat raw-header array [k, v, k, v, ...] (keeps order, case and duplicates) */
function nodeHeaders(h: Headers): string[] {
  return h.list.flat();
}

export class Gateway {
  readonly log: KongLog = new KongLog();
  readonly pluginServers: PluginServers | undefined;
  private model: Model | undefined;
  private seq = 0;
  private readonly defs = new Map<string, PluginDef>();
  private proxy: http.Server | undefined;
  private admin: http.Server | undefined;
  private readonly pendingLogs = new Set<Promise<void>>();
  private readonly prefixDir: string;
  private readonly agents = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  };
  private luaRunner: LuaPluginRunner | undefined;
  proxyUrl = '';
  adminUrl = '';
  /** count of log phases run, for tests */
  logPhasesRun = 0;

  constructor(private readonly opts: GatewayOptions) {
    this.prefixDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kgw-'));
    if (opts.pluginServerConf)
      this.pluginServers = new PluginServers(
        {
          confPath: opts.pluginServerConf,
          prefixDir: this.prefixDir,
          ...(opts.pluginsDir ? { pluginsDir: opts.pluginsDir } : {}),
          ...(opts.kongVersion ? { kongVersion: opts.kongVersion } : {}),
          ...(opts.env ? { env: opts.env } : {}),
        },
        this.log,
      );
    this.luaRunner = opts.luaRunner;
  }

  async start(): Promise<void> {
    for (const b of BUNDLED.values())
      this.defs.set(b.name, {
        name: b.name,
        kind: 'bundled',
        priority: b.priority,
        version: b.version,
        phases: b.phases,
        schema: b.schema,
        bundled: b,
      });
    if (this.opts.luaPlugins?.length && !this.luaRunner) this.luaRunner = await loadLuaRunner();
    for (const name of this.opts.luaPlugins ?? []) {
      const info = this.luaRunner?.info(name);
      if (!info) throw new Error(`${name} plugin is enabled but not installed (no Lua runner knows it)`);
      this.defs.set(name, {
        name,
        kind: 'lua',
        priority: info.priority,
        version: info.version,
        phases: info.phases,
        schema: { name, fields: [] },
      });
    }
    if (this.pluginServers) {
      this.pluginServers.discover();
      for (const p of this.pluginServers.plugins.values()) {
        if (this.defs.has(p.name)) continue; // Lua modules win on name clashes (plugin_loader.lua:16-25)
        this.defs.set(p.name, {
          name: p.name,
          kind: 'external',
          priority: p.priority,
          version: p.version,
          phases: p.phases,
          schema: p.schema,
        });
      }
      await this.pluginServers.start();
    }
    this.model = this.build(this.opts.config ?? { _format_version: '3.0' });
    this.proxy = http.createServer((req, res) => void this.handleProxy(req, res));
    this.proxy.keepAliveTimeout = 60_000;
    this.admin = http.createServer((req, res) => void this.handleAdmin(req, res));
    this.proxyUrl = `http://127.0.0.1:${await listen(this.proxy)}`;
    this.adminUrl = `http://127.0.0.1:${await listen(this.admin)}`;
  }

  async stop(): Promise<void> {
    await this.waitForLogs();
    await Promise.all([close(this.proxy), close(this.admin)]);
    this.agents.http.destroy();
    this.agents.https.destroy();
    await this.pluginServers?.stop();
    if (this.luaRunner && !this.opts.luaRunner) await this.luaRunner.close();
    fs.rmSync(this.prefixDir, { recursive: true, force: true });
  }

  /** Resolves when every log phase started so far has finished. */
  async waitForLogs(): Promise<void> {
    while (this.pendingLogs.size) await Promise.all([...this.pendingLogs]);
  }

  // ------------------------------------------------------------------------- configuration

  private buildPluginConf(
    name: string,
    conf: Record<string, unknown> | undefined,
  ): { config: Record<string, unknown>; errors?: Record<string, unknown> } | undefined {
    const def = this.defs.get(name);
    if (!def) return undefined;
    if (def.kind === 'external') return this.pluginServers?.buildConfig(name, conf);
    if (def.kind === 'bundled')
      return applyPluginSchema(def.bundled?.schema as { fields: Array<Record<string, FieldDef>> }, conf);
    return { config: this.luaRunner?.info(name)?.defaults(conf ?? {}) ?? conf ?? {} };
  }

  build(cfg: string | object): Model {
    const doc = parseConfigText(cfg);
    return buildModel(doc, { build: (n, c) => this.buildPluginConf(n, c) }, () => ++this.seq);
  }

  loadConfig(cfg: string | object): void {
    this.model = this.build(cfg);
  }

  get currentModel(): Model {
    if (!this.model) throw new Error('gateway not started');
    return this.model;
  }

  /** the config table Kong sends to StartInstance (plugins_iterator.lua:157-190) */
  private iteratorConf(p: PluginEntity): Record<string, unknown> {
    const cached = confCache.get(p);
    if (cached) return cached;
    const c: Record<string, unknown> = {
      ...p.config,
      route_id: p.route?.id ?? null,
      service_id: p.service?.id ?? null,
      consumer_id: p.consumer?.id ?? null,
      plugin_instance_name: p.instance_name,
      __plugin_id: p.id,
      __ws_id: '0dc6f45b-8f8d-40d2-a504-473544ee190b',
      __key__: `plugins:${p.name}:${p.route?.id ?? ''}:${p.service?.id ?? ''}:${p.consumer?.id ?? ''}::0dc6f45b-8f8d-40d2-a504-473544ee190b`,
      __seq__: p.__seq__,
    };
    confCache.set(p, c);
    return c;
  }

  /** plugins_iterator.lua: most specific combination wins. */
  private resolve(
    model: Model,
    name: string,
    st: RequestState,
    globalOnly: boolean,
  ): PluginEntity | undefined {
    const R = st.route?.id as string | undefined;
    const S = st.service?.id as string | undefined;
    const C = st.consumer?.id as string | undefined;
    const cands = model.plugins.filter((p) => p.name === name && p.enabled);
    const match = (r?: string, s?: string, c?: string): PluginEntity | undefined =>
      cands.find(
        (p) =>
          (p.route?.id ?? undefined) === r &&
          (p.service?.id ?? undefined) === s &&
          (p.consumer?.id ?? undefined) === c,
      );
    if (globalOnly) return match();
    const combos: Array<[string | undefined, string | undefined, string | undefined]> = [
      [R, S, C],
      [R, undefined, C],
      [undefined, S, C],
      [R, S, undefined],
      [undefined, undefined, C],
      [R, undefined, undefined],
      [undefined, S, undefined],
      [undefined, undefined, undefined],
    ];
    for (const [r, s, c] of combos) {
      if (combosInvalid(r, s, c, R, S, C)) continue;
      const p = match(r, s, c);
      if (p) return p;
    }
    return undefined;
  }

  private pluginNamesByPriority(model: Model): PluginDef[] {
    const names = new Set(model.plugins.filter((p) => p.enabled).map((p) => p.name));
    return [...names]
      .map((n) => this.defs.get(n))
      .filter((d): d is PluginDef => !!d)
      .sort((a, b) => b.priority - a.priority || a.name.localeCompare(b.name));
  }

  // ------------------------------------------------------------------------- routing

  private matchRoute(
    model: Model,
    method: string,
    host: string,
    p: string,
  ): { route: Entity; service: Entity | undefined; matched: string } | undefined {
    let best: { route: Entity; service: Entity | undefined; matched: string; score: number[] } | undefined;
    for (const route of model.routes) {
      const methods = route['methods'] as string[] | null;
      if (methods && !methods.map((m) => m.toUpperCase()).includes(method)) continue;
      const hosts = route['hosts'] as string[] | null;
      if (hosts && !hosts.some((h) => hostMatches(h, host))) continue;
      const paths = route['paths'] as string[] | null;
      let matched = '';
      let isRegex = false;
      if (paths) {
        let ok = false;
        for (const rp of paths) {
          if (rp.startsWith('~')) {
            const m = new RegExp(`^${rp.slice(1)}`).exec(p);
            if (m && (!ok || m[0].length > matched.length)) {
              ok = true;
              matched = m[0];
              isRegex = true;
            }
          } else if (p.startsWith(rp) && (!ok || rp.length > matched.length)) {
            ok = true;
            matched = rp;
          }
        }
        if (!ok) continue;
      }
      // router/traditional: more criteria first, then regex_priority for regex paths, then longest path
      const score = [
        (hosts ? 1 : 0) + (methods ? 1 : 0) + (paths ? 1 : 0),
        isRegex ? 1 : 0,
        isRegex ? (route['regex_priority'] as number) : 0,
        matched.length,
      ];
      if (!best || cmp(score, best.score) > 0) {
        const sid = (route['service'] as { id: string } | null)?.id;
        best = { route, service: model.services.find((s) => s.id === sid), matched, score };
      }
    }
    return best;
  }

  // ------------------------------------------------------------------------- proxy

  private async handleProxy(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    req.socket.setNoDelay(true);
    const model = this.currentModel;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const st = new RequestState({
      method: (req.method ?? 'GET').toUpperCase(),
      rawPath: qi >= 0 ? url.slice(0, qi) : url,
      rawQuery: qi >= 0 ? url.slice(qi + 1) : '',
      headers: headersFromNode(req.rawHeaders),
      body: Buffer.concat(chunks),
      ip: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      remotePort: req.socket.remotePort ?? 0,
      serverPort: (req.socket.localPort as number | undefined) ?? 0,
      scheme: 'http',
    });
    const collected: Collected[] = [];
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      st.timing.end = Date.now();
      st.phase = 'done';
      const p = this.runLogPhase(st, collected).finally(() => this.pendingLogs.delete(p));
      this.pendingLogs.add(p);
    };
    res.on('close', finish);

    try {
      const m = this.matchRoute(model, st.client.method, st.host, st.normPath);
      // global plugins' rewrite phase runs before routing (init.lua:1175)
      await this.runRewrite(model, st);
      if (!st.exit && !m) {
        st.exit = kongError(st, 404, 'no Route matched with those values');
        st.exitSource = 'error';
      }
      if (!st.exit && m) {
        st.route = m.route;
        st.service = m.service ?? null;
        if (!m.service) {
          st.exit = kongError(st, 500, 'An unexpected error occurred');
          st.exitSource = 'error';
        } else this.initUpstream(st, m.route, m.service, m.matched);
        if (!st.exit) await this.runAccess(model, st, collected);
      }
      st.timing.accessEnd = Date.now();
      if (st.exit) return await this.sendExit(st, res, collected);
      await this.proxyUpstream(st, req, res, collected);
    } catch (e) {
      this.log.push('error', `unexpected gateway error: ${(e as Error).stack ?? String(e)}`);
      if (!res.headersSent) {
        st.exit = kongError(st, 500);
        st.exitSource = 'error';
        await this.sendExit(st, res, collected).catch(() => res.destroy());
      } else res.destroy();
    }
  }

  private initUpstream(st: RequestState, route: Entity, service: Entity, matched: string): void {
    const u = st.upstream;
    u.scheme = String(service['protocol']);
    u.host = String(service['host']);
    u.port = Number(service['port']);
    // path_handling v0 (router: upstream_uri = service.path .. stripped request path)
    let reqPath = st.client.rawPath;
    if (route['strip_path'] && matched) {
      reqPath = reqPath.slice(Math.min(matched.length, reqPath.length));
      if (!reqPath.startsWith('/')) reqPath = '/' + reqPath;
    }
    const spath = (service['path'] as string | null) ?? '/';
    u.path =
      spath === '/'
        ? reqPath
        : spath.endsWith('/') && reqPath.startsWith('/')
          ? spath + reqPath.slice(1)
          : reqPath === '/'
            ? spath
            : spath + reqPath;
    u.hostHeader = route['preserve_host']
      ? (st.client.headers.get('host') ?? undefined)
      : hostPort(u.host, u.port, u.scheme);
  }

  private pdkLogger = (level: string, msg: string): void => this.log.push(level, msg);

  /** Runs one phase of one external plugin; returns whether a Lua error aborted it. */
  private async runExternal(
    st: RequestState,
    c: { def: PluginDef; conf: Record<string, unknown> },
    phase: Phase,
    snapshot?: LogSnapshot,
  ): Promise<EventResult & { luaError?: string }> {
    const ps = this.pluginServers;
    if (!ps) return { ok: false, pdkCalls: 0 };
    let luaError: string | undefined;
    const ctx = {
      st,
      phase,
      conf: c.conf,
      pluginName: c.def.name,
      log: this.pdkLogger,
      ...(snapshot ? { snapshot } : {}),
    };
    const r = await ps.runEvent(c.def.name, c.conf, phase, async (method, args) => {
      const out = callPdk(ctx, method, args);
      if (out.luaError) luaError = out.luaError;
      return out.kind === 'abort'
        ? { kind: 'abort', ...(out.error ? { error: out.error } : {}) }
        : { kind: 'value', value: out.value };
    });
    return luaError ? { ...r, luaError } : r;
  }

  private async runRewrite(model: Model, st: RequestState): Promise<void> {
    st.phase = 'rewrite';
    for (const def of this.pluginNamesByPriority(model)) {
      if (def.kind !== 'external' || !def.phases.includes('rewrite')) continue;
      const p = this.resolve(model, def.name, st, true);
      if (!p) continue;
      const r = await this.runExternal(st, { def, conf: this.iteratorConf(p) }, 'rewrite');
      if (r.luaError && !st.exit) {
        st.exit = kongError(st, 500);
        st.exitSource = 'error';
      }
      if (st.exit) return;
    }
  }

  private async runAccess(model: Model, st: RequestState, collected: Collected[]): Promise<void> {
    st.phase = 'access';
    for (const def of this.pluginNamesByPriority(model)) {
      // resolved when reached, so consumer-scoped configs see the consumer set by auth plugins
      const p = this.resolve(model, def.name, st, false);
      if (!p) continue;
      const conf = def.kind === 'external' ? this.iteratorConf(p) : p.config;
      const c: Collected = { def, entity: p, conf };
      collected.push(c);
      // plugins_iterator.lua:398-400
      if (def.kind === 'external' && def.phases.includes('response')) st.bufferedProxying = true;
      if (st.exit) continue; // delayed response: the rest are collected but not executed
      st.currentPluginId = p.id;
      if (def.kind === 'bundled') def.bundled?.access({ st, model, pluginId: p.id }, conf);
      else if (def.kind === 'lua') {
        c.lua = this.luaRunner?.startRequest(def.name, conf, st.shared, {
          startMs: st.startMs,
          method: st.client.method,
          path: st.client.rawPath,
          headers: headersToRecord(st.client.headers),
        });
      } else if (def.phases.includes('access')) {
        const r = await this.runExternal(st, c, 'access');
        if (r.luaError) {
          // a Lua error in access → 500 "An unexpected error occurred" (init.lua:399-420)
          st.exit = kongError(st, 500);
          st.exitSource = 'error';
        }
      }
    }
  }

  private kongHeaders(st: RequestState, h: Headers, exit: boolean): void {
    h.set('X-Kong-Request-Id', st.id);
    if (exit) {
      h.set('X-Kong-Response-Latency', String(Math.round(st.elapsedMs())));
      if (!h.get('server')) h.set('Server', `kong/${KONG_VERSION}`);
    } else {
      h.set(
        'X-Kong-Upstream-Latency',
        String(Math.max(0, st.timing.upstreamHeaders - st.timing.upstreamStart)),
      );
      h.set('X-Kong-Proxy-Latency', String(Math.max(0, st.timing.accessEnd - st.startMs)));
      h.add('Via', `1.1 kong/${KONG_VERSION}`);
    }
  }

  private async sendExit(st: RequestState, res: http.ServerResponse, collected: Collected[]): Promise<void> {
    const ex = st.exit as ExitResponse;
    const h = new Headers();
    for (const [k, v] of st.respHeaders.list) if (!ex.headers.get(k)) h.add(k, v);
    for (const [k, v] of ex.headers.list) h.add(k, v);
    h.set('Content-Length', String(ex.body.length));
    h.set('Date', new Date().toUTCString());
    this.kongHeaders(st, h, true);
    await this.writeThroughFilters(st, res, ex.status, h, collected, async (emit) => {
      await emit(ex.body, true);
    });
  }

  /** header_filter/body_filter of the collected Lua plugins, then the client. */
  private async writeThroughFilters(
    st: RequestState,
    res: http.ServerResponse,
    status: number,
    headers: Headers,
    collected: Collected[],
    produce: (emit: (chunk: Buffer, eof: boolean) => Promise<void>) => Promise<void>,
  ): Promise<void> {
    const luas = collected.filter((c) => c.lua);
    st.phase = 'header_filter';
    let h = headers;
    for (const c of luas)
      h = headersFromRecord(await (c.lua as LuaRequest).headerFilter(status, headersToRecord(h)));
    st.response.status = status;
    st.response.headers = h;
    if (res.destroyed) return;
    res.writeHead(status, nodeHeaders(h));
    res.flushHeaders();
    st.phase = 'body_filter';
    await produce(async (chunk, eof) => {
      let out = chunk;
      for (const c of luas) out = await (c.lua as LuaRequest).bodyFilter(out, eof);
      if (out.length && !res.destroyed) {
        st.response.size += out.length;
        res.write(out);
      }
      if (eof && !res.destroyed) res.end();
    });
  }

  private upstreamRequest(
    st: RequestState,
    service: Entity,
  ): Promise<{ res: http.IncomingMessage; req: http.ClientRequest }> {
    const u = st.upstream;
    const h = new Headers();
    for (const [k, v] of u.headers.list)
      if (!HOP_BY_HOP.has(k.toLowerCase()) && k.toLowerCase() !== 'content-length') h.add(k, v);
    h.set('Host', u.hostHeader ?? hostPort(u.host, u.port, u.scheme));
    const xff = st.client.headers.get('x-forwarded-for');
    h.set('X-Forwarded-For', xff ? `${xff}, ${st.client.ip}` : st.client.ip);
    h.set('X-Forwarded-Proto', st.client.scheme);
    h.set('X-Forwarded-Host', st.host);
    h.set('X-Forwarded-Port', String(st.client.serverPort));
    h.set('X-Forwarded-Path', st.client.rawPath);
    h.set('X-Real-IP', st.client.ip);
    if (u.body.length || !['GET', 'HEAD'].includes(u.method)) h.set('Content-Length', String(u.body.length));
    const connectTimeout = Number(service['connect_timeout'] ?? 60000);
    const readTimeout = Number(service['read_timeout'] ?? 60000);
    st.upstreamUri = u.path + (u.rawQuery ? `?${u.rawQuery}` : '');
    const mod = u.scheme === 'https' ? https : http;
    const hostHdr = h.get('host') ?? u.host;
    return new Promise((resolve, reject) => {
      const req = mod.request({
        host: u.host,
        port: u.port,
        method: u.method,
        path: st.upstreamUri,
        headers: nodeHeaders(h),
        agent: u.scheme === 'https' ? this.agents.https : this.agents.http,
        ...(u.scheme === 'https'
          ? { servername: hostHdr.replace(/:\d+$/, ''), rejectUnauthorized: !!this.opts.upstreamTlsVerify }
          : {}),
      });
      let connected = false;
      const ct = setTimeout(
        () => req.destroy(Object.assign(new Error('connect timeout'), { code: 'KONG_TIMEOUT' })),
        connectTimeout,
      );
      req.on('socket', (s) => {
        s.setNoDelay(true);
        const onConnect = (): void => {
          connected = true;
          clearTimeout(ct);
          s.setTimeout(readTimeout);
        };
        if ((s as { connecting?: boolean }).connecting)
          s.once(u.scheme === 'https' ? 'secureConnect' : 'connect', onConnect);
        else onConnect();
      });
      req.setTimeout(readTimeout, () =>
        req.destroy(Object.assign(new Error('read timeout'), { code: 'KONG_TIMEOUT' })),
      );
      req.on('response', (r) => {
        clearTimeout(ct);
        resolve({ res: r, req });
      });
      req.on('error', (e) => {
        clearTimeout(ct);
        reject(Object.assign(e, { connected }));
      });
      req.end(u.body);
    });
  }

  private async proxyUpstream(
    st: RequestState,
    client: http.IncomingMessage,
    res: http.ServerResponse,
    collected: Collected[],
  ): Promise<void> {
    const service = st.service as Entity;
    const retries = Number(service['retries'] ?? 5);
    let up: { res: http.IncomingMessage; req: http.ClientRequest } | undefined;
    st.timing.upstreamStart = Date.now();
    for (let attempt = 0; ; attempt++) {
      const t0 = Date.now();
      try {
        up = await this.upstreamRequest(st, service);
        st.tries.push({
          ip: st.upstream.host,
          port: st.upstream.port,
          balancer_latency: 0,
          balancer_start: t0,
        });
        break;
      } catch (e) {
        const err = e as NodeJS.ErrnoException & { connected?: boolean };
        st.tries.push({
          ip: st.upstream.host,
          port: st.upstream.port,
          balancer_latency: 0,
          balancer_start: t0,
          state: 'failed',
          code: 502,
        });
        const timeout = err.code === 'KONG_TIMEOUT';
        this.log.push('error', `upstream ${timeout ? 'timed out' : 'error'}: ${err.message}`);
        // nginx proxy_next_upstream error timeout: retries on connection errors before a response
        if (!err.connected && !timeout && attempt < retries && !res.destroyed) continue;
        st.exit = kongError(st, timeout ? 504 : 502);
        st.exitSource = 'error';
        return this.sendExit(st, res, collected);
      }
    }
    const upRes = up.res;
    st.timing.upstreamHeaders = Date.now();
    st.proxied = true;
    const upHeaders = headersFromNode(upRes.rawHeaders);
    st.serviceResponse = { status: upRes.statusCode ?? 502, headers: upHeaders };
    st.upstreamStatus = String(upRes.statusCode ?? '');
    const abortUpstream = (): void => {
      if (!upRes.complete) up?.req.destroy();
    };
    res.on('close', abortUpstream);

    const outHeaders = (): Headers => {
      const h = new Headers();
      for (const [k, v] of upHeaders.list) if (!HOP_BY_HOP.has(k.toLowerCase())) h.add(k, v);
      for (const [k, v] of st.respHeaders.list) h.set(k, v);
      this.kongHeaders(st, h, false);
      return h;
    };

    if (st.bufferedProxying) {
      // Kong.response(): the whole upstream body is read first (init.lua:1491-1568)
      const parts: Buffer[] = [];
      try {
        for await (const c of upRes) parts.push(c as Buffer);
      } catch (e) {
        this.log.push('error', `upstream read failed: ${(e as Error).message}`);
        if (res.destroyed) return;
        st.exit = kongError(st, (e as { code?: string }).code === 'KONG_TIMEOUT' ? 504 : 502);
        st.exitSource = 'error';
        return this.sendExit(st, res, collected);
      }
      const body = Buffer.concat(parts);
      st.serviceResponse.body = body;
      st.upstreamStatus = ''; // observed on Kong 3.4 with buffering (kong-runtime.md §9.5)
      st.phase = 'response';
      st.response.status = upRes.statusCode ?? 502;
      st.response.headers = outHeaders();
      for (const c of collected) {
        if (c.def.kind !== 'external' || !c.def.phases.includes('response')) continue;
        const r = await this.runExternal(st, c, 'response');
        if (r.luaError && !st.exit) {
          st.exit = kongError(st, 500);
          st.exitSource = 'error';
        }
        if (st.exit) return this.sendExit(st, res, collected);
      }
      const h = outHeaders();
      h.set('Content-Length', String(body.length));
      h.clear('transfer-encoding');
      const status = (st.ngxCtx['__status_override'] as number | undefined) ?? upRes.statusCode ?? 502;
      return this.writeThroughFilters(st, res, status, h, collected, async (emit) => emit(body, true));
    }

    // streaming: every upstream chunk is written as it arrives
    const status = (st.ngxCtx['__status_override'] as number | undefined) ?? upRes.statusCode ?? 502;
    await this.writeThroughFilters(st, res, status, outHeaders(), collected, async (emit) => {
      try {
        for await (const c of upRes) {
          await emit(c as Buffer, false);
          if (res.destroyed) break;
        }
      } catch (e) {
        this.log.push('error', `upstream stream failed: ${(e as Error).message}`);
        res.destroy();
        return;
      }
      if (!res.destroyed && upRes.complete) await emit(Buffer.alloc(0), true);
      else res.destroy();
    });
    void client;
  }

  private async runLogPhase(st: RequestState, collected: Collected[]): Promise<void> {
    // Lua plugins' log handlers run synchronously in the log phase (e.g. the tap publishing a partial
    // result when eof never came); the JS log handlers run afterwards in ngx.timer.at(0).
    for (const c of collected) {
      if (!c.lua?.log) continue;
      try {
        await c.lua.log();
      } catch (e) {
        this.log.push('error', `[${c.def.name}] log: ${(e as Error).message}`);
      }
    }
    const targets = collected.filter((c) => c.def.kind === 'external' && c.def.phases.includes('log'));
    if (!targets.length) return;
    const snapshot = takeSnapshot(st);
    // each plugin's log handler runs in its own ngx.timer.at(0) (plugin.lua:144-181)
    await Promise.all(
      targets.map(async (c) => {
        const snap: LogSnapshot = {
          ...snapshot,
          serialize: JSON.parse(JSON.stringify(snapshot.serialize)) as Record<string, unknown>,
          ngxCtx: { ...snapshot.ngxCtx },
        };
        await this.runExternal(st, c, 'log', snap);
        this.logPhasesRun++;
      }),
    );
  }

  // ------------------------------------------------------------------------- admin API

  private async handleAdmin(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://admin');
    const send = (status: number, obj?: unknown): void => {
      const b = obj === undefined ? '' : typeof obj === 'string' ? obj : JSON.stringify(obj);
      res.writeHead(status, {
        'Content-Type': typeof obj === 'string' ? 'text/plain' : 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(b),
        Server: `kong/${KONG_VERSION}`,
        'X-Kong-Admin-Request-ID': stableId(Date.now(), Math.random()).replace(/-/g, ''),
      });
      res.end(b);
    };
    try {
      await this.admin_(req.method ?? 'GET', url, body, req.headers['content-type'] ?? '', send);
    } catch (e) {
      if (e instanceof ConfigError) return send(400, e.toBody());
      if (e instanceof AdminError) return send(e.status, e.body);
      this.log.push('error', `admin error: ${(e as Error).stack ?? String(e)}`);
      send(500, { message: 'An unexpected error occurred' });
    }
  }

  private async admin_(
    method: string,
    url: URL,
    body: string,
    ctype: string,
    send: (s: number, o?: unknown) => void,
  ): Promise<void> {
    const p = url.pathname.replace(/\/+$/, '') || '/';
    const model = this.currentModel;
    const list = (data: unknown[]): void => send(200, { data, next: null });
    const publicPlugin = (pl: PluginEntity): Record<string, unknown> => {
      const { __seq__, ...rest } = pl;
      void __seq__;
      return rest;
    };
    if (method === 'GET' && p === '/status')
      return send(200, {
        database: { reachable: true },
        memory: { workers_lua_vms: [{ http_allocated_gc: '0 MiB', pid: process.pid }], lua_shared_dicts: {} },
        server: {
          connections_accepted: 0,
          connections_active: 0,
          connections_handled: 0,
          connections_reading: 0,
          connections_waiting: 0,
          connections_writing: 0,
          total_requests: 0,
        },
        configuration_hash: stableId(JSON.stringify(model.source)).replace(/-/g, ''),
      });
    if (method === 'GET' && p === '/') {
      // 3.9.0-3.9.3 bug Kong/kong#14260: GET / fails when Kong manages a plugin server (start_cmd set)
      if (this.opts.kongVersion !== '3.8' && this.pluginServers?.servers.some((s) => s.startCmd))
        return send(500, { message: 'An unexpected error occurred' });
      return send(200, {
        version: KONG_VERSION,
        node_id: NODE_ID,
        hostname: os.hostname(),
        tagline: 'Welcome to kong',
        plugins: {
          available_on_server: Object.fromEntries(
            [...this.defs.values()].map((d) => [d.name, { version: d.version, priority: d.priority }]),
          ),
          enabled_in_cluster: [...new Set(model.plugins.map((x) => x.name))],
        },
        configuration: {
          database: this.opts.database ?? 'off',
          pluginserver_names: this.pluginServers?.servers.map((s) => s.name) ?? [],
        },
      });
    }
    if (p === '/config') {
      if (method === 'GET') return send(200, { config: stringifyYaml(model.source) });
      if (method === 'POST') {
        if ((this.opts.database ?? 'off') !== 'off')
          throw new AdminError(400, {
            message: 'this endpoint is only available when Kong is configured to not use a database',
          });
        let text = body;
        if (ctype.includes('application/x-www-form-urlencoded'))
          text = new URLSearchParams(body).get('config') ?? '';
        else if (ctype.includes('application/json')) {
          const j = JSON.parse(body) as Record<string, unknown>;
          text = typeof j['config'] === 'string' ? j['config'] : body;
        }
        let doc: Record<string, unknown>;
        try {
          doc = parseConfigText(text);
        } catch (e) {
          if (e instanceof ConfigError) throw e;
          throw new AdminError(400, {
            code: 14,
            name: 'invalid declarative configuration',
            message: `failed parsing declarative configuration: ${(e as Error).message}`,
            fields: {},
          });
        }
        this.model = this.build(doc);
        return send(201, doc);
      }
    }
    if (method === 'GET' && p === '/plugins/enabled')
      return send(200, { enabled_plugins: [...this.defs.keys()].sort() });
    const schemaM = /^\/schemas\/plugins\/([^/]+)$/.exec(p);
    if (method === 'GET' && schemaM) {
      const d = this.defs.get(schemaM[1] as string);
      if (!d) throw new AdminError(404, { message: `No plugin named '${schemaM[1]}'` });
      const s = d.schema as { fields?: unknown[] };
      return send(200, {
        fields: [
          { consumer: { type: 'foreign', reference: 'consumers' } },
          { protocols: { type: 'set', default: ['grpc', 'grpcs', 'http', 'https'] } },
          ...(s.fields ?? []),
        ],
      });
    }
    // entity collections
    const colls: Record<string, () => unknown[]> = {
      plugins: () => model.plugins.map(publicPlugin),
      routes: () => model.routes,
      services: () => model.services,
      consumers: () => model.consumers.map(({ __groups, ...c }) => (void __groups, c)),
    };
    const m =
      /^\/(plugins|routes|services|consumers)(?:\/([^/]+))?(?:\/(key-auth|acls|plugins|routes))?$/.exec(p);
    if (m) {
      const [, coll, idOrName, sub] = m as unknown as [
        string,
        string,
        string | undefined,
        string | undefined,
      ];
      if (method === 'GET') {
        const all = (colls[coll] as () => Array<Record<string, unknown>>)();
        if (!idOrName) return list(all);
        const e = all.find(
          (x) => x['id'] === idOrName || x['name'] === idOrName || x['username'] === idOrName,
        );
        if (!e) throw new AdminError(404, { message: 'Not found' });
        if (!sub) return send(200, e);
        if (sub === 'key-auth')
          return list(
            model.keyauthCredentials.filter((k) => (k['consumer'] as { id: string }).id === e['id']),
          );
        if (sub === 'acls')
          return list(model.acls.filter((k) => (k['consumer'] as { id: string }).id === e['id']));
        if (sub === 'plugins')
          return list(
            model.plugins
              .filter((x) => [x.route?.id, x.service?.id, x.consumer?.id].includes(e['id'] as string))
              .map(publicPlugin),
          );
        if (sub === 'routes')
          return list(model.routes.filter((r) => (r['service'] as { id: string } | null)?.id === e['id']));
      }
      if ((this.opts.database ?? 'off') === 'off')
        // db/strategies/off/init.lua:391-397
        throw new AdminError(405, {
          message: `cannot ${method === 'POST' ? 'create' : method === 'DELETE' ? 'delete' : 'update'} '${sub === 'key-auth' ? 'keyauth_credentials' : (sub ?? coll)}' entities when not using a database`,
        });
      return this.dbWrite(method, coll, idOrName, sub, body, send);
    }
    throw new AdminError(404, { message: 'Not found' });
  }

  /** `database: 'memory'`: entity writes mutate the source document and rebuild (new __seq__). */
  private dbWrite(
    method: string,
    coll: string,
    idOrName: string | undefined,
    sub: string | undefined,
    body: string,
    send: (s: number, o?: unknown) => void,
  ): void {
    const doc = JSON.parse(JSON.stringify(this.currentModel.source)) as Record<string, unknown>;
    const input = (body ? JSON.parse(body) : {}) as Record<string, unknown>;
    // normalise the document to top-level entities with ids so references are stable
    const flat = flattenDoc(this.currentModel);
    void doc;
    const key =
      sub === 'key-auth'
        ? 'keyauth_credentials'
        : sub === 'acls'
          ? 'acls'
          : sub === 'plugins'
            ? 'plugins'
            : sub === 'routes'
              ? 'routes'
              : coll;
    const arr = (flat[key] ??= []) as Array<Record<string, unknown>>;
    const parentRef = idOrName && sub ? { id: resolveId(flat, coll, idOrName) } : undefined;
    if (method === 'POST' && (!idOrName || sub)) {
      const e: Record<string, unknown> = { ...input };
      e['id'] ??= stableId(key, Date.now(), Math.random());
      if (parentRef)
        e[coll === 'consumers' ? 'consumer' : coll === 'services' ? 'service' : 'route'] = parentRef;
      arr.push(e);
      this.model = this.build(flat);
      return send(201, this.findEntity(key, e['id'] as string) ?? e);
    }
    if (!idOrName) throw new AdminError(405, { message: 'Method not allowed' });
    const id = resolveId(flat, coll, idOrName);
    const idx = arr.findIndex((x) => x['id'] === id);
    if (method === 'DELETE') {
      if (idx >= 0) arr.splice(idx, 1);
      if (coll === 'consumers')
        for (const k of ['keyauth_credentials', 'acls'])
          flat[k] = (flat[k] ?? []).filter((x) => (x['consumer'] as { id: string }).id !== id);
      flat['plugins'] = (flat['plugins'] ?? []).filter(
        (x) =>
          ![
            (x['route'] as { id?: string } | null)?.id,
            (x['service'] as { id?: string } | null)?.id,
            (x['consumer'] as { id?: string } | null)?.id,
          ].includes(id),
      );
      this.model = this.build(flat);
      return send(204);
    }
    if (method === 'PATCH' || method === 'PUT') {
      if (idx < 0) throw new AdminError(404, { message: 'Not found' });
      const cur = arr[idx] as Record<string, unknown>;
      const merged = method === 'PUT' ? { ...input, id } : deepMerge(cur, input);
      arr[idx] = merged;
      this.model = this.build(flat);
      return send(200, this.findEntity(key, id) ?? merged);
    }
    throw new AdminError(405, { message: 'Method not allowed' });
  }

  private findEntity(key: string, id: string): unknown {
    const m = this.currentModel;
    const lists: Record<string, Entity[]> = {
      plugins: m.plugins,
      routes: m.routes,
      services: m.services,
      consumers: m.consumers,
      keyauth_credentials: m.keyauthCredentials,
      acls: m.acls,
    };
    const e = lists[key]?.find((x) => x.id === id);
    if (e && key === 'plugins') {
      const { __seq__, ...rest } = e as PluginEntity;
      void __seq__;
      return rest;
    }
    return e;
  }

  async pluginServerStatus(): Promise<unknown> {
    if (!this.pluginServers) throw new Error('no plugin server configured');
    return this.pluginServers.status();
  }
}

const confCache = new WeakMap<PluginEntity, Record<string, unknown>>();

class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(String(status));
  }
}

function combosInvalid(
  r: string | undefined,
  s: string | undefined,
  c: string | undefined,
  R?: string,
  S?: string,
  C?: string,
): boolean {
  // a combo needing an entity the request does not have cannot match
  return (
    (r !== undefined && R === undefined) ||
    (s !== undefined && S === undefined) ||
    (c !== undefined && C === undefined)
  );
}

function cmp(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/:\d+$/, '');
  if (p.startsWith('*.')) return host.endsWith(p.slice(1));
  if (p.endsWith('.*')) return host.startsWith(p.slice(0, -1));
  return p === host;
}

function hostPort(host: string, port: number, scheme: string): string {
  return (scheme === 'https' && port === 443) || (scheme === 'http' && port === 80)
    ? host
    : `${host}:${port}`;
}

function listen(s: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port));
  });
}

function close(s: http.Server | undefined): Promise<void> {
  if (!s) return Promise.resolve();
  return new Promise((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });
}

function stringifyYaml(doc: unknown): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const YAML = require('yaml') as typeof import('yaml');
  return YAML.stringify(doc);
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
        ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** The model as a flat declarative document (entities top-level, references by id). */
function flattenDoc(m: Model): Record<string, Array<Record<string, unknown>>> & { _format_version?: never } {
  const strip = (e: Entity): Record<string, unknown> => {
    const { created_at, updated_at, __groups, __seq__, ...rest } = e as Record<string, unknown>;
    (void created_at, void updated_at, void __groups, void __seq__);
    return rest;
  };
  const services = m.services.map((s) => {
    const o = strip(s);
    delete o['protocol'];
    return { ...o, protocol: s['protocol'] };
  });
  const out = {
    services,
    routes: m.routes.map(strip),
    consumers: m.consumers.map(strip),
    plugins: m.plugins.map((p) => {
      const o = strip(p);
      o['config'] = { ...p.config };
      return o;
    }),
    keyauth_credentials: m.keyauthCredentials.map(strip),
    acls: m.acls.map(strip),
  } as Record<string, Array<Record<string, unknown>>>;
  (out as Record<string, unknown>)['_format_version'] = '3.0';
  return out;
}

function resolveId(
  flat: Record<string, Array<Record<string, unknown>>>,
  coll: string,
  idOrName: string,
): string {
  const e = (flat[coll] ?? []).find(
    (x) => x['id'] === idOrName || x['name'] === idOrName || x['username'] === idOrName,
  );
  if (!e) throw new AdminError(404, { message: 'Not found' });
  return e['id'] as string;
}

/** Lazy import of the Lua host (spec/support/lua-host.ts, owned by another engineer). */
async function loadLuaRunner(): Promise<LuaPluginRunner> {
  const modPath = path.join(__dirname, '..', 'lua-host');
  const mod = (await import(modPath)) as Record<string, unknown>;
  for (const k of ['createLuaPluginRunner', 'createLuaRunner', 'default']) {
    const f = mod[k];
    if (typeof f === 'function')
      return (await (f as () => Promise<LuaPluginRunner> | LuaPluginRunner)()) as LuaPluginRunner;
  }
  throw new Error('spec/support/lua-host.ts exports no runner factory (createLuaPluginRunner)');
}

void processField;
