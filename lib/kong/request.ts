/**
 * Reading the LLM request of the current call once per plugin phase: headers and body in two RPCs,
 * the body bounded and validated by `lib/openai` (bad input → 4xx with a stable code).
 * Note: after a plugin rewrites the body with `setUpstreamBody`, Kong's `get_raw_body` returns the
 * new body (`ngx.req.set_body_data`), so later plugins read the rewritten request.
 */
import type { KongFacade } from './facade';
import {
  detectOperation,
  parseChatRequest,
  parseCompletionRequest,
  parseEmbeddingsRequest,
  parseJsonBody,
  type BodyLimits,
  type ChatRequest,
  type CompletionRequest,
  type EmbeddingsRequest,
  type Operation,
} from '../openai';

/** A parsed LLM request of a known operation. */
export type LlmRequest =
  | { operation: 'chat'; body: ChatRequest }
  | { operation: 'completions'; body: CompletionRequest }
  | { operation: 'embeddings'; body: EmbeddingsRequest }
  | { operation: 'responses'; body: Record<string, unknown> };

export interface ReadRequest {
  headers: Record<string, string[]>;
  path: string;
  /** Undefined when the call is not an LLM operation the suite understands. */
  llm?: LlmRequest;
  /** Byte size of the raw body. */
  size: number;
}

/** Default bounds for prompt bodies (every plugin exposes `max_request_body_size`). */
export const DEFAULT_LIMITS: BodyLimits = { maxBytes: 8 * 1024 * 1024, maxDepth: 64, maxMessages: 10_000 };

/** First value of a header from a multimap. */
export function firstHeader(h: Record<string, string[]>, name: string): string | undefined {
  return h[name.toLowerCase()]?.[0];
}

/**
 * Read and validate the request. Non-JSON bodies on an LLM path and wrong shapes throw exposed
 * 4xx `PluginError`s; a request that is not an LLM call returns `llm: undefined` (callers decide
 * whether to pass it through).
 */
export async function readLlmRequest(
  k: KongFacade,
  limits: BodyLimits = DEFAULT_LIMITS,
): Promise<ReadRequest> {
  const [headers, path, raw] = await Promise.all([k.headers(), k.path(), k.rawBody()]);
  const size = raw?.byteLength ?? 0;
  const byPath = detectOperation(path, undefined);
  if (!raw || size === 0) {
    if (byPath) {
      // An LLM endpoint without a body is a client error, not something to pass through silently.
      parseJsonBody('', limits);
    }
    return { headers, path, size };
  }
  const ctype = firstHeader(headers, 'content-type') ?? '';
  if (!byPath && !/json/i.test(ctype)) return { headers, path, size };
  const body = parseJsonBody(raw, limits);
  const op: Operation | undefined = detectOperation(path, body);
  switch (op) {
    case 'chat':
      return { headers, path, size, llm: { operation: 'chat', body: parseChatRequest(body) } };
    case 'completions':
      return { headers, path, size, llm: { operation: 'completions', body: parseCompletionRequest(body) } };
    case 'embeddings':
      return { headers, path, size, llm: { operation: 'embeddings', body: parseEmbeddingsRequest(body) } };
    case 'responses':
      return { headers, path, size, llm: { operation: 'responses', body: body as Record<string, unknown> } };
    default:
      return { headers, path, size };
  }
}
