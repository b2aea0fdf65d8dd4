/**
 * llm-model-router configuration. Names follow Kong Enterprise's ai-proxy-advanced where the concept
 * matches (`targets[]{model{name, provider, options{upstream_url, input_cost, output_cost}}, auth{header_name,
 * header_value}, weight, description}`, `balancer{algorithm, hash_on_header, latency_strategy,
 * tokens_count_strategy, max_fails, fail_timeout, connect_timeout, read_timeout, write_timeout}`).
 */
import type { KongField, KongFieldDef } from '../../lib/schema/kong-schema';
import { redisField, redisProblems, type RedisConfig } from '../../lib/schema/redis';

export const ALGORITHMS = [
  'round-robin',
  'lowest-latency',
  'lowest-usage',
  'lowest-cost',
  'consistent-hashing',
  'priority',
] as const;
export type Algorithm = (typeof ALGORITHMS)[number];
export const HASH_ON = ['header', 'consumer'] as const;
export const LATENCY_STRATEGIES = ['auto', 'ttft', 'e2e'] as const;
export const USAGE_STRATEGIES = ['total-tokens', 'prompt-tokens', 'completion-tokens'] as const;

export interface TargetConfig {
  name: string;
  model: {
    name: string;
    provider: string;
    options: {
      upstream_url: string;
      input_cost: number | null;
      output_cost: number | null;
      cached_input_cost: number | null;
      max_context: number | null;
    };
  };
  auth: { header_name: string | null; header_value: string | null };
  weight: number;
  priority: number;
  description: string | null;
  tags: string[] | null;
  connect_timeout: number | null;
  write_timeout: number | null;
  read_timeout: number | null;
}

export interface HeaderMatch {
  name: string;
  values: string[] | null;
}

export interface RuleConfig {
  name: string;
  models: string[] | null;
  consumers: string[] | null;
  consumer_groups: string[] | null;
  routes: string[] | null;
  headers: HeaderMatch[] | null;
  min_prompt_tokens: number | null;
  max_prompt_tokens: number | null;
  stream: boolean | null;
  targets: string[];
  algorithm: Algorithm | null;
}

export interface AliasConfig {
  name: string;
  targets: string[];
}

export interface BalancerConfig {
  algorithm: Algorithm;
  hash_on: (typeof HASH_ON)[number];
  hash_on_header: string;
  latency_strategy: (typeof LATENCY_STRATEGIES)[number];
  ewma_alpha: number;
  latency_ttl: number;
  tokens_count_strategy: (typeof USAGE_STRATEGIES)[number];
  usage_window: number;
  expected_output_tokens: number;
  max_fails: number;
  fail_window: number;
  fail_timeout: number;
  failure_statuses: number[];
  max_retry_after: number;
  connect_timeout: number | null;
  write_timeout: number | null;
  read_timeout: number | null;
}

export interface ModelRouterConfig {
  targets: TargetConfig[];
  aliases: AliasConfig[];
  rules: RuleConfig[];
  default_targets: string[] | null;
  unknown_model: 'reject' | 'default';
  balancer: BalancerConfig;
  budget_downgrade: { enabled: boolean; threshold: number; targets: string[] | null };
  stream_include_usage: boolean;
  strip_client_headers: string[];
  response_headers: boolean;
  strategy: 'memory' | 'redis';
  redis: RedisConfig;
  fault_tolerant: boolean;
  max_request_body_size: number;
}

const names = (description: string, required = false): KongFieldDef => ({
  type: 'array',
  elements: { type: 'string' },
  description,
  ...(required ? { required: true } : {}),
});

const timeout = (what: string): KongFieldDef => ({
  type: 'integer',
  between: [1, 2147483646],
  description: `${what} timeout in ms for the upstream call (kong.service.set_timeouts; unset: the service's timeouts).`,
});

export const Schema: KongField[] = [
  {
    targets: {
      type: 'array',
      required: true,
      len_min: 1,
      description: 'OpenAI-compatible upstreams the router chooses from.',
      elements: {
        type: 'record',
        fields: [
          {
            name: {
              type: 'string',
              required: true,
              description: 'Unique target name (X-LLM-Target, metrics, health state).',
            },
          },
          {
            model: {
              type: 'record',
              required: true,
              description: 'The model this target serves and where.',
              fields: [
                {
                  name: {
                    type: 'string',
                    required: true,
                    description: 'Model name written into the upstream request body (`model`).',
                  },
                },
                {
                  provider: {
                    type: 'string',
                    default: 'openai',
                    description:
                      'Provider label for logs, metrics and llm.route (the wire format is always OpenAI-compatible).',
                  },
                },
                {
                  options: {
                    type: 'record',
                    required: true,
                    description: 'Endpoint and prices.',
                    fields: [
                      {
                        upstream_url: {
                          type: 'string',
                          required: true,
                          description:
                            'Base URL of the OpenAI-compatible API: scheme, host, optional port and base path (e.g. https://api.openai.com/v1); the operation path (/chat/completions, /embeddings, …) is appended. A query string is forwarded (e.g. Azure api-version).',
                        },
                      },
                      {
                        input_cost: {
                          type: 'number',
                          description: 'USD per 1M prompt tokens (unset: the built-in price catalog).',
                        },
                      },
                      {
                        output_cost: {
                          type: 'number',
                          description: 'USD per 1M completion tokens (unset: the built-in price catalog).',
                        },
                      },
                      {
                        cached_input_cost: {
                          type: 'number',
                          description: 'USD per 1M cached prompt tokens (unset: catalog, else input_cost).',
                        },
                      },
                      {
                        max_context: {
                          type: 'integer',
                          gt: 0,
                          description:
                            'Context window in tokens; requests whose prompt is larger skip this target.',
                        },
                      },
                    ],
                  },
                },
              ],
            },
          },
          {
            auth: {
              type: 'record',
              description: 'Provider credentials sent upstream (the client credentials are always removed).',
              fields: [
                {
                  header_name: {
                    type: 'string',
                    description: 'Header that carries the provider key, e.g. Authorization or api-key.',
                  },
                },
                {
                  header_value: {
                    type: 'string',
                    referenceable: true,
                    encrypted: true,
                    description:
                      'Header value, e.g. "Bearer {vault://env/OPENAI_KEY}" (Kong resolves vault references) or "env:OPENAI_KEY" (read from the plugin server environment; "env:VAR" may also follow a prefix, e.g. "Bearer env:OPENAI_KEY").',
                  },
                },
              ],
            },
          },
          {
            weight: {
              type: 'integer',
              default: 100,
              between: [1, 65535],
              description:
                'Relative share of traffic (round-robin, consistent-hashing, ties of the other algorithms).',
            },
          },
          {
            priority: {
              type: 'integer',
              default: 0,
              between: [0, 100],
              description:
                'Priority group: 0 is served first; a larger number serves only while every target of the smaller groups is unhealthy or ineligible.',
            },
          },
          { description: { type: 'string', description: 'Free text for operators.' } },
          {
            tags: { type: 'array', elements: { type: 'string' }, description: 'Free labels for operators.' },
          },
          { connect_timeout: timeout('Connect') },
          { write_timeout: timeout('Write') },
          { read_timeout: timeout('Read') },
        ],
      },
    },
  },
  {
    aliases: {
      type: 'array',
      default: [],
      description: 'Model aliases clients may request (e.g. fast, smart) and the targets that serve each.',
      elements: {
        type: 'record',
        fields: [
          {
            name: {
              type: 'string',
              required: true,
              description: 'Alias name as sent in the request `model` field.',
            },
          },
          { targets: names('Target names serving the alias.', true) },
        ],
      },
    },
  },
  {
    rules: {
      type: 'array',
      default: [],
      description:
        'Routing rules evaluated in order; the first rule whose conditions all hold picks the candidate targets. Unset conditions match anything.',
      elements: {
        type: 'record',
        fields: [
          {
            name: {
              type: 'string',
              required: true,
              description: 'Rule name (reported in the decision reason).',
            },
          },
          { models: names('Requested model names or aliases.') },
          { consumers: names('Consumer ids, usernames or custom ids.') },
          { consumer_groups: names("Consumer group names or ids (any of the consumer's groups).") },
          { routes: names('Kong route names or ids.') },
          {
            headers: {
              type: 'array',
              description:
                'Request headers that must be present (all of them); with `values`, one of the values (exact match).',
              elements: {
                type: 'record',
                fields: [
                  {
                    name: { type: 'string', required: true, description: 'Header name (case-insensitive).' },
                  },
                  { values: names('Accepted values; unset: any value.') },
                ],
              },
            },
          },
          {
            min_prompt_tokens: {
              type: 'integer',
              description: 'Matches when the prompt has at least this many tokens.',
            },
          },
          {
            max_prompt_tokens: {
              type: 'integer',
              description: 'Matches when the prompt has at most this many tokens.',
            },
          },
          {
            stream: {
              type: 'boolean',
              description: 'true: only streaming requests; false: only non-streaming; unset: both.',
            },
          },
          { targets: names('Target names to choose from when the rule matches.', true) },
          {
            algorithm: {
              type: 'string',
              one_of: [...ALGORITHMS],
              description: 'Balancer algorithm for this rule (unset: balancer.algorithm).',
            },
          },
        ],
      },
    },
  },
  {
    default_targets: names(
      'Candidates when no rule matches and the model is not an alias or a target model (unset: every target).',
    ),
  },
  {
    unknown_model: {
      type: 'string',
      default: 'reject',
      one_of: ['reject', 'default'],
      description:
        'A requested model that is no alias, no target model and no rule model: reject with 400 MODEL_UNKNOWN (listing the allowed names) or route to default_targets.',
    },
  },
  {
    balancer: {
      type: 'record',
      description: 'How a target is chosen among the healthy candidates, and passive health checks.',
      fields: [
        {
          algorithm: {
            type: 'string',
            default: 'round-robin',
            one_of: [...ALGORITHMS],
            description:
              'round-robin (smooth weighted), lowest-latency (EWMA), lowest-usage (tokens in usage_window), lowest-cost (estimated request price), consistent-hashing (sticky by header or consumer), priority (weighted round-robin in the best healthy priority group; every algorithm honours priority groups).',
          },
        },
        {
          hash_on: {
            type: 'string',
            default: 'header',
            one_of: [...HASH_ON],
            description:
              'consistent-hashing key: a request header (falls back to the consumer, then the client IP) or the consumer.',
          },
        },
        {
          hash_on_header: {
            type: 'string',
            default: 'X-Session-Id',
            description: 'Header hashed when hash_on is header.',
          },
        },
        {
          latency_strategy: {
            type: 'string',
            default: 'auto',
            one_of: [...LATENCY_STRATEGIES],
            description:
              'lowest-latency metric: auto (time to first token for streams, total time otherwise), ttft or e2e.',
          },
        },
        {
          ewma_alpha: {
            type: 'number',
            default: 0.3,
            between: [0.01, 1],
            description: 'Weight of a new latency sample in the moving average.',
          },
        },
        {
          latency_ttl: {
            type: 'integer',
            default: 300,
            gt: 0,
            description:
              'Seconds a latency average lives without new samples; an expired target is explored again.',
          },
        },
        {
          tokens_count_strategy: {
            type: 'string',
            default: 'total-tokens',
            one_of: [...USAGE_STRATEGIES],
            description: 'What lowest-usage counts.',
          },
        },
        {
          usage_window: {
            type: 'integer',
            default: 60,
            gt: 0,
            description: 'lowest-usage window in seconds (sliding over two buckets).',
          },
        },
        {
          expected_output_tokens: {
            type: 'integer',
            default: 256,
            gt: 0,
            description: 'Completion tokens assumed by lowest-cost when the request sets no max_tokens.',
          },
        },
        {
          max_fails: {
            type: 'integer',
            default: 3,
            between: [0, 1000],
            description: 'Failures within fail_window that eject a target (0: never eject on counts).',
          },
        },
        {
          fail_window: {
            type: 'integer',
            default: 30,
            gt: 0,
            description: 'Seconds over which failures are counted.',
          },
        },
        {
          fail_timeout: {
            type: 'integer',
            default: 30,
            gt: 0,
            description:
              'Seconds an ejected target receives no traffic; then one probe request is let through (half-open).',
          },
        },
        {
          failure_statuses: {
            type: 'array',
            default: [429, 500, 502, 503, 504],
            elements: { type: 'integer', between: [400, 599] },
            description:
              'Response statuses counted as target failures (a 429 with Retry-After ejects at once for that long).',
          },
        },
        {
          max_retry_after: {
            type: 'integer',
            default: 300,
            gt: 0,
            description: 'Upper bound in seconds for an ejection taken from Retry-After.',
          },
        },
        { connect_timeout: timeout('Connect (default for every target)') },
        { write_timeout: timeout('Write (default for every target)') },
        { read_timeout: timeout('Read (default for every target)') },
      ],
    },
  },
  {
    budget_downgrade: {
      type: 'record',
      description:
        'Prefer cheaper targets when llm-token-accounting reports a budget nearly spent (llm.accounting.budget_before).',
      fields: [
        { enabled: { type: 'boolean', default: false, description: 'Turn budget-aware downgrade on.' } },
        {
          threshold: {
            type: 'number',
            default: 0.2,
            between: [0, 1],
            description: 'Downgrade when remaining/limit of any budget window is below this fraction.',
          },
        },
        { targets: names('Targets used when downgrading (unset: the lowest-cost healthy candidate).') },
      ],
    },
  },
  {
    stream_include_usage: {
      type: 'boolean',
      default: true,
      description:
        'Set stream_options.include_usage on streaming chat/completions so usage is reported at the end of the stream.',
    },
  },
  {
    strip_client_headers: {
      type: 'array',
      default: ['authorization', 'apikey', 'x-api-key', 'api-key'],
      elements: { type: 'string' },
      description:
        'Client request headers removed before proxying (client credentials never reach a provider). Authorization and apikey are always removed.',
    },
  },
  {
    response_headers: {
      type: 'boolean',
      default: true,
      description: 'Send X-LLM-Model and X-LLM-Target to the client.',
    },
  },
  {
    strategy: {
      type: 'string',
      default: 'redis',
      one_of: ['memory', 'redis'],
      description:
        'Where health, latency and usage state lives: redis (shared by every Kong node) or memory (this node).',
    },
  },
  redisField,
  {
    fault_tolerant: {
      type: 'boolean',
      default: false,
      description:
        "On an unexpected router error: false answers 503 ROUTER_FAILURE (fail closed); true lets the request continue to the route's service. A store outage never blocks: state falls back to this node.",
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
];

/** A parsed `upstream_url`. */
export interface Upstream {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  basePath: string;
  query: string;
}

/** Parse and validate an upstream URL; returns a problem string on failure. */
export function parseUpstream(url: string): Upstream | string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a valid URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must use http or https';
  if (!u.hostname) return 'needs a host';
  if (u.username || u.password) return 'must not contain credentials (use auth)';
  if (u.hash) return 'must not contain a fragment';
  const scheme = u.protocol === 'https:' ? 'https' : 'http';
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  let basePath = decodeURI(u.pathname);
  while (basePath.endsWith('/')) basePath = basePath.slice(0, -1);
  return {
    scheme,
    host,
    port: u.port ? Number(u.port) : scheme === 'https' ? 443 : 80,
    basePath: u.pathname === '/' ? '' : basePath,
    query: u.search.replace(/^\?/, ''),
  };
}

const ENV_REF = /env:([A-Za-z_][A-Za-z0-9_]*)$/;

/** True when a header value reads an environment variable (`env:VAR`, optionally after a prefix). */
export function envRef(value: string): string | undefined {
  return ENV_REF.exec(value)?.[1];
}

/** Cross-field rules Kong's DSL cannot express for external plugins. */
export function checkConfig(c: ModelRouterConfig): string[] {
  const problems: string[] = [];
  const targets = c.targets ?? [];
  if (!targets.length) problems.push('targets: at least one target is required');
  const seen = new Set<string>();
  targets.forEach((t, i) => {
    const at = `targets[${i}]`;
    if (!t.name || !t.name.trim()) problems.push(`${at}.name is required`);
    else if (seen.has(t.name)) problems.push(`${at}: duplicate target name ${JSON.stringify(t.name)}`);
    seen.add(t.name);
    if (!t.model?.name) problems.push(`${at}.model.name is required`);
    const up = parseUpstream(t.model?.options?.upstream_url ?? '');
    if (typeof up === 'string') problems.push(`${at}.model.options.upstream_url ${up}`);
    if (!Number.isInteger(t.weight) || t.weight < 1 || t.weight > 65535)
      problems.push(`${at}.weight must be an integer between 1 and 65535`);
    if (!Number.isInteger(t.priority) || t.priority < 0)
      problems.push(`${at}.priority must be a non-negative integer`);
    for (const f of ['input_cost', 'output_cost', 'cached_input_cost'] as const) {
      const v = t.model?.options?.[f];
      if (v !== null && v !== undefined && (!Number.isFinite(v) || v < 0))
        problems.push(`${at}.model.options.${f} must be >= 0`);
    }
    const a = t.auth;
    if (a && (a.header_name === null) !== (a.header_value === null))
      problems.push(`${at}.auth needs both header_name and header_value`);
  });
  const known = (list: string[] | null | undefined, at: string): void => {
    for (const n of list ?? []) if (!seen.has(n)) problems.push(`${at}: unknown target ${JSON.stringify(n)}`);
  };
  const aliasNames = new Set<string>();
  (c.aliases ?? []).forEach((a, i) => {
    if (aliasNames.has(a.name)) problems.push(`aliases[${i}]: duplicate alias ${JSON.stringify(a.name)}`);
    aliasNames.add(a.name);
    if (!a.targets?.length) problems.push(`aliases[${i}].targets must not be empty`);
    known(a.targets, `aliases[${i}].targets`);
  });
  (c.rules ?? []).forEach((r, i) => {
    if (!r.targets?.length) problems.push(`rules[${i}].targets must not be empty`);
    known(r.targets, `rules[${i}].targets`);
    if (
      r.min_prompt_tokens !== null &&
      r.max_prompt_tokens !== null &&
      r.min_prompt_tokens > r.max_prompt_tokens
    )
      problems.push(`rules[${i}]: min_prompt_tokens > max_prompt_tokens`);
    (r.headers ?? []).forEach((h, j) => {
      if (!h.name) problems.push(`rules[${i}].headers[${j}].name is required`);
    });
  });
  known(c.default_targets, 'default_targets');
  known(c.budget_downgrade?.targets, 'budget_downgrade.targets');
  const b = c.balancer;
  if (b) {
    if (b.hash_on === 'header' && !b.hash_on_header)
      problems.push('balancer.hash_on_header is required when hash_on is header');
    if (!(b.ewma_alpha > 0 && b.ewma_alpha <= 1)) problems.push('balancer.ewma_alpha must be in (0, 1]');
  }
  if (c.budget_downgrade && !(c.budget_downgrade.threshold >= 0 && c.budget_downgrade.threshold <= 1))
    problems.push('budget_downgrade.threshold must be between 0 and 1');
  // host, or Sentinel, or Cluster: every problem carries a stable [REDIS_…] code
  if (c.strategy === 'redis') problems.push(...redisProblems(c.redis, 'redis'));
  return problems;
}
