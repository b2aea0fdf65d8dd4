/**
 * Kong PDK emulator: answers the PDK requests a JS plugin sends through the plugin server
 * (kong-runtime.md §2.7, §3.3). Method names arrive snake_case ("kong.request.get_header").
 *
 * Faithful points: first return value only (mp_rpc.lua:125-130: Lua `nil, err` → null), multimaps
 * for header/query getters (mp_rpc.lua:45-84), raw bodies as MessagePack bin (Uint8Array), phase
 * checks raising Lua errors (which abort the event: no further Step), delayed `kong.response.exit`
 * in access vs. immediate exit (abort) in rewrite/response (pdk/response.lua), log phase answering
 * from a snapshot (plugin.lua:144-181) where request-bound calls fail.
 */
import { randomUUID } from 'node:crypto';
import type { PdkOutcome } from './plugin-server';

export const KONG_VERSION = '3.9.1';

export type Phase = 'rewrite' | 'access' | 'response' | 'log';

export interface SharedCtx {
  get(key: string): unknown;
  set(key: string, v: unknown): void;
}

export class MapSharedCtx implements SharedCtx {
  readonly map = new Map<string, unknown>();
  get(key: string): unknown {
    return this.map.has(key) ? this.map.get(key) : null;
  }
  set(key: string, v: unknown): void {
    if (v === null || v === undefined) this.map.delete(key);
    else this.map.set(key, v);
  }
}

export type Entity = Record<string, unknown>;
export type HeaderList = Array<[string, string]>;

/** Ordered, case-insensitive header collection (nginx keeps the original names). */
export class Headers {
  list: HeaderList = [];
  constructor(init?: HeaderList) {
    if (init) this.list = init.slice();
  }
  get(name: string): string | undefined {
    const n = normName(name);
    return this.list.find(([k]) => k.toLowerCase() === n)?.[1];
  }
  getAll(name: string): string[] {
    const n = normName(name);
    return this.list.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
  }
  set(name: string, value: string | string[]): void {
    this.clear(name);
    for (const v of Array.isArray(value) ? value : [value]) this.list.push([name, v]);
  }
  add(name: string, value: string): void {
    this.list.push([name, value]);
  }
  clear(name: string): void {
    const n = normName(name);
    this.list = this.list.filter(([k]) => k.toLowerCase() !== n);
  }
  /** ngx.req.get_headers(): lower-case names, string or array of strings */
  toLuaTable(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of this.list) {
      const n = k.toLowerCase();
      const cur = out[n];
      if (cur === undefined) out[n] = v;
      else if (Array.isArray(cur)) cur.push(v);
      else out[n] = [cur, v];
    }
    return out;
  }
  /** mp_rpc.lua fix_mmap: every value an array */
  toMultiMap(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [k, v] of this.list) (out[k.toLowerCase()] ??= []).push(v);
    return out;
  }
  clone(): Headers {
    return new Headers(this.list);
  }
}

/** Kong's header getters accept `_` for `-` (pdk/request.lua get_header). */
function normName(n: string): string {
  return n.toLowerCase().replace(/_/g, '-');
}

export interface ExitResponse {
  status: number;
  body: Buffer;
  headers: Headers;
}

/** The state of one proxied request (ngx.ctx + ngx.var + the upstream request under construction). */
export class RequestState {
  readonly id = randomUUID().replace(/-/g, '');
  readonly startMs = Date.now();
  readonly startHr = process.hrtime.bigint();
  phase: Phase | 'header_filter' | 'body_filter' | 'done' = 'rewrite';
  route: Entity | null = null;
  service: Entity | null = null;
  consumer: Entity | null = null;
  credential: Entity | null = null;
  authenticatedGroups: string[] | null = null;
  readonly shared: SharedCtx;
  readonly ngxCtx: Record<string, unknown> = {};
  readonly serializeValues: Array<[string, unknown]> = [];
  /** downstream response headers added by plugins before the response (kong.response.set_header) */
  readonly respHeaders = new Headers();
  exit: ExitResponse | undefined;
  exitSource: 'exit' | 'error' | undefined;
  bufferedProxying = false;
  currentPluginId: string | null = null;
  upstream: {
    scheme: string;
    host: string;
    port: number;
    path: string;
    rawQuery: string;
    method: string;
    headers: Headers;
    body: Buffer;
    hostHeader: string | undefined;
  };
  /** final response (for header getters in response/log) */
  response: { status: number; headers: Headers; size: number } = {
    status: 0,
    headers: new Headers(),
    size: 0,
  };
  serviceResponse: { status: number; headers: Headers; body?: Buffer } | undefined;
  proxied = false;
  upstreamUri = '';
  upstreamStatus = '';
  tries: Array<Record<string, unknown>> = [];
  timing = { accessEnd: 0, upstreamStart: 0, upstreamHeaders: 0, end: 0 };
  workspace = { id: '0dc6f45b-8f8d-40d2-a504-473544ee190b', name: 'default' };

  constructor(
    readonly client: {
      method: string;
      /** raw request-target path (no query) */
      rawPath: string;
      rawQuery: string;
      headers: Headers;
      body: Buffer;
      ip: string;
      remotePort: number;
      serverPort: number;
      scheme: 'http' | 'https';
    },
    shared?: SharedCtx,
  ) {
    this.shared = shared ?? new MapSharedCtx();
    this.upstream = {
      scheme: 'http',
      host: '',
      port: 80,
      path: '/',
      rawQuery: client.rawQuery,
      method: client.method,
      headers: client.headers.clone(),
      body: client.body,
      hostHeader: undefined,
    };
    this.ngxCtx['KONG_PROCESSING_START'] = this.startMs;
  }

  get host(): string {
    const h = this.client.headers.get('host') ?? '';
    return h.replace(/:\d+$/, '').toLowerCase();
  }

  get requestUri(): string {
    return this.client.rawPath + (this.client.rawQuery ? `?${this.client.rawQuery}` : '');
  }

  /** kong.request.get_path: the normalised (decoded) path */
  get normPath(): string {
    try {
      return decodeURIComponent(this.client.rawPath).replace(/\/{2,}/g, '/');
    } catch {
      return this.client.rawPath;
    }
  }

  elapsedMs(): number {
    return Number(process.hrtime.bigint() - this.startHr) / 1e6;
  }
}

/** Snapshot taken at the start of the log phase (plugin.lua:144-181). */
export interface LogSnapshot {
  serialize: Record<string, unknown>;
  requestHeaders: Headers;
  responseHeaders: Headers;
  responseStatus: number;
  reqStartTime: number;
  ngxCtx: Record<string, unknown>;
  shared: SharedCtx;
  serviceResponseBody: Buffer | undefined;
  serviceResponseStatus: number | undefined;
  serviceResponseHeaders: Headers | undefined;
  route: Entity | null;
  service: Entity | null;
  consumer: Entity | null;
  credential: Entity | null;
  responseSource: string;
}

export const HTTP_MESSAGES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  402: 'Payment required',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  407: 'Proxy authentication required',
  408: 'Request timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length required',
  412: 'Precondition failed',
  413: 'Payload too large',
  414: 'URI too long',
  415: 'Unsupported media type',
  416: 'Range not satisfiable',
  417: 'Expectation failed',
  418: "I'm a teapot",
  421: 'Misdirected request',
  422: 'Unprocessable entity',
  423: 'Locked',
  424: 'Failed dependency',
  425: 'Too early',
  426: 'Upgrade required',
  428: 'Precondition required',
  429: 'Too many requests',
  431: 'Request header fields too large',
  451: 'Unavailable for legal reasons',
  494: 'Request header or cookie too large',
  500: 'An unexpected error occurred',
  501: 'Not implemented',
  502: 'An invalid response was received from the upstream server',
  503: 'The upstream server is currently unavailable',
  504: 'The upstream server is timing out',
  505: 'HTTP version not supported',
  506: 'Variant also negotiates',
  507: 'Insufficient storage',
  508: 'Loop detected',
  510: 'Not extended',
  511: 'Network authentication required',
};

/** kong.response.error / Kong-generated errors: JSON `{"message": ...}` (pdk/response.lua, HTTP_MESSAGES). */
export function kongError(
  st: RequestState,
  status: number,
  message?: unknown,
  headers?: Record<string, unknown>,
): ExitResponse {
  const msg =
    typeof message === 'string'
      ? message
      : (HTTP_MESSAGES[status] ?? `The upstream server responded with ${status}`);
  const h = new Headers();
  applyHeaderTable(h, headers);
  h.set('Content-Type', 'application/json; charset=utf-8');
  return {
    status,
    body: Buffer.from(JSON.stringify({ message: msg, request_id: st.id })),
    headers: h,
  };
}

function applyHeaderTable(h: Headers, t: unknown): void {
  if (!t || typeof t !== 'object') return;
  for (const [k, v] of Object.entries(t as Record<string, unknown>)) {
    if (Array.isArray(v))
      h.set(
        k,
        v.map((x) => String(x)),
      );
    else if (v !== null && v !== undefined) h.set(k, String(v));
  }
}

function toBuffer(v: unknown): Buffer | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return Buffer.from(v);
  if (v instanceof Uint8Array) return Buffer.from(v);
  return undefined;
}

/** kong.response.exit(status, body, headers) — pdk/response.lua `send`/`exit`. */
export function buildExit(status: unknown, body: unknown, headers: unknown): ExitResponse {
  if (typeof status !== 'number' || status < 100 || status > 599)
    throw new LuaError('code must be a number between 100 and 599');
  const h = new Headers();
  applyHeaderTable(h, headers);
  let b = toBuffer(body);
  if (b === undefined && body !== null && body !== undefined && typeof body === 'object') {
    // a table body is JSON-encoded and Content-Type set (pdk/response.lua send)
    b = Buffer.from(JSON.stringify(body));
    if (!h.get('content-type')) h.set('Content-Type', 'application/json; charset=utf-8');
  }
  return { status, body: b ?? Buffer.alloc(0), headers: h };
}

export class LuaError extends Error {}

const P_ALL: ReadonlySet<string> = new Set(['rewrite', 'access', 'response', 'log']);
const P_REQ: ReadonlySet<string> = new Set(['rewrite', 'access', 'response']);
const P_ACCESS_LATER: ReadonlySet<string> = new Set(['access', 'response', 'log']);
const P_RW_ACCESS: ReadonlySet<string> = new Set(['rewrite', 'access']);
const P_RESP_LOG: ReadonlySet<string> = new Set(['response', 'log']);
const P_LOG: ReadonlySet<string> = new Set(['log']);

function checkPhase(phase: string, allowed: ReadonlySet<string>): void {
  if (!allowed.has(phase))
    throw new LuaError(`function cannot be called in ${phase} phase (only in: ${[...allowed].join(', ')})`);
}

/** In the log timer ngx.var / ngx.req are unavailable (plugin.lua:144-181, kong-runtime.md §2.9). */
function needsLiveRequest(phase: string): void {
  if (phase === 'log') throw new LuaError('API disabled in the context of ngx.timer');
}

export function parseQuery(raw: string): Record<string, string | boolean | Array<string | boolean>> {
  const out: Record<string, string | boolean | Array<string | boolean>> = {};
  if (!raw) return out;
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const dec = (s: string): string => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '));
      } catch {
        return s;
      }
    };
    const k = dec(eq < 0 ? part : part.slice(0, eq));
    const v: string | boolean = eq < 0 ? true : dec(part.slice(eq + 1));
    const cur = out[k];
    if (cur === undefined) out[k] = v;
    else if (Array.isArray(cur)) cur.push(v);
    else out[k] = [cur, v];
  }
  return out;
}

/** mp_rpc.lua fix_mmap */
function queryMultiMap(raw: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(parseQuery(raw))) {
    const arr = Array.isArray(v) ? v : [v];
    out[k] = arr.filter((x): x is string => typeof x === 'string');
  }
  return out;
}

export function encodeQuery(t: unknown): string {
  if (!t || typeof t !== 'object') throw new LuaError('args must be a table');
  const parts: string[] = [];
  for (const k of Object.keys(t as object).sort()) {
    const v = (t as Record<string, unknown>)[k];
    for (const x of Array.isArray(v) ? v : [v]) {
      if (x === true) parts.push(encodeURIComponent(k));
      else if (x !== false && x !== null && x !== undefined)
        parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(x))}`);
    }
  }
  return parts.join('&');
}

function parseBody(st: RequestState): unknown {
  const ct = (st.client.headers.get('content-type') ?? '').toLowerCase();
  const body = st.client.body.toString('utf8');
  if (ct.includes('application/json')) {
    try {
      const v = JSON.parse(body) as unknown;
      return v !== null && typeof v === 'object' ? v : null;
    } catch {
      return null;
    }
  }
  if (ct.includes('application/x-www-form-urlencoded')) return parseQuery(body);
  return null;
}

/** `kong.log.serialize()` (pdk/log.lua:857-940), from the live state at log time. */
export function buildSerialize(st: RequestState): Record<string, unknown> {
  const hostHdr = st.client.headers.get('host') ?? `127.0.0.1:${st.client.serverPort}`;
  const reqHeaders = st.client.headers.toLuaTable();
  if (reqHeaders['authorization']) reqHeaders['authorization'] = 'REDACTED';
  if (reqHeaders['proxy-authorization']) reqHeaders['proxy-authorization'] = 'REDACTED';
  const kongLatency = Math.round(
    st.timing.upstreamStart && st.timing.accessEnd
      ? st.timing.accessEnd - st.startMs
      : (st.timing.end || Date.now()) - st.startMs,
  );
  const out: Record<string, unknown> = {
    request: {
      id: st.id,
      uri: st.requestUri,
      url: `${st.client.scheme}://${hostHdr}${st.requestUri}`,
      querystring: parseQuery(st.client.rawQuery),
      method: st.client.method,
      headers: reqHeaders,
      size: st.client.body.length + 100,
    },
    upstream_uri: st.upstreamUri,
    upstream_status: st.upstreamStatus,
    response: {
      status: st.response.status,
      headers: st.response.headers.toLuaTable(),
      size: st.response.size,
    },
    latencies: {
      kong: kongLatency,
      proxy:
        st.timing.upstreamHeaders && st.timing.upstreamStart
          ? st.timing.upstreamHeaders - st.timing.upstreamStart
          : -1,
      request: (st.timing.end || Date.now()) - st.startMs,
      receive: 0,
    },
    tries: st.tries,
    client_ip: st.client.ip,
    started_at: st.startMs,
    source: st.exitSource ?? (st.proxied ? 'upstream' : 'kong'),
    workspace: st.workspace.id,
    workspace_name: st.workspace.name,
  };
  if (st.route) out['route'] = st.route;
  if (st.service) out['service'] = st.service;
  if (st.consumer) out['consumer'] = st.consumer;
  if (st.credential)
    out['authenticated_entity'] = {
      id: st.credential['id'],
      consumer_id: (st.credential['consumer'] as Entity | undefined)?.['id'],
    };
  for (const [k, v] of st.serializeValues) setDotted(out, k, v);
  return out;
}

function setDotted(obj: Record<string, unknown>, key: string, v: unknown): void {
  const parts = key.split('.');
  let cur = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i] as string;
    const next = cur[p];
    if (!next || typeof next !== 'object') cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1] as string] = v === null ? undefined : v;
}

export function takeSnapshot(st: RequestState): LogSnapshot {
  return {
    serialize: buildSerialize(st),
    requestHeaders: st.client.headers.clone(),
    responseHeaders: st.response.headers.clone(),
    responseStatus: st.response.status,
    reqStartTime: st.startMs / 1000,
    ngxCtx: {
      ...st.ngxCtx,
      ...(st.bufferedProxying && st.serviceResponse?.body ? { buffered_body: st.serviceResponse.body } : {}),
    },
    shared: st.shared, // by reference (plugin.lua:152-170)
    serviceResponseBody: st.bufferedProxying ? st.serviceResponse?.body : undefined,
    serviceResponseStatus: st.serviceResponse?.status,
    serviceResponseHeaders: st.serviceResponse?.headers,
    route: st.route,
    service: st.service,
    consumer: st.consumer,
    credential: st.credential,
    responseSource: st.exitSource ?? (st.proxied ? 'service' : 'error'),
  };
}

export interface PdkContext {
  st: RequestState;
  phase: Phase;
  /** the executing plugin's config (Kong's conf incl. __plugin_id) */
  conf: Record<string, unknown>;
  pluginName: string;
  snapshot?: LogSnapshot;
  log: (level: string, msg: string) => void;
  /** bumped by each PDK call, for tests */
  trace?: string[];
}

type Impl = (c: PdkContext, args: unknown[]) => unknown;

const str = (v: unknown, what = 'header name'): string => {
  if (typeof v !== 'string') throw new LuaError(`${what} must be a string`);
  return v;
};
const hdrValue = (v: unknown): string => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new LuaError(
    `invalid header value for "${String(v)}": got ${v === null || v === undefined ? 'nil' : typeof v}, expected string, number or boolean`,
  );
};

function reqHeaders(c: PdkContext): Headers {
  return c.phase === 'log' && c.snapshot ? c.snapshot.requestHeaders : c.st.client.headers;
}

const bin = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

const logFn =
  (level: string): Impl =>
  (c, args) => {
    c.log(
      level,
      `[${c.pluginName}] ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`,
    );
    return null;
  };

const IMPL: Record<string, Impl> = {
  // ---- kong.request
  'kong.request.get_header': (c, [n]) => {
    checkPhase(c.phase, P_ALL);
    return reqHeaders(c).get(str(n)) ?? null;
  },
  'kong.request.get_headers': (c) => {
    checkPhase(c.phase, P_ALL);
    return reqHeaders(c).toMultiMap();
  },
  'kong.request.get_method': (c) => (
    checkPhase(c.phase, P_REQ),
    needsLiveRequest(c.phase),
    c.st.client.method
  ),
  'kong.request.get_path': (c) => (checkPhase(c.phase, P_REQ), c.st.normPath),
  'kong.request.get_raw_path': (c) => (checkPhase(c.phase, P_REQ), c.st.client.rawPath),
  'kong.request.get_path_with_query': (c) => (checkPhase(c.phase, P_REQ), c.st.requestUri),
  'kong.request.get_query': (c) => (checkPhase(c.phase, P_REQ), queryMultiMap(c.st.client.rawQuery)),
  'kong.request.get_query_arg': (c, [n]) => {
    checkPhase(c.phase, P_REQ);
    const v = parseQuery(c.st.client.rawQuery)[str(n, 'query argument name')];
    const first = Array.isArray(v) ? v[0] : v;
    return first === undefined ? null : first;
  },
  'kong.request.get_raw_query': (c) => (checkPhase(c.phase, P_REQ), c.st.client.rawQuery),
  'kong.request.get_raw_body': (c) => (checkPhase(c.phase, P_REQ), bin(c.st.client.body)),
  'kong.request.get_body': (c) => (checkPhase(c.phase, P_REQ), parseBody(c.st)),
  'kong.request.get_scheme': (c) => (checkPhase(c.phase, P_REQ), c.st.client.scheme),
  'kong.request.get_host': (c) => (checkPhase(c.phase, P_REQ), c.st.host),
  'kong.request.get_port': (c) => (checkPhase(c.phase, P_REQ), c.st.client.serverPort),
  'kong.request.get_forwarded_scheme': (c) => (checkPhase(c.phase, P_REQ), c.st.client.scheme),
  'kong.request.get_forwarded_host': (c) => (checkPhase(c.phase, P_REQ), c.st.host),
  'kong.request.get_forwarded_port': (c) => (checkPhase(c.phase, P_REQ), c.st.client.serverPort),
  'kong.request.get_forwarded_path': (c) => (checkPhase(c.phase, P_REQ), c.st.client.rawPath),
  'kong.request.get_http_version': (c) => (checkPhase(c.phase, P_REQ), 1.1),
  'kong.request.get_start_time': (c) =>
    c.phase === 'log' && c.snapshot ? c.snapshot.reqStartTime * 1000 : c.st.startMs,
  'kong.nginx.req_start_time': (c) =>
    c.phase === 'log' && c.snapshot ? c.snapshot.reqStartTime : c.st.startMs / 1000,

  // ---- kong.client
  'kong.client.get_ip': (c) => (checkPhase(c.phase, P_REQ), c.st.client.ip),
  'kong.client.get_forwarded_ip': (c) => (checkPhase(c.phase, P_REQ), c.st.client.ip),
  'kong.client.get_port': (c) => (checkPhase(c.phase, P_REQ), c.st.client.remotePort),
  'kong.client.get_protocol': (c) => (
    checkPhase(c.phase, P_ACCESS_LATER),
    needsLiveRequest(c.phase),
    c.st.client.scheme
  ),
  'kong.client.get_consumer': (c) => (
    checkPhase(c.phase, P_ACCESS_LATER),
    (c.snapshot ? c.snapshot.consumer : c.st.consumer) ?? null
  ),
  'kong.client.get_credential': (c) => (
    checkPhase(c.phase, P_ACCESS_LATER),
    (c.snapshot ? c.snapshot.credential : c.st.credential) ?? null
  ),

  // ---- kong.router
  'kong.router.get_route': (c) => (
    checkPhase(c.phase, P_ACCESS_LATER),
    (c.snapshot ? c.snapshot.route : c.st.route) ?? null
  ),
  'kong.router.get_service': (c) => (
    checkPhase(c.phase, P_ACCESS_LATER),
    (c.snapshot ? c.snapshot.service : c.st.service) ?? null
  ),

  // ---- kong.service
  'kong.service.set_target': (c, [host, port]) => {
    checkPhase(c.phase, P_RW_ACCESS);
    if (typeof host !== 'string') throw new LuaError('host must be a string');
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
      throw new LuaError('port must be an integer between 0 and 65535: given ' + String(port));
    c.st.upstream.host = host;
    c.st.upstream.port = port;
    // pdk/service.lua set_target: updates upstream_host unless preserve_host
    if (!c.st.route?.['preserve_host'])
      c.st.upstream.hostHeader = hostWithPort(host, port, c.st.upstream.scheme);
    return null;
  },
  'kong.service.set_upstream': (c) => {
    checkPhase(c.phase, P_RW_ACCESS);
    return null; // `nil, "could not find an Upstream named ..."` — upstreams are not emulated
  },
  'kong.service.set_timeouts': (c) => (checkPhase(c.phase, P_RW_ACCESS), null),
  'kong.service.set_retries': (c) => (checkPhase(c.phase, P_RW_ACCESS), null),

  // ---- kong.service.request
  'kong.service.request.enable_buffering': (c) => {
    checkPhase(c.phase, P_RW_ACCESS);
    c.st.bufferedProxying = true;
    return null;
  },
  'kong.service.request.set_scheme': (c, [s]) => {
    checkPhase(c.phase, P_RW_ACCESS);
    if (s !== 'http' && s !== 'https') throw new LuaError('invalid scheme: ' + String(s));
    c.st.upstream.scheme = s;
    return null;
  },
  'kong.service.request.set_path': (c, [p]) => {
    checkPhase(c.phase, P_RW_ACCESS);
    if (typeof p !== 'string' || !p.startsWith('/')) throw new LuaError('path must start with /');
    c.st.upstream.path = p;
    c.st.ngxCtx['__path_set'] = true;
    return null;
  },
  'kong.service.request.set_raw_query': (c, [q]) => {
    checkPhase(c.phase, P_RW_ACCESS);
    c.st.upstream.rawQuery = str(q, 'query');
    return null;
  },
  'kong.service.request.set_query': (c, [t]) => {
    checkPhase(c.phase, P_RW_ACCESS);
    c.st.upstream.rawQuery = encodeQuery(t);
    return null;
  },
  'kong.service.request.set_method': (c, [m]) => {
    checkPhase(c.phase, P_RW_ACCESS);
    c.st.upstream.method = str(m, 'method').toUpperCase();
    return null;
  },
  'kong.service.request.set_header': (c, [n, v]) => {
    checkPhase(c.phase, P_RW_ACCESS);
    const name = str(n);
    if (name.toLowerCase() === 'host') c.st.upstream.hostHeader = hdrValue(v);
    else c.st.upstream.headers.set(name, hdrValue(v));
    return null;
  },
  'kong.service.request.add_header': (c, [n, v]) => {
    checkPhase(c.phase, P_RW_ACCESS);
    const name = str(n);
    if (name.toLowerCase() === 'host') c.st.upstream.hostHeader = hdrValue(v);
    else c.st.upstream.headers.add(name, hdrValue(v));
    return null;
  },
  'kong.service.request.clear_header': (c, [n]) => {
    checkPhase(c.phase, P_RW_ACCESS);
    c.st.upstream.headers.clear(str(n));
    return null;
  },
  'kong.service.request.set_headers': (c, [t]) => {
    checkPhase(c.phase, P_RW_ACCESS);
    if (!t || typeof t !== 'object') throw new LuaError('headers must be a table');
    for (const [k, v] of Object.entries(t as Record<string, unknown>)) {
      if (k.toLowerCase() === 'host') c.st.upstream.hostHeader = hdrValue(Array.isArray(v) ? v[0] : v);
      else c.st.upstream.headers.set(k, Array.isArray(v) ? v.map(hdrValue) : hdrValue(v));
    }
    return null;
  },
  'kong.service.request.set_raw_body': (c, [b]) => {
    checkPhase(c.phase, P_RW_ACCESS);
    const buf = toBuffer(b);
    if (!buf) throw new LuaError('body must be a string');
    c.st.upstream.body = buf;
    // pdk/service/request.lua set_raw_body → ngx.req.set_body_data: later kong.request.get_raw_body
    // calls (other plugins) read the new body.
    (c.st.client as { body: Buffer }).body = buf;
    return null;
  },
  'kong.service.request.set_body': (c, [t, mime]) => {
    checkPhase(c.phase, P_RW_ACCESS);
    if (!t || typeof t !== 'object') throw new LuaError('args must be a table');
    const ct = typeof mime === 'string' ? mime : (c.st.upstream.headers.get('content-type') ?? '');
    if (ct.includes('application/x-www-form-urlencoded')) c.st.upstream.body = Buffer.from(encodeQuery(t));
    else if (ct.includes('application/json') || !ct) {
      c.st.upstream.body = Buffer.from(JSON.stringify(t));
      if (!ct) c.st.upstream.headers.set('Content-Type', 'application/json');
    } else throw new LuaError('unsupported content type ' + ct);
    if (typeof mime === 'string') c.st.upstream.headers.set('Content-Type', mime);
    return null;
  },

  // ---- kong.service.response
  'kong.service.response.get_status': (c) => {
    checkPhase(c.phase, P_RESP_LOG);
    return (c.snapshot ? c.snapshot.serviceResponseStatus : c.st.serviceResponse?.status) ?? null;
  },
  'kong.service.response.get_header': (c, [n]) => {
    checkPhase(c.phase, P_RESP_LOG);
    const h = c.snapshot ? c.snapshot.serviceResponseHeaders : c.st.serviceResponse?.headers;
    return h?.get(str(n)) ?? null;
  },
  'kong.service.response.get_headers': (c) => {
    checkPhase(c.phase, P_RESP_LOG);
    const h = c.snapshot ? c.snapshot.serviceResponseHeaders : c.st.serviceResponse?.headers;
    return h ? h.toMultiMap() : {};
  },
  'kong.service.response.get_raw_body': (c) => {
    checkPhase(c.phase, P_RESP_LOG);
    // service/response.lua:288-296
    const b = c.snapshot
      ? c.snapshot.serviceResponseBody
      : c.st.bufferedProxying
        ? c.st.serviceResponse?.body
        : undefined;
    if (!b) throw new LuaError('service body is only available with buffered proxying');
    return bin(b);
  },
  'kong.service.response.get_body': (c) => {
    checkPhase(c.phase, P_RESP_LOG);
    const b = c.snapshot ? c.snapshot.serviceResponseBody : c.st.serviceResponse?.body;
    if (!b) throw new LuaError('service body is only available with buffered proxying');
    try {
      return JSON.parse(b.toString('utf8')) as unknown;
    } catch {
      return null;
    }
  },

  // ---- kong.response
  'kong.response.exit': (c, [status, body, headers]) => {
    checkPhase(c.phase, P_REQ);
    c.st.exit = buildExit(status, body, headers);
    c.st.exitSource = 'exit';
    return EXIT;
  },
  'kong.response.error': (c, [status, message, headers]) => {
    checkPhase(c.phase, P_REQ);
    if (typeof status !== 'number' || status < 400 || status > 599)
      throw new LuaError('code must be a number between 400 and 599');
    c.st.exit = kongError(c.st, status, message, headers as Record<string, unknown>);
    c.st.exitSource = 'exit';
    return EXIT;
  },
  'kong.response.set_header': (c, [n, v]) => {
    checkPhase(c.phase, P_REQ);
    c.st.respHeaders.set(str(n), hdrValue(v));
    return null;
  },
  'kong.response.add_header': (c, [n, v]) => {
    checkPhase(c.phase, P_REQ);
    c.st.respHeaders.add(str(n), hdrValue(v));
    return null;
  },
  'kong.response.clear_header': (c, [n]) => {
    checkPhase(c.phase, P_REQ);
    c.st.respHeaders.clear(str(n));
    return null;
  },
  'kong.response.set_headers': (c, [t]) => {
    checkPhase(c.phase, P_REQ);
    applyHeaderTable(c.st.respHeaders, t);
    return null;
  },
  'kong.response.set_status': (c, [s]) => {
    checkPhase(c.phase, P_REQ);
    if (typeof s !== 'number') throw new LuaError('code must be a number');
    c.st.ngxCtx['__status_override'] = s;
    return null;
  },
  'kong.response.get_status': (c) => {
    checkPhase(c.phase, P_RESP_LOG);
    return c.snapshot ? c.snapshot.responseStatus : c.st.response.status;
  },
  'kong.response.get_header': (c, [n]) => {
    checkPhase(c.phase, P_RESP_LOG);
    return (c.snapshot ? c.snapshot.responseHeaders : c.st.response.headers).get(str(n)) ?? null;
  },
  'kong.response.get_headers': (c) => {
    checkPhase(c.phase, P_RESP_LOG);
    return (c.snapshot ? c.snapshot.responseHeaders : c.st.response.headers).toMultiMap();
  },
  'kong.response.get_source': (c) => {
    checkPhase(c.phase, P_RESP_LOG);
    return c.snapshot ? c.snapshot.responseSource : (c.st.exitSource ?? (c.st.proxied ? 'service' : 'error'));
  },
  'kong.response.get_raw_body': (c) => {
    throw new LuaError(`function cannot be called in ${c.phase} phase (only in: body_filter)`);
  },
  'kong.response.set_raw_body': (c) => {
    throw new LuaError(`function cannot be called in ${c.phase} phase (only in: body_filter)`);
  },

  // ---- kong.ctx.shared (plugin.lua overrides)
  'kong.ctx.shared.get': (c, [k]) => {
    const v = (c.snapshot ? c.snapshot.shared : c.st.shared).get(String(k));
    return v === undefined ? null : v;
  },
  'kong.ctx.shared.set': (c, [k, v]) => {
    (c.snapshot ? c.snapshot.shared : c.st.shared).set(String(k), v);
    return null;
  },

  // ---- kong.nginx
  'kong.nginx.get_var': (c, [n]) => {
    needsLiveRequest(c.phase);
    return ngxVar(c.st, str(n, 'variable name'));
  },
  'kong.nginx.get_ctx': (c, [k]) => {
    const v = (c.snapshot ? c.snapshot.ngxCtx : c.st.ngxCtx)[String(k)];
    if (v instanceof Buffer) return bin(v);
    return v === undefined ? null : v;
  },
  'kong.nginx.set_ctx': (c, [k, v]) => {
    (c.snapshot ? c.snapshot.ngxCtx : c.st.ngxCtx)[String(k)] = v;
    return null;
  },
  'kong.nginx.get_subsystem': () => 'http',

  // ---- kong.log
  'kong.log.serialize': (c) => {
    checkPhase(c.phase, P_LOG);
    return JSON.stringify(c.snapshot ? c.snapshot.serialize : buildSerialize(c.st));
  },
  'kong.log.set_serialize_value': (c, [k, v]) => {
    if (typeof k !== 'string') throw new LuaError('key must be a string');
    if (c.snapshot) setDotted(c.snapshot.serialize, k, v);
    else c.st.serializeValues.push([k, v]);
    return null;
  },
  'kong.log': logFn('notice'),
  'kong.log.debug': logFn('debug'),
  'kong.log.info': logFn('info'),
  'kong.log.notice': logFn('notice'),
  'kong.log.warn': logFn('warn'),
  'kong.log.err': logFn('error'),
  'kong.log.crit': logFn('crit'),
  'kong.log.alert': logFn('alert'),
  'kong.log.emerg': logFn('emerg'),

  // ---- misc
  'kong.plugin.get_id': (c) => (c.conf['__plugin_id'] as string | undefined) ?? null,
  'kong.node.get_id': () => NODE_ID,
  'kong.node.get_hostname': () => 'kong-test-gateway',
  'kong.version': () => KONG_VERSION,
};

export const NODE_ID = randomUUID();

/** Sentinel returned by exit/error implementations. */
const EXIT = Symbol('exit');

function hostWithPort(host: string, port: number, scheme: string): string {
  return (scheme === 'https' && port === 443) || (scheme === 'http' && port === 80)
    ? host
    : `${host}:${port}`;
}

function ngxVar(st: RequestState, n: string): unknown {
  if (n.startsWith('http_')) return st.client.headers.get(n.slice(5)) ?? null;
  if (n.startsWith('arg_')) {
    const v = parseQuery(st.client.rawQuery)[n.slice(4)];
    return typeof v === 'string' ? v : null;
  }
  switch (n) {
    case 'request_uri':
      return st.requestUri;
    case 'uri':
      return st.normPath;
    case 'args':
    case 'query_string':
      return st.client.rawQuery || null;
    case 'host':
      return st.host;
    case 'scheme':
      return st.client.scheme;
    case 'request_method':
      return st.client.method;
    case 'remote_addr':
    case 'realip_remote_addr':
      return st.client.ip;
    case 'remote_port':
      return String(st.client.remotePort);
    case 'server_port':
      return String(st.client.serverPort);
    case 'request_id':
      return st.id;
    case 'upstream_uri':
      return st.upstreamUri || null;
    case 'content_type':
      return st.client.headers.get('content-type') ?? null;
    case 'request_length':
      return String(st.client.body.length);
    default:
      return null;
  }
}

/**
 * Executes one PDK request the way Kong's `call_pdk_method` does (mp_rpc.lua:97-138).
 * Returns `abort` when Kong would never step the event again (Lua error, or exit outside the
 * delayed access phase).
 */
export function callPdk(
  c: PdkContext,
  method: string,
  args: unknown[],
): PdkOutcome & { luaError?: string; exited?: boolean } {
  c.trace?.push(method);
  const impl = IMPL[method];
  if (!impl) {
    c.log('error', `could not find pdk method: ${method}`);
    return { kind: 'value', value: null };
  }
  try {
    const v = impl(c, args);
    if (v === EXIT) {
      // access: delayed response (Kong keeps stepping; the call returns nil); rewrite/response: ngx.exit
      if (c.phase === 'access') return { kind: 'value', value: null, exited: true };
      return { kind: 'abort', exited: true };
    }
    return { kind: 'value', value: v === undefined ? null : v };
  } catch (e) {
    if (e instanceof LuaError) {
      c.log('error', `[${c.pluginName}] ${c.phase}: PDK ${method} raised a Lua error: ${e.message}`);
      return { kind: 'abort', error: e.message, luaError: e.message };
    }
    throw e;
  }
}
