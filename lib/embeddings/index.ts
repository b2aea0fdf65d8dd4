/**
 * Embeddings registry shared by llm-semantic-cache and llm-prompt-guard.
 * `createEmbedder({provider:'builtin'})` is the offline default. No I/O at module load.
 */
import { BuiltinEmbedder } from './builtin';
import { OpenAIEmbedder } from './openai';
import { TransformersEmbedder } from './transformers';
import { type Embedder, type EmbedderConfig, EmbeddingError } from './types';

export {
  type Embedder,
  type EmbedderConfig,
  type EmbeddingsProvider,
  EmbeddingError,
  normalize,
  dot,
} from './types';
export { BuiltinEmbedder, BUILTIN_VERSION, BUILTIN_DEFAULT_THRESHOLD, tokenize } from './builtin';
export { OpenAIEmbedder, embeddingsUrl } from './openai';
export { TransformersEmbedder } from './transformers';

const builtins = new Map<string, BuiltinEmbedder>();

export function createEmbedder(cfg: EmbedderConfig): Embedder {
  switch (cfg.provider) {
    case 'builtin': {
      // One instance (and one loaded table) per data path per process.
      const key = cfg.options?.model_dir ?? '';
      let e = builtins.get(key);
      if (!e) builtins.set(key, (e = new BuiltinEmbedder(undefined, cfg.options?.model_dir)));
      return e;
    }
    case 'openai':
      return new OpenAIEmbedder(cfg);
    case 'transformers':
      return new TransformersEmbedder(cfg);
    default:
      throw new EmbeddingError(
        `unknown embeddings provider ${String((cfg as { provider: unknown }).provider)}`,
        'builtin',
      );
  }
}
