/**
 * The typed PDK facade: the only code that knows PDK method names. It encodes the runtime facts of
 * kong-runtime.md: bodies arrive as `Uint8Array` (MessagePack bin), header getters return multimaps,
 * `serialize()` is a JSON string, only some calls are valid in the deferred log timer, and a phase
 * must `return` right after `exit`. A call that is invalid in the current phase throws locally
 * *before* any RPC: on real Kong such a call raises a Lua error that aborts the event, and in the log
 * timer it was seen to leak state into the next request (§9 item 8).
 */
import type { KongConsumer, KongEntity, KongPdk, MultiMap } from './pdk';
import type { SharedCtx, SharedKey } from './shared-ctx';
import { PluginError } from '../errors';

/** The phases an external plugin can implement that this suite uses. */
export type Phase = 'rewrite' | 'access' | 'response' | 'log';

const ANY: readonly Phase[] = ['rewrite', 'access', 'response', 'log'];
const REQUEST: readonly Phase[] = ['rewrite', 'access', 'response'];
const BEFORE_PROXY: readonly Phase[] = ['rewrite', 'access'];
const AFTER_AUTH: readonly Phase[] = ['access', 'response', 'log'];

/** Where each facade call may run (kong-runtime.md §3.3, JS log column). */
export const PHASES_OF = {
  header: ANY,
  headers: ANY,
  method: REQUEST,
  path: REQUEST,
  rawQuery: REQUEST,
  rawBody: REQUEST,
  clientIp: REQUEST,
  consumer: AFTER_AUTH,
  consumerGroups: AFTER_AUTH,
  credential: AFTER_AUTH,
  route: AFTER_AUTH,
  service: AFTER_AUTH,
  sharedGet: ANY,
  sharedSet: ANY,
  setUpstreamHeader: BEFORE_PROXY,
  clearUpstreamHeader: BEFORE_PROXY,
  setUpstreamBody: BEFORE_PROXY,
  setUpstreamPath: BEFORE_PROXY,
  setUpstreamScheme: BEFORE_PROXY,
  setUpstreamQuery: BEFORE_PROXY,
  setTarget: ['access'],
  setTimeouts: ['access'],
  enableBuffering: BEFORE_PROXY,
  setResponseHeader: REQUEST,
  setResponseHeaders: REQUEST,
  exit: REQUEST,
  upstreamStatus: ['response', 'log'],
  upstreamHeaders: ['response', 'log'],
  upstreamRawBody: ['response', 'log'],
  serialize: ['log'],
  setSerializeValue: REQUEST,
  pluginId: ANY,
  kongLogError: ANY,
} as const satisfies Record<string, readonly Phase[]>;

export type FacadeCall = keyof typeof PHASES_OF;

/** The subset of `kong.log.serialize()` (a JSON string on real Kong) that the suite reads. */
export interface SerializedLog {
  request?: {
    id?: string;
    method?: string;
    uri?: string;
    url?: string;
    size?: number;
    headers?: Record<string, unknown>;
  };
  response?: { status?: number; size?: number; headers?: Record<string, unknown> };
  upstream_status?: string | number;
  upstream_uri?: string;
  latencies?: { kong?: number; proxy?: number; request?: number; receive?: number };
  route?: KongEntity;
  service?: KongEntity;
  consumer?: KongConsumer;
  client_ip?: string;
  started_at?: number;
  [k: string]: unknown;
}

/** Convert what Kong sends for a raw body (bin → Uint8Array; strings from emulators) into a Buffer. */
export function toBuffer(body: Uint8Array | string | null | undefined): Buffer | undefined {
  if (body === null || body === undefined) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/** Lower-case a multimap's names; Kong already lower-cases request headers, emulators may not. */
function normaliseMultiMap(m: MultiMap | null | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!m) return out;
  for (const [k, v] of Object.entries(m)) {
    out[k.toLowerCase()] = Array.isArray(v) ? v.map(String) : [String(v)];
  }
  return out;
}

/** The JSON error body: OpenAI-shaped (`error.{message,type,code}`) so SDKs surface it, plus Kong's `message`. */
export function errorBody(
  code: string,
  message: string,
  extra?: Record<string, unknown>,
): Record<string, unknown> {
  const type = code === 'BUDGET_EXCEEDED' ? 'rate_limit_exceeded' : 'invalid_request_error';
  return { error: { message, type, code, ...extra }, message };
}

/** A per-phase, typed view of the PDK. Create one per phase call; it records the calls it made. */
export class KongFacade {
  /** PDK calls made through this facade, in order (tests assert the log phase's list). */
  readonly calls: FacadeCall[] = [];
  private exitedFlag = false;

  constructor(
    readonly pdk: KongPdk,
    readonly phase: Phase,
  ) {}

  /** True once `exit` was called: the phase must return without further response changes. */
  get exited(): boolean {
    return this.exitedFlag;
  }

  private use(call: FacadeCall): void {
    const allowed: readonly Phase[] = PHASES_OF[call];
    if (!allowed.includes(this.phase)) {
      throw new PluginError('INTERNAL', `PDK call ${call} is not valid in the ${this.phase} phase`);
    }
    this.calls.push(call);
  }

  /** One request header (first value) or undefined. */
  async header(name: string): Promise<string | undefined> {
    this.use('header');
    const v = await this.pdk.request.getHeader(name);
    return v === null || v === undefined ? undefined : String(v);
  }

  /** All request headers as a lower-cased multimap (one RPC; prefer it over several `header` calls). */
  async headers(): Promise<Record<string, string[]>> {
    this.use('headers');
    return normaliseMultiMap(await this.pdk.request.getHeaders(1000));
  }

  async method(): Promise<string> {
    this.use('method');
    return String(await this.pdk.request.getMethod());
  }

  async path(): Promise<string> {
    this.use('path');
    return String(await this.pdk.request.getPath());
  }

  async rawQuery(): Promise<string> {
    this.use('rawQuery');
    return String((await this.pdk.request.getRawQuery()) ?? '');
  }

  /**
   * The request body. `getRawBody(0)` lifts the spool-file limit on 3.8+ (older Kong ignores the
   * argument); the shipped settings raise the body buffer so prompts are never spooled.
   */
  async rawBody(): Promise<Buffer | undefined> {
    this.use('rawBody');
    return toBuffer(await this.pdk.request.getRawBody(0));
  }

  async clientIp(): Promise<string | undefined> {
    this.use('clientIp');
    return (await this.pdk.client.getIp()) ?? undefined;
  }

  async consumer(): Promise<KongConsumer | undefined> {
    this.use('consumer');
    return (await this.pdk.client.getConsumer()) ?? undefined;
  }

  /** The consumer's groups; [] when none (or on Kong versions without consumer groups). */
  async consumerGroups(): Promise<KongEntity[]> {
    this.use('consumerGroups');
    const g = await this.pdk.client.getConsumerGroups();
    return Array.isArray(g) ? g : [];
  }

  async credential(): Promise<KongEntity | undefined> {
    this.use('credential');
    return (await this.pdk.client.getCredential()) ?? undefined;
  }

  async route(): Promise<KongEntity | undefined> {
    this.use('route');
    return (await this.pdk.router.getRoute()) ?? undefined;
  }

  async service(): Promise<KongEntity | undefined> {
    this.use('service');
    return (await this.pdk.router.getService()) ?? undefined;
  }

  /** Read a typed `kong.ctx.shared` value. */
  async getShared<K extends SharedKey>(key: K): Promise<SharedCtx[K] | undefined> {
    this.use('sharedGet');
    const v = await this.pdk.ctx.shared.get(key);
    return v === null || v === undefined ? undefined : (v as SharedCtx[K]);
  }

  /** Write a typed `kong.ctx.shared` value (plain data only; it crosses MessagePack and Lua). */
  async setShared<K extends SharedKey>(key: K, value: SharedCtx[K]): Promise<void> {
    this.use('sharedSet');
    await this.pdk.ctx.shared.set(key, value);
  }

  async setUpstreamHeader(name: string, value: string): Promise<void> {
    this.use('setUpstreamHeader');
    await this.pdk.service.request.setHeader(name, value);
  }

  async clearUpstreamHeader(name: string): Promise<void> {
    this.use('clearUpstreamHeader');
    await this.pdk.service.request.clearHeader(name);
  }

  /** Replace the body sent upstream (Kong recomputes Content-Length). */
  async setUpstreamBody(body: string): Promise<void> {
    this.use('setUpstreamBody');
    await this.pdk.service.request.setRawBody(body);
  }

  async setUpstreamPath(path: string): Promise<void> {
    this.use('setUpstreamPath');
    await this.pdk.service.request.setPath(path);
  }

  async setUpstreamScheme(scheme: 'http' | 'https'): Promise<void> {
    this.use('setUpstreamScheme');
    await this.pdk.service.request.setScheme(scheme);
  }

  async setUpstreamQuery(query: string): Promise<void> {
    this.use('setUpstreamQuery');
    await this.pdk.service.request.setRawQuery(query);
  }

  async setTarget(host: string, port: number): Promise<void> {
    this.use('setTarget');
    await this.pdk.service.setTarget(host, port);
  }

  /** Per-request upstream timeouts in ms (`kong.service.set_timeouts`, access only). */
  async setTimeouts(connectMs: number, writeMs: number, readMs: number): Promise<void> {
    this.use('setTimeouts');
    await this.pdk.service.setTimeouts(connectMs, writeMs, readMs);
  }

  /** Buffer the upstream response so the log phase can read it (non-stream requests only). */
  async enableBuffering(): Promise<void> {
    this.use('enableBuffering');
    await this.pdk.service.request.enableBuffering();
  }

  /** Add a header to the client response (before the response is sent). */
  async setResponseHeader(name: string, value: string): Promise<void> {
    this.use('setResponseHeader');
    await this.pdk.response.setHeader(name, value);
  }

  /**
   * End the request with this response. In access Kong delays the exit until the access phase ends
   * and skips the remaining plugins; the caller must return right after.
   */
  /** Add several headers to the client response in one RPC. */
  async setResponseHeaders(headers: Record<string, string>): Promise<void> {
    if (!Object.keys(headers).length) return;
    this.use('setResponseHeaders');
    await this.pdk.response.setHeaders(headers);
  }

  async exit(
    status: number,
    body?: string | Buffer | Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<void> {
    this.use('exit');
    this.exitedFlag = true;
    const b = Buffer.isBuffer(body) ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : body;
    if (headers && Object.keys(headers).length) await this.pdk.response.exit(status, b ?? '', headers);
    else if (b !== undefined) await this.pdk.response.exit(status, b);
    else await this.pdk.response.exit(status);
  }

  /** Exit with the suite's JSON error body and a stable code. */
  async exitError(
    status: number,
    code: string,
    message: string,
    headers?: Record<string, string>,
    extra?: Record<string, unknown>,
  ): Promise<void> {
    await this.exit(status, JSON.stringify(errorBody(code, message, extra)), {
      'Content-Type': 'application/json',
      ...headers,
    });
  }

  async upstreamStatus(): Promise<number | undefined> {
    this.use('upstreamStatus');
    const s = await this.pdk.service.response.getStatus();
    return typeof s === 'number' ? s : undefined;
  }

  async upstreamHeaders(): Promise<Record<string, string[]>> {
    this.use('upstreamHeaders');
    return normaliseMultiMap(await this.pdk.service.response.getHeaders(1000));
  }

  /** The buffered upstream body. Only call it when this request turned buffering on. */
  async upstreamRawBody(): Promise<Buffer | undefined> {
    this.use('upstreamRawBody');
    return toBuffer(await this.pdk.service.response.getRawBody());
  }

  /** The log-phase summary of the request (`kong.log.serialize()`, a JSON string on Kong). */
  async serialize(): Promise<SerializedLog> {
    this.use('serialize');
    const raw: unknown = await this.pdk.log.serialize();
    if (typeof raw === 'string') return JSON.parse(raw) as SerializedLog;
    return (raw ?? {}) as SerializedLog;
  }

  /** Publish a value for Kong's log plugins (`ai.*` fields). Effective only before the log phase. */
  async setSerializeValue(key: string, value: unknown): Promise<void> {
    this.use('setSerializeValue');
    await this.pdk.log.setSerializeValue(key, value);
  }

  /** A line in Kong's own error log (Kong adds the request context: client, request line, host). */
  async kongLogError(message: string): Promise<void> {
    this.use('kongLogError');
    await this.pdk.log.err(message);
  }

  async pluginId(): Promise<string | undefined> {
    this.use('pluginId');
    return (await this.pdk.plugin.getId()) ?? undefined;
  }
}
