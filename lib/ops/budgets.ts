/**
 * Budget operations over the llm-token-accounting keys (layout of plugins/llm-token-accounting/
 * policies.ts: `makeKey(prefix, 'budget', policy, tag(partition), limitIndex, windowName, windowId)`, with
 * the reservation keys `<key>:r`, `<key>:ra`, `<key>:rs` of lib/store). Structural types only: lib
 * never imports plugins; a spec checks that the keys agree with the plugin's.
 */
import { keyPart, makeKey, tag, unescapePart } from '../store/keys';
import { storeFor } from '../store/pool';
import type { RedisConfig } from '../schema/redis';
import type { BudgetWindow, Store } from '../store/types';
import type { PluginConfig } from './registry';

export const ACCOUNTING_PLUGIN = 'llm-token-accounting';

interface LimitLike {
  limit: number;
  window_size: number | null;
  calendar: string | null;
  tokens_count_strategy: string;
}
interface PolicyLike {
  name: string;
  window_type?: string;
  limits: LimitLike[];
}
export interface AccountingLike {
  strategy: 'memory' | 'redis';
  redis: RedisConfig;
  policies: PolicyLike[];
}

function isAccounting(c: PluginConfig): c is PluginConfig & AccountingLike {
  return Array.isArray(c['policies']) && typeof c['redis'] === 'object' && c['redis'] !== null;
}

/** One budget window of one payer (partition) as stored. */
export interface BudgetView {
  policy: string;
  limit_index: number;
  /** window name: seconds of a rolling window, or the calendar period */
  window: string;
  window_id: string;
  current: boolean;
  /** tokens, or USD for cost limits */
  limit: number;
  used: number;
  remaining: number;
  /** 0..1+ */
  used_ratio: number;
  strategy: string;
  ttl_sec: number;
  /** which store the key lives in: `redis host:port/db prefix` or `memory prefix` */
  store: string;
  key: string;
}

interface Source {
  store: Store;
  prefix: string;
  label: string;
  policies: Map<string, PolicyLike>;
}

/** Distinct (store, prefix) pairs of the tracked accounting configs, with their policies. */
export function accountingSources(configs: PluginConfig[]): Source[] {
  const out = new Map<string, Source>();
  for (const c of configs) {
    if (!isAccounting(c)) continue;
    const r = c.redis;
    const label =
      c.strategy === 'redis'
        ? `redis ${r.host}:${r.port}/${r.database} ${r.key_prefix}`
        : `memory ${r.key_prefix}`;
    let s = out.get(label);
    if (!s)
      out.set(
        label,
        (s = { store: storeFor(c.strategy, c.redis), prefix: r.key_prefix, label, policies: new Map() }),
      );
    for (const p of c.policies) if (p && typeof p.name === 'string') s.policies.set(p.name, p);
  }
  return [...out.values()];
}

function isCost(l: LimitLike | undefined): boolean {
  return l?.tokens_count_strategy === 'cost';
}

interface Parsed {
  key: string;
  policy: string;
  index: number;
  window: string;
  windowId: string;
}

/** Budget counter keys of one payer partition in one source (reservation keys excluded). */
async function counterKeys(src: Source, partition: string): Promise<Parsed[]> {
  const out: Parsed[] = [];
  for (const [name] of src.policies) {
    const base = `${makeKey(src.prefix, 'budget', name, tag(partition))}:`;
    for (const key of await src.store.keys(base, 5000)) {
      const rest = key.slice(base.length).split(':');
      if (rest.length !== 3) continue; // :r, :ra, :rs
      const [idx, window, windowId] = rest as [string, string, string];
      const index = Number(idx);
      if (!Number.isInteger(index)) continue;
      out.push({
        key,
        policy: name,
        index,
        window: decodeURIComponent(window),
        windowId: decodeURIComponent(windowId),
      });
    }
  }
  return out;
}

/** Current rolling window id (epoch seconds of its start), as windows.ts computes it. */
function rollingId(nowMs: number, sizeSec: number): number {
  const size = sizeSec * 1000;
  return Math.floor(nowMs / size) * (size / 1000);
}

/** The budgets of one payer partition (e.g. `consumer=alice`, a group partition, or `*`). */
export async function inspectBudgets(
  configs: PluginConfig[],
  partition: string,
  nowMs = Date.now(),
): Promise<BudgetView[]> {
  const views: BudgetView[] = [];
  for (const src of accountingSources(configs)) {
    const keys = await counterKeys(src, partition);
    // the latest window per (policy, limit) is the current one for calendar limits
    const latest = new Map<string, string>();
    for (const k of keys) {
      const id = `${k.policy}\u0000${k.index}`;
      const cur = latest.get(id);
      if (cur === undefined || cmpId(k.windowId, cur) > 0) latest.set(id, k.windowId);
    }
    for (const k of keys) {
      const policy = src.policies.get(k.policy);
      const limit = policy?.limits[k.index];
      const units = limit ? (isCost(limit) ? Math.round(limit.limit * 1e6) : Math.floor(limit.limit)) : 0;
      let current = latest.get(`${k.policy}\u0000${k.index}`) === k.windowId;
      const w: BudgetWindow = { key: k.key, limit: units, ttlSec: 0 };
      if (limit && !limit.calendar && limit.window_size) {
        const curId = rollingId(nowMs, limit.window_size);
        current = Number(k.windowId) === curId;
        if (current && policy?.window_type === 'sliding') {
          const size = limit.window_size * 1000;
          const weight = Math.max(0, 1 - (nowMs - curId * 1000) / size);
          w.prev = {
            key: makeKey(
              src.prefix,
              'budget',
              k.policy,
              tag(partition),
              k.index,
              k.window,
              String(curId - limit.window_size),
            ),
            weight,
          };
        }
      }
      const [used = 0] = await src.store.usage([w]);
      const ttl = await src.store.ttl(k.key);
      const scale = isCost(limit) ? 1e6 : 1;
      views.push({
        policy: k.policy,
        limit_index: k.index,
        window: k.window,
        window_id: k.windowId,
        current,
        limit: units / scale,
        used: used / scale,
        remaining: Math.max(0, units - used) / scale,
        used_ratio: units > 0 ? used / units : 0,
        strategy: limit?.tokens_count_strategy ?? 'unknown',
        ttl_sec: ttl,
        store: src.label,
        key: k.key,
      });
    }
  }
  views.sort(
    (a, b) =>
      a.policy.localeCompare(b.policy) || a.limit_index - b.limit_index || cmpId(b.window_id, a.window_id),
  );
  return views;
}

function cmpId(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Reset a payer partition: delete its counters and reservations in every window (optionally of one
 * policy). Requests in flight settle into fresh counters.
 */
export async function resetBudgets(
  configs: PluginConfig[],
  partition: string,
  policy?: string,
): Promise<{ deleted: number; windows: number }> {
  let deleted = 0;
  let windows = 0;
  for (const src of accountingSources(configs)) {
    for (const k of await counterKeys(src, partition)) {
      if (policy && k.policy !== policy) continue;
      windows++;
      deleted += await src.store.del(k.key, `${k.key}:r`, `${k.key}:ra`, `${k.key}:rs`);
    }
  }
  return { deleted, windows };
}

/** Every partition that has budget keys (for listing and alerting), bounded. */
export async function listPartitions(configs: PluginConfig[], limit = 1000): Promise<string[]> {
  const out = new Set<string>();
  for (const src of accountingSources(configs)) {
    for (const [name] of src.policies) {
      const base = `${makeKey(src.prefix, 'budget', name)}:`;
      for (const key of await src.store.keys(base, 10_000)) {
        const part = key.slice(base.length).split(':')[0];
        if (part !== undefined && out.size < limit) out.add(unescapePart(part));
      }
    }
  }
  return [...out].sort();
}

export { keyPart };
