/**
 * Loads the exact kong/kong.yml that docker compose mounts and maps its compose host names to test
 * addresses — the only changes: `http://mock-llm:8080` → the mock LLM, every `redis` record
 * (`host: redis`) → the test Redis with a private key prefix. Kong's bundled `prometheus` plugin is not
 * emulated by the test gateway: a no-op stands in for it (its schema lists the fields kong.yml sets).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/kong';
import { BUNDLED, type BundledPlugin } from '../support/kong/bundled';
import type { RedisConfig } from '../../lib/schema/redis';

export const KONG_YML = join(REPO_ROOT, 'kong', 'kong.yml');

export interface Mapped {
  doc: Record<string, unknown>;
  /** how many values the mapping replaced, by kind */
  replaced: { mockUrls: number; redis: number };
}

export function mapKongYml(mockUrl: string, redis: RedisConfig): Mapped {
  const doc = parse(readFileSync(KONG_YML, 'utf8')) as Record<string, unknown>;
  const replaced = { mockUrls: 0, redis: 0 };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string' && v.includes('http://mock-llm:8080')) {
      replaced.mockUrls++;
      return v.replace('http://mock-llm:8080', mockUrl);
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o['host'] === 'redis') {
        replaced.redis++;
        return {
          ...o,
          host: redis.host,
          port: redis.port,
          database: redis.database,
          key_prefix: redis.key_prefix,
        };
      }
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return { doc: walk(doc) as Record<string, unknown>, replaced };
}

/** Stand-in for Kong's bundled prometheus plugin (metrics on the status API are Kong's, not ours). */
export function installPrometheusStandIn(): void {
  const all = BUNDLED as Map<string, BundledPlugin>;
  if (all.has('prometheus')) return;
  const bool = { type: 'boolean', default: false };
  all.set('prometheus', {
    name: 'prometheus',
    priority: 13,
    version: '3.9.1',
    phases: ['log'],
    schema: {
      name: 'prometheus',
      fields: [
        {
          config: {
            type: 'record',
            fields: [
              { per_consumer: bool },
              { status_code_metrics: bool },
              { ai_metrics: bool },
              { latency_metrics: bool },
              { bandwidth_metrics: bool },
              { upstream_health_metrics: bool },
            ],
          },
        },
      ],
    },
    access: () => undefined,
  });
}
