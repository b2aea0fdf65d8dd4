/**
 * llm-token-accounting configuration. Names follow Kong Enterprise's ai-rate-limiting-advanced
 * (`policies[]{match[], limits[]{limit, window_size, tokens_count_strategy}}`, `window_type`,
 * `identifier`, `strategy`, `error_code`, `hide_client_headers`) where the concept matches.
 */
import type { KongField } from '../../lib/schema/kong-schema';
import { redisField, redisProblems, type RedisConfig } from '../../lib/schema/redis';

export const MATCH_TYPES = [
  'consumer',
  'consumer_group',
  'credential',
  'header',
  'route',
  'service',
  'model',
  'path',
  'ip',
] as const;
export type MatchType = (typeof MATCH_TYPES)[number];
export const IDENTIFIERS = [
  'consumer',
  'consumer_group',
  'credential',
  'header',
  'ip',
  'route',
  'service',
  'global',
] as const;
export type Identifier = (typeof IDENTIFIERS)[number];
export const COUNT_STRATEGIES = ['total_tokens', 'prompt_tokens', 'completion_tokens', 'cost'] as const;
export type CountStrategy = (typeof COUNT_STRATEGIES)[number];
export const CALENDAR = ['minute', 'hour', 'day', 'week', 'month'] as const;
export type CalendarPeriod = (typeof CALENDAR)[number];

export interface MatchConfig {
  type: MatchType;
  key: string | null;
  values: string[] | null;
  partition_by: boolean;
}

export interface LimitConfig {
  limit: number;
  window_size: number | null;
  calendar: CalendarPeriod | null;
  tokens_count_strategy: CountStrategy;
}

export interface PolicyConfig {
  name: string;
  match: MatchConfig[];
  limits: LimitConfig[];
  window_type: 'sliding' | 'fixed';
}

export interface PriceConfig {
  input_cost: number;
  output_cost: number;
  cached_input_cost: number | null;
}

export interface TokenAccountingConfig {
  policies: PolicyConfig[];
  identifier: Identifier[];
  header_name: string | null;
  time_zone: string;
  strategy: 'memory' | 'redis';
  redis: RedisConfig;
  fault_tolerant: boolean;
  prices: Record<string, PriceConfig> | null;
  unknown_model: 'reject' | 'default' | 'zero';
  default_prices: PriceConfig;
  default_max_output_tokens: number;
  reservation_ttl: number;
  buffer_non_stream: boolean;
  count_operations: string[];
  pass_through_other: boolean;
  max_request_body_size: number;
  error_code: number;
  error_message: string;
  hide_client_headers: boolean;
  ledger: { enabled: boolean; max_len: number; log: boolean };
}

const priceRecord = (description: string): KongField[string] => ({
  type: 'record',
  description,
  fields: [
    { input_cost: { type: 'number', default: 0, description: 'USD per 1M prompt tokens.' } },
    { output_cost: { type: 'number', default: 0, description: 'USD per 1M completion tokens.' } },
    {
      cached_input_cost: {
        type: 'number',
        description: 'USD per 1M cached prompt tokens (defaults to input_cost when unset).',
      },
    },
  ],
});

export const Schema: KongField[] = [
  {
    policies: {
      type: 'array',
      default: [],
      description:
        'Budgets. Every policy whose `match` entries all match the request is checked; all limits of all matching policies must have room.',
      elements: {
        type: 'record',
        fields: [
          {
            name: {
              type: 'string',
              required: true,
              description: 'Policy name; used in response headers, the ledger and metrics.',
            },
          },
          {
            match: {
              type: 'array',
              default: [],
              description:
                'Conditions (AND). A policy without conditions applies to every request and is partitioned by `identifier`.',
              elements: {
                type: 'record',
                fields: [
                  {
                    type: {
                      type: 'string',
                      required: true,
                      one_of: [...MATCH_TYPES],
                      description: 'What to match on.',
                    },
                  },
                  {
                    key: {
                      type: 'string',
                      description:
                        'consumer: id|username|custom_id (default id); consumer_group: id|name (default name); header: the header name.',
                    },
                  },
                  {
                    values: {
                      type: 'array',
                      elements: { type: 'string' },
                      description: 'Accepted values; unset matches any value that is present.',
                    },
                  },
                  {
                    partition_by: {
                      type: 'boolean',
                      default: false,
                      description: 'Keep a separate budget per distinct value.',
                    },
                  },
                ],
              },
            },
          },
          {
            limits: {
              type: 'array',
              required: true,
              description: 'Limits of this policy.',
              elements: {
                type: 'record',
                fields: [
                  {
                    limit: {
                      type: 'number',
                      required: true,
                      gt: 0,
                      description: 'Maximum tokens (or USD for `cost`) per window.',
                    },
                  },
                  {
                    window_size: {
                      type: 'integer',
                      gt: 0,
                      description: 'Rolling window length in seconds (set this or `calendar`).',
                    },
                  },
                  {
                    calendar: {
                      type: 'string',
                      one_of: [...CALENDAR],
                      description: 'Calendar period in `time_zone` (set this or `window_size`).',
                    },
                  },
                  {
                    tokens_count_strategy: {
                      type: 'string',
                      default: 'total_tokens',
                      one_of: [...COUNT_STRATEGIES],
                      description:
                        'What the limit counts: prompt, completion or total tokens, or cost in USD.',
                    },
                  },
                ],
              },
            },
          },
          {
            window_type: {
              type: 'string',
              default: 'fixed',
              one_of: ['sliding', 'fixed'],
              description:
                'fixed: counters reset at window boundaries; sliding: the previous window counts in proportion to its overlap (window_size limits only).',
            },
          },
        ],
      },
    },
  },
  {
    identifier: {
      type: 'array',
      default: ['consumer'],
      elements: { type: 'string', one_of: [...IDENTIFIERS] },
      description:
        'Who pays: the parts joined into the payer id of the ledger and of policies without conditions. Falls back to the client IP when none is present.',
    },
  },
  {
    header_name: {
      type: 'string',
      description:
        'Header that names the payer when `identifier` contains `header` (client-controlled: use behind key-auth).',
    },
  },
  {
    time_zone: {
      type: 'string',
      default: 'UTC',
      description: 'IANA time zone of calendar windows (e.g. Europe/Berlin).',
    },
  },
  {
    strategy: {
      type: 'string',
      default: 'redis',
      one_of: ['memory', 'redis'],
      description: 'Where budgets live: redis (shared by all Kong nodes) or memory (this node only).',
    },
  },
  redisField,
  {
    fault_tolerant: {
      type: 'boolean',
      default: true,
      description:
        'If the store is unavailable: true serves the request and counts locally (warning once per interval); false answers 503.',
    },
  },
  {
    prices: {
      type: 'map',
      keys: { type: 'string' },
      values: priceRecord('Price override for one model.'),
      description:
        'Price overrides by model name (USD per 1M tokens); win over the built-in catalog and the router decision.',
    },
  },
  {
    unknown_model: {
      type: 'string',
      default: 'default',
      one_of: ['reject', 'default', 'zero'],
      description: 'Model without a known price: reject with 400, use `default_prices`, or cost 0 (logged).',
    },
  },
  { default_prices: priceRecord('Prices used for unknown models when `unknown_model` is `default`.') },
  {
    default_max_output_tokens: {
      type: 'integer',
      default: 4096,
      gt: 0,
      description:
        'Completion tokens reserved when the request sets no max_tokens and the model has no known maximum.',
    },
  },
  {
    reservation_ttl: {
      type: 'integer',
      default: 900,
      gt: 0,
      description:
        'Seconds a reservation holds budget if its request never settles (crash, lost log phase). Keep it above the upstream read timeout.',
    },
  },
  {
    buffer_non_stream: {
      type: 'boolean',
      default: true,
      description:
        'Buffer non-stream responses so exact usage is read from the body when llm-response-tap is not on the route.',
    },
  },
  {
    count_operations: {
      type: 'array',
      default: ['chat', 'completions', 'embeddings', 'responses'],
      elements: { type: 'string', one_of: ['chat', 'completions', 'embeddings', 'responses'] },
      description: 'API operations that are counted and limited.',
    },
  },
  {
    pass_through_other: {
      type: 'boolean',
      default: true,
      description: 'Let requests that are not counted operations pass uncounted (false: 400).',
    },
  },
  {
    max_request_body_size: {
      type: 'integer',
      default: 8388608,
      gt: 0,
      description: 'Largest request body accepted, in bytes (413 above).',
    },
  },
  {
    error_code: {
      type: 'integer',
      default: 429,
      between: [400, 599],
      description: 'Status answered when a budget is exhausted.',
    },
  },
  {
    error_message: {
      type: 'string',
      default: 'AI token budget exceeded',
      description: 'Message answered when a budget is exhausted.',
    },
  },
  {
    hide_client_headers: {
      type: 'boolean',
      default: false,
      description: 'Do not send X-AI-RateLimit-* headers.',
    },
  },
  {
    ledger: {
      type: 'record',
      description: 'Per-request usage records.',
      fields: [
        {
          enabled: {
            type: 'boolean',
            default: true,
            description:
              'Append one record per request to a bounded Redis stream (read by scripts/usage-report).',
          },
        },
        {
          max_len: {
            type: 'integer',
            default: 1000000,
            gt: 0,
            description: 'Approximate maximum records kept in the stream.',
          },
        },
        {
          log: {
            type: 'boolean',
            default: true,
            description: 'Also write each record to the structured log (no prompt text).',
          },
        },
      ],
    },
  },
];

/** Cross-field rules Kong's DSL cannot express for external plugins. */
export function checkConfig(c: TokenAccountingConfig): string[] {
  const problems: string[] = [];
  c.policies.forEach((p, i) => {
    p.limits.forEach((l, j) => {
      const at = `policies[${i}].limits[${j}]`;
      if ((l.window_size === null) === (l.calendar === null))
        problems.push(`${at}: set exactly one of window_size or calendar`);
      if (l.calendar !== null && p.window_type === 'sliding')
        problems.push(`${at}: calendar windows are fixed; use window_type fixed`);
    });
    p.match.forEach((m, j) => {
      if (m.type === 'header' && !m.key)
        problems.push(`policies[${i}].match[${j}]: header matches need key (the header name)`);
    });
  });
  const names = c.policies.map((p) => p.name);
  if (new Set(names).size !== names.length) problems.push('policy names must be unique');
  if (c.identifier.includes('header') && !c.header_name)
    problems.push('identifier "header" needs header_name');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: c.time_zone });
  } catch {
    problems.push(`time_zone ${JSON.stringify(c.time_zone)} is not a valid IANA time zone`);
  }
  // host, or Sentinel, or Cluster: every problem carries a stable [REDIS_…] code
  if (c.strategy === 'redis') problems.push(...redisProblems(c.redis, 'redis'));
  return problems;
}
