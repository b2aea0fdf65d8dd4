/**
 * Prometheus metrics of the plugin-server process (one registry for every plugin it serves).
 * The endpoint starts only when `LLM_METRICS_ADDR` (e.g. `0.0.0.0:9542`) is set, on first use.
 * Label values come from configuration (route, policy, target names) or bounded sets (token type,
 * cache status); never raw user input. Model labels pass through `modelLabel`.
 */
import http from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { errInfo, rootLogger } from './log';

export const registry = new Registry();

const mk = {
  counter: (name: string, help: string, labelNames: string[]) =>
    new Counter({ name, help, labelNames, registers: [registry] }),
  gauge: (name: string, help: string, labelNames: string[]) =>
    new Gauge({ name, help, labelNames, registers: [registry] }),
};

/** Requests seen by the AI plugins, by route, served model and cache status. */
export const requestsTotal = mk.counter('ai_llm_requests_total', 'LLM requests accounted', [
  'route',
  'model',
  'cache_status',
  'stream',
]);
/** Tokens by type (prompt, completion, cached, reasoning). */
export const tokensTotal = mk.counter('ai_llm_tokens_total', 'LLM tokens', ['route', 'model', 'token_type']);
/** Cost in USD. */
export const costTotal = mk.counter('ai_llm_cost_usd_total', 'LLM cost in USD', ['route', 'model']);
/** Cost avoided by cache hits, in USD. */
export const savingsTotal = mk.counter(
  'ai_llm_cache_savings_usd_total',
  'Cost avoided by cache hits in USD',
  ['route', 'model'],
);
/** Budget rejections by policy. */
export const budgetRejections = mk.counter(
  'ai_llm_budget_rejections_total',
  'Requests rejected by a budget',
  ['policy'],
);
/** Remaining budget after the latest settle, per policy and window (partitions are aggregated away). */
export const budgetRemaining = mk.gauge(
  'ai_llm_budget_remaining',
  'Remaining budget of the latest settled window',
  ['policy', 'window'],
);
/** Cache lookups by result. */
export const cacheLookups = mk.counter('ai_llm_cache_lookups_total', 'Semantic cache lookups', [
  'route',
  'status',
]);
/** PII detections by category (counts only). */
export const piiDetections = mk.counter('ai_llm_pii_detections_total', 'PII detections', [
  'route',
  'category',
  'action',
]);
/** Prompt-guard verdicts. */
export const guardVerdicts = mk.counter('ai_llm_guard_verdicts_total', 'Prompt guard verdicts', [
  'route',
  'action',
  'family',
]);
/** Target health (1 healthy, 0 ejected). */
export const targetHealthy = mk.gauge('ai_llm_target_healthy', 'Router target health', ['target']);
/** Provider latency and time to first token, in milliseconds. */
export const providerLatency = new Histogram({
  name: 'ai_llm_provider_latency_ms',
  help: 'Upstream LLM latency in ms (kind=total|ttft)',
  labelNames: ['target', 'model', 'kind'],
  buckets: [25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000],
  registers: [registry],
});
/** Fail-open events by plugin and reason. */
export const failOpen = mk.counter(
  'ai_llm_fail_open_total',
  'Requests served without a plugin effect after a failure',
  ['plugin', 'reason'],
);

/** Requests refused because the plugin's config is invalid (CONFIG_INVALID). */
export const configInvalid = mk.counter(
  'ai_llm_config_invalid_total',
  'Requests refused because the plugin configuration is invalid',
  ['plugin'],
);

const known = new Set<string>();

/** Models become label values only once configured or seen in a provider answer; others are "other". */
export function registerModelLabel(model: string): void {
  if (known.size < 500) known.add(model);
}

/** The label value for a model name. */
export function modelLabel(model: string | undefined): string {
  if (!model) return 'unknown';
  return known.has(model) ? model : 'other';
}

let server: http.Server | undefined;

/** Start the metrics endpoint if `LLM_METRICS_ADDR` is set (idempotent). */
export function ensureMetricsEndpoint(): void {
  const addr = process.env.LLM_METRICS_ADDR;
  if (server || !addr) return;
  const i = addr.lastIndexOf(':');
  const host = i > 0 ? addr.slice(0, i) : '0.0.0.0';
  const port = Number(i >= 0 ? addr.slice(i + 1) : addr);
  server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry
      .metrics()
      .then((body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body))
      .catch(() => res.writeHead(500).end());
  });
  server.on('error', (err) => rootLogger().error({ err: errInfo(err) }, 'metrics endpoint failed'));
  server.listen(port, host);
  server.unref();
}
