/**
 * llm-pii-redaction configuration. Names follow Kong Enterprise's ai-sanitizer where the concept
 * matches (`anonymize[]`, `custom_patterns[]{name, regex, score}`, `redact_type`, `recover_redacted`,
 * `block_if_detected`); additions: per-category `actions`, the `mask`/`hash` replacement styles,
 * `roles`, `locations`, `fault_tolerant` (Kong's `stop_on_error` inverted) and `pass_through_other`.
 */
import type { KongField } from '../../lib/schema/kong-schema';
import type { Action, PiiCategory } from './redact';

/** Config names of single categories (Kong's names where Kong has the concept) → engine category. */
export const CATEGORY_OF = {
  email: 'email',
  phone: 'phone',
  creditcard: 'credit_card',
  bank: 'iban',
  ssn: 'ssn',
  ip: 'ip',
  url: 'url',
  domain: 'domain',
  crypto: 'crypto',
  date: 'date_of_birth',
  passport: 'passport',
  driverlicense: 'driver_license',
  nationalid: 'national_id',
  credentials: 'credential',
  person: 'person',
  address: 'address',
  custom: 'custom',
} as const satisfies Record<string, PiiCategory>;

export type CategoryName = keyof typeof CATEGORY_OF;
export const CATEGORY_NAMES = Object.keys(CATEGORY_OF) as CategoryName[];

/** Engine category → config name (the name used in responses, logs, metrics and `ai.pii.counts`). */
export const NAME_OF: Record<PiiCategory, CategoryName> = Object.fromEntries(
  Object.entries(CATEGORY_OF).map(([name, cat]) => [cat, name]),
) as Record<PiiCategory, CategoryName>;

/** Group names accepted in `anonymize` (Kong's). */
export const GROUPS = {
  all: CATEGORY_NAMES.filter((n) => n !== 'credentials'),
  all_and_credentials: CATEGORY_NAMES,
  general: ['person', 'address'],
} as const satisfies Record<string, readonly CategoryName[]>;

export const ANONYMIZE = [...Object.keys(GROUPS), ...CATEGORY_NAMES] as readonly string[];
export const REDACT_TYPES = ['placeholder', 'synthetic', 'mask', 'hash'] as const;
export type RedactType = (typeof REDACT_TYPES)[number];
export const ACTIONS = [
  'placeholder',
  'mask',
  'synthetic',
  'hash',
  'block',
] as const satisfies readonly Action[];
export const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;
/** Where texts live (lib/openai/walk.ts locations, grouped). */
export const LOCATIONS = ['messages', 'tool_arguments', 'tool_results', 'prompt', 'input'] as const;
export type LocationName = (typeof LOCATIONS)[number];

export interface CustomPattern {
  name: string;
  regex: string;
  score: number;
}

export interface PiiRedactionConfig {
  anonymize: string[];
  custom_patterns: CustomPattern[] | null;
  redact_type: RedactType;
  actions: Record<string, Action> | null;
  block_if_detected: boolean;
  recover_redacted: boolean;
  roles: string[];
  locations: LocationName[];
  hash_secret: string | null;
  mask_keep: number;
  pass_through_other: boolean;
  max_request_body_size: number;
  fault_tolerant: boolean;
}

export const Schema: KongField[] = [
  {
    anonymize: {
      type: 'array',
      default: ['all_and_credentials'],
      len_min: 1,
      elements: { type: 'string', one_of: ANONYMIZE },
      description:
        'PII categories to detect. Groups: all (everything but credentials), all_and_credentials, general (person + address). Categories: email, phone, creditcard, bank (IBAN), ssn, ip, url, domain, crypto, date (date of birth), passport, driverlicense, nationalid, credentials (API keys, tokens, passwords), person, address, custom.',
    },
  },
  {
    custom_patterns: {
      type: 'array',
      description:
        'Extra regular expressions (JavaScript syntax) detected as category custom; the placeholder label is the upper-cased name (<EMPLOYEE_ID_1>). Unsafe patterns (backreferences, nested quantifiers, slow on adversarial input) are rejected. Applied whenever present.',
      elements: {
        type: 'record',
        fields: [
          {
            name: {
              type: 'string',
              required: true,
              description: 'Unique name: a letter, then letters, digits, "_" or "-" (at most 48).',
            },
          },
          { regex: { type: 'string', required: true, description: 'The pattern (at most 512 characters).' } },
          {
            score: {
              type: 'number',
              default: 0.5,
              between: [0, 1],
              description:
                'Accepted for Kong ai-sanitizer compatibility and ignored: custom matches always win overlaps with built-in detections.',
            },
          },
        ],
      },
    },
  },
  {
    redact_type: {
      type: 'string',
      default: 'placeholder',
      one_of: REDACT_TYPES,
      description:
        'Default replacement: placeholder (<EMAIL_1>, stable per value within a request, restorable), synthetic (a fake of the same kind), mask (letters and digits become *), hash (<EMAIL_ + keyed HMAC prefix>, stable across requests; needs hash_secret).',
    },
  },
  {
    actions: {
      type: 'map',
      keys: { type: 'string', one_of: CATEGORY_NAMES },
      values: { type: 'string', one_of: ACTIONS },
      description:
        'Per-category override of redact_type, e.g. {"creditcard": "mask", "ssn": "block"}. block answers 400 PII_BLOCKED when that category is found.',
    },
  },
  {
    block_if_detected: {
      type: 'boolean',
      default: false,
      description:
        'Reject any request in which PII is found with 400 PII_BLOCKED (categories and counts, never values).',
    },
  },
  {
    recover_redacted: {
      type: 'boolean',
      default: true,
      description:
        'Put the placeholder → original map into kong.ctx.shared so llm-response-tap restores the originals in the answer (JSON and streamed). Only placeholders are restorable.',
    },
  },
  {
    roles: {
      type: 'array',
      default: [...ROLES],
      len_min: 1,
      elements: { type: 'string' },
      description:
        'Message roles whose texts are scanned. Texts without a role (prompt, input, Responses items) are always scanned.',
    },
  },
  {
    locations: {
      type: 'array',
      default: [...LOCATIONS],
      len_min: 1,
      elements: { type: 'string', one_of: LOCATIONS },
      description:
        'Where texts are scanned: messages (string content and text parts), tool_arguments (string values inside tool-call JSON arguments), tool_results (tool/function messages, Responses function_call_output), prompt (legacy completions), input (embeddings and Responses string input).',
    },
  },
  {
    hash_secret: {
      type: 'string',
      referenceable: true,
      encrypted: true,
      description: 'HMAC key of the hash action (at least 16 characters); use a vault reference.',
    },
  },
  {
    mask_keep: {
      type: 'integer',
      default: 4,
      between: [0, 8],
      description:
        'Trailing characters the mask action keeps for numeric identifiers (card, IBAN, phone, SSN, ID numbers).',
    },
  },
  {
    pass_through_other: {
      type: 'boolean',
      default: true,
      description:
        'Requests that are not an LLM API call (no JSON body on a non-LLM path, e.g. GET /v1/models) pass unscanned; false answers them 400 BODY_SHAPE.',
    },
  },
  {
    max_request_body_size: {
      type: 'integer',
      default: 8388608,
      gt: 0,
      description: 'Largest request body accepted, in bytes (413 BODY_TOO_LARGE above).',
    },
  },
  {
    fault_tolerant: {
      type: 'boolean',
      default: false,
      description:
        'On an internal failure: false answers 500 PII_FAILURE and nothing is forwarded (fail closed); true forwards the request UNREDACTED (fail open; counted in ai_llm_fail_open_total).',
    },
  },
];

/** Engine categories selected by `anonymize` (groups expanded). */
export function categoriesOf(anonymize: readonly string[]): PiiCategory[] {
  const out = new Set<PiiCategory>();
  for (const a of anonymize) {
    const group = (GROUPS as Record<string, readonly CategoryName[]>)[a];
    for (const n of group ?? [a as CategoryName]) {
      const cat = CATEGORY_OF[n];
      if (cat) out.add(cat);
    }
  }
  return [...out];
}

/** The engine's action table: the default from redact_type, overrides from actions. */
export function actionTable(
  c: PiiRedactionConfig,
): Partial<Record<PiiCategory, Action>> & { default: Action } {
  const table: Partial<Record<PiiCategory, Action>> & { default: Action } = { default: c.redact_type };
  for (const [name, action] of Object.entries(c.actions ?? {})) {
    const cat = (CATEGORY_OF as Record<string, PiiCategory>)[name];
    if (cat) table[cat] = action;
  }
  return table;
}

/** Cross-field rules Kong's DSL cannot express for external plugins. Messages never contain input text. */
export function checkConfig(c: PiiRedactionConfig): string[] {
  const problems: string[] = [];
  const anonymize = Array.isArray(c.anonymize) ? c.anonymize : [];
  if (!anonymize.length) problems.push('anonymize must list at least one category');
  for (const a of anonymize)
    if (!ANONYMIZE.includes(a)) problems.push(`anonymize: unknown category ${JSON.stringify(a)}`);
  if (!(REDACT_TYPES as readonly string[]).includes(c.redact_type))
    problems.push(`redact_type must be one of ${REDACT_TYPES.join(', ')}`);
  for (const [name, action] of Object.entries(c.actions ?? {})) {
    if (!(name in CATEGORY_OF)) problems.push(`actions: unknown category ${JSON.stringify(name)}`);
    if (!(ACTIONS as readonly string[]).includes(action))
      problems.push(`actions.${name} must be one of ${ACTIONS.join(', ')}`);
  }
  const usesHash = c.redact_type === 'hash' || Object.values(c.actions ?? {}).includes('hash');
  if (usesHash && (typeof c.hash_secret !== 'string' || c.hash_secret.length < 16))
    problems.push('the hash action needs hash_secret of at least 16 characters');
  if (!Array.isArray(c.roles) || !c.roles.length) problems.push('roles must list at least one role');
  if (!Array.isArray(c.locations) || !c.locations.length)
    problems.push('locations must list at least one location');
  for (const l of c.locations ?? [])
    if (!(LOCATIONS as readonly string[]).includes(l))
      problems.push(`locations: unknown location ${JSON.stringify(l)}`);
  if (!Number.isInteger(c.mask_keep) || c.mask_keep < 0 || c.mask_keep > 8)
    problems.push('mask_keep must be 0..8');
  if (!Number.isInteger(c.max_request_body_size) || c.max_request_body_size <= 0)
    problems.push('max_request_body_size must be a positive integer');
  return problems;
}
