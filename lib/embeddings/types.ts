/** Shared embedding types. Config names mirror Kong EE `embeddings{model{provider,name,options},auth}`. */

export interface Embedder {
  /** Stable identifier, e.g. `builtin:glove100-sif-v1`, `openai:text-embedding-3-small`. Part of cache keys. */
  readonly id: string;
  /** Vector length returned by `embed`. For `openai` without `options.dimensions`, known after the first call. */
  readonly dimensions: number;
  /** One L2-normalised vector per input text, same order. */
  embed(texts: string[]): Promise<Float32Array[]>;
}

export type EmbeddingsProvider = 'builtin' | 'transformers' | 'openai';

export interface EmbedderConfig {
  provider: EmbeddingsProvider;
  /** Model name: builtin ignores it (one model), openai sends it as `model`, transformers uses it as the model folder. */
  name?: string;
  options?: {
    /** openai: base URL (`http://host:11434`, `https://api.openai.com`) or full `…/v1/embeddings` URL. */
    upstream_url?: string;
    /** transformers: local model root (env.localModelPath). builtin: alternative .bin file or folder. */
    model_dir?: string;
    /** openai: requested output dimensions (sent as `dimensions`). */
    dimensions?: number;
  };
  auth?: { header_name?: string; header_value?: string };
  /** Per-request timeout (openai) in milliseconds; default 10000. */
  timeout_ms?: number;
}

/** Error raised by embedders. The message never contains input text. */
export class EmbeddingError extends Error {
  constructor(
    message: string,
    readonly provider: EmbeddingsProvider,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EmbeddingError';
  }
}

/** In-place L2 normalisation; a zero vector stays zero. Returns the input. */
export function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  if (n > 0) {
    const inv = 1 / Math.sqrt(n);
    for (let i = 0; i < v.length; i++) v[i] = v[i]! * inv;
  }
  return v;
}

/** Dot product (= cosine similarity for unit vectors). */
export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) s += a[i]! * b[i]!;
  return s;
}
