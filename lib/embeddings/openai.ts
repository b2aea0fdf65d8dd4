/**
 * `openai` embedder: any OpenAI-compatible `POST …/v1/embeddings` (OpenAI, Ollama, vLLM, TEI, LiteLLM…).
 * Global fetch with a timeout, optional auth header, batched, `encoding_format: "float"`.
 * Error messages carry the status / cause, never the input text.
 */
import { type Embedder, type EmbedderConfig, EmbeddingError, normalize } from './types';

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_BATCH = 256;

/** `http://h:1`, `http://h:1/v1`, `http://h:1/v1/embeddings` → the embeddings URL. */
export function embeddingsUrl(upstream: string): string {
  const u = upstream.replace(/\/+$/, '');
  if (/\/embeddings$/.test(u)) return u;
  if (/\/v\d+$/.test(u)) return `${u}/embeddings`;
  return `${u}/v1/embeddings`;
}

interface EmbeddingsResponse {
  data?: { index?: number; embedding?: unknown }[];
}

function decode(e: unknown): Float32Array | undefined {
  if (Array.isArray(e) && e.length > 0 && e.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    return Float32Array.from(e as number[]);
  }
  if (typeof e === 'string' && e.length > 0) {
    // Some servers answer base64 even when asked for floats: little-endian float32.
    const buf = Buffer.from(e, 'base64');
    if (buf.length === 0 || buf.length % 4 !== 0) return undefined;
    const out = new Float32Array(buf.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
    return out;
  }
  return undefined;
}

export class OpenAIEmbedder implements Embedder {
  readonly id: string;
  private dims: number;
  private readonly url: string;
  private readonly model: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly requestedDims: number | undefined;

  constructor(cfg: EmbedderConfig) {
    const upstream = cfg.options?.upstream_url;
    if (!upstream) throw new EmbeddingError('provider openai needs options.upstream_url', 'openai');
    if (!cfg.name) throw new EmbeddingError('provider openai needs a model name', 'openai');
    this.url = embeddingsUrl(upstream);
    this.model = cfg.name;
    this.requestedDims = cfg.options?.dimensions;
    this.dims = cfg.options?.dimensions ?? 0;
    this.timeoutMs = cfg.timeout_ms ?? DEFAULT_TIMEOUT_MS;
    this.headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (cfg.auth?.header_name && cfg.auth.header_value !== undefined) {
      this.headers[cfg.auth.header_name.toLowerCase()] = cfg.auth.header_value;
    }
    this.id = `openai:${this.model}${this.requestedDims ? `:${this.requestedDims}` : ''}`;
  }

  /** 0 until the first response when `options.dimensions` is not configured. */
  get dimensions(): number {
    return this.dims;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += MAX_BATCH)
      out.push(...(await this.batch(texts.slice(i, i + MAX_BATCH))));
    return out;
  }

  private async batch(input: string[]): Promise<Float32Array[]> {
    if (input.length === 0) return [];
    const body: Record<string, unknown> = { model: this.model, input, encoding_format: 'float' };
    if (this.requestedDims) body.dimensions = this.requestedDims;
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: this.headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const name = err instanceof Error ? err.name : '';
      const reason =
        name === 'TimeoutError' || name === 'AbortError' ? `timed out after ${this.timeoutMs} ms` : 'failed';
      throw new EmbeddingError(`embeddings request to ${new URL(this.url).host} ${reason}`, 'openai', {
        cause: err,
      });
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new EmbeddingError(`embeddings upstream answered HTTP ${res.status}`, 'openai');
    }
    let json: EmbeddingsResponse;
    try {
      json = (await res.json()) as EmbeddingsResponse;
    } catch (err) {
      throw new EmbeddingError('embeddings upstream answered invalid JSON', 'openai', { cause: err });
    }
    const data = json.data;
    if (!Array.isArray(data) || data.length !== input.length) {
      throw new EmbeddingError(
        `embeddings upstream answered ${Array.isArray(data) ? data.length : 'no'} vectors for ${input.length} inputs`,
        'openai',
      );
    }
    const out = new Array<Float32Array | undefined>(input.length);
    data.forEach((d, pos) => {
      const idx = typeof d.index === 'number' ? d.index : pos;
      const v = decode(d.embedding);
      if (!v || idx < 0 || idx >= input.length || out[idx]) {
        throw new EmbeddingError(
          `embeddings upstream answered a malformed item at position ${pos}`,
          'openai',
        );
      }
      out[idx] = normalize(v);
    });
    const vecs = out as Float32Array[];
    const dims = vecs[0]!.length;
    if (vecs.some((v) => v.length !== dims) || (this.dims && dims !== this.dims)) {
      throw new EmbeddingError(
        `embeddings upstream answered ${dims} dimensions, expected ${this.dims || 'consistent sizes'}`,
        'openai',
      );
    }
    this.dims = dims;
    return vecs;
  }
}
