/**
 * Loads the exact kong/kong.yml that docker compose mounts and maps its compose host names to test
 * addresses — the only changes: `http://mock-llm:8080` → the mock LLM, every `redis` record
 * (`host: redis`) → the test Redis with a private key prefix. Everything else (Kong's bundled
 * key-auth, acl, rate-limiting, prometheus…) runs as written, on a real Kong.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/real-kong';
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

/**
 * The mapped document with one limit of one plugin-level policy of llm-token-accounting set to
 * `limit` (nothing else changes): the shipped budgets are far too large to exhaust in a test.
 */
export function withLimit(
  doc: Record<string, unknown>,
  policy: string,
  limit: number,
): Record<string, unknown> {
  const copy = structuredClone(doc);
  let changed = 0;
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o['name'] === 'llm-token-accounting') {
      const policies = (o['config'] as { policies?: { name: string; limits: { limit: number }[] }[] })
        .policies;
      for (const p of policies ?? [])
        if (p.name === policy) {
          p.limits[0]!.limit = limit;
          changed++;
        }
      return;
    }
    Object.values(o).forEach(walk);
  };
  walk(copy);
  if (changed !== 1) throw new Error(`withLimit: policy ${policy} found ${changed} times`);
  return copy;
}
