/**
 * llm-prompt-guard configuration. Top-level pattern fields are Kong OSS `ai-prompt-guard`'s
 * (`allow_patterns`, `deny_patterns`, `allow_all_conversation_history`, `match_all_roles`,
 * `max_request_body_size`); the denied-topics part uses Kong EE `ai-semantic-prompt-guard`'s names
 * (`rules.allow_prompts/deny_prompts/match_all_conversation_history/match_all_roles`, `search.threshold`,
 * `embeddings{model{provider,name,options},auth}`); `injection` is this suite's own detector.
 */
import type { KongField } from '../../lib/schema/kong-schema';
import { EMBEDDING_PROVIDERS, embeddingsField, type EmbeddingsConfig } from '../../lib/schema/embeddings';
import { RULE_FAMILIES, DEFAULT_THRESHOLD, DEFAULT_MAX_SCAN_CHARS, type RuleFamily } from './detect/types';
import { DEFAULT_PATTERN_MAX_SCAN_CHARS } from './detect/pattern-guard';

export const ACTIONS = ['block', 'flag', 'sanitize'] as const;
export type GuardAction = (typeof ACTIONS)[number];
export const SCAN_ROLES = ['user', 'tool', 'system', 'assistant'] as const;
export type ScanRole = (typeof SCAN_ROLES)[number];
export const OPERATIONS = ['chat', 'completions', 'responses', 'embeddings'] as const;
export type GuardOperation = (typeof OPERATIONS)[number];

/** Topic similarity threshold used when `search.threshold` is unset, per embeddings provider. */
export const DEFAULT_TOPIC_THRESHOLD: Record<(typeof EMBEDDING_PROVIDERS)[number], number> = {
  // Measured with the builtin embedder: on-topic prompts vs short topic descriptions 0.28–0.36,
  // unrelated prompts ≤ 0.15 (docs/plugins/llm-prompt-guard.md).
  builtin: 0.25,
  // Kong EE's default; calibrate for the model you use.
  openai: 0.5,
  transformers: 0.5,
};

export interface PromptGuardConfig {
  allow_patterns: string[] | null;
  deny_patterns: string[] | null;
  allow_all_conversation_history: boolean;
  match_all_roles: boolean;
  max_request_body_size: number;
  max_pattern_scan_chars: number;
  injection: {
    enabled: boolean;
    threshold: number;
    families: Record<RuleFamily, boolean>;
    roles: ScanRole[];
    max_scan_chars: number;
    model_path: string | null;
  };
  rules: {
    allow_prompts: string[] | null;
    deny_prompts: string[] | null;
    match_all_conversation_history: boolean;
    match_all_roles: boolean;
  };
  search: { threshold: number | null };
  embeddings: EmbeddingsConfig;
  action: GuardAction;
  flag_header: string;
  operations: GuardOperation[];
  fault_tolerant: boolean;
  log_verdicts: 'all' | 'non_allow' | 'none';
}

const FAMILY_HELP: Record<RuleFamily, string> = {
  instruction_override:
    '"ignore previous instructions", "forget everything", new-instructions and hijack phrases (several languages).',
  roleplay_jailbreak:
    'DAN / mode switches, "no restrictions" personas, stay-in-character, dual responses, policy evasion.',
  prompt_exfiltration:
    'requests for the system prompt or initial instructions, secrets, data-exfiltration links.',
  delimiter_injection:
    'chat-template tokens (<|im_start|>, [INST]), fake role headers and turns, closing tags.',
  hidden_unicode:
    'Unicode tag characters (and the text they hide), zero-width characters inside words, bidi controls.',
  encoded_payload: 'base64 / hex / rot13 payloads that decode to instructions, "decode and follow" requests.',
  repetition: 'token and character floods, low-diversity text, GCG-style adversarial suffixes.',
  classifier:
    'learned classifier (words, word pairs, word vectors, the rule findings, text shape) for jailbreaks without injection wording: persuasion and role-play around a harmful request, optimiser suffixes.',
};

const stringList = (description: string): KongField[string] => ({
  type: 'array',
  elements: { type: 'string', len_min: 1, len_max: 500 },
  description,
});

export const Schema: KongField[] = [
  {
    allow_patterns: {
      ...stringList(
        'Kong ai-prompt-guard: regular expressions (JavaScript syntax; a leading (?i) is accepted). When set, the checked prompt must match at least one. Up to 10 patterns of 1..500 characters.',
      ),
      len_max: 10,
    },
  },
  {
    deny_patterns: {
      ...stringList(
        'Kong ai-prompt-guard: regular expressions; a prompt matching any of them is refused. Checked before allow_patterns. Patterns prone to catastrophic backtracking are rejected.',
      ),
      len_max: 10,
    },
  },
  {
    allow_all_conversation_history: {
      type: 'boolean',
      default: false,
      description:
        'Kong ai-prompt-guard: true checks only the newest user message against the patterns; false checks every user message of the conversation.',
    },
  },
  {
    match_all_roles: {
      type: 'boolean',
      default: false,
      description:
        'Kong ai-prompt-guard: check messages of every role (system, assistant, tool), not only user messages. Requires allow_all_conversation_history false.',
    },
  },
  {
    max_request_body_size: {
      type: 'integer',
      default: 8388608,
      gt: 0,
      description:
        'Largest request body inspected, in bytes; larger bodies are refused with 413 BODY_TOO_LARGE (never passed unchecked).',
    },
  },
  {
    max_pattern_scan_chars: {
      type: 'integer',
      default: DEFAULT_PATTERN_MAX_SCAN_CHARS,
      between: [1024, 1048576],
      description:
        'Characters of collected prompt text the patterns run on; a longer prompt is refused with 413 when patterns are configured (bounds regex backtracking time). Kong OSS default body limit is 8 KiB.',
    },
  },
  {
    injection: {
      type: 'record',
      description:
        'Offline prompt-injection detector: scored rule families plus a learned classifier, combined into one score (see docs/guard.md).',
      fields: [
        { enabled: { type: 'boolean', default: true, description: 'Run the injection detector.' } },
        {
          threshold: {
            type: 'number',
            default: DEFAULT_THRESHOLD,
            between: [0.01, 1],
            description:
              'A text triggers when its score (max of the rules and the classifier) is at least this. 0.35: 0.91 TPR at 1.35 % FPR (dev set, cross-validated); 0.5: 0.87 TPR at 0.7 % FPR; see docs/guard.md.',
          },
        },
        {
          families: {
            type: 'record',
            description: 'Rule families on/off.',
            fields: RULE_FAMILIES.map((f) => ({
              [f]: { type: 'boolean' as const, default: true, description: FAMILY_HELP[f] },
            })),
          },
        },
        {
          roles: {
            type: 'array',
            default: ['user', 'tool'],
            elements: { type: 'string', one_of: [...SCAN_ROLES] },
            description:
              'Which texts are scanned: user (messages, content parts, prompts, inputs), tool (tool/function results: indirect injection, weighted up), system and assistant (weighted down: personas are legitimate there; assistant includes tool-call arguments).',
          },
        },
        {
          model_path: {
            type: 'string',
            required: false,
            description:
              'Classifier model file on the Kong node (built with scripts/train-guard.ts from your own labelled prompts); unset: the shipped model.',
          },
        },
        {
          max_scan_chars: {
            type: 'integer',
            default: DEFAULT_MAX_SCAN_CHARS,
            between: [1024, 4194304],
            description:
              'Per-text bound: longer texts are scanned on their first 3/4 and last 1/4 of this many characters.',
          },
        },
      ],
    },
  },
  {
    rules: {
      type: 'record',
      description:
        'Kong ai-semantic-prompt-guard: denied (and allowed) topics, compared by embedding similarity.',
      fields: [
        {
          allow_prompts: {
            ...stringList(
              'Allowed topics as short descriptions; when set, every checked message must be similar to at least one.',
            ),
            len_max: 100,
          },
        },
        {
          deny_prompts: {
            ...stringList(
              'Denied topics as short descriptions (e.g. "investment advice and stock picks"); a checked message (or a ~400-character window of it) similar to one triggers.',
            ),
            len_max: 100,
          },
        },
        {
          match_all_conversation_history: {
            type: 'boolean',
            default: false,
            description:
              'false: only the newest checked message; true: every checked message of the conversation.',
          },
        },
        {
          match_all_roles: {
            type: 'boolean',
            default: false,
            description: 'Check messages of every role, not only user messages.',
          },
        },
      ],
    },
  },
  {
    search: {
      type: 'record',
      description: 'Kong ai-semantic-prompt-guard: similarity search settings.',
      fields: [
        {
          threshold: {
            type: 'number',
            between: [0, 1],
            description:
              'Cosine similarity at or above which a message matches a topic. Unset: 0.25 for the builtin embedder, 0.5 (Kong default) otherwise.',
          },
        },
      ],
    },
  },
  embeddingsField(
    'Embedding model for topics (Kong EE `embeddings` shape). Topics are embedded once per plugin instance.',
  ),
  {
    action: {
      type: 'string',
      default: 'block',
      one_of: [...ACTIONS],
      description:
        'block: refuse with 400 PROMPT_BLOCKED and a generic "bad request"; flag: let the request pass with the flag header, a log line and a metric; sanitize: strip hidden characters (tag, zero-width, bidi) from every text and rewrite the body, then block whatever still triggers.',
    },
  },
  {
    flag_header: {
      type: 'string',
      default: 'X-LLM-Guard',
      description: 'Response header set to `flagged` (action flag) or `sanitized` (action sanitize).',
    },
  },
  {
    operations: {
      type: 'array',
      default: ['chat', 'completions', 'responses'],
      elements: { type: 'string', one_of: [...OPERATIONS] },
      description: 'API operations that are checked; other requests pass unchecked.',
    },
  },
  {
    fault_tolerant: {
      type: 'boolean',
      default: false,
      description:
        'On an internal failure (e.g. the embeddings API is down): false refuses with 503 GUARD_FAILURE (fail closed); true skips the failed check, still applies the others, and counts a fail-open metric.',
    },
  },
  {
    log_verdicts: {
      type: 'string',
      default: 'non_allow',
      one_of: ['all', 'non_allow', 'none'],
      description: 'Which verdicts are logged (action, score, rule ids; never prompt text).',
    },
  },
];

/** Cross-field rules Kong's DSL cannot express for external plugins. */
export function checkConfig(c: PromptGuardConfig): string[] {
  const problems: string[] = [];
  if (c.match_all_roles && c.allow_all_conversation_history) {
    problems.push('match_all_roles requires allow_all_conversation_history to be false');
  }
  for (const f of ['allow_patterns', 'deny_patterns'] as const) {
    if ((c[f]?.length ?? 0) > 10) problems.push(`${f}: at most 10 patterns`);
  }
  if (!(c.injection.threshold > 0 && c.injection.threshold <= 1))
    problems.push('injection.threshold must be in (0, 1]');
  const t = c.search.threshold;
  if (t !== null && t !== undefined && !(t >= 0 && t <= 1))
    problems.push('search.threshold must be in [0, 1]');
  const m = c.embeddings.model;
  if (hasTopics(c) && m.provider === 'openai') {
    if (!m.options.upstream_url)
      problems.push('embeddings.model.options.upstream_url is required for provider openai');
    if (!m.name) problems.push('embeddings.model.name is required for provider openai');
  }
  if (!c.flag_header || !/^[A-Za-z0-9-]+$/.test(c.flag_header))
    problems.push('flag_header must be a header name');
  const detects =
    (c.allow_patterns?.length ?? 0) + (c.deny_patterns?.length ?? 0) > 0 ||
    c.injection.enabled ||
    hasTopics(c);
  if (!detects) problems.push('nothing to check: configure patterns, topics, or enable injection');
  return problems;
}

/** True when denied or allowed topics are configured. */
export function hasTopics(c: PromptGuardConfig): boolean {
  return (c.rules.deny_prompts?.length ?? 0) + (c.rules.allow_prompts?.length ?? 0) > 0;
}
