/**
 * Gateway-like traffic through the store API, as the plugins issue it: the accounting plugin's
 * reserve → settle → ledger append (with its real key layout from policies.ts), cache puts/gets and
 * router counters. Every operation is recorded with its start/end time and outcome, so a spec can
 * check what failed, when, and that nothing acknowledged was lost or booked twice.
 */
import { randomUUID } from 'node:crypto';
import { withDefaults } from '../../lib/schema/kong-schema';
import { makeKey } from '../../lib/store/keys';
import type { BudgetWindow, Store } from '../../lib/store/types';
import type { RedisConfig } from '../../lib/schema/redis';
import { Schema, type TokenAccountingConfig } from '../../plugins/llm-token-accounting/schema';
import { activeLimits, type ActiveLimit } from '../../plugins/llm-token-accounting/policies';
import { ledgerStream } from '../../plugins/llm-token-accounting/handler';

/** Reserved per request (max output + prompt) and the actual amount settled (never more). */
export const RESERVE = 100;

export interface TrafficLimits {
  /** per payer, fixed 1-hour window */
  payer: number;
  /** every payer together (`*` partition), fixed 1-hour window */
  global: number;
}

/** The accounting config of the traffic: a per-payer and a global policy (two slots on Cluster). */
export function accountingConfig(redis: RedisConfig, limits: TrafficLimits): TokenAccountingConfig {
  return withDefaults<TokenAccountingConfig>(Schema, {
    strategy: 'redis',
    redis,
    identifier: ['consumer'],
    policies: [
      {
        name: 'payer',
        window_type: 'fixed',
        limits: [
          { limit: limits.payer, window_size: 3600 },
          { limit: limits.payer * 100, calendar: 'day' },
        ],
      },
      {
        name: 'all',
        window_type: 'fixed',
        match: [{ type: 'route' }],
        limits: [{ limit: limits.global, window_size: 3600 }],
      },
    ],
  });
}

export interface OpRecord {
  op: 'reserve' | 'settle' | 'ledger' | 'cache' | 'router';
  start: number;
  end: number;
  ok: boolean;
  error?: string;
}

export class Traffic {
  readonly ops: OpRecord[] = [];
  /** window key → limit, and the sum of acknowledged settles */
  readonly limits = new Map<string, number>();
  readonly settled = new Map<string, number>();
  /** ledger entry ids whose append was acknowledged */
  readonly ledgerAcked = new Set<string>();
  accepted = 0;
  refused = 0;
  private stopped = false;
  private running: Promise<void>[] = [];
  private readonly pending = new Set<Promise<void>>();
  private seq = 0;
  private readonly prefix: string;

  constructor(
    private readonly store: Store,
    private readonly cfg: TokenAccountingConfig,
    private readonly payers: string[],
  ) {
    this.prefix = cfg.redis.key_prefix;
  }

  get ledger(): string {
    return ledgerStream(this.prefix);
  }

  private async time<T>(op: OpRecord['op'], fn: () => Promise<T>): Promise<T | undefined> {
    const start = Date.now();
    try {
      const v = await fn();
      this.ops.push({ op, start, end: Date.now(), ok: true });
      return v;
    } catch (err) {
      this.ops.push({ op, start, end: Date.now(), ok: false, error: (err as Error).message });
      return undefined;
    }
  }

  private limitsFor(payer: string): ActiveLimit[] {
    return activeLimits(
      this.cfg,
      { headers: {}, consumer: { username: payer }, route: { name: 'chat' } },
      `consumer=${payer}`,
      Date.now(),
    );
  }

  /** One request: reserve, settle the actual amount, append the ledger row; then cache and router work. */
  async request(): Promise<void> {
    const n = this.seq++;
    const payer = this.payers[n % this.payers.length]!;
    const limits = this.limitsFor(payer);
    const windows = limits.map((l) => l.window);
    for (const w of windows) this.limits.set(w.key, w.limit);
    const rid = randomUUID();
    const r = await this.time('reserve', () =>
      this.store.reserve(
        windows,
        windows.map(() => RESERVE),
        rid,
        30,
      ),
    );
    if (r && !r.ok) this.refused++;
    if (r?.ok) {
      this.accepted++;
      // Kong runs the log phase after the response: it does not hold up the next request.
      const log = this.logPhase(windows, rid, payer, 50 + (n % 51));
      this.pending.add(log);
      void log.finally(() => this.pending.delete(log));
    }
    // Cache entries and router state: single keys spread over every slot, read back in one mget.
    const ck = makeKey(this.prefix, 'cache', 'e', 'p', `k${n}`);
    await this.time('cache', async () => {
      await this.store.set(ck, `v${n}`, 120);
      const got = await this.store.mget([ck, makeKey(this.prefix, 'cache', 'e', 'p', `k${n - 1}`)]);
      if (got[0] !== `v${n}`) throw new Error('cache read-back mismatch');
    });
    await this.time('router', async () => {
      const t = `t${n % 5}`;
      await this.store.incrBy(makeKey(this.prefix, 'router', t, 'use', 1), 1, 120);
      await this.store.mget([0, 1, 2, 3, 4].map((i) => makeKey(this.prefix, 'router', `t${i}`, 'use', 1)));
    });
  }

  /** Settle the actual amount (never more than reserved) and append the ledger row. */
  private async logPhase(windows: BudgetWindow[], rid: string, payer: string, actual: number): Promise<void> {
    const after = await this.time('settle', () =>
      this.store.settle(
        windows,
        windows.map(() => actual),
        rid,
      ),
    );
    if (after) for (const w of windows) this.settled.set(w.key, (this.settled.get(w.key) ?? 0) + actual);
    const id = await this.time('ledger', () =>
      this.store.streamAdd(
        this.ledger,
        { request_id: rid, payer, total_tokens: String(actual) },
        1_000_000,
        rid,
      ),
    );
    if (id) this.ledgerAcked.add(rid);
  }

  /** Start `workers` loops, each pacing itself a little so two shared cores stay usable. */
  start(workers: number): void {
    for (let i = 0; i < workers; i++) {
      this.running.push(
        (async () => {
          while (!this.stopped) {
            await this.request();
            await new Promise((r) => setTimeout(r, 5));
          }
        })(),
      );
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running);
    await Promise.all([...this.pending]);
  }

  /** Resolves once `n` more reservations were answered (accepted or refused); traffic keeps running. */
  async answered(n: number, timeoutMs = 30_000): Promise<void> {
    const target = this.countOk('reserve') + n;
    const deadline = Date.now() + timeoutMs;
    while (this.countOk('reserve') < target) {
      if (Date.now() > deadline)
        throw new Error(`traffic made no progress (${this.countOk('reserve')}/${target})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  countOk(op: OpRecord['op']): number {
    return this.ops.filter((o) => o.op === op && o.ok).length;
  }

  failures(): OpRecord[] {
    return this.ops.filter((o) => !o.ok);
  }
}
