/**
 * In-process store for a single node (and unit tests). Same semantics as the Redis store, including
 * TTLs and reservation expiry, driven by an injectable clock.
 */
import type { BudgetWindow, ReserveResult, Store, StreamEntry } from './types';

/** How long a settled reservation id / an appended entry id is remembered (as in the Redis store). */
export const SETTLE_DEDUPE_MS = 300_000;
export const STREAM_DEDUPE_MS = 300_000;

interface Item {
  value: string;
  expiresAt: number; // ms; Infinity = no TTL
}

interface Reservation {
  amount: number;
  expiresAt: number;
}

export interface MemoryStoreOptions {
  /** Clock in milliseconds (tests inject a fake one). */
  now?: () => number;
  /** Upper bound of keys kept; the oldest-written are evicted first. */
  maxKeys?: number;
}

export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  private readonly items = new Map<string, Item>();
  /** window key → reservation id → reservation */
  private readonly reservations = new Map<string, Map<string, Reservation>>();
  private readonly streams = new Map<string, StreamEntry[]>();
  /** window key → settled reservation id → until (ms): a retried settle books nothing */
  private readonly settled = new Map<string, Map<string, number>>();
  /** stream key + entry id → stream entry id: a retried append writes nothing */
  private readonly appended = new Map<string, { id: string; until: number }>();
  private readonly now: () => number;
  private readonly maxKeys: number;
  private seq = 0;

  constructor(opts: MemoryStoreOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.maxKeys = opts.maxKeys ?? 200_000;
  }

  private live(key: string): Item | undefined {
    const it = this.items.get(key);
    if (!it) return undefined;
    if (it.expiresAt <= this.now()) {
      this.items.delete(key);
      return undefined;
    }
    return it;
  }

  private put(key: string, value: string, ttlSec?: number): void {
    if (!this.items.has(key) && this.items.size >= this.maxKeys) {
      const oldest = this.items.keys().next().value;
      if (oldest !== undefined) this.items.delete(oldest);
    }
    this.items.set(key, { value, expiresAt: ttlSec && ttlSec > 0 ? this.now() + ttlSec * 1000 : Infinity });
  }

  async get(key: string): Promise<string | undefined> {
    return this.live(key)?.value;
  }

  async mget(keys: string[]): Promise<(string | undefined)[]> {
    return keys.map((k) => this.live(k)?.value);
  }

  async set(key: string, value: string, ttlSec?: number): Promise<void> {
    this.put(key, value, ttlSec);
  }

  async del(...keys: string[]): Promise<number> {
    let n = 0;
    for (const k of keys) {
      if (this.live(k)) n++;
      this.items.delete(k);
      this.reservations.delete(k);
      this.settled.delete(k);
      if (this.streams.delete(k)) n++;
    }
    return n;
  }

  async incrBy(key: string, by: number, ttlSec: number): Promise<number> {
    if (!Number.isInteger(by)) throw new TypeError('incrBy takes an integer');
    const it = this.live(key);
    const next = (it ? Number(it.value) : 0) + by;
    if (it) it.value = String(next);
    else this.put(key, String(next), ttlSec);
    return next;
  }

  async ttl(key: string): Promise<number> {
    const it = this.live(key);
    if (!it) return -2;
    if (it.expiresAt === Infinity) return -1;
    return Math.ceil((it.expiresAt - this.now()) / 1000);
  }

  async keys(prefix: string, limit = 10_000): Promise<string[]> {
    const out: string[] = [];
    for (const k of this.items.keys()) {
      if (out.length >= limit) break;
      if (k.startsWith(prefix) && this.live(k)) out.push(k);
    }
    for (const k of this.streams.keys()) if (out.length < limit && k.startsWith(prefix)) out.push(k);
    return out;
  }

  private activeReserved(key: string): number {
    const m = this.reservations.get(key);
    if (!m) return 0;
    const now = this.now();
    let sum = 0;
    for (const [id, r] of m) {
      if (r.expiresAt <= now) m.delete(id);
      else sum += r.amount;
    }
    return sum;
  }

  private committed(key: string): number {
    const it = this.live(key);
    return it ? Number(it.value) : 0;
  }

  private usedOf(w: BudgetWindow): number {
    const prev = w.prev ? Math.floor(this.committed(w.prev.key) * w.prev.weight) : 0;
    return this.committed(w.key) + prev + this.activeReserved(w.key);
  }

  async usage(windows: BudgetWindow[]): Promise<number[]> {
    return windows.map((w) => this.usedOf(w));
  }

  async reserve(
    windows: BudgetWindow[],
    amounts: number[],
    id: string,
    ttlSec: number,
  ): Promise<ReserveResult> {
    const used = windows.map((w) => this.usedOf(w));
    // A retried reservation (or one already settled) is answered as accepted, not added again.
    const first = windows[0]?.key;
    if (
      first !== undefined &&
      (this.reservations.get(first)?.has(id) || (this.settled.get(first)?.get(id) ?? 0) > this.now())
    )
      return { ok: true, used };
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i]!;
      if (used[i]! + (amounts[i] ?? 0) > w.limit) return { ok: false, used, failedIndex: i };
    }
    const expiresAt = this.now() + ttlSec * 1000;
    windows.forEach((w, i) => {
      let m = this.reservations.get(w.key);
      if (!m) this.reservations.set(w.key, (m = new Map()));
      m.set(id, { amount: amounts[i] ?? 0, expiresAt });
    });
    return { ok: true, used };
  }

  async settle(windows: BudgetWindow[], actual: number[], id: string): Promise<number[]> {
    const now = this.now();
    return windows.map((w, i) => {
      let done = this.settled.get(w.key);
      if ((done?.get(id) ?? 0) > now) return this.usedOf(w);
      if (!done) this.settled.set(w.key, (done = new Map()));
      for (const [rid, until] of done) if (until <= now) done.delete(rid);
      done.set(id, now + SETTLE_DEDUPE_MS);
      this.reservations.get(w.key)?.delete(id);
      const amount = Math.max(0, Math.round(actual[i] ?? 0));
      const it = this.live(w.key);
      if (it) it.value = String(Number(it.value) + amount);
      else this.put(w.key, String(amount), w.ttlSec);
      return this.usedOf(w);
    });
  }

  async release(windows: BudgetWindow[], id: string): Promise<void> {
    for (const w of windows) this.reservations.get(w.key)?.delete(id);
  }

  async streamAdd(
    stream: string,
    fields: Record<string, string>,
    maxLen: number,
    entryId?: string,
  ): Promise<string> {
    const now = this.now();
    const dk = entryId === undefined ? undefined : `${stream}\u0000${entryId}`;
    if (dk !== undefined) {
      const seen = this.appended.get(dk);
      if (seen && seen.until > now) return seen.id;
      if (this.appended.size >= this.maxKeys) {
        for (const [k, v] of this.appended) if (v.until <= now) this.appended.delete(k);
        const oldest = this.appended.keys().next().value;
        if (this.appended.size >= this.maxKeys && oldest !== undefined) this.appended.delete(oldest);
      }
    }
    let s = this.streams.get(stream);
    if (!s) this.streams.set(stream, (s = []));
    const id = `${this.now()}-${this.seq++}`;
    s.push({ id, fields: { ...fields } });
    if (s.length > maxLen) s.splice(0, s.length - maxLen);
    if (dk !== undefined) this.appended.set(dk, { id, until: now + STREAM_DEDUPE_MS });
    return id;
  }

  async streamRead(stream: string, afterId: string, count: number): Promise<StreamEntry[]> {
    const s = this.streams.get(stream) ?? [];
    const start = afterId === '0' ? 0 : s.findIndex((e) => compareIds(e.id, afterId) > 0);
    if (start < 0) return [];
    return s.slice(start, start + count).map((e) => ({ id: e.id, fields: { ...e.fields } }));
  }

  async ping(): Promise<boolean> {
    return true;
  }
}

/** Compare stream ids of the form `<ms>-<seq>` numerically. */
export function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}
