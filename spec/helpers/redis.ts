/**
 * Test access to a real Redis. `REDIS_URL` (redis://host:port) wins; otherwise 127.0.0.1:6379.
 * There is no skip: a test that needs Redis fails when none is reachable (CI starts one).
 */
import Redis from 'ioredis';
import type { RedisConfig } from '../../lib/schema/redis';

export function redisTestConfig(prefix = 'llmtest'): RedisConfig {
  const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    database: Number(url.pathname.slice(1) || 0),
    username: url.username || null,
    password: url.password || null,
    timeout: 2000,
    ssl: false,
    ssl_verify: true,
    server_name: null,
    key_prefix: `${prefix}-${process.pid}-${Date.now().toString(36)}`,
  };
}

/** A connected client, or an error that says how to get Redis. */
export async function connectTestRedis(cfg = redisTestConfig()): Promise<Redis> {
  const r = new Redis({
    host: cfg.host,
    port: cfg.port,
    db: cfg.database,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
  } catch (err) {
    r.disconnect();
    throw new Error(
      `Redis is required at ${cfg.host}:${cfg.port} (set REDIS_URL or start redis-server): ${(err as Error).message}`,
    );
  }
  return r;
}

/** Delete every key under a prefix. */
export async function flushPrefix(r: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await r.del(...keys);
  } while (cursor !== '0');
}
