/**
 * Shared helpers of the resilience specs: a private redis-server the tests may kill, pause, fill or
 * turn read-only (never the shared one), HTTP helpers that never throw on status, polling with
 * deadlines, ledger and log-line readers.
 */
import * as net from 'node:net';
import * as http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import Redis from 'ioredis';

import { freePort } from '../support/real-kong';

export { freePort };

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(300, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Poll `fn` until it returns a truthy value or the deadline passes (then throw with `what`). */
type Falsy = undefined | null | false | 0 | '';
export async function until<T>(
  what: string,
  fn: () => Promise<T | Falsy> | T | Falsy,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A redis-server owned by one spec on a free loopback port (`--save '' --appendonly no`): the only
 * Redis these tests kill, pause, fill or make read-only.
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private admin: Redis | undefined;
  constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort());
    await r.up();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--enable-debug-command',
        'local',
      ],
      { stdio: 'ignore' },
    );
    this.child = child;
    const failed = new Promise<never>((_, reject) =>
      child.once('error', (e) => reject(new Error(`redis-server failed to start: ${e.message}`))),
    );
    await Promise.race([until(`redis-server on ${this.port}`, () => canConnect(this.port), 10_000), failed]);
  }

  /** SIGKILL the server (mid-traffic crash) and wait until the port is closed. */
  async kill(): Promise<void> {
    const c = this.child;
    this.admin?.disconnect();
    this.admin = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }

  /** A client for test-side commands (pause, config, reads); recreated after a restart. */
  async client(): Promise<Redis> {
    if (!this.admin) {
      const r = new Redis({ host: '127.0.0.1', port: this.port, lazyConnect: true, maxRetriesPerRequest: 2 });
      r.on('error', () => undefined);
      await r.connect();
      this.admin = r;
    }
    return this.admin;
  }

  /** A fresh connection (for blocking commands such as DEBUG SLEEP). */
  async connection(): Promise<Redis> {
    const r = new Redis({ host: '127.0.0.1', port: this.port, lazyConnect: true, maxRetriesPerRequest: 0 });
    r.on('error', () => undefined);
    await r.connect();
    return r;
  }

  async stop(): Promise<void> {
    await this.kill();
  }
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
  truncated?: boolean;
}

/** POST JSON (or raw text) and read the whole answer; never rejects on an HTTP status. */
export function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<HttpResult> {
  const t0 = performance.now();
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', ...headers },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        const done = (truncated: boolean) =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - t0,
            ...(truncated ? { truncated } : {}),
          });
        res.on('end', () => done(false));
        // a response cut by the server (dropped upstream) resolves with what arrived
        res.on('error', () => done(true));
        res.on('aborted', () => done(true));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Start a streaming request and abort it (client disconnect) after `frames` SSE data frames. */
export function abortAfterFrames(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  frames: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const req = http.request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          seen += chunk.split('\n\n').filter((f) => f.startsWith('data: ')).length;
          if (seen >= frames) {
            req.destroy();
            resolve(seen);
          }
        });
        res.on('end', () => resolve(seen));
        res.on('error', () => resolve(seen));
      },
    );
    req.on('error', (e) => (seen >= frames ? resolve(seen) : reject(e)));
    req.setTimeout(30_000, () => req.destroy(new Error('no frames within 30 s')));
    req.end(JSON.stringify(body));
  });
}

/** Ledger rows (field maps) of the accounting stream under `prefix`. */
export async function ledgerRows(redis: Redis, prefix: string): Promise<Record<string, string>[]> {
  const rows = await redis.xrange(`${prefix}:v1:ledger`, '-', '+');
  return rows.map(([, kv]) => {
    const o: Record<string, string> = {};
    for (let i = 0; i + 1 < kv.length; i += 2) o[kv[i]!] = kv[i + 1]!;
    return o;
  });
}

/** All keys under a prefix. */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    out.push(...batch);
  } while (cursor !== '0');
  return out.sort();
}

/** Log lines containing `needle`. */
export function linesWith(lines: readonly string[], needle: string): string[] {
  return lines.filter((l) => l.includes(needle));
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function chat(content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra };
}
