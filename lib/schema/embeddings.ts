/**
 * The `embeddings` record shared by the plugins that embed text (semantic cache, prompt-guard
 * topics), in Kong Enterprise's `embeddings{model{provider,name,options}, auth}` shape.
 */
import type { KongField } from './kong-schema';

/** Embedding providers of `lib/embeddings`. */
export const EMBEDDING_PROVIDERS = ['builtin', 'openai', 'transformers'] as const;

/** The `embeddings` config as Kong sends it (defaults applied). */
export interface EmbeddingsConfig {
  model: {
    provider: (typeof EMBEDDING_PROVIDERS)[number];
    name: string | null;
    options: { upstream_url: string | null; model_dir: string | null; dimensions: number | null };
  };
  auth: { header_name: string | null; header_value: string | null };
  timeout_ms: number;
}

/** The `embeddings` field; `description` says what the plugin embeds. */
export function embeddingsField(description: string): KongField {
  return {
    embeddings: {
      type: 'record',
      description,
      fields: [
        {
          model: {
            type: 'record',
            description: 'The embedding model.',
            fields: [
              {
                provider: {
                  type: 'string',
                  default: 'builtin',
                  one_of: [...EMBEDDING_PROVIDERS],
                  description:
                    'builtin: offline, shipped with the plugins (no network); openai: any OpenAI-compatible /v1/embeddings endpoint (OpenAI, Ollama, vLLM, TEI); transformers: a local ONNX model folder (@xenova/transformers, optional dependency).',
                },
              },
              {
                name: {
                  type: 'string',
                  description:
                    'Model name: sent as `model` (openai), the model folder (transformers); ignored by builtin.',
                },
              },
              {
                options: {
                  type: 'record',
                  description: 'Provider options.',
                  fields: [
                    {
                      upstream_url: {
                        type: 'string',
                        description:
                          'openai: base URL (e.g. http://ollama:11434) or the full …/v1/embeddings URL.',
                      },
                    },
                    {
                      model_dir: {
                        type: 'string',
                        description:
                          'transformers: local model root; builtin: alternative data file or folder.',
                      },
                    },
                    {
                      dimensions: {
                        type: 'integer',
                        gt: 0,
                        description: 'openai: requested output dimensions.',
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
            description: 'Authentication header sent to the embeddings endpoint (openai provider).',
            fields: [
              { header_name: { type: 'string', description: 'Header name, e.g. Authorization.' } },
              {
                header_value: {
                  type: 'string',
                  referenceable: true,
                  encrypted: true,
                  description:
                    'Header value, e.g. "Bearer {vault://env/OPENAI_KEY}" (use a vault reference).',
                },
              },
            ],
          },
        },
        {
          timeout_ms: {
            type: 'integer',
            default: 10000,
            gt: 0,
            description: 'Timeout of one embeddings call in milliseconds (openai).',
          },
        },
      ],
    },
  };
}
