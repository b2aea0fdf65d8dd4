/**
 * One ioredis client per distinct connection per process. Plugin instances are recreated on every
 * config change (kong-runtime.md §2.5) and have no close hook, so clients must not belong to them.
 */
import Redis from 'ioredis';
import type { RedisConfig } from '../schema/redis';
import { errInfo, logOncePer, rootLogger } from '../log';
import { RedisStore } from './redis';
import { MemoryStore } from './memory';
import type { Store } from './types';

const clients = new Map<string, Redis>();
const stores = new Map<string, RedisStore>();
let memory: MemoryStore | undefined;

function idOf(c: RedisConfig): string {
  return [c.host, c.port, c.database, c.username ?? '', c.ssl ? 'tls' : 'plain', c.server_name ?? ''].join(
    '|',
  );
}

/** The shared client for a connection config (created lazily; connects on first command). */
export function redisClientFor(c: RedisConfig): Redis {
  const id = idOf(c);
  let cl = clients.get(id);
  if (!cl) {
    cl = new Redis({
      host: c.host,
      port: c.port,
      db: c.database,
      username: c.username ?? undefined,
      password: c.password ?? undefined,
      connectTimeout: c.timeout,
      commandTimeout: c.timeout,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      enableReadyCheck: true,
      retryStrategy: (times) => Math.min(100 * times, 2000),
      tls: c.ssl ? { rejectUnauthorized: c.ssl_verify, servername: c.server_name ?? c.host } : undefined,
    });
    // Without a listener ioredis reports every failed reconnect as an unhandled error event.
    cl.on('error', (err) => {
      logOncePer(`redis:${id}`, 30_000, () =>
        rootLogger().warn({ err: errInfo(err), redis: `${c.host}:${c.port}` }, 'redis connection error'),
      );
    });
    clients.set(id, cl);
  }
  return cl;
}

/** The store for a plugin config: the process-wide memory store, or the shared Redis store. */
export function storeFor(strategy: 'memory' | 'redis', redis?: RedisConfig | null): Store {
  if (strategy === 'memory' || !redis) {
    if (!memory) memory = new MemoryStore();
    return memory;
  }
  const id = idOf(redis);
  let s = stores.get(id);
  if (!s) stores.set(id, (s = new RedisStore(redisClientFor(redis))));
  return s;
}

/** Close every client (tests and graceful shutdown). */
export async function closeAllStores(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  stores.clear();
  memory = undefined;
  await Promise.all(all.map((c) => c.quit().catch(() => c.disconnect())));
}
