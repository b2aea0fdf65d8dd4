/**
 * The typed PDK facade: the only code that knows PDK method names. It encodes the runtime facts of
 * kong-runtime.md: bodies arrive as `Uint8Array` (MessagePack bin), header getters return multimaps,
 * `serialize()` is a JSON string, only some calls are valid in the deferred log timer, and a phase
 * must `return` right after `exit`. A call that is invalid in the current phase throws locally
 * *before* any RPC: on real Kong such a call raises a Lua error that aborts the event, and in the log
 * timer it was seen to leak state into the next request (§9 item 8).
 *
 * Read once, write once (issue #17): with llm-sentinel's bridge (kong/plugins/llm-sentinel/bridge.lua)
 * the first getter of an access phase fetches every request fact in one round trip
 * (`kong.llm_plugins.read`), setters are queued and applied in one round trip when the phase ends
 * (`flush`, or `exit` = effects + exit in one call), and a log phase reads its facts from one
 * kong.ctx.shared value. Without the bridge every getter and setter is its own PDK call, as before.
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

/** What `kong.llm_plugins.read()` answers in access (bridge.lua `read`). */
interface AccessFacts {
  v: 1;
  method?: string;
  path?: string;
  raw_query?: string;
  client_ip?: string;
  consumer?: KongConsumer;
  credential?: KongEntity;
  consumer_groups?: KongEntity[] | Record<string, never>;
  route?: KongEntity;
  service?: KongEntity;
  headers?: MultiMap;
  body?: Uint8Array | string;
  shared?: Record<string, unknown>;
}

/** The `llm.log` kong.ctx.shared value a log phase reads (bridge.lua `prepare_log`). */
interface LogFacts {
  v: 1;
  shared?: Record<string, unknown>;
  log?: SerializedLog;
}

type Facts = { kind: 'access'; f: AccessFacts } | { kind: 'log'; f: LogFacts };

/** One queued effect: [op, ...args], applied in order (bridge.lua `APPLY`). */
type Effect = [string, ...unknown[]];

/**
 * When `kong.llm_plugins.read` answered nothing (llm-sentinel not installed in this Kong), the facade
 * makes one PDK call per fact; it asks again after this long (Kong logs each unknown method).
 */
const BRIDGE_RETRY_MS = 60_000;
let bridgeMissingUntil = 0;

/** The bridge's methods on kong-pdk's proxy (absent on test fakes). */
interface Bridge {
  read(): Promise<unknown>;
  write(effects: Effect[]): Promise<unknown>;
  writeExit(effects: Effect[], exit: Record<string, unknown>): Promise<unknown>;
  /** The last message of a HandleEventFacts event: effects (and exit) the Lua caller applies. */
  effects(effects: Effect[], exit?: Record<string, unknown>): Promise<unknown>;
}

/**
 * Where the patched plugin server puts the request facts that came with the event
 * (`plugin.HandleEventFacts`, sent by llm-sentinel's fast path on Kong 3.9: fast.lua). The phase then
 * reads without a round trip and answers its effects as the event's last message.
 */
const FACTS = Symbol.for('kong-llm-plugins.facts');

function bridgeOf(pdk: KongPdk): Bridge | undefined {
  const b = (pdk as unknown as { llmPlugins?: Partial<Bridge> }).llmPlugins;
  return b && typeof b.read === 'function' && typeof b.write === 'function' ? (b as Bridge) : undefined;
}

function isFacts(v: unknown): v is { v: 1 } {
  return typeof v === 'object' && v !== null && (v as { v?: unknown }).v === 1;
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
  private facts: Promise<Facts | undefined> | undefined;
  private pending: Effect[] = [];
  /** Values this phase wrote with setShared (later getShared calls of the phase see them). */
  private readonly written = new Map<string, unknown>();
  private headersCache: Record<string, string[]> | undefined;
  /** True once the bridge answered in this phase (only then may an exit go through it). */
  private bridged = false;
  /** The facts came with the event: effects go back as its last message (`effects`). */
  private readonly pushed: boolean;
  private finalSent = false;

  constructor(
    readonly pdk: KongPdk,
    readonly phase: Phase,
  ) {
    const pre = phase === 'access' ? (pdk as unknown as Record<symbol, unknown>)[FACTS] : undefined;
    this.pushed = isFacts(pre) && bridgeOf(pdk) !== undefined;
    if (this.pushed) {
      this.bridged = true;
      this.facts = Promise.resolve({ kind: 'access', f: pre as AccessFacts });
    }
  }

  /** True once `exit` was called: the phase must return without further response changes. */
  get exited(): boolean {
    return this.exitedFlag;
  }

  /** Effects queued and not yet applied (flushed when the phase ends). */
  get pendingEffects(): number {
    return this.pending.length;
  }

  private use(call: FacadeCall): void {
    const allowed: readonly Phase[] = PHASES_OF[call];
    if (!allowed.includes(this.phase)) {
      throw new PluginError('INTERNAL', `PDK call ${call} is not valid in the ${this.phase} phase`);
    }
    this.calls.push(call);
  }

  /** The facts of this phase in one round trip, or undefined: then every getter is its own call. */
  private load(): Promise<Facts | undefined> {
    this.facts ??= this.fetchFacts();
    return this.facts;
  }

  private async fetchFacts(): Promise<Facts | undefined> {
    if (this.phase === 'log') {
      const v = await this.pdk.ctx.shared.get('llm.log');
      return isFacts(v) ? { kind: 'log', f: v as LogFacts } : undefined;
    }
    const b = this.phase === 'access' ? bridgeOf(this.pdk) : undefined;
    if (!b || Date.now() < bridgeMissingUntil) return undefined;
    const v = await b.read();
    if (!isFacts(v)) {
      bridgeMissingUntil = Date.now() + BRIDGE_RETRY_MS;
      return undefined;
    }
    this.bridged = true;
    return { kind: 'access', f: v as AccessFacts };
  }

  private async access(): Promise<AccessFacts | undefined> {
    const f = await this.load();
    return f?.kind === 'access' ? f.f : undefined;
  }

  /** One request header (first value) or undefined. */
  async header(name: string): Promise<string | undefined> {
    this.use('header');
    const f = await this.access();
    if (f) return (this.headersCache ??= normaliseMultiMap(f.headers))[name.toLowerCase()]?.[0];
    const v = await this.pdk.request.getHeader(name);
    return v === null || v === undefined ? undefined : String(v);
  }

  /** All request headers as a lower-cased multimap. */
  async headers(): Promise<Record<string, string[]>> {
    this.use('headers');
    const f = await this.access();
    if (f) return (this.headersCache ??= normaliseMultiMap(f.headers));
    return normaliseMultiMap(await this.pdk.request.getHeaders(1000));
  }

  async method(): Promise<string> {
    this.use('method');
    const f = await this.access();
    return String(f ? f.method : await this.pdk.request.getMethod());
  }

  async path(): Promise<string> {
    this.use('path');
    const f = await this.access();
    return String(f ? f.path : await this.pdk.request.getPath());
  }

  async rawQuery(): Promise<string> {
    this.use('rawQuery');
    const f = await this.access();
    return String((f ? f.raw_query : await this.pdk.request.getRawQuery()) ?? '');
  }

  /**
   * The request body. `getRawBody(0)` lifts the spool-file limit on 3.8+ (older Kong ignores the
   * argument); the shipped settings raise the body buffer so prompts are never spooled.
   */
  async rawBody(): Promise<Buffer | undefined> {
    this.use('rawBody');
    const f = await this.access();
    return toBuffer(f ? f.body : await this.pdk.request.getRawBody(0));
  }

  async clientIp(): Promise<string | undefined> {
    this.use('clientIp');
    const f = await this.access();
    return (f ? f.client_ip : await this.pdk.client.getIp()) ?? undefined;
  }

  async consumer(): Promise<KongConsumer | undefined> {
    this.use('consumer');
    const f = await this.access();
    return (f ? f.consumer : await this.pdk.client.getConsumer()) ?? undefined;
  }

  /** The consumer's groups; [] when none (or on Kong versions without consumer groups). */
  async consumerGroups(): Promise<KongEntity[]> {
    this.use('consumerGroups');
    const f = await this.access();
    const g = f ? f.consumer_groups : await this.pdk.client.getConsumerGroups();
    return Array.isArray(g) ? g : [];
  }

  async credential(): Promise<KongEntity | undefined> {
    this.use('credential');
    const f = await this.access();
    return (f ? f.credential : await this.pdk.client.getCredential()) ?? undefined;
  }

  async route(): Promise<KongEntity | undefined> {
    this.use('route');
    const f = await this.access();
    return (f ? f.route : await this.pdk.router.getRoute()) ?? undefined;
  }

  async service(): Promise<KongEntity | undefined> {
    this.use('service');
    const f = await this.access();
    return (f ? f.service : await this.pdk.router.getService()) ?? undefined;
  }

  /** Read a typed `kong.ctx.shared` value (what this phase wrote, else what the request holds). */
  async getShared<K extends SharedKey>(key: K): Promise<SharedCtx[K] | undefined> {
    this.use('sharedGet');
    if (this.written.has(key)) return this.written.get(key) as SharedCtx[K];
    const f = await this.load();
    const v = f ? f.f.shared?.[key] : await this.pdk.ctx.shared.get(key);
    return v === null || v === undefined ? undefined : (v as SharedCtx[K]);
  }

  /** Write a typed `kong.ctx.shared` value (plain data only; it crosses MessagePack and Lua). */
  async setShared<K extends SharedKey>(key: K, value: SharedCtx[K]): Promise<void> {
    this.use('sharedSet');
    this.written.set(key, value);
    this.queue(['shared', key, value]);
  }

  async setUpstreamHeader(name: string, value: string): Promise<void> {
    this.use('setUpstreamHeader');
    this.queue(['upstream_header', name, value]);
  }

  async clearUpstreamHeader(name: string): Promise<void> {
    this.use('clearUpstreamHeader');
    this.queue(['clear_upstream_header', name]);
  }

  /** Replace the body sent upstream (Kong recomputes Content-Length). */
  async setUpstreamBody(body: string): Promise<void> {
    this.use('setUpstreamBody');
    this.queue(['upstream_body', body]);
  }

  async setUpstreamPath(path: string): Promise<void> {
    this.use('setUpstreamPath');
    this.queue(['upstream_path', path]);
  }

  async setUpstreamScheme(scheme: 'http' | 'https'): Promise<void> {
    this.use('setUpstreamScheme');
    this.queue(['upstream_scheme', scheme]);
  }

  async setUpstreamQuery(query: string): Promise<void> {
    this.use('setUpstreamQuery');
    this.queue(['upstream_query', query]);
  }

  async setTarget(host: string, port: number): Promise<void> {
    this.use('setTarget');
    this.queue(['target', host, port]);
  }

  /** Per-request upstream timeouts in ms (`kong.service.set_timeouts`, access only). */
  async setTimeouts(connectMs: number, writeMs: number, readMs: number): Promise<void> {
    this.use('setTimeouts');
    this.queue(['timeouts', connectMs, writeMs, readMs]);
  }

  /** Buffer the upstream response so the log phase can read it (non-stream requests only). */
  async enableBuffering(): Promise<void> {
    this.use('enableBuffering');
    this.queue(['buffering']);
  }

  /** Add a header to the client response (before the response is sent). */
  async setResponseHeader(name: string, value: string): Promise<void> {
    this.use('setResponseHeader');
    this.queue(['response_header', name, value]);
  }

  /** Add several headers to the client response. */
  async setResponseHeaders(headers: Record<string, string>): Promise<void> {
    if (!Object.keys(headers).length) return;
    this.use('setResponseHeaders');
    this.queue(['response_headers', headers]);
  }

  /** Publish a value for Kong's log plugins (`ai.*` fields). Effective only before the log phase. */
  async setSerializeValue(key: string, value: unknown): Promise<void> {
    this.use('setSerializeValue');
    this.queue(['serialize_value', key, value]);
  }

  /** A line in Kong's own error log (Kong adds the request context: client, request line, host). */
  async kongLogError(message: string): Promise<void> {
    this.use('kongLogError');
    this.queue(['log_err', message]);
  }

  private queue(e: Effect): void {
    if (this.exitedFlag || this.finalSent) throw new PluginError('INTERNAL', `${e[0]} after the phase ended`);
    this.pending.push(e);
  }

  /** Hand the effects (and exit) back as the event's last message; the Lua caller applies them. */
  private sendFinal(exit?: Record<string, unknown>): void {
    const effects = this.pending;
    this.pending = [];
    this.finalSent = true;
    // kong-pdk does not wait for an answer to this call: none comes (patches/kong-pdk+0.6.0.patch)
    void bridgeOf(this.pdk)!.effects(effects, exit);
  }

  /**
   * Apply the queued effects: one bridge call, or one PDK call each without the bridge. The phase
   * wrapper (lib/kong/guard.ts) calls it when the phase ends; a failed effect throws.
   */
  async flush(): Promise<void> {
    if (!this.pending.length) return;
    if (this.pushed) return this.sendFinal();
    const effects = this.pending;
    this.pending = [];
    const b = this.phase === 'log' ? undefined : bridgeOf(this.pdk);
    if (b && (this.bridged || Date.now() >= bridgeMissingUntil)) {
      const r = await b.write(effects);
      if (isOk(r)) return;
      if (r && typeof r === 'object' && 'error' in r) {
        throw new PluginError(
          'INTERNAL',
          `applying the plugin's effects failed: ${String((r as { error: unknown }).error)}`,
        );
      }
      bridgeMissingUntil = Date.now() + BRIDGE_RETRY_MS;
    }
    for (const e of effects) await this.applyDirect(e);
  }

  private async applyDirect(e: Effect): Promise<void> {
    const p = this.pdk;
    const [op, a, b, c] = e as [string, any, any, any];
    switch (op) {
      case 'shared':
        return void (await p.ctx.shared.set(a, b));
      case 'upstream_header':
        return void (await p.service.request.setHeader(a, b));
      case 'clear_upstream_header':
        return void (await p.service.request.clearHeader(a));
      case 'upstream_body':
        return void (await p.service.request.setRawBody(a));
      case 'upstream_path':
        return void (await p.service.request.setPath(a));
      case 'upstream_scheme':
        return void (await p.service.request.setScheme(a));
      case 'upstream_query':
        return void (await p.service.request.setRawQuery(a));
      case 'target':
        return void (await p.service.setTarget(a, b));
      case 'timeouts':
        return void (await p.service.setTimeouts(a, b, c));
      case 'buffering':
        return void (await p.service.request.enableBuffering());
      case 'response_header':
        return void (await p.response.setHeader(a, b));
      case 'response_headers':
        return void (await p.response.setHeaders(a));
      case 'serialize_value':
        return void (await p.log.setSerializeValue(a, b));
      case 'log_err':
        return void (await p.log.err(a));
      default:
        throw new PluginError('INTERNAL', `unknown effect ${op}`);
    }
  }

  /**
   * End the request with this response, after the queued effects (one round trip with the bridge).
   * In access Kong delays the exit until the access phase ends and skips the remaining plugins; the
   * caller must return right after.
   */
  async exit(
    status: number,
    body?: string | Buffer | Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<void> {
    this.use('exit');
    const b = Buffer.isBuffer(body) ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : body;
    const bridge = bridgeOf(this.pdk);
    if (this.pushed) {
      this.exitedFlag = true;
      const exit: Record<string, unknown> = { status };
      if (b !== undefined) exit['body'] = b;
      if (headers && Object.keys(headers).length) exit['headers'] = headers;
      return this.sendFinal(exit);
    }
    if (bridge && this.bridged) {
      // Only when the bridge answered in this phase: an exit sent to a Kong without it would be lost.
      const effects = this.pending;
      this.pending = [];
      this.exitedFlag = true;
      const exit: Record<string, unknown> = { status };
      if (b !== undefined) exit['body'] = b;
      if (headers && Object.keys(headers).length) exit['headers'] = headers;
      await bridge.writeExit(effects, exit);
      return;
    }
    await this.flush();
    this.exitedFlag = true;
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

  /** The log-phase summary of the request (`kong.log.serialize()`, or the subset the bridge saved). */
  async serialize(): Promise<SerializedLog> {
    this.use('serialize');
    const f = await this.load();
    if (f?.kind === 'log' && f.f.log) return f.f.log;
    const raw: unknown = await this.pdk.log.serialize();
    if (typeof raw === 'string') return JSON.parse(raw) as SerializedLog;
    return (raw ?? {}) as SerializedLog;
  }

  async pluginId(): Promise<string | undefined> {
    this.use('pluginId');
    return (await this.pdk.plugin.getId()) ?? undefined;
  }
}

function isOk(r: unknown): boolean {
  return typeof r === 'object' && r !== null && (r as { ok?: unknown }).ok === true;
}
