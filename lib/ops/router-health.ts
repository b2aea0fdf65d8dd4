/**
 * Router target health over the llm-model-router keys (plugins/llm-model-router/state.ts:
 * `makeKey(prefix, 'router', targetId, field, ...)` with fields eject (until, ms), probation (reason),
 * fails (count), probe, lat:ttft / lat:e2e (EWMA ms); target id = `<name>~<sha256(upstream_url \0
 * model)[0..10]>`, as router.ts computes it). Structural types only; a spec checks the ids agree.
 */
import { createHash } from 'node:crypto';
import { makeKey } from '../store/keys';
import { storeFor } from '../store/pool';
import type { RedisConfig } from '../schema/redis';
import type { PluginConfig } from './registry';

export const ROUTER_PLUGIN = 'llm-model-router';

interface TargetLike {
  name: string;
  weight?: number;
  priority?: number;
  model?: { name?: string; provider?: string; options?: { upstream_url?: string } };
}

/** The state id of a target (same formula as the router's). */
export function targetId(t: TargetLike): string {
  const h = createHash('sha256')
    .update(`${t.model?.options?.upstream_url ?? ''}\u0000${t.model?.name ?? ''}`)
    .digest('hex')
    .slice(0, 10);
  return `${t.name}~${h}`;
}

export interface TargetHealth {
  name: string;
  id: string;
  model: string;
  provider: string;
  /** scheme://host:port/path of the upstream (no query, never credentials) */
  upstream: string;
  healthy: boolean;
  state: 'healthy' | 'ejected' | 'half-open';
  ejected_until: string | null;
  probation: string | null;
  recent_failures: number;
  ttft_ms: number | null;
  e2e_ms: number | null;
  store: string;
}

function safeUrl(u: string | undefined): string {
  if (!u) return '';
  try {
    const x = new URL(u);
    return `${x.protocol}//${x.host}${x.pathname}`;
  } catch {
    return '';
  }
}

function num(v: string | undefined): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

interface RouterLike {
  strategy: 'memory' | 'redis';
  redis?: RedisConfig | null;
  targets?: TargetLike[];
}

/** Health of every target of every tracked router config (deduplicated by state id and store). */
export async function targetHealth(configs: PluginConfig[], nowMs = Date.now()): Promise<TargetHealth[]> {
  const out = new Map<string, TargetHealth>();
  for (const raw of configs) {
    const c = raw as unknown as RouterLike;
    if (!Array.isArray(c.targets)) continue;
    const store = storeFor(c.strategy === 'redis' ? 'redis' : 'memory', c.redis);
    const prefix = c.redis?.key_prefix ?? 'llm';
    const label =
      c.strategy === 'redis' && c.redis
        ? `redis ${c.redis.host}:${c.redis.port}/${c.redis.database} ${prefix}`
        : `memory ${prefix}`;
    for (const t of c.targets) {
      if (!t || typeof t.name !== 'string') continue;
      const id = targetId(t);
      if (out.has(`${label}\u0000${id}`)) continue;
      const k = (...f: string[]) => makeKey(prefix, 'router', id, ...f);
      const [eject, probation, fails, ttft, e2e] = await store.mget([
        k('eject'),
        k('probation'),
        k('fails'),
        k('lat', 'ttft'),
        k('lat', 'e2e'),
      ]);
      const until = num(eject);
      const ejected = until !== null && until > nowMs;
      const halfOpen = !ejected && probation !== undefined;
      out.set(`${label}\u0000${id}`, {
        name: t.name,
        id,
        model: t.model?.name ?? '',
        provider: t.model?.provider ?? '',
        upstream: safeUrl(t.model?.options?.upstream_url),
        healthy: !ejected,
        state: ejected ? 'ejected' : halfOpen ? 'half-open' : 'healthy',
        ejected_until: ejected && until !== null ? new Date(until).toISOString() : null,
        probation: probation ?? null,
        recent_failures: num(fails) ?? 0,
        ttft_ms: num(ttft),
        e2e_ms: num(e2e),
        store: label,
      });
    }
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Readmit a target now: clear its ejection, probation, failure count and probe token. */
export async function resetTarget(configs: PluginConfig[], name: string): Promise<number> {
  let n = 0;
  for (const raw of configs) {
    const c = raw as unknown as RouterLike;
    for (const t of c.targets ?? []) {
      if (t?.name !== name) continue;
      const store = storeFor(c.strategy === 'redis' ? 'redis' : 'memory', c.redis);
      const k = (f: string) => makeKey(c.redis?.key_prefix ?? 'llm', 'router', targetId(t), f);
      n += await store.del(k('eject'), k('probation'), k('fails'), k('probe'));
    }
  }
  return n;
}
