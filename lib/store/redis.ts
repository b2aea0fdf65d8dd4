/**
 * Redis store: every read-modify-write is one Lua script, registered once per client with
 * `defineCommand`, so concurrent requests on many Kong nodes see one consistent budget.
 * Time inside scripts comes from Redis `TIME`, so nodes with skewed clocks agree on expiry.
 *
 * Topologies (docs/deploy.md "Redis topology"): one server, a Sentinel-managed master (ioredis'
 * Sentinel client asks the sentinels for the master on every reconnect), or Redis Cluster (ioredis'
 * Cluster client follows MOVED/ASK).
 * A script only ever touches keys of one hash slot: the windows of one budget partition share a
 * `{tag}` (plugins/llm-token-accounting/policies.ts). On Cluster a reservation whose windows span
 * several slots runs the per-slot protocol below; standalone and Sentinel run it as one script.
 *
 * Cross-slot reservation protocol (Cluster only): windows are grouped by slot and the groups are
 * reserved one after another in ascending slot order, each atomically. When a group refuses or fails,
 * the groups already reserved are released again (compensation). Each step checks `used + amount <=
 * limit` atomically, so the protocol never admits more than a limit: its cost is that a concurrent
 * request can be refused because of a hold that is about to be compensated. A compensation that
 * cannot run (node lost) leaves the hold to expire after the reservation TTL.
 *
 * Retries across a failover are safe: reserve and settle are idempotent per reservation id (a
 * settled id is remembered for SETTLE_DEDUPE_MS), ledger appends are idempotent per entry id. On
 * Sentinel and Cluster the log-phase writes (settle, release, ledger) retry for a failover window,
 * and settles and ledger appends count as done only once a replica has them (ReplicaBarrier);
 * reservations do not wait (docs/resilience.md §9 states the resulting overshoot bound).
 */
import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import type { BudgetWindow, ReserveResult, Store, StreamEntry } from './types';
import type { RedisTopology } from '../schema/redis';
import { PluginError } from '../errors';
import { hashSlot } from './keys';
import { SETTLE_DEDUPE_MS, STREAM_DEDUPE_MS } from './memory';

const COMMON = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function purge(z, h, s)
  local ex = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  if #ex == 0 then return end
  for _, id in ipairs(ex) do
    -- settled markers ('s') carry no amount
    local a = tonumber(redis.call('HGET', h, id) or '0') or 0
    redis.call('HDEL', h, id)
    if a > 0 and redis.call('DECRBY', s, a) < 0 then redis.call('SET', s, 0, 'KEEPTTL') end
  end
  redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
end
local function used(b, w)
  local u = tonumber(redis.call('GET', KEYS[b + 1]) or '0') + tonumber(redis.call('GET', KEYS[b + 5]) or '0')
  if w > 0 then u = u + math.floor(tonumber(redis.call('GET', KEYS[b + 2]) or '0') * w) end
  return u
end
local function drop(b, rid)
  local a = redis.call('HGET', KEYS[b + 4], rid)
  if a and a ~= 's' then
    redis.call('HDEL', KEYS[b + 4], rid)
    redis.call('ZREM', KEYS[b + 3], rid)
    if redis.call('DECRBY', KEYS[b + 5], tonumber(a)) < 0 then redis.call('SET', KEYS[b + 5], 0, 'KEEPTTL') end
  end
  return a
end
`;

// KEYS per window (5): counter, previous counter, reservation zset, amounts hash, reserved sum.
// ARGV: n, rid, reservation ttl ms, then per window: limit, amount, prev weight, counter ttl s.
// A reservation id already present (a retry after a lost reply) is answered as accepted, not re-added.
const RESERVE = `${COMMON}
local n, rid, rttl = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local out, fail, again = {1, 0}, 0, false
for i = 1, n do
  local b, a = (i - 1) * 5, 4 + (i - 1) * 4
  purge(KEYS[b + 3], KEYS[b + 4], KEYS[b + 5])
  if i == 1 and redis.call('HEXISTS', KEYS[b + 4], rid) == 1 then again = true end
  local u = used(b, tonumber(ARGV[a + 2]))
  out[i + 2] = u
  if fail == 0 and u + tonumber(ARGV[a + 1]) > tonumber(ARGV[a]) then fail = i end
end
if again then return out end
if fail > 0 then out[1] = 0; out[2] = fail; return out end
for i = 1, n do
  local b, a = (i - 1) * 5, 4 + (i - 1) * 4
  local amount = tonumber(ARGV[a + 1])
  redis.call('ZADD', KEYS[b + 3], now + rttl, rid)
  redis.call('HSET', KEYS[b + 4], rid, amount)
  redis.call('INCRBY', KEYS[b + 5], amount)
  local keep = math.max(rttl, tonumber(ARGV[a + 3]) * 1000)
  for k = 3, 5 do redis.call('PEXPIRE', KEYS[b + k], keep) end
end
return out`;

// ARGV: n, rid, dedupe ms, then per window: actual, prev weight, counter ttl s.
// The id is then kept as settled ('s') for dedupe ms: a second settle of it books nothing.
const SETTLE = `${COMMON}
local n, rid, keep = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local out = {}
for i = 1, n do
  local b, a = (i - 1) * 5, 4 + (i - 1) * 3
  purge(KEYS[b + 3], KEYS[b + 4], KEYS[b + 5])
  if drop(b, rid) ~= 's' then
    local actual = tonumber(ARGV[a])
    if actual > 0 then redis.call('INCRBY', KEYS[b + 1], actual) end
    if redis.call('TTL', KEYS[b + 1]) == -1 then redis.call('EXPIRE', KEYS[b + 1], tonumber(ARGV[a + 2])) end
    redis.call('HSET', KEYS[b + 4], rid, 's')
    redis.call('ZADD', KEYS[b + 3], now + keep, rid)
    for k = 3, 4 do
      if redis.call('PTTL', KEYS[b + k]) < keep then redis.call('PEXPIRE', KEYS[b + k], keep) end
    end
  end
  out[i] = used(b, tonumber(ARGV[a + 1]))
end
return out`;

// ARGV: n, rid, mode ('release' | 'usage'), then per window: prev weight.
const RELEASE_OR_USAGE = `${COMMON}
local n, rid, mode = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local out = {}
for i = 1, n do
  local b = (i - 1) * 5
  purge(KEYS[b + 3], KEYS[b + 4], KEYS[b + 5])
  if mode == 'release' then drop(b, rid) end
  out[i] = used(b, tonumber(ARGV[3 + i]))
end
return out`;

const INCR_TTL = `
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) == -1 and tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return v`;

// KEYS: stream, dedupe key (same slot). ARGV: max len, dedupe ms, then field, value, ...
const STREAM_ADD = `
local old = redis.call('GET', KEYS[2])
if old then return old end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 3))
redis.call('SET', KEYS[2], id, 'PX', ARGV[2])
return id`;

type Arg = string | number;
interface ScriptClient {
  llmReserve(...args: Arg[]): Promise<number[]>;
  llmSettle(...args: Arg[]): Promise<number[]>;
  llmReleaseOrUsage(...args: Arg[]): Promise<number[]>;
  llmIncrTtl(key: string, by: number, ttl: number): Promise<number>;
  llmStreamAdd(...args: Arg[]): Promise<string>;
}

function windowKeys(w: BudgetWindow): string[] {
  return [w.key, w.prev?.key ?? w.key, `${w.key}:r`, `${w.key}:ra`, `${w.key}:rs`];
}

/** Escape Redis glob characters so a prefix matches literally. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** The key remembering a stream entry id, in the stream's slot; undefined when no such key exists. */
export function streamDedupeKey(stream: string, entryId: string): string | undefined {
  const safe = entryId.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16)}`).slice(0, 128);
  const slot = hashSlot(stream);
  // A key without braces hashes whole; `{key}` hashes to the same slot. A tagged key keeps its tag.
  for (const k of [`${stream}:d:${safe}`, `{${stream}}:d:${safe}`]) if (hashSlot(k) === slot) return k;
  return undefined;
}

/**
 * How long a connection may go without any replica acknowledging before its writes are accepted on
 * the master alone. Until then a write no replica took is treated as not done and retried: after a
 * switchover the old master accepts writes it will discard, and it has no replica any more.
 */
const NO_REPLICA_GRACE_MS = 2_000;

/**
 * One WAIT at a time per connection: a caller waits for a WAIT sent after its own write, so every
 * write of the connection before it is covered. A WAIT that fails (the connection dropped: the
 * master died) or that no replica answered rejects, and the caller retries its idempotent write,
 * which then lands on the new master. Only after NO_REPLICA_GRACE_MS without any replica (a master
 * that really has none, e.g. just promoted) are writes acknowledged by the master alone; they are
 * lost if it dies before a replica attaches.
 */
class ReplicaBarrier {
  private current: Promise<number> | undefined;
  private queued: Promise<number> | undefined;
  private zeroSince: number | undefined;
  constructor(
    private readonly conn: Redis,
    private readonly ms: number,
  ) {}

  private next(): Promise<number> {
    this.queued = undefined;
    return this.wait();
  }

  wait(): Promise<number> {
    if (!this.current) {
      this.current = this.conn
        .wait(1, this.ms)
        .then(Number)
        .then((n) => {
          if (n >= 1) {
            this.zeroSince = undefined;
            return n;
          }
          const now = Date.now();
          this.zeroSince ??= now;
          if (now - this.zeroSince >= NO_REPLICA_GRACE_MS) return 0;
          throw new Error('no replica acknowledged the write');
        })
        .finally(() => (this.current = undefined));
      return this.current;
    }
    if (!this.queued) {
      this.queued = this.current.then(
        () => this.next(),
        () => this.next(),
      );
    }
    return this.queued;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface RedisStoreOptions {
  /** `cluster` groups multi-key work by hash slot; the others run every script as one. */
  topology?: RedisTopology;
  /**
   * How long log-phase writes (settle, release, ledger appends) keep retrying while the store is
   * unavailable, e.g. across a Sentinel or Cluster failover. 0: no retry (standalone default).
   */
  retryWindowMs?: number;
  /**
   * Replicated topologies: log-phase writes wait (Redis `WAIT`) until one replica has them, at most
   * this long, so a master lost right after acknowledging does not lose ledger rows. 0: no wait.
   */
  replicaWaitMs?: number;
  /** A second connection for the writes that wait for a replica (default: the main client). */
  logClient?: Redis | Cluster;
}

export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  readonly topology: RedisTopology;
  private readonly scripts: ScriptClient;
  private readonly retryWindowMs: number;
  private readonly replicaWaitMs: number;
  private readonly barriers = new WeakMap<Redis, ReplicaBarrier>();
  /** Connection of the writes followed by WAIT (WAIT blocks its connection until a replica acks). */
  private readonly logClient: Redis | Cluster;

  constructor(
    private readonly client: Redis | Cluster,
    opts: RedisStoreOptions = {},
  ) {
    this.topology = opts.topology ?? 'standalone';
    this.retryWindowMs = opts.retryWindowMs ?? 0;
    this.replicaWaitMs = opts.replicaWaitMs ?? 0;
    this.logClient = opts.logClient ?? client;
    for (const cl of new Set([client, this.logClient])) {
      const c = cl as (Redis | Cluster) & Partial<ScriptClient>;
      // Register once per client: instances come and go with config changes, the client stays.
      if (!c.llmReserve) {
        cl.defineCommand('llmReserve', { lua: RESERVE });
        cl.defineCommand('llmSettle', { lua: SETTLE });
        cl.defineCommand('llmReleaseOrUsage', { lua: RELEASE_OR_USAGE });
        cl.defineCommand('llmIncrTtl', { numberOfKeys: 1, lua: INCR_TTL });
        cl.defineCommand('llmStreamAdd', { numberOfKeys: 2, lua: STREAM_ADD });
      }
    }
    this.scripts = client as unknown as ScriptClient;
  }

  /** The connection `durable` writes use. */
  private get durableClient(): Redis | Cluster {
    return this.replicaWaitMs > 0 ? this.logClient : this.client;
  }

  private get cluster(): boolean {
    return this.topology === 'cluster';
  }

  /** Fail fast while the connection is known to be down instead of queueing until a timeout. */
  private ready(client: Redis | Cluster = this.client): void {
    const s = client.status;
    if (s === 'reconnecting' || s === 'end' || s === 'close') {
      throw new PluginError('STORE_UNAVAILABLE', `redis is ${s}`, 503);
    }
  }

  private async run<T>(fn: () => Promise<T>, client: Redis | Cluster = this.client): Promise<T> {
    this.ready(client);
    try {
      return await fn();
    } catch (err) {
      if (err instanceof PluginError) throw err;
      throw new PluginError(
        'STORE_UNAVAILABLE',
        `redis command failed: ${(err as Error).message}`,
        503,
        false,
        {
          cause: err,
        },
      );
    }
  }

  /** `run`, retried until `retryWindowMs` has passed: only for idempotent log-phase writes. */
  private async runRetrying<T>(fn: () => Promise<T>, client: Redis | Cluster = this.client): Promise<T> {
    const deadline = Date.now() + this.retryWindowMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.run(fn, client);
      } catch (err) {
        const pause = Math.min(50 * 2 ** attempt, 500);
        if (Date.now() + pause > deadline) throw err;
        await sleep(pause);
      }
    }
  }

  /**
   * Run one script call on the log connection, then (replicated topologies) wait until a replica
   * has it. WAIT covers every earlier write of its connection, so concurrent writes share one WAIT
   * per connection (ReplicaBarrier) instead of queueing one each behind the other.
   */
  private async durable<T>(cmd: keyof ScriptClient, args: Arg[], slotKey: string): Promise<T> {
    const sc = this.durableClient as unknown as Record<string, (...a: Arg[]) => Promise<T>>;
    const out = await sc[cmd]!(...args);
    if (this.replicaWaitMs > 0) {
      const conn = this.connectionFor(slotKey);
      // the slot's owner is unknown (its master just failed): the write's fate is unknown too
      if (!conn) throw new Error('no connection to the owner of the written slot');
      let b = this.barriers.get(conn);
      if (!b) this.barriers.set(conn, (b = new ReplicaBarrier(conn, this.replicaWaitMs)));
      await b.wait();
    }
    return out;
  }

  /** The connection of the log client that served `key` (Cluster: the slot owner's). */
  private connectionFor(key: string): Redis | undefined {
    if (!this.cluster) return this.logClient as Redis;
    const cl = this.logClient as Cluster & { slots?: string[][] };
    const owner = cl.slots?.[hashSlot(key)]?.[0];
    return cl.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
  }

  /** Window indices grouped by hash slot, in ascending slot order (one group unless Cluster). */
  private groups(windows: BudgetWindow[]): number[][] {
    const all = windows.map((_, i) => i);
    if (!this.cluster) return [all];
    const by = new Map<number, number[]>();
    for (const i of all) {
      const slot = hashSlot(windows[i]!.key);
      const prev = windows[i]!.prev;
      if (prev && hashSlot(prev.key) !== slot)
        throw new PluginError(
          'STORE_UNAVAILABLE',
          'a window and its previous window are in different slots',
          500,
        );
      let g = by.get(slot);
      if (!g) by.set(slot, (g = []));
      g.push(i);
    }
    return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g);
  }

  /** Keys grouped by hash slot (one group unless Cluster), with their positions. */
  private keyGroups(keys: string[]): { keys: string[]; at: number[] }[] {
    if (!this.cluster) return [{ keys, at: keys.map((_, i) => i) }];
    const by = new Map<number, { keys: string[]; at: number[] }>();
    keys.forEach((k, i) => {
      const slot = hashSlot(k);
      let g = by.get(slot);
      if (!g) by.set(slot, (g = { keys: [], at: [] }));
      g.keys.push(k);
      g.at.push(i);
    });
    return [...by.values()];
  }

  get(key: string): Promise<string | undefined> {
    return this.run(async () => (await this.client.get(key)) ?? undefined);
  }

  mget(keys: string[]): Promise<(string | undefined)[]> {
    if (!keys.length) return Promise.resolve([]);
    return this.run(async () => {
      const out: (string | undefined)[] = new Array(keys.length).fill(undefined);
      await Promise.all(
        this.keyGroups(keys).map(async (g) => {
          const vals = await this.client.mget(...g.keys);
          g.at.forEach((pos, j) => (out[pos] = vals[j] ?? undefined));
        }),
      );
      return out;
    });
  }

  set(key: string, value: string, ttlSec?: number): Promise<void> {
    return this.run(async () => {
      if (ttlSec && ttlSec > 0) await this.client.set(key, value, 'EX', Math.ceil(ttlSec));
      else await this.client.set(key, value);
    });
  }

  del(...keys: string[]): Promise<number> {
    if (!keys.length) return Promise.resolve(0);
    return this.run(async () => {
      const n = await Promise.all(this.keyGroups(keys).map((g) => this.client.del(...g.keys)));
      return n.reduce((a, b) => a + b, 0);
    });
  }

  incrBy(key: string, by: number, ttlSec: number): Promise<number> {
    if (!Number.isInteger(by)) return Promise.reject(new TypeError('incrBy takes an integer'));
    return this.run(async () => Number(await this.scripts.llmIncrTtl(key, by, Math.ceil(ttlSec))));
  }

  ttl(key: string): Promise<number> {
    return this.run(() => this.client.ttl(key));
  }

  keys(prefix: string, limit = 10_000): Promise<string[]> {
    return this.run(async () => {
      const out = new Set<string>();
      // Cluster: every master holds its own part of the key space (a migrating key may show twice).
      const nodes = this.cluster ? (this.client as Cluster).nodes('master') : [this.client as Redis];
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, batch] = await node.scan(cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', 500);
          cursor = next;
          for (const k of batch) if (out.size < limit) out.add(k);
        } while (cursor !== '0' && out.size < limit);
      }
      return [...out];
    });
  }

  private async reserveGroup(
    windows: BudgetWindow[],
    amounts: number[],
    id: string,
    ttlSec: number,
  ): Promise<ReserveResult> {
    const keys = windows.flatMap(windowKeys);
    const argv: Arg[] = [windows.length, id, Math.ceil(ttlSec * 1000)];
    windows.forEach((w, i) =>
      argv.push(w.limit, Math.max(0, Math.round(amounts[i] ?? 0)), w.prev?.weight ?? 0, w.ttlSec),
    );
    const r = (await this.scripts.llmReserve(keys.length, ...keys, ...argv)).map(Number);
    const used = r.slice(2);
    return r[0] === 1 ? { ok: true, used } : { ok: false, used, failedIndex: (r[1] ?? 1) - 1 };
  }

  reserve(windows: BudgetWindow[], amounts: number[], id: string, ttlSec: number): Promise<ReserveResult> {
    if (!windows.length) return Promise.resolve({ ok: true, used: [] });
    const groups = this.groups(windows);
    if (groups.length === 1) return this.run(() => this.reserveGroup(windows, amounts, id, ttlSec));
    return this.run(async () => {
      // Cross-slot protocol (see the file comment): ascending slots, compensate on refusal or error.
      const used: number[] = new Array(windows.length).fill(0);
      const held: number[][] = [];
      const compensate = () =>
        Promise.all(
          held.map((g) =>
            this.releaseGroup(
              g.map((i) => windows[i]!),
              id,
              'release',
            ),
          ),
        ).catch(
          () => undefined, // the holds expire after the reservation TTL
        );
      for (const g of groups) {
        let r: ReserveResult;
        try {
          r = await this.reserveGroup(
            g.map((i) => windows[i]!),
            g.map((i) => amounts[i] ?? 0),
            id,
            ttlSec,
          );
        } catch (err) {
          await compensate();
          throw err;
        }
        g.forEach((i, j) => (used[i] = r.used[j] ?? 0));
        if (!r.ok) {
          await compensate();
          return { ok: false, used, failedIndex: g[r.failedIndex ?? 0] };
        }
        held.push(g);
      }
      return { ok: true, used };
    });
  }

  settle(windows: BudgetWindow[], actual: number[], id: string): Promise<number[]> {
    if (!windows.length) return Promise.resolve([]);
    return this.runRetrying(async () => {
      const out: number[] = new Array(windows.length).fill(0);
      // Each group is idempotent on its own, so a retry after a partial failure books nothing twice.
      await Promise.all(
        this.groups(windows).map(async (g) => {
          const ws = g.map((i) => windows[i]!);
          const keys = ws.flatMap(windowKeys);
          const argv: Arg[] = [ws.length, id, SETTLE_DEDUPE_MS];
          g.forEach((i) =>
            argv.push(
              Math.max(0, Math.round(actual[i] ?? 0)),
              windows[i]!.prev?.weight ?? 0,
              windows[i]!.ttlSec,
            ),
          );
          const r = await this.durable<number[]>('llmSettle', [keys.length, ...keys, ...argv], keys[0]!);
          g.forEach((i, j) => (out[i] = Number(r[j] ?? 0)));
        }),
      );
      return out;
    }, this.durableClient);
  }

  private async releaseGroup(
    windows: BudgetWindow[],
    id: string,
    mode: 'release' | 'usage',
  ): Promise<number[]> {
    const keys = windows.flatMap(windowKeys);
    const argv: Arg[] = [windows.length, id, mode, ...windows.map((w) => w.prev?.weight ?? 0)];
    return (await this.scripts.llmReleaseOrUsage(keys.length, ...keys, ...argv)).map(Number);
  }

  private releaseOrUsage(windows: BudgetWindow[], id: string, mode: 'release' | 'usage'): Promise<number[]> {
    if (!windows.length) return Promise.resolve([]);
    const runner = mode === 'release' ? this.runRetrying.bind(this) : this.run.bind(this);
    return runner(async () => {
      const out: number[] = new Array(windows.length).fill(0);
      await Promise.all(
        this.groups(windows).map(async (g) => {
          const r = await this.releaseGroup(
            g.map((i) => windows[i]!),
            id,
            mode,
          );
          g.forEach((i, j) => (out[i] = r[j] ?? 0));
        }),
      );
      return out;
    });
  }

  async release(windows: BudgetWindow[], id: string): Promise<void> {
    await this.releaseOrUsage(windows, id, 'release');
  }

  usage(windows: BudgetWindow[]): Promise<number[]> {
    return this.releaseOrUsage(windows, '', 'usage');
  }

  streamAdd(
    stream: string,
    fields: Record<string, string>,
    maxLen: number,
    entryId?: string,
  ): Promise<string> {
    const flat = Object.entries(fields).flat();
    const dedupe = entryId ? streamDedupeKey(stream, entryId) : undefined;
    // Without an entry id a retry could append twice: one attempt, as on a single server.
    if (!dedupe) {
      return this.run(async () =>
        String(await this.client.xadd(stream, 'MAXLEN', '~', maxLen, '*', ...flat)),
      );
    }
    return this.runRetrying(
      async () =>
        String(
          await this.durable<string>(
            'llmStreamAdd',
            [stream, dedupe, maxLen, STREAM_DEDUPE_MS, ...flat],
            stream,
          ),
        ),
      this.durableClient,
    );
  }

  streamRead(stream: string, afterId: string, count: number): Promise<StreamEntry[]> {
    return this.run(async () => {
      const start = afterId === '0' ? '-' : `(${afterId}`;
      const rows = await this.client.xrange(stream, start, '+', 'COUNT', count);
      return rows.map(([id, kv]) => {
        const fields: Record<string, string> = {};
        for (let i = 0; i + 1 < kv.length; i += 2) fields[kv[i]!] = kv[i + 1]!;
        return { id, fields };
      });
    });
  }

  async ping(): Promise<boolean> {
    try {
      if (this.cluster) {
        const nodes = (this.client as Cluster).nodes('master');
        if (!nodes.length) return false;
        const r = await this.run(() => Promise.all(nodes.map((n) => n.ping())));
        return r.every((x) => x === 'PONG');
      }
      return (await this.run(() => (this.client as Redis).ping())) === 'PONG';
    } catch {
      return false;
    }
  }
}
