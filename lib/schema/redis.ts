/**
 * The shared Redis connection record, reused by every plugin that stores state (Kong's
 * `kong/tools/redis/schema.lua` idea). Field names follow Kong's Redis config.
 */
import type { KongField } from './kong-schema';

/** Redis connection settings as they appear in a plugin config. */
export interface RedisConfig {
  host: string;
  port: number;
  database: number;
  username: string | null;
  password: string | null;
  timeout: number;
  ssl: boolean;
  ssl_verify: boolean;
  server_name: string | null;
  key_prefix: string;
}

/** The `redis` record field. Passwords accept Kong vault references (`{vault://env/REDIS_PASSWORD}`). */
export const redisField: KongField = {
  redis: {
    type: 'record',
    description: 'Redis connection used when `strategy` is `redis` (shared by every Kong node).',
    fields: [
      { host: { type: 'string', default: '127.0.0.1', description: 'Redis host.' } },
      { port: { type: 'integer', default: 6379, between: [0, 65535], description: 'Redis port.' } },
      { database: { type: 'integer', default: 0, description: 'Redis database number.' } },
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
    ],
  },
};
