/**
 * The shared Redis connection record, reused by every plugin that stores state (Kong's
 * `kong/tools/redis/schema.lua` idea). Field names, meanings and defaults follow Kong's Redis config
 * (Kong EE's AI plugins): one endpoint (`host`/`port`), or Sentinel (`sentinel_*`), or Cluster
 * (`cluster_*`). Kong sends unset fields absent, not null, so every optional field may be either.
 */
import type { KongField, KongFieldDef } from './kong-schema';

export interface RedisSentinelNode {
  host: string;
  port: number;
}

export interface RedisClusterNode {
  ip: string;
  port: number;
}

/** Redis connection settings as they appear in a plugin config. */
export interface RedisConfig {
  host: string;
  port: number;
  database: number;
  username: string | null;
  password: string | null;
  timeout: number;
  /** Override `timeout` for connecting / reading replies / sending (Kong EE names). */
  connect_timeout?: number | null;
  read_timeout?: number | null;
  send_timeout?: number | null;
  ssl: boolean;
  ssl_verify: boolean;
  server_name: string | null;
  key_prefix: string;
  sentinel_master?: string | null;
  sentinel_role?: 'master' | 'slave' | 'any' | null;
  sentinel_nodes?: RedisSentinelNode[] | null;
  sentinel_username?: string | null;
  sentinel_password?: string | null;
  cluster_nodes?: RedisClusterNode[] | null;
  cluster_max_redirections?: number | null;
}

/** Which deployment a redis block describes. */
export type RedisTopology = 'standalone' | 'sentinel' | 'cluster';

const has = <T>(v: T | null | undefined): v is T => v !== null && v !== undefined;

/** The topology a (valid) redis block selects: nodes lists decide, the single endpoint is the rest. */
export function redisTopology(c: RedisConfig): RedisTopology {
  if (has(c.cluster_nodes) && c.cluster_nodes.length > 0) return 'cluster';
  if (has(c.sentinel_nodes) && c.sentinel_nodes.length > 0) return 'sentinel';
  if (has(c.sentinel_master) && c.sentinel_master !== '') return 'sentinel';
  return 'standalone';
}

/** Effective timeouts in ms: the specific Kong EE field, else `timeout`, else 2000. */
export function redisTimeouts(c: RedisConfig): { connect: number; command: number } {
  const base = has(c.timeout) && c.timeout > 0 ? c.timeout : 2000;
  const pick = (v: number | null | undefined) => (has(v) && v > 0 ? v : base);
  return { connect: pick(c.connect_timeout), command: Math.max(pick(c.read_timeout), pick(c.send_timeout)) };
}

/**
 * Problems of a redis block, each ending with a stable code in brackets (`[REDIS_…]`) that docs and
 * alerts can key on. Empty when valid. `path` names the block in messages (e.g. `vectordb.redis`).
 */
export function redisProblems(c: RedisConfig | null | undefined, path = 'redis'): string[] {
  if (!c) return [`${path}.host is required when strategy is redis`];
  const out: string[] = [];
  if (redisTopology(c) === 'standalone' && !c.host)
    out.push(`${path}.host is required when strategy is redis`);
  const sentinel =
    (has(c.sentinel_nodes) && c.sentinel_nodes.length > 0) ||
    (has(c.sentinel_master) && c.sentinel_master !== '');
  const cluster = has(c.cluster_nodes) && c.cluster_nodes.length > 0;
  if (sentinel && cluster)
    out.push(`${path}: sentinel_* and cluster_nodes are mutually exclusive [REDIS_TOPOLOGY_CONFLICT]`);
  if (sentinel && !cluster) {
    if (!has(c.sentinel_master) || c.sentinel_master === '')
      out.push(`${path}.sentinel_master is required with sentinel_nodes [REDIS_SENTINEL_MASTER_REQUIRED]`);
    if (!has(c.sentinel_nodes) || c.sentinel_nodes.length === 0)
      out.push(`${path}.sentinel_nodes is required with sentinel_master [REDIS_SENTINEL_NODES_REQUIRED]`);
    // Every plugin writes (reservations, cache entries, health state): only the master can take them.
    if (has(c.sentinel_role) && c.sentinel_role !== 'master')
      out.push(`${path}.sentinel_role must be master: the plugins write to Redis [REDIS_SENTINEL_ROLE]`);
  }
  if (cluster && has(c.database) && c.database !== 0)
    out.push(
      `${path}.database must be 0 with cluster_nodes (Redis Cluster has one database) [REDIS_CLUSTER_DATABASE]`,
    );
  const badNode = (n: unknown, hostKey: 'host' | 'ip') => {
    const o = n as Record<string, unknown> | null;
    return !o || typeof o[hostKey] !== 'string' || o[hostKey] === '' || !Number.isInteger(o['port']);
  };
  if (has(c.sentinel_nodes) && c.sentinel_nodes.some((n) => badNode(n, 'host')))
    out.push(`${path}.sentinel_nodes entries need host and port [REDIS_NODE_INVALID]`);
  if (has(c.cluster_nodes) && c.cluster_nodes.some((n) => badNode(n, 'ip')))
    out.push(`${path}.cluster_nodes entries need ip and port [REDIS_NODE_INVALID]`);
  return out;
}

const timeoutField = (name: string, what: string): KongField => ({
  [name]: {
    type: 'integer',
    gt: 0,
    description: `${what} timeout in milliseconds; unset uses \`timeout\` (2000).`,
  },
});

const nodeRecord = (hostKey: 'host' | 'ip', what: string): KongFieldDef => ({
  type: 'record',
  description: `One ${what}.`,
  fields: [
    { [hostKey]: { type: 'string', default: '127.0.0.1', description: `${what} address.` } },
    { port: { type: 'integer', default: 6379, between: [0, 65535], description: `${what} port.` } },
  ],
});

/** The `redis` record field. Passwords accept Kong vault references (`{vault://env/REDIS_PASSWORD}`). */
export const redisField: KongField = {
  redis: {
    type: 'record',
    description:
      'Redis connection used when `strategy` is `redis` (shared by every Kong node): one server (`host`/`port`), a Sentinel-managed master (`sentinel_master` + `sentinel_nodes`), or a Redis Cluster (`cluster_nodes`).',
    fields: [
      { host: { type: 'string', default: '127.0.0.1', description: 'Redis host.' } },
      { port: { type: 'integer', default: 6379, between: [0, 65535], description: 'Redis port.' } },
      { database: { type: 'integer', default: 0, description: 'Redis database number (0 with Cluster).' } },
      { username: { type: 'string', referenceable: true, description: 'Redis ACL user (Redis 6+).' } },
      {
        password: {
          type: 'string',
          referenceable: true,
          encrypted: true,
          description: 'Redis password; use a vault reference such as {vault://env/REDIS_PASSWORD}.',
        },
      },
      {
        timeout: {
          type: 'integer',
          default: 2000,
          gt: 0,
          description: 'Connect and command timeout in milliseconds.',
        },
      },
      timeoutField('connect_timeout', 'Connect'),
      timeoutField('read_timeout', 'Reply'),
      timeoutField('send_timeout', 'Send'),
      { ssl: { type: 'boolean', default: false, description: 'Connect with TLS.' } },
      {
        ssl_verify: {
          type: 'boolean',
          default: true,
          description: 'Verify the server certificate when `ssl` is on.',
        },
      },
      { server_name: { type: 'string', description: 'TLS server name (SNI) when `ssl` is on.' } },
      {
        key_prefix: {
          type: 'string',
          default: 'llm',
          description: 'Prefix of every key the plugins write, so several gateways can share one Redis.',
        },
      },
      {
        sentinel_master: {
          type: 'string',
          description: 'Sentinel: name of the monitored master. Set with `sentinel_nodes` to use Sentinel.',
        },
      },
      {
        sentinel_role: {
          type: 'string',
          one_of: ['master', 'slave', 'any'],
          description:
            'Sentinel: role to connect to. Only `master` is accepted (the plugins write); unset means master.',
        },
      },
      {
        sentinel_nodes: {
          type: 'array',
          elements: nodeRecord('host', 'Sentinel'),
          description: 'Sentinel: the sentinels to ask for the current master (host and port each).',
        },
      },
      {
        sentinel_username: {
          type: 'string',
          referenceable: true,
          description: 'Sentinel: ACL user for the sentinels (Redis 6.2+).',
        },
      },
      {
        sentinel_password: {
          type: 'string',
          referenceable: true,
          encrypted: true,
          description: 'Sentinel: password for the sentinels.',
        },
      },
      {
        cluster_nodes: {
          type: 'array',
          elements: nodeRecord('ip', 'Cluster seed node'),
          description:
            'Cluster: seed nodes (ip and port each); the client discovers the rest. Setting it selects Redis Cluster.',
        },
      },
      {
        cluster_max_redirections: {
          type: 'integer',
          default: 5,
          description: 'Cluster: how many MOVED/ASK redirections a command may follow.',
        },
      },
    ],
  },
};
