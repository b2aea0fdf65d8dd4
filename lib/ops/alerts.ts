/**
 * Alerts from the plugin-server process to a webhook (Slack/Teams/Alertmanager-style receivers, or any
 * HTTP endpoint): budget thresholds (default 80% and 100% of a window, once per window and threshold
 * across every node — the dedupe mark lives in the same store as the budget) and token-velocity
 * anomalies (this process's token rate per minute above an absolute limit, or above `factor` × its
 * own moving baseline). Cluster-wide equivalents ship as Prometheus rules in deploy/prometheus.
 *
 * Environment: LLM_ALERT_WEBHOOK_URL (enables), LLM_ALERT_WEBHOOK_AUTH (Authorization header value),
 * LLM_ALERT_INTERVAL_MS (30000), LLM_ALERT_BUDGET_THRESHOLDS ("0.8,1"), LLM_ALERT_TOKENS_PER_MIN
 * (absolute velocity limit, off by default), LLM_ALERT_VELOCITY_FACTOR (4), LLM_ALERT_VELOCITY_MIN_PER_MIN
 * (1000; below this rate nothing is anomalous), LLM_ALERT_VELOCITY_WARMUP (5 intervals).
 * Payloads carry ids, numbers and names from configuration — never prompt text.
 */
import { errInfo, logOncePer, rootLogger } from '../log';
import { Gauge } from 'prom-client';
import { registry } from '../metrics';
import { makeKey } from '../store/keys';
import { ACCOUNTING_PLUGIN, accountingSources, inspectBudgets, listPartitions } from './budgets';
import { configsOf } from './registry';

export interface AlertSettings {
  /** undefined: evaluate and update the gauges only */
  webhookUrl?: string;
  webhookAuth?: string;
  intervalMs: number;
  thresholds: number[];
  tokensPerMin?: number;
  velocityFactor: number;
  velocityMinPerMin: number;
  warmup: number;
}

export interface AlertEvent {
  source: 'kong-llm-plugins';
  type: 'budget_threshold' | 'token_velocity';
  severity: 'warning' | 'critical';
  summary: string;
  /** Slack-compatible text */
  text: string;
  labels: Record<string, string>;
  value: number;
  threshold: number;
  time: string;
}

/** Highest used share (0..1+) of any payer's current window, per policy and window (bounded labels). */
export const budgetUsedRatioMax = new Gauge({
  name: 'ai_llm_budget_used_ratio_max',
  help: 'Highest share of a budget window used by any payer (policy, window); updated by the ops loop',
  labelNames: ['policy', 'window'],
  registers: [registry],
});

function numEnv(env: NodeJS.ProcessEnv, k: string, d: number): number {
  const v = env[k];
  if (v === undefined || v === '') return d;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : d;
}

/**
 * Settings from the environment, or undefined when neither a webhook nor the metrics endpoint is
 * configured (without a webhook the loop only keeps `ai_llm_budget_used_ratio_max` current).
 */
export function alertSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): AlertSettings | undefined {
  const url = env['LLM_ALERT_WEBHOOK_URL'];
  if (!url && !env['LLM_METRICS_ADDR']) return undefined;
  const thresholds = (env['LLM_ALERT_BUDGET_THRESHOLDS'] ?? '0.8,1')
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isFinite(n) && n > 0)
    .sort((a, b) => a - b);
  const tpm = env['LLM_ALERT_TOKENS_PER_MIN'];
  return {
    ...(url ? { webhookUrl: url } : {}),
    ...(env['LLM_ALERT_WEBHOOK_AUTH'] ? { webhookAuth: env['LLM_ALERT_WEBHOOK_AUTH'] } : {}),
    intervalMs: Math.max(50, numEnv(env, 'LLM_ALERT_INTERVAL_MS', 30_000)),
    thresholds,
    ...(tpm ? { tokensPerMin: numEnv(env, 'LLM_ALERT_TOKENS_PER_MIN', 0) } : {}),
    velocityFactor: numEnv(env, 'LLM_ALERT_VELOCITY_FACTOR', 4),
    velocityMinPerMin: numEnv(env, 'LLM_ALERT_VELOCITY_MIN_PER_MIN', 1000),
    warmup: numEnv(env, 'LLM_ALERT_VELOCITY_WARMUP', 5),
  };
}

/** Sum of prompt + completion tokens counted by this process. */
async function tokensSoFar(): Promise<number> {
  const m = registry.getSingleMetric('ai_llm_tokens_total');
  if (!m) return 0;
  const data = await m.get();
  let sum = 0;
  for (const v of data.values) {
    const t = v.labels['token_type'];
    if (t === 'prompt_tokens' || t === 'completion_tokens') sum += v.value;
  }
  return sum;
}

export class AlertEvaluator {
  private lastTokens: number | undefined;
  private lastMs = 0;
  private baseline: number | undefined;
  private samples = 0;
  private velocityFiring = false;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    readonly settings: AlertSettings,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.settings.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One evaluation round (the timer calls it; tests may call it directly). */
  async tick(): Promise<AlertEvent[]> {
    if (this.running) return [];
    this.running = true;
    const fired: AlertEvent[] = [];
    try {
      fired.push(...(await this.budgets()));
      const v = await this.velocity();
      if (v) fired.push(v);
      for (const e of fired) await this.send(e);
    } catch (err) {
      logOncePer('ops:alerts', 60_000, () =>
        rootLogger().warn({ err: errInfo(err) }, 'alert evaluation failed'),
      );
    } finally {
      this.running = false;
    }
    return fired;
  }

  /** Rejections per policy counted by this process (ai_llm_budget_rejections_total). */
  private lastRejections = new Map<string, number>();

  private async rejectedPolicies(): Promise<Set<string>> {
    const out = new Set<string>();
    const m = registry.getSingleMetric('ai_llm_budget_rejections_total');
    if (!m) return out;
    for (const v of (await m.get()).values) {
      const p = String(v.labels['policy'] ?? '');
      if (v.value > (this.lastRejections.get(p) ?? 0)) out.add(p);
      this.lastRejections.set(p, v.value);
    }
    return out;
  }

  private async budgets(): Promise<AlertEvent[]> {
    const configs = configsOf(ACCOUNTING_PLUGIN);
    const rejected = await this.rejectedPolicies();
    const thresholds = this.settings.thresholds;
    if (!configs.length || !thresholds.length) return [];
    const sources = accountingSources(configs);
    // below this a payer is not blamed for a policy's rejections
    const warnAt = thresholds.filter((t) => t < 1).pop() ?? 0.8;
    const out: AlertEvent[] = [];
    const maxRatio = new Map<string, { policy: string; window: string; v: number }>();
    for (const partition of await listPartitions(configs)) {
      for (const b of await inspectBudgets(configs, partition, this.now())) {
        if (!b.current || b.limit <= 0) continue;
        const g = maxRatio.get(`${b.policy}\u0000${b.window}`);
        if (!g || g.v < b.used_ratio)
          maxRatio.set(`${b.policy}\u0000${b.window}`, {
            policy: b.policy,
            window: b.window,
            v: b.used_ratio,
          });
        // Reservations keep committed usage at or below the limit, so "100%" also means: this policy
        // refused a request since the last round while this payer was past the warning threshold.
        const exhausted = b.used_ratio >= 1 || (rejected.has(b.policy) && b.used_ratio >= warnAt);
        const crossed = thresholds.filter((t) => b.used_ratio >= t || (t >= 1 && exhausted));
        const src = sources.find((s) => s.label === b.store);
        if (!crossed.length || !src) continue;
        // once per window and threshold, across nodes: the first incr wins
        const ttl = Math.max(60, b.ttl_sec > 0 ? b.ttl_sec : 86_400);
        let fire: number | undefined;
        for (const t of crossed) {
          const mark = makeKey(src.prefix, 'alert', 'budget', b.key, String(t));
          if ((await src.store.incrBy(mark, 1, ttl)) === 1) fire = t;
        }
        if (fire === undefined) continue;
        const pct = Math.round(fire * 100);
        const summary = `budget ${b.policy} (${b.window}) of ${partition} at ${Math.round(b.used_ratio * 100)}%${fire >= 1 && b.used_ratio < 1 ? ', requests refused' : ''} (threshold ${pct}%)`;
        out.push({
          source: 'kong-llm-plugins',
          type: 'budget_threshold',
          severity: fire >= 1 ? 'critical' : 'warning',
          summary,
          text: `:warning: ${summary}`,
          labels: {
            policy: b.policy,
            partition,
            window: b.window,
            window_id: b.window_id,
            strategy: b.strategy,
          },
          value: b.used_ratio,
          threshold: fire,
          time: new Date(this.now()).toISOString(),
        });
      }
    }
    budgetUsedRatioMax.reset();
    for (const g of maxRatio.values()) budgetUsedRatioMax.set({ policy: g.policy, window: g.window }, g.v);
    return out;
  }

  private async velocity(): Promise<AlertEvent | undefined> {
    const s = this.settings;
    const tokens = await tokensSoFar();
    const now = this.now();
    const prev = this.lastTokens;
    const prevMs = this.lastMs;
    this.lastTokens = tokens;
    this.lastMs = now;
    if (prev === undefined || now <= prevMs) return undefined;
    const rate = ((tokens - prev) / (now - prevMs)) * 60_000;
    const base = this.baseline;
    const warmedUp = this.samples >= s.warmup && base !== undefined;
    const limit = s.tokensPerMin && s.tokensPerMin > 0 ? s.tokensPerMin : Infinity;
    const relLimit = warmedUp ? Math.max(s.velocityMinPerMin, (base ?? 0) * s.velocityFactor) : Infinity;
    const threshold = Math.min(limit, relLimit);
    const anomalous = rate >= threshold && rate > 0;
    // the baseline learns only from normal intervals
    if (!anomalous) {
      this.baseline = base === undefined ? rate : base * 0.8 + rate * 0.2;
      this.samples++;
    }
    if (!anomalous) {
      this.velocityFiring = false;
      return undefined;
    }
    if (this.velocityFiring) return undefined;
    this.velocityFiring = true;
    const summary = `token velocity ${Math.round(rate)}/min above ${Math.round(threshold)}/min${warmedUp ? ` (baseline ${Math.round(base ?? 0)}/min)` : ''}`;
    return {
      source: 'kong-llm-plugins',
      type: 'token_velocity',
      severity: 'warning',
      summary,
      text: `:chart_with_upwards_trend: ${summary}`,
      labels: { pid: String(process.pid) },
      value: rate,
      threshold,
      time: new Date(now).toISOString(),
    };
  }

  private async send(e: AlertEvent): Promise<void> {
    if (!this.settings.webhookUrl) return;
    try {
      const res = await fetch(this.settings.webhookUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.settings.webhookAuth ? { authorization: this.settings.webhookAuth } : {}),
        },
        body: JSON.stringify(e),
        signal: AbortSignal.timeout(5000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new Error(`webhook answered ${res.status}`);
    } catch (err) {
      logOncePer('ops:webhook', 60_000, () =>
        rootLogger().warn({ err: errInfo(err), type: e.type }, 'alert webhook failed'),
      );
    }
  }
}

let evaluator: AlertEvaluator | undefined;

/** Start the alert loop once if a webhook is configured. */
export function ensureAlerts(env: NodeJS.ProcessEnv = process.env): AlertEvaluator | undefined {
  if (evaluator) return evaluator;
  const s = alertSettingsFromEnv(env);
  if (!s) return undefined;
  evaluator = new AlertEvaluator(s);
  evaluator.start();
  return evaluator;
}
