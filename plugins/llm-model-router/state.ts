/**
 * Router state shared by every Kong node through the Store (Redis): passive health (failure counts,
 * ejections, half-open probes), latency averages and token usage per target. Keys are per target id
 * (name + a hash of its endpoint and model), so two gateways with the same config agree.
 *
 * Health state machine of a target:
 *   closed ──max_fails failures in fail_window, or a 429 with Retry-After──▶ open (ejected until T)
 *   open ──T passes──▶ half-open: the first request to win the probe token is sent to the target,
 *                       every other request still avoids it
 *   half-open ──probe succeeds──▶ closed;  half-open ──probe fails──▶ open again for fail_timeout
 *
 * When the shared store fails, every operation falls back to an in-process store for `retryMs`
 * (warning once per interval): routing keeps working on this node's own observations.
 */
import type { Store } from '../../lib/store/types';
import { MemoryStore } from '../../lib/store/memory';
import { makeKey } from '../../lib/store/keys';
import { errInfo, logOncePer, type Logger } from '../../lib/log';
import * as metrics from '../../lib/metrics';
import { ewma } from './balancers';

export interface StateOptions {
  store: Store;
  prefix: string;
  now: () => number;
  log: Logger;
  /** Local fallback (tests inject one with the fake clock). */
  local?: MemoryStore;
  /** How long to stay on the local store after a shared-store error. */
  retryMs?: number;
}

export interface HealthSettings {
  max_fails: number;
  fail_window: number;
  fail_timeout: number;
  max_retry_after: number;
  ewma_alpha: number;
  latency_ttl: number;
  usage_window: number;
}

/** What one request sees of one target. */
export interface TargetView {
  /** Ejected until this time (ms); undefined when not ejected. */
  ejectedUntil?: number;
  /** Ejection over, waiting for a successful probe. */
  halfOpen: boolean;
  ttft?: number;
  e2e?: number;
  /** Tokens in the usage window (sliding over two buckets). */
  usage: number;
}

/** The result of one upstream call, from the log phase. */
export interface Outcome {
  ok: boolean;
  /** The status counts as a failure. */
  failure: boolean;
  status: number;
  retryAfterSec?: number;
  latencyMs?: number;
  latencyKind?: 'ttft' | 'e2e';
  tokens?: number;
}

/** Keys read per target by `snapshot`: eject, probation, lat:ttft, lat:e2e, use:current, use:previous. */
const PER_TARGET = 6;

export class RouterState {
  private readonly local: MemoryStore;
  private readonly retryMs: number;
  private downUntil = 0;

  constructor(private readonly o: StateOptions) {
    this.local = o.local ?? new MemoryStore({ now: o.now });
    this.retryMs = o.retryMs ?? 5000;
  }

  /** True while the shared store is bypassed. */
  get degraded(): boolean {
    return this.o.now() < this.downUntil;
  }

  private key(id: string, field: string, ...more: (string | number)[]): string {
    return makeKey(this.o.prefix, 'router', id, field, ...more);
  }

  /** Run an operation on the shared store, falling back to the local one. */
  private async run<T>(op: (s: Store) => Promise<T>): Promise<T> {
    if (this.o.store === this.local || this.o.now() < this.downUntil) return op(this.local);
    try {
      return await op(this.o.store);
    } catch (err) {
      this.downUntil = this.o.now() + this.retryMs;
      metrics.failOpen.inc({ plugin: 'llm-model-router', reason: 'store' });
      logOncePer('llm-model-router:store-down', 30_000, () =>
        this.o.log.warn(
          { err: errInfo(err) },
          "router state store unavailable: using this node's own health and latency state",
        ),
      );
      return op(this.local);
    }
  }

  private bucket(windowSec: number, offset = 0): number {
    return Math.floor(this.o.now() / (windowSec * 1000)) - offset;
  }

  /** One read (MGET) for every candidate. */
  async snapshot(ids: readonly string[], s: HealthSettings): Promise<Map<string, TargetView>> {
    const cur = this.bucket(s.usage_window);
    const keys: string[] = [];
    for (const id of ids) {
      keys.push(
        this.key(id, 'eject'),
        this.key(id, 'probation'),
        this.key(id, 'lat', 'ttft'),
        this.key(id, 'lat', 'e2e'),
        this.key(id, 'use', cur),
        this.key(id, 'use', cur - 1),
      );
    }
    const vals = await this.run((st) => st.mget(keys));
    const now = this.o.now();
    const frac = (now % (s.usage_window * 1000)) / (s.usage_window * 1000);
    const out = new Map<string, TargetView>();
    const per = PER_TARGET;
    ids.forEach((id, i) => {
      const v = (j: number): string | undefined => vals[i * per + j];
      const num = (j: number): number | undefined => {
        const x = v(j);
        if (x === undefined) return undefined;
        const n = Number(x);
        return Number.isFinite(n) ? n : undefined;
      };
      const until = num(0);
      const ejected = until !== undefined && until > now;
      out.set(id, {
        ejectedUntil: ejected ? until : undefined,
        halfOpen: !ejected && v(1) !== undefined,
        ttft: num(2),
        e2e: num(3),
        usage: (num(4) ?? 0) + (num(5) ?? 0) * (1 - frac),
      });
    });
    return out;
  }

  /** Half-open: the first caller per probe period wins and sends the probe. */
  async tryProbe(id: string, s: HealthSettings): Promise<boolean> {
    const ttl = Math.max(5, Math.min(s.fail_timeout, 60));
    const n = await this.run((st) => st.incrBy(this.key(id, 'probe'), 1, ttl));
    return n === 1;
  }

  /** Eject a target for `seconds`. */
  async eject(id: string, target: string, seconds: number, s: HealthSettings, reason: string): Promise<void> {
    const sec = Math.max(1, Math.ceil(seconds));
    const until = this.o.now() + sec * 1000;
    await this.run(async (st) => {
      await st.set(this.key(id, 'eject'), String(until), sec);
      await st.set(this.key(id, 'probation'), reason, sec + Math.max(s.fail_timeout, s.fail_window));
      await st.del(this.key(id, 'probe'), this.key(id, 'fails'));
    });
    metrics.targetHealthy.set({ target }, 0);
    logOncePer(`llm-model-router:eject:${id}`, 5_000, () =>
      this.o.log.warn({ target, seconds: sec, reason }, 'target ejected'),
    );
  }

  /** Record the outcome of one upstream call (log phase). */
  async record(id: string, target: string, out: Outcome, s: HealthSettings): Promise<void> {
    if (out.failure) {
      if (out.status === 429 && out.retryAfterSec !== undefined && out.retryAfterSec > 0) {
        await this.eject(id, target, Math.min(out.retryAfterSec, s.max_retry_after), s, 'retry-after');
        return;
      }
      const [eject, probation] = await this.run((st) =>
        st.mget([this.key(id, 'eject'), this.key(id, 'probation')]),
      );
      const ejectedNow = eject !== undefined && Number(eject) > this.o.now();
      if (ejectedNow) return; // a late answer of a request sent before the ejection
      if (probation !== undefined) {
        await this.eject(id, target, s.fail_timeout, s, 'probe-failed');
        return;
      }
      if (s.max_fails <= 0) return;
      const n = await this.run((st) => st.incrBy(this.key(id, 'fails'), 1, s.fail_window));
      if (n >= s.max_fails) await this.eject(id, target, s.fail_timeout, s, `${n}-failures`);
      return;
    }
    if (!out.ok) return;
    await this.run(async (st) => {
      const keys = [this.key(id, 'probation')];
      const latKey =
        out.latencyMs !== undefined && out.latencyKind ? this.key(id, 'lat', out.latencyKind) : undefined;
      if (latKey) keys.push(latKey);
      const [probation, prevLat] = await st.mget(keys);
      if (probation !== undefined) {
        await st.del(this.key(id, 'probation'), this.key(id, 'probe'), this.key(id, 'fails'));
        metrics.targetHealthy.set({ target }, 1);
        this.o.log.info({ target }, 'target readmitted');
      }
      if (latKey && out.latencyMs !== undefined) {
        const prev = prevLat === undefined ? undefined : Number(prevLat);
        const next = ewma(prev, out.latencyMs, s.ewma_alpha);
        await st.set(latKey, next.toFixed(2), s.latency_ttl);
      }
    });
    if (out.tokens && out.tokens > 0) {
      const tokens = Math.round(out.tokens);
      await this.run((st) =>
        st.incrBy(this.key(id, 'use', this.bucket(s.usage_window)), tokens, s.usage_window * 2),
      );
    }
  }
}
