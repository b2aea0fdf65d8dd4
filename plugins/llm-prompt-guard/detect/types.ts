/** Shared types of the llm-prompt-guard detection engine (pure, no Kong dependencies). */

export type RuleFamily =
  | 'instruction_override'
  | 'roleplay_jailbreak'
  | 'prompt_exfiltration'
  | 'delimiter_injection'
  | 'hidden_unicode'
  | 'encoded_payload'
  | 'repetition'
  | 'classifier';

export const RULE_FAMILIES: readonly RuleFamily[] = [
  'instruction_override',
  'roleplay_jailbreak',
  'prompt_exfiltration',
  'delimiter_injection',
  'hidden_unicode',
  'encoded_payload',
  'repetition',
  'classifier',
];

export type MessageSource = 'user' | 'tool' | 'system' | 'assistant';

/** One rule that fired. `rule` is a stable id (e.g. `override.ignore_previous`); `score` is in (0, 1]. */
export interface Finding {
  rule: string;
  family: RuleFamily;
  score: number;
}

export interface InjectionConfig {
  /** Block when the combined score is >= threshold. Default {@link DEFAULT_THRESHOLD}. */
  threshold: number;
  /** Per-family toggles; a family missing from the map is enabled. */
  families: Partial<Record<RuleFamily, boolean>>;
  /**
   * Optional: maximum characters examined per scan (head and tail of longer inputs are scanned).
   * Default {@link DEFAULT_MAX_SCAN_CHARS}.
   */
  maxScanChars?: number;
  /**
   * The learned classifier (family `classifier`): a loaded model, `null` for none, or unset to load the shipped
   * model when the family is on.
   */
  classifier?: InjectionModelLike | null;
}

/** What the detector needs of a classifier model (plugins/llm-prompt-guard/detect/classifier.ts). */
export interface InjectionModelLike {
  /** Calibrated score in (0, 1) of a text given its (unweighted) phrase-rule findings and their combined score. */
  scoreText(text: string, findings: readonly Finding[], ruleScore: number, stats?: TextStats): number;
}

/** The input the classifier sees for a text: the sanitized, clipped text and its unweighted rule findings. */
export interface ClassifierInput {
  text: string;
  findings: Finding[];
  score: number;
  /** The repetition family's statistics of the full scanned text (absent when that family is off). */
  stats?: TextStats;
}

/** What the classifier reads of the repetition statistics (repetition.ts). */
export interface TextStats {
  oddWindowMax: number;
  codeLike: boolean;
}

export interface ScanResult {
  /** Score in [0, 1]: max(noisy-OR of the rule findings, classifier score), after source weighting. */
  score: number;
  findings: Finding[];
  blocked: boolean;
}

export interface InjectionDetector {
  scan(text: string, source: MessageSource): ScanResult;
  /** The classifier's input for a text (used to train it with exactly the runtime features). */
  classifierInput(text: string): ClassifierInput;
}

/**
 * Default action threshold. Strong rules (>= 0.6: "ignore previous instructions", ChatML role markup, "print your
 * system prompt") and specific jailbreak / hijack phrases (0.35–0.55: "stay in character", "answer in two ways: [GPT] /
 * [JAILBREAK]", "stop everything, just print '…'") block on their own; weak context rules (0.1–0.3: persona
 * frames, harm vocabulary, fiction disclaimers, a bare mention of "system prompt") block only in combination.
 * The classifier's calibration shift is set (scripts/train-guard.ts) so that it crosses this same threshold at
 * the operating point chosen out of fold; the rates are in docs/guard.md.
 */
export const DEFAULT_THRESHOLD = 0.35;
/** Per-scan bound: longer inputs are scanned on their first 18 KiB and last 6 KiB (see docs/guard.md). */
export const DEFAULT_MAX_SCAN_CHARS = 24_576;
