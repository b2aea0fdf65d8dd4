/**
 * llm-semantic-cache: look up in access (exact, then embedding → ANN inside the partition → verification),
 * answer hits with `exit` (JSON or a one-shot OpenAI SSE stream); on a miss store the answer in the log
 * phase from the Lua tap (`llm.tap`) or, without the tap, from the buffered body. Never caches errors,
 * truncated, aborted or tool-call answers (unless `cache_tool_calls`). Never logs prompt or answer text.
 */
import { createHash } from 'node:crypto';
import { Counter } from 'prom-client';
import type { KongPdk } from '../../lib/kong/pdk';
import type { KongFacade } from '../../lib/kong/facade';
import { guard, type GuardOptions } from '../../lib/kong/guard';
import { firstHeader, readLlmRequest } from '../../lib/kong/request';
import type { CacheState, SharedUsage, TapResult } from '../../lib/kong/shared-ctx';
import { PluginError } from '../../lib/errors';
import { errInfo, logOncePer, pluginLogger, type Logger } from '../../lib/log';
import { storeFor } from '../../lib/store/pool';
import type { Store } from '../../lib/store/types';
import {
  buildChatCompletion,
  buildSseReplay,
  extractUsage,
  type ChatRequest,
  type ToolCall,
  type Usage,
} from '../../lib/openai';
import { createEmbedder, type Embedder, type EmbedderConfig } from '../../lib/embeddings';
import { countChatPrompt, countText } from '../../lib/tokens';
import * as metrics from '../../lib/metrics';
import { FOCUS_BUDGET, verifyCandidate, type VerifyOptions } from './verify';
import { checkConfig, thresholdOf, type SemanticCacheConfig } from './schema';
import { buildKey, parseCacheControl, partitionOf, type CacheKey, type Identity } from './key';
import {
  decodeVec,
  encodeVec,
  entryStoreKey,
  expiresAt,
  parseEntry,
  sharedIndexFor,
  type CachedAnswer,
  type Entry,
  type SharedIndex,
} from './entries';

export const NAME = 'llm-semantic-cache';

export interface Deps {
  store?: Store;
  embedder?: Embedder;
  now?: () => number;
  log?: Logger;
}

/** What access hands to log inside `llm.cache`, beyond the shared fields. */
export interface CarriedCache extends CacheState {
  /** Store the answer in log. */
  fill: boolean;
  buffered: boolean;
  stream: boolean;
  partition?: string;
  ip?: string;
  text?: string;
  vec?: string;
  emb?: string;
  model?: string;
  prompt_tokens?: number;
  route?: string;
  /** Shadow mode: hash of the would-be answer and how it was found. */
  shadow_hash?: string;
  shadow_kind?: 'exact' | 'semantic';
  /** The exact key already holds an entry (an exact shadow hit): do not rewrite it. */
  exists?: boolean;
}

/** Shadow-mode agreement of would-be hits with the fresh answer (no text, bounded labels). */
export const shadowTotal = new Counter({
  name: 'ai_llm_cache_shadow_total',
  help: 'Shadow-mode would-be cache hits by whether the cached answer equals the fresh one',
  labelNames: ['route', 'kind', 'agree'],
  registers: [metrics.registry],
});

const embedders = new Map<string, Embedder>();

/** Process-wide embedder per embeddings config (instances come and go with config changes). */
export function embedderFor(c: SemanticCacheConfig['embeddings']): Embedder {
  const id = JSON.stringify(c);
  let e = embedders.get(id);
  if (!e) {
    const cfg: EmbedderConfig = {
      provider: c.model.provider,
      ...(c.model.name ? { name: c.model.name } : {}),
      options: {
        ...(c.model.options.upstream_url ? { upstream_url: c.model.options.upstream_url } : {}),
        ...(c.model.options.model_dir ? { model_dir: c.model.options.model_dir } : {}),
        ...(c.model.options.dimensions ? { dimensions: c.model.options.dimensions } : {}),
      },
      ...(c.auth.header_name && c.auth.header_value
        ? { auth: { header_name: c.auth.header_name, header_value: c.auth.header_value } }
        : {}),
      timeout_ms: c.timeout_ms,
    };
    embedders.set(id, (e = createEmbedder(cfg)));
  }
  return e;
}

/** Normalised answer text for shadow comparisons. */
export function answerHash(a: Pick<CachedAnswer, 'content' | 'tool_calls'>): string {
  const norm = (a.content ?? '').replace(/\s+/g, ' ').trim();
  const tools = (a.tool_calls ?? []).map((t) => [t.function?.name ?? '', t.function?.arguments ?? '']);
  return createHash('sha256')
    .update(JSON.stringify([norm, tools]))
    .digest('hex')
    .slice(0, 32);
}

function storeId(c: SemanticCacheConfig): string {
  const r = c.vectordb.redis;
  return c.vectordb.strategy === 'memory' ? 'memory' : `redis|${r.host}|${r.port}|${r.database}`;
}

function toUsage(u: SharedUsage): Usage {
  return {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: u.total_tokens,
    cached_tokens: u.cached_tokens ?? 0,
    reasoning_tokens: u.reasoning_tokens ?? 0,
  };
}

interface Found {
  entry: Entry;
  similarity: number;
  kind: 'exact' | 'semantic';
}

export class SemanticCache {
  private readonly logger: Logger;
  private readonly problems: string[];
  private readonly store: Store;
  private readonly now: () => number;
  private readonly guardOpts: GuardOptions;
  private readonly embedder: Embedder | undefined;
  private readonly index: SharedIndex | undefined;
  private readonly verifyOpts: VerifyOptions;
  private readonly threshold: number;
  private readonly prefix: string;

  constructor(
    private readonly config: SemanticCacheConfig,
    deps: Deps = {},
  ) {
    this.logger = deps.log ?? pluginLogger(NAME);
    this.problems = checkConfig(config);
    this.now = deps.now ?? Date.now;
    this.store = deps.store ?? storeFor(config.vectordb.strategy, config.vectordb.redis);
    this.prefix = config.vectordb.redis?.key_prefix ?? 'llm';
    this.threshold = thresholdOf(config);
    const v = config.verify;
    this.verifyOpts = {
      numbers: v.numbers,
      negation: v.negation,
      entities: v.entities,
      quoted: v.quoted,
      order: v.order,
      lengthRatio: v.length_ratio,
      // A config written before these fields existed (or sent without them) gets the default check.
      focus: v.focus !== false,
      focusBudget: typeof v.focus_budget === 'number' ? v.focus_budget : FOCUS_BUDGET,
    };
    this.guardOpts = {
      plugin: NAME,
      log: this.logger,
      failClosed: config.stop_on_failure,
      failureCode: 'CACHE_UNAVAILABLE',
      failureStatus: 503,
      problems: this.problems,
    };
    if (this.problems.length === 0 && config.semantic_caching) {
      try {
        this.embedder = deps.embedder ?? embedderFor(config.embeddings);
        this.index = sharedIndexFor(deps.store ? `custom:${Math.random()}` : storeId(config), {
          store: this.store,
          prefix: this.prefix,
          embedderId: this.embedder.id,
          maxEntries: config.vectordb.max_entries,
          streamMaxLen: config.vectordb.stream_max_len,
          now: this.now,
        });
        // Warm load at instance creation; a failure is retried at the first lookup.
        this.index.warm().catch((err: unknown) => this.degraded('warm', err));
      } catch (err) {
        this.problems.push(`embeddings: ${(err as Error).message}`);
      }
    }
    if (config.vectordb.threshold !== null && config.vectordb.threshold < 0.3) {
      this.logger.warn(
        { threshold: config.vectordb.threshold },
        'vectordb.threshold is a similarity here (Kong EE uses a distance: similarity = 1 - distance)',
      );
    }
    metrics.ensureMetricsEndpoint();
  }

  async access(kong: KongPdk): Promise<void> {
    await guard(kong, 'access', this.guardOpts, (k) => this.onAccess(k));
  }

  async log(kong: KongPdk): Promise<void> {
    await guard(kong, 'log', this.guardOpts, (k) => this.onLog(k));
  }

  private degraded(reason: string, err: unknown): void {
    metrics.failOpen.inc({ plugin: NAME, reason });
    logOncePer(`${NAME}:${reason}`, 30_000, () =>
      this.logger.warn({ err: errInfo(err), reason }, 'semantic cache unavailable'),
    );
  }

  /** A store or embedder failure: 503 when stop_on_failure, else the request proceeds as a miss. */
  private failure(reason: string, err: unknown): void {
    this.degraded(reason, err);
    if (this.config.stop_on_failure)
      throw new PluginError('CACHE_UNAVAILABLE', 'the cache is unavailable', 503, true, { cause: err });
  }

  private async identity(k: KongFacade): Promise<Identity> {
    const by = this.config.partition_by;
    const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
    const [consumer, groups, route] = await Promise.all([
      by === 'consumer' ? k.consumer() : undefined,
      by === 'consumer_group' ? k.consumerGroups() : undefined,
      k.route(),
    ]);
    return {
      consumer: consumer ? { id: str(consumer.id), username: str(consumer.username) } : undefined,
      groups: groups?.map((g) => str(g.name) ?? str(g.id) ?? '').filter(Boolean),
      route: route ? { id: str(route.id), name: str(route.name) } : undefined,
    };
  }

  private async onAccess(k: KongFacade): Promise<void> {
    const c = this.config;
    const req = await readLlmRequest(k, {
      maxBytes: c.max_request_body_size,
      maxDepth: 64,
      maxMessages: 10_000,
    });
    if (!req.llm || req.llm.operation !== 'chat') return;
    const body = req.llm.body;
    const stream = body.stream === true;
    const id = await this.identity(k);
    const routeLabel = id.route?.name ?? 'unknown';
    const partition = partitionOf(c.partition_by, id);

    // Modes: control header, Cache-Control, n > 1 (several choices are not cached).
    const mode = (firstHeader(req.headers, c.control_header) ?? '').trim().toLowerCase();
    const cc = c.cache_control
      ? parseCacheControl(firstHeader(req.headers, 'cache-control'))
      : { noStore: false, noCache: false };
    const multi = typeof body.n === 'number' && body.n > 1;
    if (!partition || mode === 'bypass' || cc.noStore || multi) {
      await this.bypass(k, routeLabel, stream);
      return;
    }
    const key = buildKey(body, c, partition, id.route?.name ?? id.route?.id ?? '');
    const refresh = mode === 'refresh' || cc.noCache;
    const state: CarriedCache = {
      status: refresh ? 'Refresh' : 'Miss',
      key: key.key,
      fill: true,
      buffered: false,
      stream,
      partition,
      ip: key.ip,
      text: key.text,
      model: body.model,
      route: routeLabel,
    };

    let found: Found | undefined;
    if (!refresh) found = await this.lookup(key, body, state, cc.maxAge);

    if (found && !c.shadow_mode) {
      await this.serveHit(k, found, body, state);
      return;
    }
    if (found) {
      state.shadow = true;
      state.shadow_hash = answerHash(found.entry.answer);
      state.shadow_kind = found.kind;
      state.similarity = found.similarity;
      metrics.cacheLookups.inc({ route: routeLabel, status: 'ShadowHit' });
    } else metrics.cacheLookups.inc({ route: routeLabel, status: state.status });

    state.prompt_tokens = countChatPrompt(body, { model: body.model }).tokens;
    state.buffered = !stream && c.buffer_non_stream;
    if (!state.vec && key.text && c.semantic_caching && this.embedder) {
      // Refresh, or an exact-only hit path that skipped embedding: the fill still needs a vector.
      await this.embed(key.text, state);
    }
    await k.setShared('llm.cache', state);
    await k.setResponseHeaders({ 'X-Cache-Status': state.status, 'X-Cache-Key': key.key });
    if (state.buffered) await k.enableBuffering();
  }

  private async bypass(k: KongFacade, route: string, stream: boolean): Promise<void> {
    metrics.cacheLookups.inc({ route, status: 'Bypass' });
    const state: CarriedCache = { status: 'Bypass', fill: false, buffered: false, stream };
    await k.setShared('llm.cache', state);
    await k.setResponseHeaders({ 'X-Cache-Status': 'Bypass' });
  }

  private async embed(text: string, state: CarriedCache): Promise<Float32Array | undefined> {
    if (!this.embedder) return undefined;
    try {
      const [vec] = await this.embedder.embed([text]);
      if (!vec) return undefined;
      if (this.config.vectordb.dimensions && vec.length !== this.config.vectordb.dimensions) {
        throw new Error(
          `embedder returned ${vec.length} dimensions, vectordb.dimensions is ${this.config.vectordb.dimensions}`,
        );
      }
      state.vec = encodeVec(vec);
      state.emb = this.embedder.id;
      return vec;
    } catch (err) {
      this.failure('embeddings', err);
      return undefined;
    }
  }

  /** A usable entry: not expired, within max-age, and its answer fits the request's token limit. */
  private usable(e: Entry, body: ChatRequest, maxAge: number | undefined): boolean {
    const now = this.now();
    if (expiresAt(e) <= now) return false;
    if (maxAge !== undefined && now - e.created > maxAge * 1000) return false;
    const limit = body.max_completion_tokens ?? body.max_tokens;
    if (typeof limit === 'number' && e.usage && e.usage.completion_tokens > limit) return false;
    return true;
  }

  private async lookup(
    key: CacheKey,
    body: ChatRequest,
    state: CarriedCache,
    maxAge: number | undefined,
  ): Promise<Found | undefined> {
    const c = this.config;
    if (c.exact_caching) {
      let raw: string | undefined;
      try {
        raw = await this.store.get(entryStoreKey(this.prefix, key.key));
      } catch (err) {
        this.failure('store', err);
        return undefined;
      }
      const e = parseEntry(raw);
      if (e) state.exists = true;
      if (e && e.key === key.key && this.usable(e, body, maxAge))
        return { entry: e, similarity: 1, kind: 'exact' };
    }
    if (!c.semantic_caching || !this.index || !key.text) return undefined;
    const vec = await this.embed(key.text, state);
    if (!vec) return undefined;
    try {
      await this.index.sync(c.vectordb.sync_interval_ms);
    } catch (err) {
      this.failure('store', err);
      return undefined;
    }
    const hits = this.index
      .search(vec, key.ip, c.vectordb.max_candidates)
      .filter((h) => h.similarity >= this.threshold);
    if (!hits.length) return undefined;
    let raws: (string | undefined)[];
    try {
      raws = await this.store.mget(hits.map((h) => entryStoreKey(this.prefix, h.key)));
    } catch (err) {
      this.failure('store', err);
      return undefined;
    }
    for (let i = 0; i < hits.length; i++) {
      const h = hits[i]!;
      const e = parseEntry(raws[i]);
      if (!e || expiresAt(e) <= this.now()) {
        this.index.remove(h.key); // expired or purged: drop it locally too
        continue;
      }
      if (e.ip !== key.ip || !this.usable(e, body, maxAge)) continue;
      if (c.verify.enabled) {
        const v = verifyCandidate(key.text, e.prompt, this.verifyOpts);
        if (!v.ok) {
          this.logger.debug(
            { failed: v.failed, similarity: h.similarity },
            'candidate rejected by verification',
          );
          continue;
        }
      }
      return { entry: e, similarity: h.similarity, kind: 'semantic' };
    }
    return undefined;
  }

  private async serveHit(k: KongFacade, f: Found, body: ChatRequest, state: CarriedCache): Promise<void> {
    const e = f.entry;
    const now = this.now();
    const completion = buildChatCompletion({
      model: e.served_model ?? e.model,
      content: e.answer.content,
      finish_reason: e.answer.finish_reason,
      ...(e.answer.tool_calls?.length ? { tool_calls: e.answer.tool_calls } : {}),
      ...(e.usage ? { usage: toUsage(e.usage) } : {}),
    });
    const ageS = Math.max(0, Math.floor((now - e.created) / 1000));
    const headers: Record<string, string> = {
      'X-Cache-Status': 'Hit',
      'X-Cache-Key': e.key,
      'X-Cache-Ttl': String(Math.max(0, Math.ceil((expiresAt(e) - now) / 1000))),
      Age: String(ageS),
      'X-Cache-Similarity': f.similarity.toFixed(4),
    };
    const hit: CarriedCache = {
      status: 'Hit',
      key: e.key,
      similarity: Number(f.similarity.toFixed(4)),
      fill: false,
      buffered: false,
      stream: body.stream === true,
      route: state.route,
      ...(e.usage ? { saved_usage: e.usage } : {}),
      ...(e.served_model || e.model ? { saved_model: e.served_model ?? e.model } : {}),
    };
    metrics.cacheLookups.inc({ route: state.route ?? 'unknown', status: 'Hit' });
    this.logger.debug({ kind: f.kind, similarity: hit.similarity }, 'cache hit');
    await k.setShared('llm.cache', hit);
    if (body.stream === true) {
      const sse = buildSseReplay(completion, { includeUsage: body.stream_options?.include_usage === true });
      await k.exit(200, sse, {
        ...headers,
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-cache',
      });
    } else {
      await k.exit(200, JSON.stringify(completion), { ...headers, 'Content-Type': 'application/json' });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Log phase: fill
  // ---------------------------------------------------------------------------------------------

  private async onLog(k: KongFacade): Promise<void> {
    const state = (await k.getShared('llm.cache')) as CarriedCache | undefined;
    if (!state || !state.fill || !state.key || !state.partition || !state.ip) return;
    const tap = await k.getShared('llm.tap');
    const fresh = tap
      ? fromTap(tap, this.config)
      : state.buffered
        ? await this.fromBuffer(k)
        : { reason: 'no_source' };
    if (state.shadow && state.shadow_hash) {
      if ('answer' in fresh) {
        const agree = answerHash(fresh.answer) === state.shadow_hash;
        shadowTotal.inc({
          route: state.route ?? 'unknown',
          kind: state.shadow_kind ?? 'semantic',
          agree: String(agree),
        });
        this.logger.info(
          { shadow: { agree, kind: state.shadow_kind, similarity: state.similarity, key: state.key } },
          'shadow cache comparison',
        );
      } else {
        shadowTotal.inc({
          route: state.route ?? 'unknown',
          kind: state.shadow_kind ?? 'semantic',
          agree: 'unknown',
        });
      }
    }
    if (!('answer' in fresh)) {
      this.logger.debug({ reason: fresh.reason, key: state.key }, 'answer not cached');
      return;
    }
    if (state.shadow && state.exists && state.shadow_kind === 'exact') return;
    const bytes =
      Buffer.byteLength(fresh.answer.content ?? '') +
      Buffer.byteLength(JSON.stringify(fresh.answer.tool_calls ?? []));
    if (bytes > this.config.max_entry_bytes) {
      this.logger.debug({ reason: 'too_large', key: state.key }, 'answer not cached');
      return;
    }
    const usage = fresh.usage ?? estimateUsage(state, fresh.answer);
    const entry: Entry = {
      v: 1,
      key: state.key,
      partition: state.partition,
      ip: state.ip,
      model: state.model ?? 'unknown',
      ...(fresh.model ? { served_model: fresh.model } : {}),
      ...(state.vec && state.emb ? { vec: state.vec, emb: state.emb } : {}),
      prompt: state.text ?? '',
      answer: fresh.answer,
      usage,
      created: this.now(),
      ttl: this.config.cache_ttl,
    };
    await this.put(entry);
  }

  /** Write an entry and announce it to every node's index. */
  async put(entry: Entry): Promise<void> {
    try {
      await this.store.set(entryStoreKey(this.prefix, entry.key), JSON.stringify(entry), entry.ttl);
      if (entry.vec && entry.emb && this.index) {
        const exp = expiresAt(entry);
        this.index.add(entry.key, decodeVec(entry.vec), entry.ip, exp);
        await this.index.publish({
          op: 'add',
          key: entry.key,
          ip: entry.ip,
          emb: entry.emb,
          vec: entry.vec,
          exp: String(exp),
        });
      }
    } catch (err) {
      this.degraded('store', err);
    }
  }

  private async fromBuffer(k: KongFacade): Promise<Fresh> {
    // Status first: after an upstream timeout/error Kong answers 502/504 itself and there is no
    // buffered body; reading it would raise in the log timer (kong-runtime.md §9 item 8).
    const ser = await k.serialize();
    const status = Number(ser.response?.status ?? 0);
    if (status !== 200) return { reason: 'status' };
    const body = await k.upstreamRawBody();
    if (!body || body.byteLength === 0) return { reason: 'no_body' };
    if (body.byteLength > this.config.max_entry_bytes * 4 + 65536) return { reason: 'too_large' };
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return { reason: 'not_json' };
    }
    return fromCompletion(parsed, this.config);
  }
}

/** A storable fresh answer, or why not. */
type Fresh = { answer: CachedAnswer; usage?: SharedUsage; model?: string } | { reason: string };

/** Decide from the tap result whether the upstream answer is complete and cacheable. */
export function fromTap(t: TapResult, c: Pick<SemanticCacheConfig, 'cache_tool_calls'>): Fresh {
  if (t.kind !== 'json' && t.kind !== 'sse') return { reason: 'kind' };
  if (t.status !== 200) return { reason: 'status' };
  if (t.aborted) return { reason: 'aborted' };
  if (t.kind === 'sse' && !t.done) return { reason: 'not_done' };
  if (t.text_truncated) return { reason: 'truncated' };
  if (typeof t.text !== 'string') return { reason: 'no_text' };
  const tools = t.tool_calls ?? [];
  if (tools.some((tc) => (tc as { truncated?: boolean }).truncated)) return { reason: 'truncated' };
  if (tools.length && !c.cache_tool_calls) return { reason: 'tool_calls' };
  const finishOk = t.finish_reason === 'stop' || (c.cache_tool_calls && t.finish_reason === 'tool_calls');
  if (!finishOk) return { reason: `finish_${t.finish_reason ?? 'none'}` };
  if (!t.text && !tools.length) return { reason: 'empty' };
  const tool_calls: ToolCall[] = tools.map((tc, i) => ({
    id: tc.id ?? `call_${i}`,
    type: 'function',
    function: { name: tc.name ?? '', arguments: tc.arguments ?? '' },
  }));
  return {
    answer: {
      content: t.text || (tool_calls.length ? null : ''),
      finish_reason: t.finish_reason ?? 'stop',
      ...(tool_calls.length ? { tool_calls } : {}),
    },
    ...(t.usage ? { usage: t.usage } : {}),
    ...(t.model ? { model: t.model } : {}),
  };
}

/** Decide from a buffered non-stream chat completion. */
export function fromCompletion(parsed: unknown, c: Pick<SemanticCacheConfig, 'cache_tool_calls'>): Fresh {
  const o = parsed as { object?: unknown; model?: unknown; choices?: unknown; error?: unknown } | null;
  if (!o || typeof o !== 'object' || o.error) return { reason: 'not_completion' };
  if (!Array.isArray(o.choices) || o.choices.length !== 1) return { reason: 'choices' };
  const ch = o.choices[0] as {
    finish_reason?: unknown;
    message?: { content?: unknown; tool_calls?: unknown };
  };
  const msg = ch?.message;
  if (!msg || typeof msg !== 'object') return { reason: 'no_message' };
  const tools = Array.isArray(msg.tool_calls) ? (msg.tool_calls as ToolCall[]) : [];
  if (tools.length && !c.cache_tool_calls) return { reason: 'tool_calls' };
  const finishOk = ch.finish_reason === 'stop' || (c.cache_tool_calls && ch.finish_reason === 'tool_calls');
  if (!finishOk) return { reason: `finish_${String(ch.finish_reason ?? 'none')}` };
  const content = typeof msg.content === 'string' ? msg.content : null;
  if (!content && !tools.length) return { reason: 'empty' };
  const u = extractUsage(parsed);
  return {
    answer: {
      content,
      finish_reason: String(ch.finish_reason),
      ...(tools.length ? { tool_calls: tools } : {}),
    },
    ...(u
      ? {
          usage: {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            total_tokens: u.total_tokens,
            cached_tokens: u.cached_tokens,
            reasoning_tokens: u.reasoning_tokens,
          },
        }
      : {}),
    ...(typeof o.model === 'string' ? { model: o.model } : {}),
  };
}

/** Usage when the upstream reported none (stream without include_usage): local token counts. */
function estimateUsage(state: CarriedCache, a: CachedAnswer): SharedUsage {
  const prompt = state.prompt_tokens ?? 0;
  const completion = countText(
    (a.content ?? '') + (a.tool_calls ?? []).map((t) => t.function?.arguments ?? '').join(''),
    state.model,
  );
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
