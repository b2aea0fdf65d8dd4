/**
 * `transformers` embedder: @xenova/transformers (ONNX Runtime) with a LOCAL model directory only
 * (`env.allowRemoteModels = false`, `env.localModelPath = options.model_dir`), mean pooling + L2 norm.
 * The package is an optional dependency: it is loaded lazily and a clear error says how to install it
 * (it needs `"overrides": {"sharp": "0.33.5"}` in package.json, see docs/cache-eval.md).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Embedder, type EmbedderConfig, EmbeddingError } from './types';

type FeatureExtractor = ((
  texts: string[],
  opts: { pooling: 'mean'; normalize: boolean },
) => Promise<{ data: Float32Array; dims: number[] }>) & { model?: { config?: { hidden_size?: unknown } } };

interface TransformersModule {
  env: {
    allowRemoteModels: boolean;
    allowLocalModels: boolean;
    localModelPath: string;
    useBrowserCache?: boolean;
    useFSCache?: boolean;
  };
  pipeline(
    task: 'feature-extraction',
    model: string,
    opts?: Record<string, unknown>,
  ): Promise<FeatureExtractor>;
}

export const TRANSFORMERS_PACKAGE = '@xenova/transformers';

/**
 * Files transformers.js 2.17.2 loads for pipeline option `quantized: false` / `true`. The adapter prefers the
 * full-precision file and falls back to the quantized one when only that is present.
 */
export const TRANSFORMERS_MODEL_FILE = join('onnx', 'model.onnx');
export const TRANSFORMERS_QUANTIZED_FILE = join('onnx', 'model_quantized.onnx');

// @xenova/transformers 2.x is an ES module. A TypeScript `import()` compiles to require() under CommonJS,
// which only loads ES modules from Node 20.19 on, so import it by absolute file URL through a real
// dynamic import (resolved here, so the result does not depend on the process working directory).
const esmImport = new Function('url', 'return import(url)') as (url: string) => Promise<unknown>;

function defaultImport(id: string): Promise<unknown> {
  return esmImport(pathToFileURL(require.resolve(id)).href);
}

/** Loads the optional package lazily; separate so tests can check the "not installed" message. */
export async function loadTransformers(
  load: (id: string) => Promise<unknown> = defaultImport,
): Promise<TransformersModule> {
  let mod: unknown;
  try {
    mod = await load(TRANSFORMERS_PACKAGE);
  } catch (err) {
    throw new EmbeddingError(
      `install ${TRANSFORMERS_PACKAGE}@2.17.2 (with "overrides": {"sharp": "0.33.5"}) to use provider transformers`,
      'transformers',
      { cause: err },
    );
  }
  const m = mod as Partial<TransformersModule> & { default?: Partial<TransformersModule> };
  const t = m.pipeline ? m : m.default;
  if (!t?.pipeline || !t.env) {
    throw new EmbeddingError(`${TRANSFORMERS_PACKAGE} has no pipeline/env export`, 'transformers');
  }
  return t as TransformersModule;
}

// `env` is global to the package: loads run one at a time so each sees its own localModelPath.
let loadQueue: Promise<unknown> = Promise.resolve();

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
      const modelFile = join(this.modelDir, this.name, TRANSFORMERS_MODEL_FILE);
      const quantized =
        !existsSync(modelFile) && existsSync(join(this.modelDir, this.name, TRANSFORMERS_QUANTIZED_FILE));
      if (!quantized && !existsSync(modelFile)) {
        throw new EmbeddingError(
          `transformers model not found: ${modelFile} (or onnx/model_quantized.onnx) is missing (remote models are disabled; ` +
            `put the ONNX export of ${this.name} under ${this.modelDir})`,
          'transformers',
        );
      }
      const t = await loadTransformers();
      const run = loadQueue.then(async () => {
        t.env.allowRemoteModels = false;
        t.env.allowLocalModels = true;
        t.env.useBrowserCache = false;
        t.env.useFSCache = false;
        t.env.localModelPath = this.modelDir;
        return t.pipeline('feature-extraction', this.name, { quantized });
      });
      loadQueue = run.catch(() => undefined);
      let fe: FeatureExtractor;
      try {
        fe = await run;
      } catch (err) {
        throw new EmbeddingError(
          `transformers model ${this.name} in ${this.modelDir} failed to load: ${err instanceof Error ? err.message : String(err)}`,
          'transformers',
          { cause: err },
        );
      }
      const hidden = fe.model?.config?.hidden_size;
      if (typeof hidden === 'number' && hidden > 0) this.dims = hidden;
      return fe;
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
