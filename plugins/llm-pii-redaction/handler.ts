/**
 * llm-pii-redaction: in access, detect PII in every text of the LLM request (all roles by default:
 * message content strings and parts, tool-call arguments, tool results, legacy prompt, embeddings and
 * Responses input), replace it per category (placeholder, mask, synthetic, hash) with one
 * RedactSession per request so placeholders are stable across messages, or block (400 PII_BLOCKED).
 * The body is rewritten once, only when something changed. With `recover_redacted` the
 * placeholder → original map goes to `kong.ctx.shared['llm.pii_restore']`, where the Lua
 * llm-response-tap restores the originals in the answer; the map never reaches logs or the upstream.
 *
 * Fail closed by default: Kong fails open on any plugin-server error (kong-runtime.md §2.8), so every
 * failure is caught by `guard` and answered 500 PII_FAILURE; nothing is forwarded unless the operator
 * set `fault_tolerant: true`. Logs and metrics carry counts by category only, never values.
 */
import type { KongPdk } from '../../lib/kong/pdk';
import type { KongFacade } from '../../lib/kong/facade';
import { guard, type GuardOptions } from '../../lib/kong/guard';
import { readLlmRequest } from '../../lib/kong/request';
import type { PiiSummary } from '../../lib/kong/shared-ctx';
import { forEachText, type TextLocation } from '../../lib/openai/walk';
import { PluginError, isPluginError } from '../../lib/errors';
import { errInfo, logOncePer, pluginLogger, type Logger } from '../../lib/log';
import * as metrics from '../../lib/metrics';
import {
  compileDetectors,
  createSession,
  type Action,
  type Detection,
  type Detector,
  type PiiCategory,
} from './redact';
import { ASYNC_WINDOW, yieldToLoop } from './detectors/compile';
import {
  NAME_OF,
  actionTable,
  categoriesOf,
  checkConfig,
  type CategoryName,
  type LocationName,
  type PiiRedactionConfig,
} from './schema';

export const NAME = 'llm-pii-redaction';

/** Bodies with more text than this are scanned asynchronously before the rewrite (see redactRequest). */
const ASYNC_SCAN_CHARS = 32_768;

export interface Deps {
  log?: Logger;
  /** Replace the compiled detector (tests inject failures). */
  detector?: Detector;
}

/** Counts by config category name (the only PII facts that leave the plugin). */
export type PiiCounts = Partial<Record<CategoryName, number>>;

const LOCATION_OF: Record<TextLocation['kind'], LocationName> = {
  content: 'messages',
  part: 'messages',
  tool_arguments: 'tool_arguments',
  tool_result: 'tool_results',
  prompt: 'prompt',
  input: 'input',
};

export class PiiRedaction {
  private readonly logger: Logger;
  private readonly problems: string[];
  private readonly guardOpts: GuardOptions;
  private readonly detector: Detector | undefined;
  private readonly actions: Partial<Record<PiiCategory, Action>> & { default: Action };
  private readonly roles: ReadonlySet<string>;
  private readonly locations: ReadonlySet<string>;

  constructor(
    private readonly config: PiiRedactionConfig,
    deps: Deps = {},
  ) {
    this.logger = deps.log ?? pluginLogger(NAME);
    this.problems = checkConfig(config);
    this.actions = actionTable(config);
    this.roles = new Set(config.roles ?? []);
    this.locations = new Set(config.locations ?? []);
    // The constructor must never throw: a failed instance creation makes Kong skip the plugin (fail open).
    let detector: Detector | undefined;
    if (!this.problems.length) {
      try {
        detector =
          deps.detector ??
          compileDetectors({
            categories: categoriesOf(config.anonymize),
            customPatterns: (config.custom_patterns ?? []).map((p) => ({ name: p.name, regex: p.regex })),
          });
        // validates the action table and the hash secret once
        createSession(detector, this.actions, this.sessionOptions());
      } catch (err) {
        this.problems.push(
          isPluginError(err) && err.expose ? err.message : 'detectors could not be compiled',
        );
        detector = undefined;
      }
    }
    this.detector = detector;
    this.guardOpts = {
      plugin: NAME,
      log: this.logger,
      failClosed: !config.fault_tolerant,
      failureCode: 'PII_FAILURE',
      failureStatus: 500,
      problems: this.problems,
    };
    metrics.ensureMetricsEndpoint();
  }

  async access(kong: KongPdk): Promise<void> {
    await guard(kong, 'access', this.guardOpts, (k) => this.onAccess(k));
  }

  private sessionOptions(): { hashSecret?: string; maskKeep: number } {
    const c = this.config;
    return { ...(c.hash_secret ? { hashSecret: c.hash_secret } : {}), maskKeep: c.mask_keep };
  }

  private wants(loc: TextLocation): boolean {
    if (!this.locations.has(LOCATION_OF[loc.kind])) return false;
    return loc.role === undefined || this.roles.has(loc.role);
  }

  private async onAccess(k: KongFacade): Promise<void> {
    try {
      await this.redactRequest(k);
    } catch (err) {
      if (isPluginError(err) && err.expose) throw err;
      // Foreign error messages may quote the input (JSON.parse does): keep only safe facts for the log.
      const safe = isPluginError(err) ? err : scrubbed(err);
      if (this.config.fault_tolerant) {
        metrics.failOpen.inc({ plugin: NAME, reason: 'error' });
        logOncePer(`${NAME}:fail-open`, 10_000, () =>
          this.logger.warn(
            { err: errInfo(safe) },
            'redaction failed: forwarding the request UNREDACTED (fault_tolerant)',
          ),
        );
      }
      throw safe;
    }
  }

  private async redactRequest(k: KongFacade): Promise<void> {
    const c = this.config;
    const detector = this.detector;
    if (!detector) throw new PluginError('INTERNAL', 'no detector');
    const req = await readLlmRequest(k, {
      maxBytes: c.max_request_body_size,
      maxDepth: 64,
      maxMessages: 10_000,
    });
    if (!req.llm) {
      if (c.pass_through_other) {
        // nothing to redact: still leave the marker llm-sentinel checks (kong/plugins/llm-sentinel)
        await k.setShared('llm.pii', { counts: {}, action: 'none' });
        return;
      }
      throw new PluginError('BODY_SHAPE', 'this route only accepts LLM API requests', 400, true);
    }
    const body = req.llm.body;
    const session = createSession(detector, this.actions, this.sessionOptions());
    // Large bodies are scanned first, asynchronously (window by window, yielding between windows and
    // between texts), so one big request does not hold the plugin server's event loop; the rewrite pass
    // then uses those detections. Any failure still rejects, and guard() answers 500 (fail closed).
    const texts: string[] = [];
    let total = 0;
    forEachText(body, (text, loc) => {
      if (this.wants(loc)) {
        texts.push(text);
        total += text.length;
      }
      return undefined;
    });
    const pre: (Detection[] | undefined)[] = [];
    if (total > ASYNC_SCAN_CHARS && detector.detectAsync) {
      let sinceYield = 0;
      for (const t of texts) {
        if (sinceYield >= ASYNC_WINDOW) {
          await yieldToLoop();
          sinceYield = 0;
        }
        pre.push(t.length > ASYNC_WINDOW ? await detector.detectAsync(t) : detector.detect(t));
        sinceYield += t.length;
      }
    }
    let visited = 0;
    const changed = forEachText(body, (text, loc) => {
      if (!this.wants(loc)) return undefined;
      const i = visited++;
      return session.redact(text, texts[i] === text ? pre[i] : undefined);
    });

    const counts: PiiCounts = {};
    const actionOf: Partial<Record<CategoryName, Action>> = {};
    for (const [cat, n] of Object.entries(session.counts()) as [PiiCategory, number][]) {
      const name = NAME_OF[cat];
      counts[name] = (counts[name] ?? 0) + n;
      actionOf[name] = c.block_if_detected ? 'block' : (this.actions[cat] ?? this.actions.default);
    }
    const found = Object.keys(counts) as CategoryName[];
    const blocked = found.filter((n) => actionOf[n] === 'block');
    const summary: PiiSummary = {
      counts,
      action: blocked.length ? 'block' : found.length ? 'redact' : 'none',
    };

    if (found.length) {
      const route = await k.route();
      const label = route?.name ?? route?.id ?? 'unknown';
      for (const n of found) {
        metrics.piiDetections.inc(
          { route: label, category: n, action: actionOf[n] ?? 'placeholder' },
          counts[n] ?? 0,
        );
      }
      this.logger.info({ counts, action: summary.action }, 'pii detected');
    }

    // llm.pii is the marker llm-sentinel checks: written after the upstream body (below), so a plugin
    // server lost mid-phase leaves none and the sentinel refuses the request instead of leaking PII; a
    // written 'block' whose exit never reached Kong is refused by the sentinel too.
    const mark = (s: PiiSummary) =>
      Promise.all([k.setShared('llm.pii', s), k.setSerializeValue('ai.pii.counts', counts)]);
    if (blocked.length) {
      await mark(summary);
      const categories: PiiCounts = {};
      for (const n of blocked) categories[n] = counts[n] ?? 0;
      throw new PluginError(
        'PII_BLOCKED',
        `the request contains personal data this route does not accept: ${blocked.join(', ')}`,
        400,
        true,
        { details: { categories } },
      );
    }
    if (changed === 0) {
      await mark(summary);
      return;
    }
    let restoreEntries = 0;
    if (c.recover_redacted) {
      const map = session.restoreMap();
      restoreEntries = Object.keys(map).length;
      if (restoreEntries) await k.setShared('llm.pii_restore', map);
    }
    await k.setUpstreamBody(JSON.stringify(body));
    await mark({ ...summary, ...(restoreEntries ? { restore_entries: restoreEntries } : {}) });
  }
}

/**
 * An internal error without its message (which may contain request text): the error's name and the
 * first stack frame (code location only), for the log.
 */
export function scrubbed(err: unknown): PluginError {
  const name = err instanceof Error ? err.name : 'NonError';
  const frame = err instanceof Error ? /\n\s+at ([^\n]{1,200})/.exec(err.stack ?? '')?.[1] : undefined;
  return new PluginError('PII_FAILURE', `${name}${frame ? ` at ${frame}` : ''}`, 500, false);
}
