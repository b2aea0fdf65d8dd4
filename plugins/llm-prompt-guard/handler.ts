/**
 * llm-prompt-guard: check every prompt in access before anything else of the suite runs (priority 880),
 * so a refused prompt reaches no upstream, reserves no budget and fills no cache.
 *
 * Checks, cheapest first: Kong OSS-compatible allow/deny patterns, the injection detector over every text
 * (user content and parts, tool results = indirect injection, optionally system/assistant), and denied /
 * allowed topics by embedding similarity. The verdict (action, score, rule ids — never text) goes to
 * `kong.ctx.shared['llm.guard']`, to Kong's log serializer as `ai.guard`, to a metric and to the log.
 *
 * Fails closed: Kong fails open on plugin-server errors (kong-runtime.md §2.8), so every failure is caught
 * by `guard` and answered with 503 GUARD_FAILURE unless `fault_tolerant` is on.
 */
import type { KongPdk } from '../../lib/kong/pdk';
import type { KongFacade } from '../../lib/kong/facade';
import { guard, type GuardOptions } from '../../lib/kong/guard';
import { readLlmRequest } from '../../lib/kong/request';
import { forEachText } from '../../lib/openai/walk';
import type { GuardVerdict } from '../../lib/kong/shared-ctx';
import { PluginError } from '../../lib/errors';
import { errInfo, logOncePer, pluginLogger, type Logger } from '../../lib/log';
import { createEmbedder, type Embedder, type EmbedderConfig } from '../../lib/embeddings';
import * as metrics from '../../lib/metrics';
import {
  compileInjectionDetector,
  compilePatternGuard,
  loadInjectionModel,
  sanitizeHidden,
} from './detect/detector';
import type { MessageSource, RuleFamily } from './detect/types';
import type { PatternGuard } from './detect/pattern-guard';
import { checkConfig, hasTopics, DEFAULT_TOPIC_THRESHOLD, type PromptGuardConfig } from './schema';
import { collectTexts, toMessages, type GuardMessage, type GuardText } from './texts';
import { ScanMemo } from './scan-memo';
import { TopicMatcher } from './topics';

export const NAME = 'llm-prompt-guard';

/** What a blocked client sees: Kong ai-prompt-guard's answer; nothing that teaches the attacker. */
export const BLOCK_MESSAGE = 'bad request';
const MAX_RULES = 20;

export interface Deps {
  log?: Logger;
  /** Replaces the configured embedder (tests). */
  embedder?: Embedder;
}

/** One triggered check. `family` is a metric label: an injection family, `pattern`, `topic` or `sanitize`. */
interface Hit {
  rule: string;
  family: RuleFamily | 'pattern' | 'topic' | 'sanitize';
  score: number;
}

export class PromptGuard {
  private readonly logger: Logger;
  private readonly problems: string[];
  private readonly guardOpts: GuardOptions;
  private readonly patterns: PatternGuard | undefined;
  /** The injection detector behind its per-instance memo (undefined when off or misconfigured). */
  private readonly injection: ScanMemo | undefined;
  readonly topics: TopicMatcher | undefined;
  private readonly scanRoles: Set<MessageSource>;

  constructor(
    private readonly config: PromptGuardConfig,
    deps: Deps = {},
  ) {
    this.logger = deps.log ?? pluginLogger(NAME);
    this.problems = checkConfig(config);
    const c = config;
    this.scanRoles = new Set(c.injection.roles);
    const compile = <T>(what: string, fn: () => T): T | undefined => {
      try {
        return fn();
      } catch (err) {
        this.problems.push(`${what}: ${errInfo(err).message}`);
        return undefined;
      }
    };
    if ((c.allow_patterns?.length ?? 0) + (c.deny_patterns?.length ?? 0) > 0) {
      this.patterns = compile('patterns', () =>
        compilePatternGuard({
          allow_patterns: c.allow_patterns ?? [],
          deny_patterns: c.deny_patterns ?? [],
          allow_all_conversation_history: c.allow_all_conversation_history,
          match_all_roles: c.match_all_roles,
          max_scan_chars: c.max_pattern_scan_chars,
        }),
      );
    }
    if (c.injection.enabled) {
      const detector = compile('injection', () =>
        compileInjectionDetector({
          threshold: c.injection.threshold,
          families: { ...c.injection.families },
          maxScanChars: c.injection.max_scan_chars,
          ...(c.injection.model_path && c.injection.families.classifier !== false
            ? { classifier: loadInjectionModel(c.injection.model_path) }
            : {}),
        }),
      );
      if (detector) this.injection = new ScanMemo(detector);
    }
    if (hasTopics(c)) {
      const embedder = deps.embedder ?? compile('embeddings', () => createEmbedder(embedderConfig(c)));
      if (embedder) {
        const threshold = c.search.threshold ?? DEFAULT_TOPIC_THRESHOLD[c.embeddings.model.provider];
        this.topics = new TopicMatcher(
          embedder,
          c.rules.deny_prompts ?? [],
          c.rules.allow_prompts ?? [],
          threshold,
        );
        // Warm up: embed the topics now; a failure is logged and retried by the first request.
        this.topics
          .topics()
          .catch((err: unknown) =>
            this.logger.warn({ err: errInfo(err) }, 'embedding topics failed; retrying on demand'),
          );
      }
    }
    this.guardOpts = {
      plugin: NAME,
      log: this.logger,
      failClosed: !c.fault_tolerant,
      failureCode: 'GUARD_FAILURE',
      failureStatus: 503,
      problems: this.problems,
    };
    metrics.ensureMetricsEndpoint();
  }

  async access(kong: KongPdk): Promise<void> {
    await guard(kong, 'access', this.guardOpts, (k) => this.onAccess(k));
  }

  private async onAccess(k: KongFacade): Promise<void> {
    const c = this.config;
    const [req, route] = await Promise.all([
      readLlmRequest(k, { maxBytes: c.max_request_body_size, maxDepth: 64, maxMessages: 10_000 }),
      k.route(),
    ]);
    if (!req.llm || !(c.operations as string[]).includes(req.llm.operation)) {
      // nothing to guard: still leave the marker llm-sentinel checks (kong/plugins/llm-sentinel)
      await k.setShared('llm.guard', { action: 'allow', score: 0, rules: [] });
      return;
    }
    const body = req.llm.body as object;
    const routeName = typeof route?.name === 'string' && route.name ? route.name : 'unknown';

    let removed = 0;
    if (c.action === 'sanitize') {
      const { replaced, chars } = sanitizeBody(body);
      if (replaced > 0) removed = chars;
    }
    const texts = collectTexts(body);
    const messages = toMessages(texts);
    const hits: Hit[] = [];
    let maxScore = 0;
    const stopEarly = () => c.action !== 'flag' && hits.length > 0;

    // 1. Kong ai-prompt-guard patterns.
    if (this.patterns) {
      const r = this.patterns.check(messages);
      if (!r.allowed) {
        hits.push({
          rule: r.reason === 'deny_match' ? `pattern.deny.${r.pattern_index ?? 0}` : 'pattern.no_allow_match',
          family: 'pattern',
          score: 1,
        });
      }
    }

    // 2. Injection detector over every selected text.
    if (this.injection && !stopEarly()) {
      const s = this.scan(texts);
      maxScore = Math.max(maxScore, s.score);
      hits.push(...s.hits);
    }

    // 3. Topics (embeddings: the only check with I/O).
    if (this.topics && !stopEarly()) {
      const h = await this.checkTopics(this.topicMessages(messages));
      if (h) hits.push(h);
    }

    const triggered = hits.length > 0;
    let action: GuardVerdict['action'] = 'allow';
    if (triggered) action = c.action === 'flag' ? 'flag' : 'block';
    else if (removed > 0) {
      action = 'sanitize';
      hits.push({ rule: 'unicode.sanitized', family: 'sanitize', score: 0 });
    }
    const score = Math.max(maxScore, ...hits.map((h) => h.score));
    const rules = [...new Set(hits.map((h) => h.rule))].slice(0, MAX_RULES);
    const verdict: GuardVerdict = { action, score: Math.round(score * 1000) / 1000, rules };

    this.count(routeName, action, hits);
    this.logVerdict(verdict, routeName, req.llm.operation, removed);
    // llm.guard is the marker llm-sentinel checks: written after the request's effects, so a plugin
    // server lost mid-phase leaves none (the sentinel refuses the request); a written 'block' whose
    // exit never reached Kong is refused by the sentinel too.
    const mark = () =>
      Promise.all([k.setShared('llm.guard', verdict), k.setSerializeValue('ai.guard', verdict)]);
    switch (action) {
      case 'block':
        await mark();
        await k.exitError(400, 'PROMPT_BLOCKED', BLOCK_MESSAGE);
        return;
      case 'flag':
        await mark();
        await k.setResponseHeader(c.flag_header, 'flagged');
        return;
      case 'sanitize':
        await Promise.all([
          k.setUpstreamBody(JSON.stringify(body)),
          k.setResponseHeader(c.flag_header, 'sanitized'),
        ]);
        await mark();
        return;
      default:
        await mark();
        return;
    }
  }

  /** Scan every text whose source is selected; a text triggers on its own score. */
  private scan(texts: readonly GuardText[]): { score: number; hits: Hit[] } {
    const det = this.injection as ScanMemo;
    let score = 0;
    const hits: Hit[] = [];
    for (const t of texts) {
      if (!this.scanRoles.has(t.source)) continue;
      const r = det.scan(t.text, t.source);
      score = Math.max(score, r.score);
      if (r.blocked)
        for (const f of r.findings) hits.push({ rule: f.rule, family: f.family, score: r.score });
    }
    return { score, hits };
  }

  private topicMessages(messages: readonly GuardMessage[]): GuardMessage[] {
    const r = this.config.rules;
    const picked = messages.filter((m) => r.match_all_roles || m.role === 'user');
    if (r.match_all_conversation_history) return picked;
    const last = picked[picked.length - 1];
    return last ? [last] : [];
  }

  private async checkTopics(messages: GuardMessage[]): Promise<Hit | undefined> {
    const matcher = this.topics as TopicMatcher;
    let r;
    try {
      r = await matcher.check(messages);
    } catch (err) {
      if (!this.config.fault_tolerant)
        throw new PluginError('GUARD_FAILURE', 'topic check failed', 503, false, { cause: err });
      metrics.failOpen.inc({ plugin: NAME, reason: 'embeddings' });
      logOncePer(`${NAME}:embeddings`, 30_000, () =>
        this.logger.warn({ err: errInfo(err) }, 'topic check unavailable: skipped (fault_tolerant)'),
      );
      return undefined;
    }
    if (r.denyIndex !== undefined)
      return { rule: `topic.deny.${r.denyIndex}`, family: 'topic', score: r.similarity };
    if (r.noAllowMatch) return { rule: 'topic.no_allow_match', family: 'topic', score: 1 - r.similarity };
    return undefined;
  }

  private count(route: string, action: GuardVerdict['action'], hits: readonly Hit[]): void {
    const families = new Set(hits.map((h) => h.family));
    if (!families.size) families.add('none' as Hit['family']);
    for (const family of families) metrics.guardVerdicts.inc({ route, action, family });
  }

  private logVerdict(v: GuardVerdict, route: string, operation: string, removedChars: number): void {
    const mode = this.config.log_verdicts;
    if (mode === 'none' || (mode === 'non_allow' && v.action === 'allow')) return;
    // Verdict, rule ids and scores only: never prompt text.
    this.logger.info(
      {
        verdict: { action: v.action, score: v.score, rules: v.rules, removed_chars: removedChars },
        route,
        operation,
      },
      'prompt guard verdict',
    );
  }
}

/** Strip hidden characters (tag, zero-width, bidi) from every text of the body, in place. */
export function sanitizeBody(body: object): { replaced: number; chars: number } {
  let chars = 0;
  const replaced = forEachText(body, (text) => {
    const s = sanitizeHidden(text);
    if (s.removed === 0) return undefined;
    chars += s.removed;
    return s.text;
  });
  return { replaced, chars };
}

/** Map the Kong EE-shaped `embeddings` record to the lib embedder config (nulls dropped). */
export function embedderConfig(c: PromptGuardConfig): EmbedderConfig {
  const e = c.embeddings;
  const options: NonNullable<EmbedderConfig['options']> = {};
  if (e.model.options?.upstream_url) options.upstream_url = e.model.options.upstream_url;
  if (e.model.options?.model_dir) options.model_dir = e.model.options.model_dir;
  if (e.model.options?.dimensions) options.dimensions = e.model.options.dimensions;
  return {
    provider: e.model.provider,
    ...(e.model.name ? { name: e.model.name } : {}),
    options,
    ...(e.auth?.header_name && e.auth.header_value
      ? { auth: { header_name: e.auth.header_name, header_value: e.auth.header_value } }
      : {}),
    timeout_ms: e.timeout_ms,
  };
}
