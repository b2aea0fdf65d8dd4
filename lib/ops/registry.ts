/**
 * Operations registry of the plugin-server process. Plugins register here at module load (one line in
 * their index.ts: `export const Plugin = withOps(NAME, TheHandlerClass)`), which records the configs of
 * the instances Kong creates, so the operations API reads exactly the stores, key prefixes, policies
 * and targets that the running plugins use. Extra routes (e.g. the semantic cache's purge) register
 * with `registerOpsRoute`. lib never imports plugins: everything here is structural.
 * Nothing is logged or printed at module load.
 */
import { registerCacheRoutes, type CacheOpsModule } from './cache';

/** A plugin config as Kong hands it to the constructor (already defaulted by Kong). */
export type PluginConfig = Record<string, unknown>;

interface Tracked {
  configs: Map<string, { config: PluginConfig; seenMs: number }>;
}

/** Distinct configs remembered per plugin (oldest forgotten first). */
export const MAX_CONFIGS_PER_PLUGIN = 32;

const tracked = new Map<string, Tracked>();

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => !k.startsWith('__'))
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Remember a config of `plugin` (called when Kong creates an instance). */
export function trackConfig(plugin: string, config: unknown): void {
  if (!config || typeof config !== 'object') return;
  let t = tracked.get(plugin);
  if (!t) tracked.set(plugin, (t = { configs: new Map() }));
  const key = stableJson(config);
  t.configs.delete(key); // re-insert: most recent last
  t.configs.set(key, { config: config as PluginConfig, seenMs: Date.now() });
  while (t.configs.size > MAX_CONFIGS_PER_PLUGIN) {
    const oldest = t.configs.keys().next().value;
    if (oldest === undefined) break;
    t.configs.delete(oldest);
  }
  startHooks.forEach((h) => h());
}

/** Configs of a plugin seen by this process, most recent last. */
export function configsOf(plugin: string): PluginConfig[] {
  return [...(tracked.get(plugin)?.configs.values() ?? [])].map((e) => e.config);
}

/** Names of the plugins that registered (whether or not an instance exists yet). */
export function registeredPlugins(): string[] {
  return [...registered].sort();
}

const registered = new Set<string>();
const startHooks: Array<() => void> = [];

/** Called on every instance creation; the ops server and the alert loop start lazily from here. */
export function onInstance(hook: () => void): void {
  startHooks.push(hook);
}

/** Forget everything (tests). */
export function resetRegistry(): void {
  tracked.clear();
}

/** Plugin-owned operations handed over at registration. */
export interface OpsExtras {
  /** the semantic cache's ops module (getEntry, purgeKey, purgePartition, purgeAll, opsTarget) */
  cache?: CacheOpsModule;
}

type PluginClass = new (...args: any[]) => object;

/**
 * Wrap a plugin handler class so every instance Kong creates registers its config. The subclass keeps
 * the prototype chain, so kong-pdk still finds the phase methods (it checks `cls.prototype[phase]`).
 */
export function withOps<C extends PluginClass>(plugin: string, cls: C, extras: OpsExtras = {}): C {
  registered.add(plugin);
  if (extras.cache) registerCacheRoutes(plugin, extras.cache);
  const Wrapped = class extends cls {
    constructor(...args: any[]) {
      super(...args);
      trackConfig(plugin, args[0]);
    }
  };
  Object.defineProperty(Wrapped, 'name', { value: cls.name });
  return Wrapped;
}

// ------------------------------------------------------------------------------- extra routes

export interface OpsRequest {
  method: string;
  /** path without query, e.g. /ops/cache/purge */
  path: string;
  query: URLSearchParams;
  /** parsed JSON body (undefined when empty) */
  body: unknown;
  /** path parameters matched by `:name` segments */
  params: Record<string, string>;
}

export interface OpsResponse {
  status: number;
  body: unknown;
}

export interface OpsRoute {
  /** plugin that owns the route (its tracked configs are passed to the handler) */
  plugin: string;
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  /** path pattern with `:param` segments, under /ops/ */
  path: string;
  description: string;
  handler: (req: OpsRequest, configs: PluginConfig[]) => Promise<OpsResponse>;
}

const routes: OpsRoute[] = [];

/** Register an operations route (plugins call this at module load; later registrations win). */
export function registerOpsRoute(route: OpsRoute): void {
  registered.add(route.plugin);
  const i = routes.findIndex((r) => r.method === route.method && r.path === route.path);
  if (i >= 0) routes.splice(i, 1);
  routes.push(route);
}

/** Registered routes, most recent first. */
export function opsRoutes(): readonly OpsRoute[] {
  return [...routes].reverse();
}

/** Match a path against a `:param` pattern. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const a = pattern.split('/');
  const b = path.split('/');
  if (a.length !== b.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    const p = a[i] ?? '';
    const v = b[i] ?? '';
    if (p.startsWith(':')) {
      if (!v) return undefined;
      try {
        params[p.slice(1)] = decodeURIComponent(v);
      } catch {
        return undefined;
      }
    } else if (p !== v) return undefined;
  }
  return params;
}
