/**
 * One ioredis client per distinct connection per process. Plugin instances are recreated on every
 * config change (kong-runtime.md §2.5) and have no close hook, so clients must not belong to them.
 *
 * The redis block selects the client: one server (`Redis`), a Sentinel-managed master (`Redis` with
 * `sentinels`: ioredis asks the sentinels for the current master on every (re)connect), or a Redis
 * Cluster (`Redis.Cluster`: follows MOVED/ASK and refreshes the slot map). No failover logic of our own.
 */
import Redis, { Cluster, type RedisOptions } from 'ioredis';
import {
  redisProblems,
  redisTimeouts,
  redisTopology,
  type RedisConfig,
  type RedisTopology,
} from '../schema/redis';
import { PluginError } from '../errors';
import { errInfo, logOncePer, rootLogger } from '../log';
import { RedisStore } from './redis';
import { MemoryStore } from './memory';
import type { BudgetWindow, ReserveResult, Store, StreamEntry } from './types';

type Client = Redis | Cluster;
const clients = new Map<string, Client>();
const stores = new Map<string, RedisStore>();
let memory: MemoryStore | undefined;

/**
 * How long log-phase writes retry across a failover on a replicated topology: Sentinel needs
 * down-after-milliseconds plus an election, Cluster cluster-node-timeout plus an election.
 */
export const FAILOVER_RETRY_MS = 15_000;
/** Longest a log-phase write waits for a replica to acknowledge it (best effort). */
export const REPLICA_WAIT_MS = 100;

const nodes = (c: RedisConfig) =>
  redisTopology(c) === 'cluster'
    ? (c.cluster_nodes ?? []).map((n) => `${n.ip}:${n.port}`).join(',')
    : redisTopology(c) === 'sentinel'
      ? `${c.sentinel_master}@${(c.sentinel_nodes ?? []).map((n) => `${n.host}:${n.port}`).join(',')}`
      : `${c.host}:${c.port}`;

function idOf(c: RedisConfig): string {
  const t = redisTimeouts(c);
  return [
    redisTopology(c),
    nodes(c),
    c.database ?? 0,
    c.username ?? '',
    c.sentinel_username ?? '',
    c.ssl ? 'tls' : 'plain',
    c.server_name ?? '',
    t.connect,
    t.command,
    c.cluster_max_redirections ?? 5,
  ].join('|');
}

/** Where a config points, for logs (no credentials). */
export function redisLabel(c: RedisConfig): string {
  return `${redisTopology(c)} ${nodes(c)}`;
}

function baseOptions(c: RedisConfig): RedisOptions {
  const t = redisTimeouts(c);
  return {
    username: c.username ?? undefined,
    password: c.password ?? undefined,
    connectTimeout: t.connect,
    commandTimeout: t.command,
    maxRetriesPerRequest: 1,
    enableReadyCheck: true,
    tls: c.ssl
      ? { rejectUnauthorized: c.ssl_verify !== false, servername: c.server_name ?? c.host ?? undefined }
      : undefined,
  };
}

function createClient(c: RedisConfig): Client {
  const base = baseOptions(c);
  switch (redisTopology(c)) {
    case 'cluster':
      return new Cluster(
        (c.cluster_nodes ?? []).map((n) => ({ host: n.ip, port: n.port })),
        {
          lazyConnect: true,
          redisOptions: base,
          maxRedirections: c.cluster_max_redirections ?? 5,
          // A failed master's slots answer CLUSTERDOWN or refuse connections until a replica is promoted.
          retryDelayOnClusterDown: 100,
          retryDelayOnFailover: 100,
          retryDelayOnTryAgain: 50,
          slotsRefreshTimeout: base.connectTimeout,
          clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
        },
      );
    case 'sentinel':
      return new Redis({
        ...base,
        db: c.database ?? 0,
        sentinels: (c.sentinel_nodes ?? []).map((n) => ({ host: n.host, port: n.port })),
        name: c.sentinel_master ?? undefined,
        role: 'master',
        sentinelUsername: c.sentinel_username ?? undefined,
        sentinelPassword: c.sentinel_password ?? undefined,
        enableTLSForSentinelMode: c.ssl === true,
        // No failoverDetector: with it the kill spec lost an acknowledged settle and saw the log
        // connection end (ioredis 5.11); without it a planned SENTINEL FAILOVER leaves clients on the
        // old master until the sentinels demote it (docs/resilience.md §9, known gap). A killed master
        // closes the socket (reconnect asks the sentinels); a demoted one answers READONLY: reconnect,
        // asking the sentinels again, and resend.
        reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
        sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
        retryStrategy: (times) => Math.min(100 * times, 2000),
        lazyConnect: true,
      });
    case 'standalone':
      return new Redis({
        ...base,
        host: c.host,
        port: c.port,
        db: c.database,
        lazyConnect: true,
        retryStrategy: (times) => Math.min(100 * times, 2000),
      });
  }
}

/** The shared client for a connection config (created lazily; connects on first command). */
export function redisClientFor(c: RedisConfig): Client {
  const problems = redisProblems(c);
  if (problems.length) throw new PluginError('CONFIG_INVALID', problems.join('; '), 500);
  const id = idOf(c);
  let cl = clients.get(id);
  if (!cl) {
    cl = createClient(c);
    const where = redisLabel(c);
    // Without a listener ioredis reports every failed reconnect as an unhandled error event.
    cl.on('error', (err) => {
      logOncePer(`redis:${id}`, 30_000, () =>
        rootLogger().warn({ err: errInfo(err), redis: where }, 'redis connection error'),
      );
    });
    clients.set(id, cl);
  }
  return cl;
}

/** A second client with the same settings, for writes followed by WAIT. */
function logClientFor(c: RedisConfig): Client {
  const id = `${idOf(c)}|log`;
  let cl = clients.get(id);
  if (!cl) {
    cl = redisClientFor(c).duplicate();
    const where = redisLabel(c);
    cl.on('error', (err) => {
      logOncePer(`redis:${id}`, 30_000, () =>
        rootLogger().warn({ err: errInfo(err), redis: where }, 'redis connection error'),
      );
    });
    clients.set(id, cl);
  }
  return cl;
}

/**
 * A store that refuses every operation: what an invalid redis block gets, so it surfaces as
 * CONFIG_INVALID instead of silently writing to a default server.
 */
class InvalidConfigStore implements Store {
  readonly kind = 'redis' as const;
  constructor(private readonly why: string) {}
  private fail<T>(): Promise<T> {
    return Promise.reject(new PluginError('CONFIG_INVALID', this.why, 500));
  }
  get = (): Promise<string | undefined> => this.fail();
  mget = (): Promise<(string | undefined)[]> => this.fail();
  set = (): Promise<void> => this.fail();
  del = (): Promise<number> => this.fail();
  incrBy = (): Promise<number> => this.fail();
  ttl = (): Promise<number> => this.fail();
  keys = (): Promise<string[]> => this.fail();
  reserve = (_w: BudgetWindow[]): Promise<ReserveResult> => this.fail();
  settle = (): Promise<number[]> => this.fail();
  release = (): Promise<void> => this.fail();
  usage = (): Promise<number[]> => this.fail();
  streamAdd = (): Promise<string> => this.fail();
  streamRead = (): Promise<StreamEntry[]> => this.fail();
  ping = async (): Promise<boolean> => false;
}

/** Store options per topology: replicated ones retry idempotent log-phase writes and wait for a replica. */
export function storeOptionsFor(t: RedisTopology): {
  topology: RedisTopology;
  retryWindowMs: number;
  replicaWaitMs: number;
} {
  const replicated = t !== 'standalone';
  return {
    topology: t,
    retryWindowMs: replicated ? FAILOVER_RETRY_MS : 0,
    replicaWaitMs: replicated ? REPLICA_WAIT_MS : 0,
  };
}

/** The store for a plugin config: the process-wide memory store, or the shared Redis store. */
export function storeFor(strategy: 'memory' | 'redis', redis?: RedisConfig | null): Store {
  if (strategy === 'memory' || !redis) {
    if (!memory) memory = new MemoryStore();
    return memory;
  }
  const problems = redisProblems(redis);
  if (problems.length) return new InvalidConfigStore(problems.join('; '));
  const id = idOf(redis);
  let s = stores.get(id);
  if (!s) {
    const topology = redisTopology(redis);
    const opts = storeOptionsFor(topology);
    // Replicated topologies: log-phase writes wait for a replica (WAIT blocks its connection), so
    // they get a connection of their own and never hold up access-phase commands.
    const logClient = opts.replicaWaitMs > 0 ? logClientFor(redis) : undefined;
    stores.set(id, (s = new RedisStore(redisClientFor(redis), { ...opts, logClient })));
  }
  return s;
}

/** Close every client (tests and graceful shutdown). */
export async function closeAllStores(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  stores.clear();
  memory = undefined;
  await Promise.all(
    all.map(async (c) => {
      await c.quit().catch(() => undefined);
      // quit() leaves the Sentinel failover detector's subscriptions open; disconnect() ends them.
      c.disconnect();
    }),
  );
}
