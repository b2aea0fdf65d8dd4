/**
 * llm-semantic-cache configuration. Names follow Kong Enterprise's ai-semantic-cache
 * (`embeddings{model{provider,name,options}, auth}`, `vectordb{strategy, distance_metric, threshold,
 * dimensions, redis{…}}`, `cache_ttl`, `cache_control`, `exact_caching`, `message_countback`,
 * `ignore_*_prompts`, `stop_on_failure`). One deliberate difference: `vectordb.threshold` is a cosine
 * SIMILARITY (higher = stricter); Kong's is a distance: kong_threshold = 1 − similarity.
 */
import type { KongField } from '../../lib/schema/kong-schema';
import { embeddingsField, type EmbeddingsConfig } from '../../lib/schema/embeddings';
import { redisField, redisProblems, type RedisConfig } from '../../lib/schema/redis';
import { BUILTIN_DEFAULT_THRESHOLD } from '../../lib/embeddings';

export const PARTITIONS = ['consumer', 'consumer_group', 'route', 'global'] as const;
export type PartitionBy = (typeof PARTITIONS)[number];

export interface SemanticCacheConfig {
  embeddings: EmbeddingsConfig;
  vectordb: {
    strategy: 'redis' | 'memory';
    distance_metric: 'cosine';
    threshold: number | null;
    dimensions: number | null;
    max_candidates: number;
    sync_interval_ms: number;
    stream_max_len: number;
    max_entries: number;
    redis: RedisConfig;
  };
  partition_by: PartitionBy;
  cache_ttl: number;
  cache_control: boolean;
  exact_caching: boolean;
  semantic_caching: boolean;
  message_countback: number;
  ignore_system_prompts: boolean;
  ignore_assistant_prompts: boolean;
  ignore_tool_prompts: boolean;
  cache_tool_calls: boolean;
  verify: {
    enabled: boolean;
    numbers: boolean;
    negation: boolean;
    entities: boolean;
    quoted: boolean;
    order: boolean;
    length_ratio: number;
    focus: boolean;
    focus_budget: number;
  };
  control_header: string;
  shadow_mode: boolean;
  buffer_non_stream: boolean;
  max_entry_bytes: number;
  max_request_body_size: number;
  stop_on_failure: boolean;
  llm_format: 'openai';
}

const redisDef = redisField['redis']!;

export const Schema: KongField[] = [
  embeddingsField('How prompts are turned into vectors (Kong EE `embeddings` block).'),
  {
    vectordb: {
      type: 'record',
      description:
        'Where entries and vectors live and how similar a cached prompt must be (Kong EE `vectordb` block).',
      fields: [
        {
          strategy: {
            type: 'string',
            default: 'redis',
            one_of: ['redis', 'memory'],
            description:
              'redis: entries in Redis, shared by every Kong node (each plugin-server process keeps an ANN index fed from Redis); memory: this process only.',
          },
        },
        {
          distance_metric: {
            type: 'string',
            default: 'cosine',
            one_of: ['cosine'],
            description: 'Vector distance; only cosine is supported.',
          },
        },
        {
          threshold: {
            type: 'number',
            between: [0, 1],
            description: `Minimum cosine SIMILARITY (0..1, higher = stricter) of a cached prompt to be a candidate. Unset: ${BUILTIN_DEFAULT_THRESHOLD} for the builtin embedder (required for other providers). Kong EE's threshold is a distance: kong = 1 − this.`,
          },
        },
        {
          dimensions: {
            type: 'integer',
            gt: 0,
            description: 'Expected vector length; checked against the embedder (builtin: 256).',
          },
        },
        {
          max_candidates: {
            type: 'integer',
            default: 4,
            between: [1, 64],
            description: 'Nearest neighbours checked by verification per lookup.',
          },
        },
        {
          sync_interval_ms: {
            type: 'integer',
            default: 1000,
            between: [0, 600000],
            description:
              'The local ANN index reads inserts/deletes of other nodes from the Redis stream when it is older than this at a lookup (0: on every lookup).',
          },
        },
        {
          stream_max_len: {
            type: 'integer',
            default: 100000,
            gt: 0,
            description: 'Approximate length cap of the insert/delete stream.',
          },
        },
        {
          max_entries: {
            type: 'integer',
            default: 200000,
            gt: 0,
            description:
              'Entries loaded into the local index at start (newest state of the store, up to this many).',
          },
        },
        { redis: { ...redisDef, description: 'Redis connection used when `strategy` is `redis`.' } },
      ],
    },
  },
  {
    partition_by: {
      type: 'string',
      default: 'consumer',
      one_of: [...PARTITIONS],
      description:
        'Who shares cache entries: each consumer its own (default), each consumer group, everyone on the route, or everyone (global). Requests without the identity are not cached (Bypass).',
    },
  },
  { cache_ttl: { type: 'integer', default: 300, gt: 0, description: 'Seconds an entry lives.' } },
  {
    cache_control: {
      type: 'boolean',
      default: false,
      description:
        'Honour the request Cache-Control: no-store (no lookup, no fill), no-cache (no lookup, refill), max-age=N (only entries younger than N s).',
    },
  },
  {
    exact_caching: {
      type: 'boolean',
      default: true,
      description: 'Look up the exact prompt first (no embedding needed).',
    },
  },
  {
    semantic_caching: {
      type: 'boolean',
      default: true,
      description: 'Look up similar prompts (embedding, ANN search, verification) after an exact miss.',
    },
  },
  {
    message_countback: {
      type: 'integer',
      default: 1,
      between: [1, 1000],
      description:
        'Trailing messages compared by similarity; earlier messages (the conversation history) must match exactly.',
    },
  },
  {
    ignore_system_prompts: {
      type: 'boolean',
      default: false,
      description:
        'Leave system/developer messages out of the key (answers are then shared across system prompts).',
    },
  },
  {
    ignore_assistant_prompts: {
      type: 'boolean',
      default: false,
      description: 'Leave assistant messages out of the key and the compared text.',
    },
  },
  {
    ignore_tool_prompts: {
      type: 'boolean',
      default: false,
      description: 'Leave tool messages out of the key and the compared text.',
    },
  },
  {
    cache_tool_calls: {
      type: 'boolean',
      default: false,
      description: 'Also cache answers that are tool calls (finish_reason tool_calls).',
    },
  },
  {
    verify: {
      type: 'record',
      description:
        'Second-stage checks a semantic candidate must pass before it is served (docs/cache-eval.md).',
      fields: [
        {
          enabled: {
            type: 'boolean',
            default: true,
            description:
              'Verify semantic candidates (strongly recommended: without it different questions with similar words hit).',
          },
        },
        { numbers: { type: 'boolean', default: true, description: 'Numbers, units, dates must agree.' } },
        {
          negation: {
            type: 'boolean',
            default: true,
            description: 'Negation and polar opposites (enable/disable) must agree.',
          },
        },
        {
          entities: {
            type: 'boolean',
            default: true,
            description: 'Names, acronyms and code identifiers must agree.',
          },
        },
        {
          quoted: {
            type: 'boolean',
            default: true,
            description: 'Quoted strings and code spans must agree.',
          },
        },
        {
          order: {
            type: 'boolean',
            default: true,
            description: 'Same words in a different role order (A of B vs B of A) do not match.',
          },
        },
        {
          length_ratio: {
            type: 'number',
            default: 2.5,
            description: 'Maximum word-count ratio of the two prompts (0 disables).',
          },
        },
        {
          focus: {
            type: 'boolean',
            default: true,
            description:
              'Same question, not just same topic: the content words that only one prompt has are limited and questions must ask the same kind of thing (why/when/where/who/how many/yes-no).',
          },
        },
        {
          focus_budget: {
            type: 'number',
            default: 1,
            between: [0, 10],
            description:
              'Content words that may differ per prompt: focus_budget x (content words - 4), rounded down. 0 = short and long prompts must name the same things; higher serves more rewordings and more related-but-different questions.',
          },
        },
      ],
    },
  },
  {
    control_header: {
      type: 'string',
      default: 'X-Cache-Mode',
      description:
        'Request header: `bypass` skips the cache (no lookup, no fill), `refresh` skips the lookup and replaces the entry with the fresh answer.',
    },
  },
  {
    shadow_mode: {
      type: 'boolean',
      default: false,
      description:
        'Look up and fill but never serve: would-be hits are proxied and compared with the fresh answer (metric ai_llm_cache_shadow_total, log without text).',
    },
  },
  {
    buffer_non_stream: {
      type: 'boolean',
      default: true,
      description:
        'Buffer non-stream misses so the answer can be stored when llm-response-tap is not on the route.',
    },
  },
  {
    max_entry_bytes: {
      type: 'integer',
      default: 262144,
      gt: 0,
      description: 'Largest answer (bytes of text) stored.',
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
    stop_on_failure: {
      type: 'boolean',
      default: false,
      description:
        'Store or embedder unavailable: false proxies the request as a miss; true answers 503 CACHE_UNAVAILABLE.',
    },
  },
  {
    llm_format: {
      type: 'string',
      default: 'openai',
      one_of: ['openai'],
      description: 'Request format (OpenAI chat completions).',
    },
  },
];

/** The similarity threshold in effect. */
export function thresholdOf(c: SemanticCacheConfig): number {
  return c.vectordb.threshold ?? BUILTIN_DEFAULT_THRESHOLD;
}

/** Cross-field rules Kong's DSL cannot express for external plugins. */
export function checkConfig(c: SemanticCacheConfig): string[] {
  const problems: string[] = [];
  const p = c.embeddings.model.provider;
  if (p !== 'builtin' && c.vectordb.threshold === null) {
    problems.push(
      `vectordb.threshold is required for embeddings provider ${p} (thresholds are embedder-specific; calibrate with scripts/eval-cache.ts)`,
    );
  }
  if (p === 'openai' && !c.embeddings.model.options.upstream_url)
    problems.push('embeddings.model.options.upstream_url is required for provider openai');
  if (p !== 'builtin' && !c.embeddings.model.name)
    problems.push(`embeddings.model.name is required for provider ${p}`);
  if (p === 'transformers' && !c.embeddings.model.options.model_dir)
    problems.push('embeddings.model.options.model_dir is required for provider transformers');
  // host, or Sentinel, or Cluster: every problem carries a stable [REDIS_…] code
  if (c.vectordb.strategy === 'redis') problems.push(...redisProblems(c.vectordb.redis, 'vectordb.redis'));
  if (!c.exact_caching && !c.semantic_caching)
    problems.push('enable exact_caching, semantic_caching or both');
  if (!/^[A-Za-z0-9-]+$/.test(c.control_header)) problems.push('control_header must be a header name');
  return problems;
}
