/**
 * Kong's side of the MessagePack-RPC transport to a plugin server: a small protocol-level driver for
 * the unit test of the runtime patch (spec/runtime/leak.spec.ts) and for GetStatus on the plugin server
 * a real Kong runs (spec/support/real-kong.ts). Never a stand-in for Kong in integration tests.
 *
 * Mirrors Kong 3.9 `kong/runloop/plugin_servers/rpc/mp_rpc.lua`:
 *  - request `[0, msgid, "plugin.<Method>", [param]]`, always exactly one param (mp_rpc.lua:182-183);
 *  - response `[1, msgid, err, result]`; notifications `[2, label, args]` are skipped (mp_rpc.lua:201-203);
 *  - a connection per call taken from a keepalive pool, strictly one outstanding request per connection
 *    (mp_rpc.lua:176-219). Pipelining would crash kong-js-pluginserver (kong-runtime.md §2.3).
 */
import * as net from 'node:net';
import { Encoder, decodeMultiStream } from '@msgpack/msgpack';

export class RpcError extends Error {
  constructor(
    message: string,
    readonly method: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/** Kong's step method naming, `mp_rpc.lua:142-167` (`get_step_method`). */
export function stepMethodFor(pdkMethod: string, result: unknown): string {
  switch (pdkMethod) {
    case 'kong.client.get_credential':
    case 'kong.client.authenticate':
      return 'plugin.StepCredential';
    case 'kong.client.load_consumer':
    case 'kong.client.get_consumer':
      return 'plugin.StepConsumer';
    case 'kong.node.get_memory_stats':
      return 'plugin.StepMemoryStats';
    case 'kong.router.get_route':
      return 'plugin.StepRoute';
    case 'kong.router.get_service':
      return 'plugin.StepService';
    case 'kong.request.get_query':
    case 'kong.request.get_headers':
    case 'kong.response.get_headers':
    case 'kong.service.response.get_headers':
      return 'plugin.StepMultiMap';
    default:
      break;
  }
  if (
    result !== null &&
    typeof result === 'object' &&
    !Array.isArray(result) &&
    !(result instanceof Uint8Array)
  ) {
    const m = (result as Record<string, unknown>)['_method'];
    if (typeof m === 'string') return `plugin.${m}`;
  }
  return 'plugin.Step';
}

interface Pending {
  msgid: number;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

class Conn {
  readonly sock: net.Socket;
  pending: Pending | undefined;
  dead = false;
  private readonly encoder = new Encoder();

  constructor(
    path: string,
    private readonly onDead: (c: Conn) => void,
  ) {
    this.sock = net.createConnection(path);
    this.sock.setNoDelay(true);
    this.sock.on('error', (e) => this.fail(e));
    this.sock.on('close', () => this.fail(new Error('connection closed by plugin server')));
    void this.readLoop();
  }

  connected(timeoutMs: number): Promise<void> {
    if (!this.sock.connecting) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('connect() timed out')), timeoutMs);
      this.sock.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
      this.sock.once('error', (e) => {
        clearTimeout(t);
        reject(new Error(`connect() to unix:${this.sock.remoteAddress ?? ''} failed: ${e.message}`));
      });
    });
  }

  private async readLoop(): Promise<void> {
    try {
      for await (const msg of decodeMultiStream(this.sock as AsyncIterable<Uint8Array>)) {
        if (!Array.isArray(msg)) continue;
        if (msg[0] === 2) continue; // notification (serverPid): the JS server never sends any
        if (msg[0] !== 1) continue;
        const p = this.pending;
        if (!p || p.msgid !== msg[1]) continue;
        this.pending = undefined;
        const err = msg[2];
        if (err !== null && err !== undefined) p.reject(new Error(String(err)));
        else p.resolve(msg[3] ?? null);
      }
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private fail(e: Error): void {
    if (this.dead) return;
    this.dead = true;
    const p = this.pending;
    this.pending = undefined;
    if (p) p.reject(e);
    this.sock.destroy();
    this.onDead(this);
  }

  send(msgid: number, method: string, param: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending = { msgid, resolve, reject };
      this.sock.write(this.encoder.encode([0, msgid, method, [param]]));
    });
  }

  close(): void {
    this.dead = true;
    this.sock.destroy();
  }
}

export interface RpcClientOptions {
  /** per-call timeout; Kong's cosocket default is 60 s */
  timeoutMs?: number;
  /** max idle pooled connections */
  poolSize?: number;
}

/** One client per plugin-server socket. */
export class RpcClient {
  private msgid = 0;
  private idle: Conn[] = [];
  private all = new Set<Conn>();
  private closed = false;
  readonly timeoutMs: number;
  private readonly poolSize: number;
  /** number of RPC calls made (for overhead measurements) */
  calls = 0;

  constructor(
    readonly socketPath: string,
    opts: RpcClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.poolSize = opts.poolSize ?? 32;
  }

  private async acquire(): Promise<Conn> {
    for (;;) {
      const c = this.idle.pop();
      if (!c) break;
      if (!c.dead) return c;
    }
    const c = new Conn(this.socketPath, (d) => {
      this.all.delete(d);
      this.idle = this.idle.filter((x) => x !== d);
    });
    this.all.add(c);
    await c.connected(this.timeoutMs);
    return c;
  }

  private release(c: Conn): void {
    if (c.dead) return;
    if (this.closed || this.idle.length >= this.poolSize) {
      c.close();
      this.all.delete(c);
      return;
    }
    this.idle.push(c);
  }

  /** `method` with or without the `plugin.` prefix. */
  async call(method: string, param: unknown): Promise<unknown> {
    if (this.closed) throw new RpcError('rpc client closed', method);
    const full = method.includes('.') ? method : `plugin.${method}`;
    const c = await this.acquire();
    const id = ++this.msgid;
    this.calls++;
    let timer: NodeJS.Timeout | undefined;
    try {
      const res = await Promise.race([
        c.send(id, full, param),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            c.close();
            reject(new Error('timeout'));
          }, this.timeoutMs);
        }),
      ]);
      this.release(c);
      return res;
    } catch (e) {
      // the connection may still hold a late answer: never reuse it after an error
      if (!c.pending) this.release(c);
      else c.close();
      throw new RpcError((e as Error).message, full);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  close(): void {
    this.closed = true;
    for (const c of this.all) c.close();
    this.all.clear();
    this.idle = [];
  }
}
