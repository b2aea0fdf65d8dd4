/**
 * Offline, in-process prompt-injection detector: scored phrase rules, hidden-Unicode analysis, decoded-payload
 * rescans and repetition heuristics, plus a learned classifier over the text and those findings (classifier.ts).
 * Rule findings combine by noisy-OR; the score is the larger of that and the classifier's, compared to a threshold.
 *
 * No I/O except loading the shipped classifier model once at compile time; no logging; never throws on any
 * string input. Work per scan is bounded by `maxScanChars`
 * (longer inputs are scanned on their head and tail), a fixed number of decoded candidates and bounded
 * regex gaps.
 */
import { badRequest } from '../../../lib/errors';
import { CLASSIFIER_MAX_CHARS, loadInjectionModel } from './classifier';
import { decodeCandidates, rot13 } from './encoded';
import { repetitionStats, type RepetitionStats } from './repetition';
import { PHRASE_RULES, ROT13_MARKERS, type PhraseRule } from './rules';
import {
  DEFAULT_MAX_SCAN_CHARS,
  DEFAULT_THRESHOLD,
  RULE_FAMILIES,
  type Finding,
  type ClassifierInput,
  type InjectionConfig,
  type InjectionDetector,
  type InjectionModelLike,
  type MessageSource,
  type RuleFamily,
  type ScanResult,
} from './types';
import { hiddenStats, sanitizeHidden } from './unicode';

/**
 * Per-source multipliers. Tool results (indirect injection) weigh override, markup, exfiltration and hidden text
 * higher: legitimate tool data does not address the model. System prompts legitimately set personas and
 * "stay in character" rules, so role-play and override evidence is discounted there; assistant turns likewise.
 */
const SOURCE_WEIGHT: Record<MessageSource, Record<RuleFamily, number>> = {
  user: {
    instruction_override: 1,
    roleplay_jailbreak: 1,
    prompt_exfiltration: 1,
    delimiter_injection: 1,
    hidden_unicode: 1,
    encoded_payload: 1,
    repetition: 1,
    classifier: 1,
  },
  tool: {
    instruction_override: 1.3,
    roleplay_jailbreak: 1,
    prompt_exfiltration: 1.2,
    delimiter_injection: 1.3,
    hidden_unicode: 1.3,
    encoded_payload: 1.2,
    repetition: 0.8,
    // Trained on user prompts; documents and tool data legitimately discuss anything.
    classifier: 0.6,
  },
  system: {
    instruction_override: 0.5,
    roleplay_jailbreak: 0.3,
    prompt_exfiltration: 0.3,
    delimiter_injection: 0.6,
    hidden_unicode: 1,
    encoded_payload: 1,
    repetition: 0.5,
    classifier: 0.3,
  },
  assistant: {
    instruction_override: 0.5,
    roleplay_jailbreak: 0.5,
    prompt_exfiltration: 0.5,
    delimiter_injection: 0.5,
    hidden_unicode: 1,
    encoded_payload: 0.5,
    repetition: 0.5,
    classifier: 0.3,
  },
};

const MAX_SCORE = 0.99;
const MAX_COUNT_MATCHES = 64;

// Latin look-alikes from Cyrillic and Greek, folded in the `norm` view only.
const CONFUSABLES: Record<string, string> = {
  а: 'a',
  е: 'e',
  о: 'o',
  р: 'p',
  с: 'c',
  у: 'y',
  х: 'x',
  і: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  ɡ: 'g',
  һ: 'h',
  ο: 'o',
  α: 'a',
  ε: 'e',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  τ: 't',
  υ: 'u',
  ρ: 'p',
};
const CONFUSABLE_RE = /[аеорсухіјѕԁɡһοαειкντυρκ]/g;

/** The `norm` view: NFKC, lower case, straight quotes, folded confusables, single spaces. */
export function normalizeForRules(s: string): string {
  let t = s.normalize('NFKC').toLowerCase();
  t = t
    .replace(/[\u2018\u2019\u201A\u201B\u2032\u02BC]/g, "'")
    .replace(/[\u201C\u201D\u201E\u201F\u2033\u00AB\u00BB]/g, '"')
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/[\u2026]/g, '...');
  t = t.replace(CONFUSABLE_RE, (c) => CONFUSABLES[c] ?? c);
  return t.replace(/\s+/g, ' ');
}

function combine(scores: Iterable<number>): number {
  let keep = 1;
  for (const s of scores) keep *= 1 - Math.min(MAX_SCORE, Math.max(0, s));
  return 1 - keep;
}

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = Math.floor((max * 3) / 4);
  const tail = max - head;
  return `${text.slice(0, head)}\n${text.slice(text.length - tail)}`;
}

type Sink = Map<string, Finding>;

function put(sink: Sink, f: Finding): void {
  const prev = sink.get(f.rule);
  if (!prev || prev.score < f.score) sink.set(f.rule, f);
}

function ruleScore(rule: PhraseRule, source: MessageSource, hay: string): number {
  const base = source === 'tool' && rule.toolScore !== undefined ? rule.toolScore : rule.score;
  if (!rule.count) return rule.re.test(hay) ? base : 0;
  rule.re.lastIndex = 0;
  const seen = new Set<string>();
  let m: RegExpExecArray | null;
  let n = 0;
  while ((m = rule.re.exec(hay)) !== null && n < MAX_COUNT_MATCHES) {
    n++;
    seen.add(m[0]);
    if (m[0].length === 0) rule.re.lastIndex++;
  }
  rule.re.lastIndex = 0;
  if (seen.size === 0) return 0;
  return Math.min(rule.count.max, base + rule.count.perExtra * (seen.size - 1));
}

export function compileInjectionDetector(cfg: InjectionConfig): InjectionDetector {
  const threshold = cfg.threshold ?? DEFAULT_THRESHOLD;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold <= 0 || threshold > 1) {
    throw badRequest('CONFIG_INVALID', 'injection threshold must be a number in (0, 1]');
  }
  const maxScanChars = cfg.maxScanChars ?? DEFAULT_MAX_SCAN_CHARS;
  if (!Number.isInteger(maxScanChars) || maxScanChars < 1024 || maxScanChars > 4 * 1024 * 1024) {
    throw badRequest('CONFIG_INVALID', 'maxScanChars must be an integer between 1024 and 4194304');
  }
  const families = cfg.families ?? {};
  for (const k of Object.keys(families)) {
    if (!(RULE_FAMILIES as readonly string[]).includes(k)) {
      throw badRequest('CONFIG_INVALID', `unknown rule family '${k}'`);
    }
  }
  const on = (f: RuleFamily): boolean => families[f] !== false;
  const rules = PHRASE_RULES.filter((r) => on(r.family));
  let model: InjectionModelLike | null = null;
  if (on('classifier')) {
    try {
      model = cfg.classifier === undefined ? loadInjectionModel() : cfg.classifier;
    } catch (err) {
      throw badRequest('CONFIG_INVALID', `injection classifier unavailable: ${(err as Error).message}`);
    }
  }

  /** Phrase rules over one text; `depth` > 0 means decoded content (no further decoding there). */
  function phraseScan(raw: string, norm: string, source: MessageSource, sink: Sink): void {
    for (const r of rules) {
      const s = ruleScore(r, source, r.view === 'raw' ? raw : norm);
      if (s > 0) put(sink, { rule: r.id, family: r.family, score: s });
    }
  }

  /** Score of a decoded/hidden payload: phrase rules only. */
  function payloadScore(payload: string, source: MessageSource): number {
    const sink: Sink = new Map();
    const clean = sanitizeHidden(payload).text;
    phraseScan(clean, normalizeForRules(clean), source, sink);
    return combine([...sink.values()].map((f) => f.score));
  }

  /** Rule findings (unweighted) of a text, and the sanitized clipped text they were found in. */
  function ruleScan(input: string, src: MessageSource): { raw: string; sink: Sink; stats?: RepetitionStats } {
    const text = typeof input === 'string' ? clip(input, maxScanChars) : '';
    const sink: Sink = new Map();

    const hidden = hiddenStats(text);
    const raw = sanitizeHidden(text).text;
    const norm = normalizeForRules(raw);
    phraseScan(raw, norm, src, sink);

    if (on('hidden_unicode')) {
      if (hidden.tagChars >= 3) {
        put(sink, { rule: 'unicode.tag_characters', family: 'hidden_unicode', score: 0.5 });
        if (hidden.tagPayload.length >= 4) {
          const s = payloadScore(hidden.tagPayload, src);
          if (s > 0)
            put(sink, {
              rule: 'unicode.tag_instruction',
              family: 'hidden_unicode',
              score: Math.min(0.95, 0.3 + s),
            });
        }
      }
      if (hidden.zeroWidthInWord >= 2) {
        put(sink, {
          rule: 'unicode.zero_width_in_words',
          family: 'hidden_unicode',
          score: Math.min(0.45, 0.2 + 0.05 * (hidden.zeroWidthInWord - 2)),
        });
      }
      if (hidden.bidiControls >= 1) {
        put(sink, {
          rule: 'unicode.bidi_control',
          family: 'hidden_unicode',
          score: hidden.bidiControls >= 3 ? 0.35 : 0.25,
        });
      }
      // Trigger words that only appear once invisible characters are removed: deliberate obfuscation.
      if (hidden.zeroWidthInWord >= 1 && [...sink.values()].some((f) => f.family !== 'hidden_unicode')) {
        put(sink, { rule: 'unicode.obfuscated_trigger', family: 'hidden_unicode', score: 0.35 });
      }
    }

    if (on('encoded_payload')) {
      for (const c of decodeCandidates(raw)) {
        const s = payloadScore(c.text, src);
        if (s > 0) {
          put(sink, {
            rule: `encoded.${c.kind}_instruction`,
            family: 'encoded_payload',
            score: Math.min(0.95, 0.25 + s),
          });
        }
      }
      const r13 = rot13(norm);
      if (ROT13_MARKERS.test(r13)) {
        const s = payloadScore(r13, src);
        if (s > 0)
          put(sink, {
            rule: 'encoded.rot13_instruction',
            family: 'encoded_payload',
            score: Math.min(0.95, 0.25 + s),
          });
      }
    }

    let stats: RepetitionStats | undefined;
    if (on('repetition')) {
      const st = (stats = repetitionStats(raw));
      if (st.maxTokenRun >= 40 || st.maxPhraseRun >= 25) {
        put(sink, {
          rule: 'repetition.token_flood',
          family: 'repetition',
          score: st.maxTokenRun >= 200 || st.maxPhraseRun >= 100 ? 0.5 : 0.35,
        });
      }
      if (st.uniqueRatio < 0.1) {
        put(sink, { rule: 'repetition.low_diversity', family: 'repetition', score: 0.4 });
      }
      if (st.maxCharRun >= 400) {
        put(sink, { rule: 'repetition.char_flood', family: 'repetition', score: 0.3 });
      }
      if (!st.codeLike && st.oddWindowMax >= 3) {
        const s = st.oddWindowMax >= 6 ? 0.45 : st.oddWindowMax >= 4 ? 0.3 : 0.2;
        put(sink, { rule: 'repetition.adversarial_suffix', family: 'repetition', score: s });
      }
    }

    return { raw, sink, stats };
  }

  function weighed(sink: Sink, src: MessageSource): { findings: Finding[]; score: number } {
    const weights = SOURCE_WEIGHT[src];
    const findings: Finding[] = [];
    for (const f of sink.values()) {
      if (!on(f.family)) continue;
      const score = Math.round(Math.min(MAX_SCORE, f.score * weights[f.family]) * 1000) / 1000;
      if (score > 0) findings.push({ rule: f.rule, family: f.family, score });
    }
    findings.sort((a, b) => b.score - a.score || (a.rule < b.rule ? -1 : 1));
    // Rules combine by noisy-OR; the classifier already weighs the rule findings (they are among its features),
    // so it joins by max instead of counting the same evidence twice.
    const rules = combine(findings.filter((f) => f.family !== 'classifier').map((f) => f.score));
    const learned = findings.find((f) => f.family === 'classifier')?.score ?? 0;
    return { findings, score: Math.round(Math.max(rules, learned) * 1000) / 1000 };
  }

  /** The classifier sees the rule findings as if the text were a user prompt, whatever its source. */
  function classifierInput(input: string): ClassifierInput {
    const { raw, sink, stats } = ruleScan(input, 'user');
    return { text: clip(raw, CLASSIFIER_MAX_CHARS), ...weighed(sink, 'user'), stats };
  }

  function scan(input: string, source: MessageSource): ScanResult {
    const src: MessageSource = source in SOURCE_WEIGHT ? source : 'user';
    const { raw, sink, stats } = ruleScan(input, src);
    if (model) {
      // The same input as in training: rule findings as for a user prompt, clipped text, the rules' text stats.
      // Unweighted findings differ by source only through tool scores, so only tool text is scanned again.
      const asUser = src !== 'tool' ? { sink, stats } : ruleScan(input, 'user');
      const u = weighed(asUser.sink, 'user');
      const p = model.scoreText(clip(raw, CLASSIFIER_MAX_CHARS), u.findings, u.score, asUser.stats);
      // Scores under 0.01 are noise; keeping them out keeps findings short.
      if (p >= 0.01) put(sink, { rule: 'classifier.injection', family: 'classifier', score: p });
    }
    const { findings, score } = weighed(sink, src);
    return { score, findings, blocked: score >= threshold };
  }

  return {
    classifierInput,
    scan(text: string, source: MessageSource): ScanResult {
      try {
        return scan(text, source);
      } catch {
        // Defensive: a scan must never throw into the request path. Fail closed on internal errors.
        return {
          score: 1,
          findings: [{ rule: 'internal.scan_error', family: 'repetition', score: 1 }],
          blocked: true,
        };
      }
    },
  };
}

export { sanitizeHidden, DEFAULT_THRESHOLD };
export { compilePatternGuard, unsafePatternReason } from './pattern-guard';
export type { PatternGuard, PatternGuardConfig, PatternGuardResult } from './pattern-guard';
export { loadInjectionModel } from './classifier';
export type {
  ClassifierInput,
  Finding,
  InjectionConfig,
  InjectionDetector,
  MessageSource,
  RuleFamily,
  ScanResult,
} from './types';
