/**
 * The project's own types for the subset of the Kong PDK that JS plugins use through kong-pdk's
 * proxy. kong-pdk's bundled typings are wrong at runtime (kong-runtime.md §2.7, §10): Kong keeps only
 * the first Lua return value, so calls resolve to a value or `null`, never to `[value, err]` tuples.
 *
 * Only `lib/kong/*` and plugin `handler.ts`/`index.ts` files may import this module.
 */

/** Header and query getters arrive as multimaps: every value is an array (kong-runtime.md §2.7). */
export type MultiMap = Record<string, string[]>;

/** A Kong entity as returned by router/client getters (fields we read; Kong sends more). */
export interface KongEntity {
  id: string;
  name?: string | null;
  [k: string]: unknown;
}

/** A Kong consumer entity. */
export interface KongConsumer extends KongEntity {
  username?: string | null;
  custom_id?: string | null;
  tags?: string[] | null;
}

/** The raw PDK object handed to phase methods (kong-pdk converts camelCase to Kong's snake_case). */
export interface KongPdk {
  request: {
    getHeader(name: string): Promise<string | null>;
    getHeaders(max?: number): Promise<MultiMap>;
    getMethod(): Promise<string>;
    getPath(): Promise<string>;
    getRawQuery(): Promise<string>;
    /** `maxAllowedFileSize` exists from Kong 3.8 (0 = no limit). Body arrives as MessagePack bin. */
    getRawBody(maxAllowedFileSize?: number): Promise<Uint8Array | string | null>;
  };
  client: {
    getConsumer(): Promise<KongConsumer | null>;
    /** Kong 3.4+: the consumer's groups (null when none or unsupported). */
    getConsumerGroups(): Promise<KongEntity[] | null>;
    getCredential(): Promise<KongEntity | null>;
    getIp(): Promise<string | null>;
  };
  router: {
    getRoute(): Promise<KongEntity | null>;
    getService(): Promise<KongEntity | null>;
  };
  service: {
    setTarget(host: string, port: number): Promise<unknown>;
    /** `kong.service.set_timeouts(connect, write, read)` in ms; not verified on 3.4 (an unknown PDK method is logged by Kong and answers null). */
    setTimeouts(connectMs: number, writeMs: number, readMs: number): Promise<unknown>;
    request: {
      setHeader(name: string, value: string): Promise<unknown>;
      clearHeader(name: string): Promise<unknown>;
      setPath(path: string): Promise<unknown>;
      setScheme(scheme: string): Promise<unknown>;
      setRawQuery(query: string): Promise<unknown>;
      setRawBody(body: string): Promise<unknown>;
      enableBuffering(): Promise<unknown>;
    };
    response: {
      getStatus(): Promise<number | null>;
      getHeaders(max?: number): Promise<MultiMap | null>;
      getRawBody(): Promise<Uint8Array | string | null>;
    };
  };
  response: {
    exit(
      status: number,
      body?: string | Uint8Array | Record<string, unknown>,
      headers?: Record<string, string>,
    ): Promise<unknown>;
    setHeader(name: string, value: string): Promise<unknown>;
    setHeaders(headers: Record<string, string>): Promise<unknown>;
    getStatus(): Promise<number | null>;
    getHeader(name: string): Promise<string | null>;
  };
  ctx: {
    shared: {
      get(key: string): Promise<unknown>;
      set(key: string, value: unknown): Promise<unknown>;
    };
  };
  log: {
    /** A JSON string in the JS log phase (kong-runtime.md §9 item 5). */
    serialize(): Promise<string>;
    setSerializeValue(key: string, value: unknown): Promise<unknown>;
    err(...args: unknown[]): Promise<unknown>;
    warn(...args: unknown[]): Promise<unknown>;
    notice(...args: unknown[]): Promise<unknown>;
    info(...args: unknown[]): Promise<unknown>;
    debug(...args: unknown[]): Promise<unknown>;
  };
  plugin: { getId(): Promise<string | null> };
  node: { getId(): Promise<string | null> };
  nginx: {
    getVar(name: string): Promise<string | null>;
  };
}
