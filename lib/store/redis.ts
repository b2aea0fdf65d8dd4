/**
 * Redis store: every read-modify-write is one Lua script, registered once per client with
 * `defineCommand`, so concurrent requests on many Kong nodes see one consistent budget.
 * Time inside scripts comes from Redis `TIME`, so nodes with skewed clocks agree on expiry.
 * Not for Redis Cluster: a reservation touches several windows' keys in one script.
 */
import type Redis from 'ioredis';
import type { BudgetWindow, ReserveResult, Store, StreamEntry } from './types';
import { PluginError } from '../errors';

const COMMON = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function purge(z, h, s)
  local ex = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  if #ex == 0 then return end
  for _, id in ipairs(ex) do
    local a = tonumber(redis.call('HGET', h, id) or '0') or 0
    redis.call('HDEL', h, id)
    if redis.call('DECRBY', s, a) < 0 then redis.call('SET', s, 0, 'KEEPTTL') end
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
  if a then
    redis.call('HDEL', KEYS[b + 4], rid)
    redis.call('ZREM', KEYS[b + 3], rid)
    if redis.call('DECRBY', KEYS[b + 5], tonumber(a)) < 0 then redis.call('SET', KEYS[b + 5], 0, 'KEEPTTL') end
  end
end
`;

// KEYS per window (5): counter, previous counter, reservation zset, amounts hash, reserved sum.
// ARGV: n, rid, reservation ttl ms, then per window: limit, amount, prev weight, counter ttl s.
const RESERVE = `${COMMON}
local n, rid, rttl = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local out, fail = {1, 0}, 0
for i = 1, n do
  local b, a = (i - 1) * 5, 4 + (i - 1) * 4
  purge(KEYS[b + 3], KEYS[b + 4], KEYS[b + 5])
  local u = used(b, tonumber(ARGV[a + 2]))
  out[i + 2] = u
  if fail == 0 and u + tonumber(ARGV[a + 1]) > tonumber(ARGV[a]) then fail = i end
end
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

// ARGV: n, rid, then per window: actual, prev weight, counter ttl s.
const SETTLE = `${COMMON}
local n, rid = tonumber(ARGV[1]), ARGV[2]
local out = {}
for i = 1, n do
  local b, a = (i - 1) * 5, 3 + (i - 1) * 3
  purge(KEYS[b + 3], KEYS[b + 4], KEYS[b + 5])
  drop(b, rid)
  local actual = tonumber(ARGV[a])
  if actual > 0 then redis.call('INCRBY', KEYS[b + 1], actual) end
  if redis.call('TTL', KEYS[b + 1]) == -1 then redis.call('EXPIRE', KEYS[b + 1], tonumber(ARGV[a + 2])) end
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

interface ScriptClient {
  llmReserve(...args: (string | number)[]): Promise<number[]>;
  llmSettle(...args: (string | number)[]): Promise<number[]>;
  llmReleaseOrUsage(...args: (string | number)[]): Promise<number[]>;
  llmIncrTtl(key: string, by: number, ttl: number): Promise<number>;
}

function windowKeys(w: BudgetWindow): string[] {
  return [w.key, w.prev?.key ?? w.key, `${w.key}:r`, `${w.key}:ra`, `${w.key}:rs`];
}

/** Escape Redis glob characters so a prefix matches literally. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  private readonly scripts: ScriptClient;

  constructor(private readonly client: Redis) {
    const c = client as Redis & Partial<ScriptClient>;
    // Register once per client: instances come and go with config changes, the client stays.
    if (!c.llmReserve) {
      client.defineCommand('llmReserve', { lua: RESERVE });
      client.defineCommand('llmSettle', { lua: SETTLE });
      client.defineCommand('llmReleaseOrUsage', { lua: RELEASE_OR_USAGE });
      client.defineCommand('llmIncrTtl', { numberOfKeys: 1, lua: INCR_TTL });
    }
    this.scripts = client as unknown as ScriptClient;
  }

  /** Fail fast while the connection is known to be down instead of queueing until a timeout. */
  private ready(): void {
    const s = this.client.status;
    if (s === 'reconnecting' || s === 'end' || s === 'close') {
      throw new PluginError('STORE_UNAVAILABLE', `redis is ${s}`, 503);
    }
  }

  private async run<T>(fn: () => Promise<T>): Promise<T> {
    this.ready();
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

  get(key: string): Promise<string | undefined> {
    return this.run(async () => (await this.client.get(key)) ?? undefined);
  }

  mget(keys: string[]): Promise<(string | undefined)[]> {
    if (!keys.length) return Promise.resolve([]);
    return this.run(async () => (await this.client.mget(...keys)).map((v) => v ?? undefined));
  }

  set(key: string, value: string, ttlSec?: number): Promise<void> {
    return this.run(async () => {
      if (ttlSec && ttlSec > 0) await this.client.set(key, value, 'EX', Math.ceil(ttlSec));
      else await this.client.set(key, value);
    });
  }

  del(...keys: string[]): Promise<number> {
    if (!keys.length) return Promise.resolve(0);
    return this.run(() => this.client.del(...keys));
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
      const out: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await this.client.scan(cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', 500);
        cursor = next;
        for (const k of batch) if (out.length < limit) out.push(k);
      } while (cursor !== '0' && out.length < limit);
      return out;
    });
  }

  reserve(windows: BudgetWindow[], amounts: number[], id: string, ttlSec: number): Promise<ReserveResult> {
    if (!windows.length) return Promise.resolve({ ok: true, used: [] });
    const keys = windows.flatMap(windowKeys);
    const argv: (string | number)[] = [windows.length, id, Math.ceil(ttlSec * 1000)];
    windows.forEach((w, i) =>
      argv.push(w.limit, Math.max(0, Math.round(amounts[i] ?? 0)), w.prev?.weight ?? 0, w.ttlSec),
    );
    return this.run(async () => {
      const r = (await this.scripts.llmReserve(keys.length, ...keys, ...argv)).map(Number);
      const used = r.slice(2);
      return r[0] === 1 ? { ok: true, used } : { ok: false, used, failedIndex: (r[1] ?? 1) - 1 };
    });
  }

  settle(windows: BudgetWindow[], actual: number[], id: string): Promise<number[]> {
    if (!windows.length) return Promise.resolve([]);
    const keys = windows.flatMap(windowKeys);
    const argv: (string | number)[] = [windows.length, id];
    windows.forEach((w, i) =>
      argv.push(Math.max(0, Math.round(actual[i] ?? 0)), w.prev?.weight ?? 0, w.ttlSec),
    );
    return this.run(async () => (await this.scripts.llmSettle(keys.length, ...keys, ...argv)).map(Number));
  }

  private releaseOrUsage(windows: BudgetWindow[], id: string, mode: 'release' | 'usage'): Promise<number[]> {
    if (!windows.length) return Promise.resolve([]);
    const keys = windows.flatMap(windowKeys);
    const argv: (string | number)[] = [windows.length, id, mode, ...windows.map((w) => w.prev?.weight ?? 0)];
    return this.run(async () =>
      (await this.scripts.llmReleaseOrUsage(keys.length, ...keys, ...argv)).map(Number),
    );
  }

  async release(windows: BudgetWindow[], id: string): Promise<void> {
    await this.releaseOrUsage(windows, id, 'release');
  }

  usage(windows: BudgetWindow[]): Promise<number[]> {
    return this.releaseOrUsage(windows, '', 'usage');
  }

  streamAdd(stream: string, fields: Record<string, string>, maxLen: number): Promise<string> {
    const flat = Object.entries(fields).flat();
    return this.run(async () => String(await this.client.xadd(stream, 'MAXLEN', '~', maxLen, '*', ...flat)));
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
      return (await this.run(() => this.client.ping())) === 'PONG';
    } catch {
      return false;
    }
  }
}
