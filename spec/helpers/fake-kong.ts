/**
 * A small in-memory PDK fake implementing `KongPdk` (lib/kong/pdk.ts) for handler unit tests. It keeps
 * request, upstream and response state, records every call as `[method, args]`, and answers like the
 * real PDK does: header getters return multimaps, bodies come as Uint8Array, `log.serialize()` is a
 * JSON string, `ctx.shared` is one object shared between phases of a request (use `next()` to start
 * another request that keeps nothing but the configured defaults).
 */
import type { KongConsumer, KongEntity, KongPdk, MultiMap } from '../../lib/kong/pdk';

export interface FakeRequest {
  method?: string;
  path?: string;
  query?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer | object;
  consumer?: KongConsumer | null;
  groups?: KongEntity[] | null;
  credential?: KongEntity | null;
  route?: KongEntity | null;
  service?: KongEntity | null;
  ip?: string;
}

export interface FakeUpstream {
  scheme?: string;
  host?: string;
  port?: number;
  path?: string;
  query?: string;
  headers: Record<string, string>;
  cleared: string[];
  body?: string;
  buffering: boolean;
  timeouts?: [number, number, number];
}

export interface FakeExit {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export class FakeKong {
  readonly calls: [string, unknown[]][] = [];
  readonly shared: Record<string, unknown> = {};
  upstream: FakeUpstream = { headers: {}, cleared: [], buffering: false };
  responseHeaders: Record<string, string> = {};
  exited: FakeExit | undefined;
  /** What `log.serialize()` returns (merged over a default built from the request). */
  serialized: Record<string, unknown> = {};
  /** Status/headers of the upstream response (service.response.* in response/log). */
  upstreamResponse: { status?: number; headers?: MultiMap; body?: string } = {};
  logs: [string, unknown[]][] = [];

  constructor(public req: FakeRequest = {}) {}

  private rec(name: string, args: unknown[]): void {
    this.calls.push([name, args]);
  }

  /** Names of the calls made so far. */
  callNames(): string[] {
    return this.calls.map((c) => c[0]);
  }

  private headerMap(): MultiMap {
    const out: MultiMap = {};
    for (const [k, v] of Object.entries(this.req.headers ?? {}))
      out[k.toLowerCase()] = Array.isArray(v) ? v : [v];
    return out;
  }

  private bodyBytes(): Uint8Array | null {
    const b = this.req.body;
    if (b === undefined) return null;
    const buf = Buffer.isBuffer(b) ? b : Buffer.from(typeof b === 'string' ? b : JSON.stringify(b), 'utf8');
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get pdk(): KongPdk {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const r = <T>(name: string, args: unknown[], v: T): Promise<T> => {
      self.rec(name, args);
      return Promise.resolve(v);
    };
    return {
      request: {
        getHeader: (n) => r('request.getHeader', [n], self.headerMap()[n.toLowerCase()]?.[0] ?? null),
        getHeaders: (m) => r('request.getHeaders', [m], self.headerMap()),
        getMethod: () => r('request.getMethod', [], self.req.method ?? 'POST'),
        getPath: () => r('request.getPath', [], self.req.path ?? '/v1/chat/completions'),
        getRawQuery: () => r('request.getRawQuery', [], self.req.query ?? ''),
        getRawBody: (m) => r('request.getRawBody', [m], self.bodyBytes()),
      },
      client: {
        getConsumer: () => r('client.getConsumer', [], self.req.consumer ?? null),
        getConsumerGroups: () => r('client.getConsumerGroups', [], self.req.groups ?? null),
        getCredential: () => r('client.getCredential', [], self.req.credential ?? null),
        getIp: () => r('client.getIp', [], self.req.ip ?? '127.0.0.1'),
      },
      router: {
        getRoute: () => r('router.getRoute', [], self.req.route ?? null),
        getService: () => r('router.getService', [], self.req.service ?? null),
      },
      service: {
        setTarget: (host, port) => {
          self.upstream.host = host;
          self.upstream.port = port;
          return r('service.setTarget', [host, port], null);
        },
        setTimeouts: (c, w, rd) => {
          self.upstream.timeouts = [c, w, rd];
          return r('service.setTimeouts', [c, w, rd], null);
        },
        request: {
          setHeader: (n, v) => {
            self.upstream.headers[n.toLowerCase()] = v;
            return r('service.request.setHeader', [n, v], null);
          },
          clearHeader: (n) => {
            delete self.upstream.headers[n.toLowerCase()];
            self.upstream.cleared.push(n.toLowerCase());
            return r('service.request.clearHeader', [n], null);
          },
          setPath: (p) => {
            self.upstream.path = p;
            return r('service.request.setPath', [p], null);
          },
          setScheme: (s) => {
            self.upstream.scheme = s;
            return r('service.request.setScheme', [s], null);
          },
          setRawQuery: (q) => {
            self.upstream.query = q;
            return r('service.request.setRawQuery', [q], null);
          },
          setRawBody: (b) => {
            self.upstream.body = b;
            return r('service.request.setRawBody', [b], null);
          },
          enableBuffering: () => {
            self.upstream.buffering = true;
            return r('service.request.enableBuffering', [], null);
          },
        },
        response: {
          getStatus: () => r('service.response.getStatus', [], self.upstreamResponse.status ?? null),
          getHeaders: (m) => r('service.response.getHeaders', [m], self.upstreamResponse.headers ?? null),
          getRawBody: () => r('service.response.getRawBody', [], self.upstreamResponse.body ?? null),
        },
      },
      response: {
        exit: (status, body, headers) => {
          self.exited = {
            status,
            body: typeof body === 'string' ? safeJson(body) : body,
            ...(headers ? { headers } : {}),
          };
          return r('response.exit', [status, body, headers], null);
        },
        setHeader: (n, v) => {
          self.responseHeaders[n] = v;
          return r('response.setHeader', [n, v], null);
        },
        setHeaders: (h) => {
          Object.assign(self.responseHeaders, h);
          return r('response.setHeaders', [h], null);
        },
        getStatus: () =>
          r('response.getStatus', [], self.exited?.status ?? self.upstreamResponse.status ?? null),
        getHeader: (n) => r('response.getHeader', [n], self.responseHeaders[n] ?? null),
      },
      ctx: {
        shared: {
          get: (k) =>
            r('ctx.shared.get', [k], self.shared[k] === undefined ? null : structuredClone(self.shared[k])),
          set: (k, v) => {
            self.shared[k] = structuredClone(v);
            return r('ctx.shared.set', [k, v], null);
          },
        },
      },
      log: {
        serialize: () =>
          r(
            'log.serialize',
            [],
            JSON.stringify({
              request: {
                method: self.req.method ?? 'POST',
                uri: self.req.path ?? '/v1/chat/completions',
                headers: self.headerMap(),
              },
              response: { status: self.exited?.status ?? self.upstreamResponse.status ?? 200, headers: {} },
              latencies: { kong: 1, proxy: 10, request: 12, receive: 0 },
              source: self.exited ? 'exit' : 'upstream',
              ...self.serialized,
            }),
          ),
        setSerializeValue: (k, v) => r('log.setSerializeValue', [k, v], null),
        err: (...a) => (self.logs.push(['err', a]), r('log.err', a, null)),
        warn: (...a) => (self.logs.push(['warn', a]), r('log.warn', a, null)),
        notice: (...a) => (self.logs.push(['notice', a]), r('log.notice', a, null)),
        info: (...a) => (self.logs.push(['info', a]), r('log.info', a, null)),
        debug: (...a) => (self.logs.push(['debug', a]), r('log.debug', a, null)),
      },
      plugin: { getId: () => r('plugin.getId', [], 'fake-plugin-id') },
      node: { getId: () => r('node.getId', [], 'fake-node-id') },
      nginx: { getVar: (n) => r('nginx.getVar', [n], null) },
    };
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/** A fresh fake for one request. */
export function fakeKong(req: FakeRequest = {}): FakeKong {
  return new FakeKong(req);
}
