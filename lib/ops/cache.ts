/**
 * Semantic-cache operations routes. The cache plugin owns the purge logic (plugins/llm-semantic-cache/
 * ops.ts); it hands that module to `withOps(NAME, SemanticCache, { cache: ops })`, and these routes call
 * it with the tracked configs. Structural types only (lib never imports plugins).
 *
 *   GET    /ops/cache/entries/:key     the entry behind an X-Cache-Key (no vector)
 *   DELETE /ops/cache/entries/:key     purge one entry
 *   POST   /ops/cache/purge            {"partition": "consumer:<id>"} or {"all": true}
 */
import type { Store } from '../store/types';
import { registerOpsRoute, type PluginConfig } from './registry';

export interface CacheOpsTarget {
  store: Store;
  prefix: string;
  streamMaxLen: number;
}

/** What plugins/llm-semantic-cache/ops.ts exports. */
export interface CacheOpsModule {
  opsTarget(c: never): CacheOpsTarget;
  getEntry(t: CacheOpsTarget, key: string): Promise<unknown>;
  purgeKey(t: CacheOpsTarget, key: string): Promise<boolean>;
  purgePartition(t: CacheOpsTarget, partition: string): Promise<number>;
  purgeAll(t: CacheOpsTarget): Promise<number>;
}

/** Distinct (store, prefix) targets of the tracked cache configs. */
function targets(mod: CacheOpsModule, configs: PluginConfig[]): CacheOpsTarget[] {
  const out = new Map<string, CacheOpsTarget>();
  for (const c of configs) {
    if (!c['vectordb'] || typeof c['vectordb'] !== 'object') continue;
    const t = mod.opsTarget(c as never);
    const v = c['vectordb'] as {
      strategy?: string;
      redis?: { host?: string; port?: number; database?: number } | null;
    };
    const id = `${v.strategy}|${v.redis?.host}|${v.redis?.port}|${v.redis?.database}|${t.prefix}`;
    if (!out.has(id)) out.set(id, t);
  }
  return [...out.values()];
}

function badKey(err: unknown): boolean {
  return err instanceof Error && /not a cache key/.test(err.message);
}

/** Register the cache routes for `plugin` backed by its ops module. */
export function registerCacheRoutes(plugin: string, mod: CacheOpsModule): void {
  registerOpsRoute({
    plugin,
    method: 'GET',
    path: '/ops/cache/entries/:key',
    description: 'the cache entry behind an X-Cache-Key (metadata and answer, no vector)',
    handler: async (req, configs) => {
      try {
        for (const t of targets(mod, configs)) {
          const e = await mod.getEntry(t, req.params['key'] ?? '');
          if (e) return { status: 200, body: e };
        }
        return { status: 404, body: { message: 'Not found' } };
      } catch (err) {
        if (badKey(err)) return { status: 400, body: { message: (err as Error).message } };
        throw err;
      }
    },
  });
  registerOpsRoute({
    plugin,
    method: 'DELETE',
    path: '/ops/cache/entries/:key',
    description: 'purge one cache entry by its X-Cache-Key',
    handler: async (req, configs) => {
      try {
        let found = false;
        for (const t of targets(mod, configs))
          found = (await mod.purgeKey(t, req.params['key'] ?? '')) || found;
        return { status: found ? 200 : 404, body: { purged: found ? 1 : 0 } };
      } catch (err) {
        if (badKey(err)) return { status: 400, body: { message: (err as Error).message } };
        throw err;
      }
    },
  });
  registerOpsRoute({
    plugin,
    method: 'POST',
    path: '/ops/cache/purge',
    description: 'purge a partition ({"partition": "consumer:<id>"}) or everything ({"all": true})',
    handler: async (req, configs) => {
      const b = (req.body ?? {}) as Record<string, unknown>;
      const partition = typeof b['partition'] === 'string' ? b['partition'] : undefined;
      if (!partition && b['all'] !== true)
        return { status: 400, body: { message: 'give "partition" or "all": true' } };
      let purged = 0;
      for (const t of targets(mod, configs))
        purged += partition ? await mod.purgePartition(t, partition) : await mod.purgeAll(t);
      return { status: 200, body: { purged, ...(partition ? { partition } : { all: true }) } };
    },
  });
}
