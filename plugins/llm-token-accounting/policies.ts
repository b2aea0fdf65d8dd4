/**
 * Which policies apply to a request, which budget partition it falls in, and the windows to check.
 * Pure: the handler gathers the request facts with as few PDK calls as the config needs.
 */
import type { BudgetWindow } from '../../lib/store/types';
import { makeKey, tag } from '../../lib/store/keys';
import type {
  CountStrategy,
  Identifier,
  LimitConfig,
  MatchConfig,
  MatchType,
  PolicyConfig,
  TokenAccountingConfig,
} from './schema';
import { calendarWindow, rollingWindow, type WindowSpan } from './windows';

/** What the policies can match on. Every field is optional: only what the config needs is fetched. */
export interface RequestFacts {
  consumer?: { id?: string; username?: string; custom_id?: string };
  groups?: { id?: string; name?: string }[];
  credential?: string;
  headers: Record<string, string[]>;
  route?: { id?: string; name?: string };
  service?: { id?: string; name?: string };
  model?: string;
  path?: string;
  ip?: string;
}

/** Which request facts the config reads, so the handler skips PDK calls nobody needs. */
export function neededFacts(c: TokenAccountingConfig): Set<MatchType | Identifier> {
  const s = new Set<MatchType | Identifier>(c.identifier);
  for (const p of c.policies) for (const m of p.match) s.add(m.type);
  return s;
}

function candidates(m: MatchConfig, f: RequestFacts): string[] {
  const pick = (o: Record<string, string | undefined> | undefined, keys: string[]) =>
    o ? keys.map((k) => o[k]).filter((v): v is string => typeof v === 'string' && v !== '') : [];
  switch (m.type) {
    case 'consumer':
      return pick(f.consumer, m.key ? [m.key] : ['username', 'id', 'custom_id']);
    case 'consumer_group':
      return (f.groups ?? []).flatMap((g) => pick(g, m.key ? [m.key] : ['name', 'id']));
    case 'credential':
      return f.credential ? [f.credential] : [];
    case 'header':
      return m.key ? (f.headers[m.key.toLowerCase()] ?? []) : [];
    case 'route':
      return pick(f.route, m.key ? [m.key] : ['name', 'id']);
    case 'service':
      return pick(f.service, m.key ? [m.key] : ['name', 'id']);
    case 'model':
      return f.model ? [f.model] : [];
    case 'path':
      return f.path ? [f.path] : [];
    case 'ip':
      return f.ip ? [f.ip] : [];
  }
}

/** The value a condition matched, or undefined when it does not match. */
function matchOne(m: MatchConfig, f: RequestFacts): string | undefined {
  const have = candidates(m, f);
  if (!m.values || m.values.length === 0) return have[0];
  if (m.type === 'path') return have.find((h) => m.values!.some((v) => h.startsWith(v)));
  return have.find((h) => m.values!.includes(h));
}

/** The payer id of a request: the configured identifier parts, or the client IP, or "anonymous". */
export function payerOf(c: TokenAccountingConfig, f: RequestFacts): string {
  const parts: string[] = [];
  for (const id of c.identifier) {
    let v: string | undefined;
    switch (id) {
      case 'consumer':
        v = f.consumer?.username || f.consumer?.id || f.consumer?.custom_id;
        break;
      case 'consumer_group':
        v = f.groups?.[0]?.name || f.groups?.[0]?.id;
        break;
      case 'credential':
        v = f.credential;
        break;
      case 'header':
        v = c.header_name ? f.headers[c.header_name.toLowerCase()]?.[0] : undefined;
        break;
      case 'ip':
        v = f.ip;
        break;
      case 'route':
        v = f.route?.name || f.route?.id;
        break;
      case 'service':
        v = f.service?.name || f.service?.id;
        break;
      case 'global':
        v = '*';
        break;
    }
    if (v) parts.push(`${id}=${v}`);
  }
  if (parts.length) return parts.join('|');
  return f.ip ? `ip=${f.ip}` : 'anonymous';
}

/** One limit of one matching policy, bound to its partition and current window. */
export interface ActiveLimit {
  policy: string;
  index: number;
  limit: LimitConfig;
  partition: string;
  span: WindowSpan;
  window: BudgetWindow;
  /** The limit in store units: tokens, or micro-USD for cost. */
  units: number;
}

/** Store units of a limit: tokens, or micro-USD for cost limits. */
export function limitUnits(l: LimitConfig): number {
  return l.tokens_count_strategy === 'cost' ? Math.round(l.limit * 1e6) : Math.floor(l.limit);
}

/** Every limit that applies to this request, with its window in the store. */
export function activeLimits(
  c: TokenAccountingConfig,
  f: RequestFacts,
  payer: string,
  nowMs: number,
): ActiveLimit[] {
  const out: ActiveLimit[] = [];
  for (const p of c.policies) {
    const partition = partitionOf(p, f, payer);
    if (partition === undefined) continue;
    p.limits.forEach((l, index) => {
      const sliding = p.window_type === 'sliding' && l.window_size !== null;
      const span = l.calendar
        ? calendarWindow(nowMs, l.calendar, c.time_zone)
        : rollingWindow(nowMs, l.window_size ?? 60, sliding);
      const size = Math.ceil((span.endMs - span.startMs) / 1000);
      const base = [c.redis.key_prefix, 'budget'] as const;
      // The partition is the hash tag: on Redis Cluster every window of one payer partition (and its
      // reservation keys) shares a slot, so one script checks them together (lib/store/redis.ts).
      const key = makeKey(base[0], base[1], p.name, tag(partition), index, span.name, span.id);
      const window: BudgetWindow = {
        key,
        limit: limitUnits(l),
        // Keep the counter through the next window so sliding limits can weight it.
        ttlSec: size * 2 + 60,
        ...(sliding
          ? {
              prev: {
                key: makeKey(base[0], base[1], p.name, tag(partition), index, span.name, span.prevId),
                weight: span.prevWeight,
              },
            }
          : {}),
      };
      out.push({ policy: p.name, index, limit: l, partition, span, window, units: window.limit });
    });
  }
  return out;
}

/** The partition of a policy for this request, or undefined when the policy does not apply. */
export function partitionOf(p: PolicyConfig, f: RequestFacts, payer: string): string | undefined {
  if (p.match.length === 0) return payer;
  const parts: string[] = [];
  for (const m of p.match) {
    const v = matchOne(m, f);
    if (v === undefined) return undefined;
    if (m.partition_by) parts.push(`${m.type}=${v}`);
  }
  return parts.length ? parts.join('|') : '*';
}

/** Token counts (and micro-USD cost) of one request, reserved or actual. */
export interface Amounts {
  prompt: number;
  completion: number;
  costMicros: number;
}

/** The amount a limit counts. */
export function amountFor(s: CountStrategy, a: Amounts): number {
  switch (s) {
    case 'prompt_tokens':
      return a.prompt;
    case 'completion_tokens':
      return a.completion;
    case 'total_tokens':
      return a.prompt + a.completion;
    case 'cost':
      return a.costMicros;
  }
}
