/**
 * The one storage contract of the suite. A `memory` implementation serves single-node setups and
 * unit tests; the `redis` implementation is shared by every Kong node. Both pass the same contract
 * suite (`spec/lib/store/contract.ts`). TTLs are seconds. A miss is `undefined`, never an error;
 * errors mean the store is unavailable and the caller applies its plugin's fail policy.
 */

/** One budget window a reservation is checked against. Amounts are integers (tokens or micro-USD). */
export interface BudgetWindow {
  /** Counter key of the current window (already namespaced). */
  key: string;
  /** Maximum amount in the window. */
  limit: number;
  /** How long the counter must live (window length, doubled for sliding windows). */
  ttlSec: number;
  /** Sliding windows: the previous window's counter and the weight its usage still carries (0..1). */
  prev?: { key: string; weight: number };
}

/** Result of an all-or-nothing reservation. */
export interface ReserveResult {
  ok: boolean;
  /** Usage per window before this reservation (committed + weighted previous + active reservations). */
  used: number[];
  /** Index of the first window that could not take the amount. */
  failedIndex?: number;
}

/** An entry of an append-only stream (ledger, cache invalidations). */
export interface StreamEntry {
  id: string;
  fields: Record<string, string>;
}

export interface Store {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<string | undefined>;
  mget(keys: string[]): Promise<(string | undefined)[]>;
  /** Set a value; `ttlSec` 0 or undefined keeps it until deleted. */
  set(key: string, value: string, ttlSec?: number): Promise<void>;
  del(...keys: string[]): Promise<number>;
  /** Atomically add `by` (an integer) and start the TTL on first write; returns the new value. */
  incrBy(key: string, by: number, ttlSec: number): Promise<number>;
  /** Remaining TTL in seconds; -1 without TTL, -2 when missing. */
  ttl(key: string): Promise<number>;
  /** Keys starting with `prefix` (bounded by `limit`), for operations tooling and purges. */
  keys(prefix: string, limit?: number): Promise<string[]>;
  /**
   * Reserve `amounts[i]` in every window at once, or nothing: a window accepts when
   * used + amount <= limit. The reservation counts until settled, released or `ttlSec` passes,
   * so a lost log phase can never leak budget.
   */
  reserve(
    windows: BudgetWindow[],
    amounts: number[],
    reservationId: string,
    ttlSec: number,
  ): Promise<ReserveResult>;
  /**
   * Replace the reservation by the actual amounts (committed usage); works after expiry too.
   * Idempotent per reservation id: a settle retried (e.g. across a Redis failover) books nothing twice.
   */
  settle(windows: BudgetWindow[], actual: number[], reservationId: string): Promise<number[]>;
  /** Drop a reservation without booking anything. */
  release(windows: BudgetWindow[], reservationId: string): Promise<void>;
  /** Current usage per window (committed + weighted previous + active reservations). */
  usage(windows: BudgetWindow[]): Promise<number[]>;
  /**
   * Append to a stream capped at about `maxLen` entries; returns the entry id. With `entryId` (e.g. the
   * request id) the append is idempotent: a retry returns the first entry's id and appends nothing.
   */
  streamAdd(
    stream: string,
    fields: Record<string, string>,
    maxLen: number,
    entryId?: string,
  ): Promise<string>;
  /** Entries after `afterId` ('0' = from the start), oldest first. */
  streamRead(stream: string, afterId: string, count: number): Promise<StreamEntry[]>;
  /** Health check. */
  ping(): Promise<boolean>;
}
