/**
 * llm-token-accounting: reserve the worst case in access, settle to actual usage in log.
 *
 * Overshoot bound: a request reserves prompt + max output (max_tokens, else the model's maximum, else
 * `default_max_output_tokens`) before it is proxied, so concurrent requests can never together pass
 * a limit on reserved amounts. Actual usage can exceed its reservation only when the provider
 * reports more prompt tokens than the local count (tokenizer approximations for non-OpenAI models,
 * typically < 2%) or a reservation expired before its request settled (a request longer than
 * `reservation_ttl`). The committed total of a window is therefore ≤ limit + Σ(those differences).
 */
import { randomUUID } from 'node:crypto';
import type { KongPdk } from '../../lib/kong/pdk';
import type { KongFacade } from '../../lib/kong/facade';
import { guard, type GuardOptions } from '../../lib/kong/guard';
import { readLlmRequest, type LlmRequest } from '../../lib/kong/request';
import type { AccountingState, CacheState, SharedUsage, TapResult } from '../../lib/kong/shared-ctx';
import { PluginError } from '../../lib/errors';
import { errInfo, logOncePer, pluginLogger, type Logger } from '../../lib/log';
import { storeFor } from '../../lib/store/pool';
import { MemoryStore } from '../../lib/store/memory';
import type { BudgetWindow, Store } from '../../lib/store/types';
import { makeKey } from '../../lib/store/keys';
import { extractUsage, type Usage } from '../../lib/openai';
import {
  countChatPrompt,
  countCompletionPrompt,
  countEmbeddingsInput,
  countText,
  estimateMaxOutput,
} from '../../lib/tokens';
import * as metrics from '../../lib/metrics';
import { checkConfig, type TokenAccountingConfig } from './schema';
import {
  activeLimits,
  amountFor,
  neededFacts,
  payerOf,
  type ActiveLimit,
  type Amounts,
  type RequestFacts,
} from './policies';
import { PriceBook } from './prices';

export const NAME = 'llm-token-accounting';

export interface Deps {
  store?: Store;
  now?: () => number;
  log?: Logger;
}

/** What access hands to log (inside `llm.accounting`), beyond the shared fields. */
interface Carried extends AccountingState {
  windows: (BudgetWindow & { strategy: string; policy: string; name: string })[];
  local: boolean;
  buffered: boolean;
  approximate: boolean;
  route_name?: string;
  cost_reserved_micros: number;
}

/** One ledger record (never prompt text). */
export interface LedgerRecord {
  request_id: string;
  time: string;
  payer: string;
  route: string;
  operation: string;
  model_requested: string;
  model_served: string;
  target: string;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  savings_usd: number;
  cache_status: string;
  status: number;
  latency_ms: number;
  stream: boolean;
  aborted: boolean;
  usage_source: 'provider' | 'estimate' | 'cache' | 'none';
}

export class TokenAccounting {
  private readonly logger: Logger;
  private readonly problems: string[];
  private readonly store: Store;
  /** Used while the shared store is down and `fault_tolerant` is on. */
  private readonly local = new MemoryStore();
  private readonly now: () => number;
  private readonly prices: PriceBook;
  private readonly guardOpts: GuardOptions;
  private readonly needs: Set<string>;

  constructor(
    private readonly config: TokenAccountingConfig,
    deps: Deps = {},
  ) {
    this.logger = deps.log ?? pluginLogger(NAME);
    this.problems = checkConfig(config);
    this.now = deps.now ?? Date.now;
    this.store = deps.store ?? storeFor(config.strategy, config.redis);
    this.prices = new PriceBook(config);
    this.needs = neededFacts(config);
    this.guardOpts = {
      plugin: NAME,
      log: this.logger,
      // Accounting is not a security control: by default a broken accounting must not stop traffic.
      failClosed: !config.fault_tolerant,
      failureCode: 'BUDGET_UNAVAILABLE',
      failureStatus: 503,
      problems: this.problems,
    };
    metrics.ensureMetricsEndpoint();
  }

  async access(kong: KongPdk): Promise<void> {
    await guard(kong, 'access', this.guardOpts, (k) => this.onAccess(k));
  }

  async log(kong: KongPdk): Promise<void> {
    await guard(kong, 'log', this.guardOpts, (k) => this.onLog(k));
  }

  private async facts(
    k: KongFacade,
    headers: Record<string, string[]>,
    path: string,
    model: string | undefined,
  ): Promise<RequestFacts> {
    const n = this.needs;
    const [consumer, groups, credential, route, service, ip] = await Promise.all([
      n.has('consumer') || n.has('consumer_group') ? k.consumer() : undefined,
      n.has('consumer_group') ? k.consumerGroups() : undefined,
      n.has('credential') ? k.credential() : undefined,
      n.has('route') ? k.route() : undefined,
      n.has('service') ? k.service() : undefined,
      n.has('ip') ? k.clientIp() : undefined,
    ]);
    const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
    return {
      headers,
      path,
      model,
      ip,
      credential: str(credential?.id),
      consumer: consumer
        ? { id: str(consumer.id), username: str(consumer.username), custom_id: str(consumer.custom_id) }
        : undefined,
      groups: groups?.map((g) => ({ id: str(g.id), name: str(g.name) })),
      route: route ? { id: str(route.id), name: str(route.name) } : undefined,
      service: service ? { id: str(service.id), name: str(service.name) } : undefined,
    };
  }

  private async onAccess(k: KongFacade): Promise<void> {
    const c = this.config;
    const req = await readLlmRequest(k, {
      maxBytes: c.max_request_body_size,
      maxDepth: 64,
      maxMessages: 10_000,
    });
    if (!req.llm || !c.count_operations.includes(req.llm.operation)) {
      if (!req.llm && !c.pass_through_other)
        throw new PluginError('BODY_SHAPE', 'this route only accepts LLM API requests', 400, true);
      // nothing to count: still leave the marker llm-sentinel checks when fault_tolerant is off
      if (!c.fault_tolerant)
        await k.setShared('llm.accounting', {
          prompt_tokens: 0,
          reserved: 0,
          stream: false,
          started_ms: this.now(),
        });
      return;
    }
    const llm = req.llm;
    const model = typeof llm.body.model === 'string' ? llm.body.model : 'unknown';
    const price = this.prices.forModel(model);
    if (!price.prices && c.unknown_model === 'reject') {
      throw new PluginError('MODEL_UNKNOWN', 'the requested model has no price configured', 400, true);
    }
    if (price.prices && (price.prices.source === 'zero' || price.prices.source === 'default')) {
      // Model names are configuration-bounded here only after a lookup; log the fallback, rate-limited.
      logOncePer(`${NAME}:price:${price.prices.source}`, 300_000, () =>
        this.logger.warn(
          { fallback: price.prices?.source },
          'a requested model has no known price; using the unknown_model fallback',
        ),
      );
    }
    const counted = countPrompt(llm, model);
    const maxOut =
      llm.operation === 'embeddings'
        ? 0
        : estimateMaxOutput(llm.body, { max_output: price.prices?.max_output }, c.default_max_output_tokens);
    const reserve: Amounts = {
      prompt: counted.tokens,
      completion: maxOut,
      costMicros: this.prices.costMicros(price, { prompt_tokens: counted.tokens, completion_tokens: maxOut }),
    };
    const facts = await this.facts(k, req.headers, req.path, model);
    const payer = payerOf(c, facts);
    const nowMs = this.now();
    const limits = activeLimits(c, facts, payer, nowMs);
    const rid = randomUUID();
    const amounts = limits.map((l) => amountFor(l.limit.tokens_count_strategy, reserve));

    let local = false;
    let result;
    try {
      result = await this.store.reserve(
        limits.map((l) => l.window),
        amounts,
        rid,
        c.reservation_ttl,
      );
    } catch (err) {
      // A reserve that timed out on a slow or paused Redis still runs there later and would hold its
      // amount until reservation_ttl: queue a release behind it on the same connection (best effort).
      this.store
        .release(
          limits.map((l) => l.window),
          rid,
        )
        .catch(() => undefined);
      if (!c.fault_tolerant)
        throw new PluginError('BUDGET_UNAVAILABLE', 'budget store unavailable', 503, true, { cause: err });
      this.degraded(err);
      local = true;
      result = await this.local.reserve(
        limits.map((l) => l.window),
        amounts,
        rid,
        c.reservation_ttl,
      );
    }

    const headers = c.hide_client_headers ? {} : rateLimitHeaders(limits, result.used, nowMs);
    if (!result.ok) {
      const failed = limits[result.failedIndex ?? 0]!;
      metrics.budgetRejections.inc({ policy: failed.policy });
      const tooBig = (amounts[result.failedIndex ?? 0] ?? 0) > failed.units;
      const retryAfter = Math.max(1, Math.ceil((failed.span.endMs - nowMs) / 1000));
      throw new PluginError('BUDGET_EXCEEDED', c.error_message, c.error_code, true, {
        headers: tooBig ? headers : { ...headers, 'Retry-After': String(retryAfter) },
        details: {
          policy: failed.policy,
          window: failed.span.name,
          ...(tooBig ? { reason: 'request_exceeds_limit' } : {}),
        },
      });
    }

    const stream = llm.body.stream === true;
    const buffered = !stream && c.buffer_non_stream;
    const state: Carried = {
      reservation_id: rid,
      payer,
      prompt_tokens: counted.tokens,
      reserved: reserve.prompt + reserve.completion,
      model,
      stream,
      operation: llm.operation,
      started_ms: nowMs,
      budget_before: limits.map((l, i) => ({
        limit: l.units,
        remaining: Math.max(0, l.units - (result.used[i] ?? 0)),
        window: l.span.name,
      })),
      windows: limits.map((l) => ({
        ...l.window,
        strategy: l.limit.tokens_count_strategy,
        policy: l.policy,
        name: l.span.name,
      })),
      local,
      buffered,
      approximate: counted.approximate,
      route_name: facts.route?.name,
      cost_reserved_micros: reserve.costMicros,
    };
    await k.setShared('llm.accounting', state);
    await k.setResponseHeaders(headers);
    if (buffered) await k.enableBuffering();
  }

  private degraded(err: unknown): void {
    metrics.failOpen.inc({ plugin: NAME, reason: 'store' });
    logOncePer(`${NAME}:store-down`, 30_000, () =>
      this.logger.warn({ err: errInfo(err) }, 'budget store unavailable: counting locally on this node'),
    );
  }

  private async onLog(k: KongFacade): Promise<void> {
    const state = (await k.getShared('llm.accounting')) as Carried | undefined;
    if (!state || !state.reservation_id) return;
    const [tap, route, cache, ser] = await Promise.all([
      k.getShared('llm.tap'),
      k.getShared('llm.route'),
      k.getShared('llm.cache'),
      k.serialize(),
    ]);
    const status = Number(ser.response?.status ?? 0);
    const servedModel = route?.model ?? tap?.model ?? state.model ?? 'unknown';
    const usage = await this.actualUsage(k, state, tap, cache, status);
    const price = this.prices.forModel(servedModel, route);
    const costMicros = usage.source === 'cache' ? 0 : this.prices.costMicros(price, usage.usage);
    const costUsd = usage.source === 'cache' ? 0 : this.prices.costUsd(price, usage.usage);
    const savingsUsd =
      cache?.status === 'Hit' && cache.saved_usage
        ? this.prices.costUsd(
            this.prices.forModel(cache.saved_model ?? servedModel, route),
            cache.saved_usage,
          )
        : 0;

    const actual: Amounts = {
      prompt: usage.usage.prompt_tokens,
      completion: usage.usage.completion_tokens,
      costMicros,
    };
    const windows = state.windows.map(({ key, limit, ttlSec, prev }) => ({
      key,
      limit,
      ttlSec,
      ...(prev ? { prev } : {}),
    }));
    const amounts = state.windows.map((w) => amountFor(w.strategy as never, actual));
    let after: number[] = [];
    if (state.local) after = await this.local.settle(windows, amounts, state.reservation_id);
    else {
      try {
        after = await this.store.settle(windows, amounts, state.reservation_id);
      } catch (err) {
        // The reservation expires by itself; book locally so this node still sees the usage.
        this.degraded(err);
        after = await this.local.settle(windows, amounts, state.reservation_id);
      }
    }
    state.windows.forEach((w, i) =>
      metrics.budgetRemaining.set(
        { policy: w.policy, window: w.name },
        Math.max(0, w.limit - (after[i] ?? 0)),
      ),
    );

    const routeName = state.route_name ?? (typeof ser.route?.name === 'string' ? ser.route.name : 'unknown');
    const record: LedgerRecord = {
      request_id: typeof ser.request?.id === 'string' ? ser.request.id : state.reservation_id,
      time: new Date(state.started_ms).toISOString(),
      payer: state.payer ?? 'anonymous',
      route: routeName,
      operation: state.operation ?? 'chat',
      model_requested: state.model ?? 'unknown',
      model_served: servedModel,
      target: route?.target ?? '',
      prompt_tokens: usage.usage.prompt_tokens,
      completion_tokens: usage.usage.completion_tokens,
      cached_tokens: usage.usage.cached_tokens ?? 0,
      reasoning_tokens: usage.usage.reasoning_tokens ?? 0,
      cost_usd: costUsd,
      savings_usd: savingsUsd,
      cache_status: cache?.status ?? 'None',
      status,
      latency_ms: Number(ser.latencies?.request ?? 0),
      stream: state.stream,
      aborted: tap?.aborted === true,
      usage_source: usage.source,
    };
    this.record(record);
    await this.writeLedger(record);
  }

  private async actualUsage(
    k: KongFacade,
    state: Carried,
    tap: TapResult | undefined,
    cache: CacheState | undefined,
    status: number,
  ): Promise<{ usage: SharedUsage; source: LedgerRecord['usage_source'] }> {
    const zero: SharedUsage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    if (cache?.status === 'Hit') return { usage: zero, source: 'cache' };
    if (tap?.usage) return { usage: tap.usage, source: 'provider' };
    const failed = status >= 400 || status === 0;
    // After an upstream timeout or connection error Kong answers 502/504 itself and there is no
    // buffered body: reading it would raise in the log timer (kong-runtime.md §9 item 8).
    if (state.buffered && !failed) {
      const u = await this.bufferedUsage(k);
      if (u) return { usage: u, source: 'provider' };
    }
    // Providers do not bill rejected calls; a failed call without usage costs nothing.
    if (failed) {
      if (!tap || tap.text_bytes === 0) return { usage: zero, source: 'none' };
    }
    // No usage reported (stream without include_usage, client abort): estimate from what passed.
    const completion = tap?.text ? countText(tap.text, state.model) : Math.ceil((tap?.text_bytes ?? 0) / 4);
    const prompt = state.prompt_tokens;
    return {
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
      source: 'estimate',
    };
  }

  private async bufferedUsage(k: KongFacade): Promise<SharedUsage | undefined> {
    const body = await k.upstreamRawBody();
    if (!body || body.byteLength === 0 || body.byteLength > 64 * 1024 * 1024) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return undefined; // gzip or not JSON: fall back to the estimate
    }
    const u: Usage | undefined = extractUsage(parsed);
    return u
      ? {
          prompt_tokens: u.prompt_tokens,
          completion_tokens: u.completion_tokens,
          total_tokens: u.total_tokens,
          cached_tokens: u.cached_tokens,
          reasoning_tokens: u.reasoning_tokens,
        }
      : undefined;
  }

  private record(r: LedgerRecord): void {
    const model = metrics.modelLabel(r.model_served);
    const labels = { route: r.route, model };
    metrics.requestsTotal.inc({ ...labels, cache_status: r.cache_status, stream: String(r.stream) });
    metrics.tokensTotal.inc({ ...labels, token_type: 'prompt_tokens' }, r.prompt_tokens);
    metrics.tokensTotal.inc({ ...labels, token_type: 'completion_tokens' }, r.completion_tokens);
    metrics.tokensTotal.inc({ ...labels, token_type: 'cached_tokens' }, r.cached_tokens);
    metrics.tokensTotal.inc({ ...labels, token_type: 'reasoning_tokens' }, r.reasoning_tokens);
    metrics.costTotal.inc(labels, r.cost_usd);
    if (r.savings_usd > 0) metrics.savingsTotal.inc(labels, r.savings_usd);
    if (this.config.ledger.log) this.logger.info({ ledger: r }, 'usage');
  }

  private async writeLedger(r: LedgerRecord): Promise<void> {
    if (!this.config.ledger.enabled) return;
    const fields: Record<string, string> = {};
    for (const [key, v] of Object.entries(r)) fields[key] = String(v);
    try {
      // Keyed by request id: a write retried across a Redis failover appends one row, not two.
      await this.store.streamAdd(
        ledgerStream(this.config.redis.key_prefix),
        fields,
        this.config.ledger.max_len,
        r.request_id,
      );
    } catch (err) {
      this.degraded(err);
    }
  }
}

/** The ledger stream key (read by scripts/usage-report). */
export function ledgerStream(prefix: string): string {
  return makeKey(prefix, 'ledger');
}

function countPrompt(llm: LlmRequest, model: string): { tokens: number; approximate: boolean } {
  switch (llm.operation) {
    case 'chat':
      return countChatPrompt(llm.body, { model });
    case 'completions':
      return countCompletionPrompt(llm.body, { model });
    case 'embeddings':
      return countEmbeddingsInput(llm.body, { model });
    case 'responses': {
      const input = llm.body.input;
      const text = typeof input === 'string' ? input : JSON.stringify(input ?? '');
      return { tokens: countText(text, model), approximate: true };
    }
  }
}

/** X-AI-RateLimit-* headers (Kong EE naming): one set per limit, named `<window>-<policy>`. */
export function rateLimitHeaders(
  limits: ActiveLimit[],
  used: number[],
  nowMs: number,
): Record<string, string> {
  const h: Record<string, string> = {};
  limits.forEach((l, i) => {
    const suffix = `${l.span.name}-${l.policy}`;
    const unit = l.limit.tokens_count_strategy === 'cost' ? 1e6 : 1;
    const remaining = Math.max(0, l.units - (used[i] ?? 0)) / unit;
    h[`X-AI-RateLimit-Limit-${suffix}`] = String(l.limit.limit);
    h[`X-AI-RateLimit-Remaining-${suffix}`] = String(remaining);
    h[`X-AI-RateLimit-Reset-${suffix}`] = String(Math.max(0, Math.ceil((l.span.endMs - nowMs) / 1000)));
  });
  return h;
}
