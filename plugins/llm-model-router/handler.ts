/**
 * llm-model-router: choose a target in access and point Kong's proxy at it (scheme, host, port, path,
 * Host header, provider auth, rewritten body); Kong then proxies natively, streaming included. The log
 * phase records status, latency and usage of the target that served (read back from `llm.route`).
 *
 * Retry gap: an external plugin cannot re-send a request to another target once the upstream answered
 * (no balancer phase, no body_filter re-dispatch). A 429/5xx reaches the client and the target is
 * marked unhealthy for the following requests. Kong's own retries (service `retries`) only repeat
 * connection errors and timeouts against the same host:port the router chose.
 */
import type { KongPdk } from '../../lib/kong/pdk';
import type { KongFacade } from '../../lib/kong/facade';
import { guard, type GuardOptions } from '../../lib/kong/guard';
import { readLlmRequest, type LlmRequest } from '../../lib/kong/request';
import type { RouteDecision, TapResult } from '../../lib/kong/shared-ctx';
import { pluginLogger, type Logger } from '../../lib/log';
import { storeFor } from '../../lib/store/pool';
import type { MemoryStore } from '../../lib/store/memory';
import type { Store } from '../../lib/store/types';
import { countChatPrompt, countCompletionPrompt, countEmbeddingsInput } from '../../lib/tokens';
import * as metrics from '../../lib/metrics';
import { checkConfig, type ModelRouterConfig } from './schema';
import { Router, type CompiledTarget, type RequestFacts } from './router';
import { RouterState, type Outcome } from './state';

export const NAME = 'llm-model-router';

export interface Deps {
  store?: Store;
  /** In-process fallback store (tests share a fake clock with it). */
  local?: MemoryStore;
  now?: () => number;
  log?: Logger;
  env?: NodeJS.ProcessEnv;
}

/** What access hands to log inside `llm.route`, beyond the shared fields. */
export interface CarriedRoute extends RouteDecision {
  target_id: string;
  stream: boolean;
}

const OP_PATH: Record<LlmRequest['operation'], string> = {
  chat: '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
  responses: '/responses',
};

function firstValue(v: unknown): string | undefined {
  if (Array.isArray(v)) return v.length ? String(v[0]) : undefined;
  return v === undefined || v === null ? undefined : String(v);
}

/** Seconds from a Retry-After header (delta seconds or an HTTP date). */
export function retryAfterSeconds(v: string | undefined, nowMs: number): number | undefined {
  if (!v) return undefined;
  const t = v.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const d = Date.parse(t);
  return Number.isFinite(d) ? Math.max(0, (d - nowMs) / 1000) : undefined;
}

function promptTokens(llm: LlmRequest, model: string | undefined): number | undefined {
  switch (llm.operation) {
    case 'chat':
      return countChatPrompt(llm.body, model ? { model } : {}).tokens;
    case 'completions':
      return countCompletionPrompt(llm.body, model ? { model } : {}).tokens;
    case 'embeddings':
      return countEmbeddingsInput(llm.body, model ? { model } : {}).tokens;
    default:
      return undefined;
  }
}

export class ModelRouter {
  private readonly logger: Logger;
  private readonly problems: string[];
  private readonly now: () => number;
  private readonly guardOpts: GuardOptions;
  readonly router: Router;
  readonly state: RouterState;
  private readonly strip: string[];

  constructor(
    private readonly config: ModelRouterConfig,
    deps: Deps = {},
  ) {
    this.logger = deps.log ?? pluginLogger(NAME);
    this.now = deps.now ?? Date.now;
    this.problems = checkConfig(config);
    this.router = new Router(config, deps.env ?? process.env);
    this.problems.push(...this.router.problems);
    const store = deps.store ?? storeFor(config.strategy, config.redis);
    this.state = new RouterState({
      store,
      prefix: config.redis?.key_prefix ?? 'llm',
      now: this.now,
      log: this.logger,
      ...(deps.local ? { local: deps.local } : {}),
    });
    this.strip = [
      ...new Set([
        'authorization',
        'apikey',
        ...(config.strip_client_headers ?? []).map((h) => h.toLowerCase()),
      ]),
    ];
    this.guardOpts = {
      plugin: NAME,
      log: this.logger,
      failClosed: !config.fault_tolerant,
      failureCode: 'ROUTER_FAILURE',
      failureStatus: 503,
      problems: this.problems,
    };
    for (const t of this.router.targets) metrics.registerModelLabel(t.model);
    metrics.ensureMetricsEndpoint();
  }

  async access(kong: KongPdk): Promise<void> {
    await guard(kong, 'access', this.guardOpts, (k) => this.onAccess(k));
  }

  async log(kong: KongPdk): Promise<void> {
    await guard(kong, 'log', this.guardOpts, (k) => this.onLog(k));
  }

  /** Gather the facts a decision needs (only the RPCs the config requires). */
  private async facts(
    k: KongFacade,
    headers: Record<string, string[]>,
    llm: LlmRequest,
  ): Promise<RequestFacts> {
    const n = this.router.needs;
    const c = this.config;
    const model = typeof llm.body.model === 'string' ? llm.body.model : undefined;
    const [consumer, groups, route, accounting] = await Promise.all([
      n.consumer ? k.consumer() : undefined,
      n.groups ? k.consumerGroups() : undefined,
      n.route ? k.route() : undefined,
      c.budget_downgrade.enabled ? k.getShared('llm.accounting') : undefined,
    ]);
    const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
    const budgetLow = (accounting?.budget_before ?? []).some(
      (b) => b.limit > 0 && b.remaining / b.limit < c.budget_downgrade.threshold,
    );
    const body = llm.body as Record<string, unknown>;
    const maxOut = [body['max_completion_tokens'], body['max_tokens'], body['max_output_tokens']].find(
      (v) => typeof v === 'number',
    ) as number | undefined;
    return {
      model,
      stream: body['stream'] === true,
      promptTokens: n.tokens ? promptTokens(llm, model) : undefined,
      maxOutput: maxOut,
      headers,
      consumer: consumer
        ? { id: str(consumer.id), username: str(consumer.username), custom_id: str(consumer.custom_id) }
        : undefined,
      groups: groups?.map((g) => ({ id: str(g.id), name: str(g.name) })),
      route: route ? { id: str(route.id), name: str(route.name) } : undefined,
      ip: () => k.clientIp(),
      budgetLow,
    };
  }

  private async onAccess(k: KongFacade): Promise<void> {
    const c = this.config;
    const started = this.now();
    const req = await readLlmRequest(k, {
      maxBytes: c.max_request_body_size,
      maxDepth: 64,
      maxMessages: 10_000,
    });
    // Not an LLM API call (e.g. GET /v1/models): the route's service handles it unchanged.
    if (!req.llm) return;
    const llm = req.llm;
    const f = await this.facts(k, req.headers, llm);
    const d = await this.router.decide(f, this.state, this.now());
    const t = d.target;
    await this.rewrite(k, t, llm, f.stream);
    const decision: CarriedRoute = {
      target: t.name,
      model: t.model,
      ...(f.model !== undefined ? { requested_model: f.model } : {}),
      provider: t.provider,
      reason: d.reason,
      input_cost: t.inputCost,
      output_cost: t.outputCost,
      cached_input_cost: t.cachedInputCost,
      upstream: t.url,
      started_ms: started,
      target_id: t.id,
      stream: f.stream,
    };
    await k.setShared('llm.route', decision);
    if (c.response_headers) await k.setResponseHeaders({ 'X-LLM-Model': t.model, 'X-LLM-Target': t.name });
  }

  /** Point the proxy at the target and rewrite the request for it. */
  private async rewrite(k: KongFacade, t: CompiledTarget, llm: LlmRequest, stream: boolean): Promise<void> {
    const up = t.upstream;
    const defaultPort =
      (up.scheme === 'https' && up.port === 443) || (up.scheme === 'http' && up.port === 80);
    const body: Record<string, unknown> = { ...(llm.body as Record<string, unknown>), model: t.model };
    if (
      stream &&
      this.config.stream_include_usage &&
      (llm.operation === 'chat' || llm.operation === 'completions')
    ) {
      const so = body['stream_options'];
      body['stream_options'] = {
        ...(so && typeof so === 'object' ? (so as Record<string, unknown>) : {}),
        include_usage: true,
      };
    }
    await k.setUpstreamScheme(up.scheme);
    await k.setTarget(up.host, up.port);
    await k.setUpstreamPath(up.basePath + OP_PATH[llm.operation]);
    if (up.query) await k.setUpstreamQuery(up.query);
    await k.setUpstreamHeader('Host', defaultPort ? up.host : `${up.host}:${up.port}`);
    for (const h of this.strip) await k.clearUpstreamHeader(h);
    if (t.auth) await k.setUpstreamHeader(t.auth.name, t.auth.value);
    await k.setUpstreamBody(JSON.stringify(body));
    if (t.timeouts) await k.setTimeouts(...t.timeouts);
  }

  private async onLog(k: KongFacade): Promise<void> {
    const [route, tap, ser] = await Promise.all([
      k.getShared('llm.route'),
      k.getShared('llm.tap'),
      k.serialize(),
    ]);
    const r = route as CarriedRoute | undefined;
    if (!r || !r.target_id) return;
    // Another plugin answered (exit) after the decision: the target was not called.
    if (ser['source'] === 'exit') return;
    const status = Number(ser.response?.status ?? 0);
    const b = this.config.balancer;
    const headers = (ser.response?.headers ?? {}) as Record<string, unknown>;
    const lat = ser.latencies ?? {};
    const proxy = typeof lat.proxy === 'number' && lat.proxy >= 0 ? lat.proxy : undefined;
    let latencyMs: number | undefined;
    let kind: 'ttft' | 'e2e';
    if (r.stream) {
      kind = 'ttft';
      latencyMs = typeof tap?.ttft_ms === 'number' ? tap.ttft_ms : proxy;
    } else {
      kind = 'e2e';
      latencyMs =
        proxy !== undefined
          ? proxy + (typeof lat.receive === 'number' && lat.receive > 0 ? lat.receive : 0)
          : undefined;
    }
    const out: Outcome = {
      ok: status > 0 && status < 400,
      failure: status === 0 || b.failure_statuses.includes(status),
      status,
      ...(latencyMs !== undefined ? { latencyMs, latencyKind: kind } : {}),
      tokens: tokensOf(tap, b.tokens_count_strategy),
    };
    const ra = retryAfterSeconds(firstValue(headers['retry-after']), this.now());
    if (ra !== undefined) out.retryAfterSec = ra;
    if (out.ok && latencyMs !== undefined)
      metrics.providerLatency.observe(
        { target: r.target, model: metrics.modelLabel(r.model), kind },
        latencyMs,
      );
    const t = this.router.byName.get(r.target);
    // A config change between access and log: the old target's state keys are still valid.
    await this.state.record(t?.id ?? r.target_id, r.target, out, this.router.health);
  }
}

function tokensOf(
  tap: TapResult | undefined,
  strategy: ModelRouterConfig['balancer']['tokens_count_strategy'],
): number {
  const u = tap?.usage;
  if (!u) return 0;
  if (strategy === 'prompt-tokens') return u.prompt_tokens;
  if (strategy === 'completion-tokens') return u.completion_tokens;
  return u.total_tokens || u.prompt_tokens + u.completion_tokens;
}
