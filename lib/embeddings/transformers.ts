/**
 * `transformers` embedder: @xenova/transformers (ONNX Runtime) with a LOCAL model directory only
 * (`env.allowRemoteModels = false`, `env.localModelPath = options.model_dir`), mean pooling + L2 norm.
 * The package is an optional dependency: it is loaded lazily and a clear error says how to install it
 * (it needs `"overrides": {"sharp": "0.33.5"}` in package.json, see docs/cache-eval.md).
 */
import { type Embedder, type EmbedderConfig, EmbeddingError } from './types';

type FeatureExtractor = (
  texts: string[],
  opts: { pooling: 'mean'; normalize: boolean },
) => Promise<{ data: Float32Array; dims: number[] }>;

interface TransformersModule {
  env: {
    allowRemoteModels: boolean;
    allowLocalModels: boolean;
    localModelPath: string;
    useBrowserCache?: boolean;
  };
  pipeline(
    task: 'feature-extraction',
    model: string,
    opts?: Record<string, unknown>,
  ): Promise<FeatureExtractor>;
}

export const TRANSFORMERS_PACKAGE = '@xenova/transformers';

/** Loads the optional package; separate so tests can check the "not installed" message. */
export function loadTransformers(req: (id: string) => unknown = require): TransformersModule {
  try {
    return req(TRANSFORMERS_PACKAGE) as TransformersModule;
  } catch (err) {
    throw new EmbeddingError(
      `install ${TRANSFORMERS_PACKAGE}@2.17.2 (with "overrides": {"sharp": "0.33.5"}) to use provider transformers`,
      'transformers',
      { cause: err },
    );
  }
}

export class TransformersEmbedder implements Embedder {
  readonly id: string;
  private dims: number;
  private extractor: Promise<FeatureExtractor> | undefined;
  private readonly modelDir: string;
  private readonly name: string;

  constructor(cfg: EmbedderConfig) {
    if (!cfg.options?.model_dir)
      throw new EmbeddingError('provider transformers needs options.model_dir', 'transformers');
    if (!cfg.name)
      throw new EmbeddingError(
        'provider transformers needs a model name (folder in model_dir)',
        'transformers',
      );
    this.modelDir = cfg.options.model_dir;
    this.name = cfg.name;
    this.dims = cfg.options.dimensions ?? 0;
    this.id = `transformers:${this.name}`;
  }

  get dimensions(): number {
    return this.dims;
  }

  private load(): Promise<FeatureExtractor> {
    this.extractor ??= (async () => {
      const t = loadTransformers();
      t.env.allowRemoteModels = false;
      t.env.allowLocalModels = true;
      t.env.localModelPath = this.modelDir;
      return t.pipeline('feature-extraction', this.name, { quantized: false });
    })();
    // A failed load must not be cached forever.
    this.extractor.catch(() => {
      this.extractor = undefined;
    });
    return this.extractor;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const fe = await this.load();
    const out = await fe(texts, { pooling: 'mean', normalize: true });
    const dims = out.dims[out.dims.length - 1] ?? 0;
    if (!dims || out.data.length !== dims * texts.length) {
      throw new EmbeddingError('transformers model returned an unexpected tensor shape', 'transformers');
    }
    this.dims = dims;
    return texts.map((_, i) => out.data.slice(i * dims, (i + 1) * dims));
  }
}
