/** Shared types of the llm-prompt-guard detection engine (pure, no Kong dependencies). */

export type RuleFamily =
  | 'instruction_override'
  | 'roleplay_jailbreak'
  | 'prompt_exfiltration'
  | 'delimiter_injection'
  | 'hidden_unicode'
  | 'encoded_payload'
  | 'repetition';

export const RULE_FAMILIES: readonly RuleFamily[] = [
  'instruction_override',
  'roleplay_jailbreak',
  'prompt_exfiltration',
  'delimiter_injection',
  'hidden_unicode',
  'encoded_payload',
  'repetition',
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
}

export interface ScanResult {
  /** Combined score in [0, 1] (noisy-OR of the findings after source weighting). */
  score: number;
  findings: Finding[];
  blocked: boolean;
}

export interface InjectionDetector {
  scan(text: string, source: MessageSource): ScanResult;
}

/**
 * Default action threshold. Strong rules (>= 0.6: "ignore previous instructions", ChatML role markup, "print your
 * system prompt") and specific jailbreak / hijack phrases (0.35–0.55: "stay in character", "answer in two ways: [GPT] /
 * [JAILBREAK]", "stop everything, just print '…'") block on their own; weak context rules (0.1–0.3: persona
 * frames, harm vocabulary, fiction disclaimers, a bare mention of "system prompt") block only in combination.
 * Chosen from the sweep in docs/guard.md: FPR well under 1% on the development set, leaving margin for unseen
 * data against the 2% goal.
 */
export const DEFAULT_THRESHOLD = 0.35;
/** Per-scan bound: longer inputs are scanned on their first 18 KiB and last 6 KiB (see docs/guard.md). */
export const DEFAULT_MAX_SCAN_CHARS = 24_576;
