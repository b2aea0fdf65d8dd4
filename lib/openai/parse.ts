/**
 * Safe parsing and shape validation of untrusted OpenAI-style request bodies.
 *
 * Every failure is a `badRequest(...)` PluginError with a stable code; messages name the offending path but never
 * echo request content. Validators return the SAME object they were given (typed), so plugins can rewrite it in
 * place; unknown fields are kept.
 */
import { badRequest, PluginError } from '../errors';
import type { ChatRequest, CompletionRequest, EmbeddingsRequest, Operation } from './types';

/** Limits applied by {@link parseJsonBody}. */
export interface BodyLimits {
  /** Maximum body size in bytes (UTF-8 bytes for string input). Larger bodies: BODY_TOO_LARGE (413). */
  maxBytes: number;
  /** Maximum nesting depth of arrays/objects (the top-level value is depth 1). Deeper: BODY_TOO_DEEP. */
  maxDepth: number;
  /** Maximum length of a top-level `messages` or `input` array. Longer: BODY_TOO_LARGE (413). */
  maxMessages?: number;
  /**
   * Maximum size of any single JSON string literal, measured as written in the body (UTF-8 bytes of the
   * escaped form, so `\u00e9` counts 6). Longer: BODY_TOO_LARGE (413).
   */
  maxStringBytes?: number;
}

/** Upper bound accepted for `max_tokens`-like integers (anything above is certainly a client bug). */
export const MAX_TOKENS_BOUND = 10_000_000;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Decode, bound and parse an untrusted JSON body.
 *
 * Order: size (BODY_TOO_LARGE, 413) → strict UTF-8 (BODY_INVALID_UTF8) → bracket depth and string sizes, scanned
 * iteratively over the text before any parsing (BODY_TOO_DEEP / BODY_TOO_LARGE) → `JSON.parse` (BODY_NOT_JSON)
 * → top-level array sizes (`maxMessages`). A leading UTF-8 BOM is ignored. Own `__proto__` keys are dropped from
 * the result so later `Object.assign`/merges cannot change prototypes.
 *
 * @throws PluginError (always `expose: true`, 4xx) and nothing else.
 */
export function parseJsonBody(raw: Uint8Array | string, limits: BodyLimits): unknown {
  let text: string;
  if (typeof raw === 'string') {
    if (raw.length > limits.maxBytes || Buffer.byteLength(raw, 'utf8') > limits.maxBytes) {
      throw badRequest('BODY_TOO_LARGE', 'request body is too large', { max_bytes: limits.maxBytes });
    }
    if (LONE_SURROGATE.test(raw)) {
      throw badRequest('BODY_INVALID_UTF8', 'request body is not valid UTF-8');
    }
    text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  } else {
    if (raw.byteLength > limits.maxBytes) {
      throw badRequest('BODY_TOO_LARGE', 'request body is too large', { max_bytes: limits.maxBytes });
    }
    try {
      text = utf8.decode(raw); // strips a leading BOM
    } catch {
      throw badRequest('BODY_INVALID_UTF8', 'request body is not valid UTF-8');
    }
  }

  scanStructure(text, limits.maxDepth, limits.maxStringBytes);

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the input: never propagate it.
    throw badRequest('BODY_NOT_JSON', 'request body is not valid JSON');
  }

  if (text.includes('__proto__') || text.includes('\\u')) dropProtoKeys(value);

  if (limits.maxMessages !== undefined && isRecord(value)) {
    for (const key of ['messages', 'input'] as const) {
      const arr = value[key];
      if (Array.isArray(arr) && arr.length > limits.maxMessages) {
        throw badRequest('BODY_TOO_LARGE', `${key} has too many items`, { max_messages: limits.maxMessages });
      }
    }
  }
  return value;
}

/** Linear, non-recursive scan: bracket depth outside strings, and string literal sizes. */
function scanStructure(text: string, maxDepth: number, maxStringBytes: number | undefined): void {
  let depth = 0;
  const n = text.length;
  const limitStr = maxStringBytes ?? Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let bytes = 0;
      i++;
      for (; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x22) break;
        if (d === 0x5c /* \ */) {
          i++;
          bytes += 2;
          continue;
        }
        bytes += d < 0x80 ? 1 : d < 0x800 ? 2 : d >= 0xd800 && d <= 0xdfff ? 2 : 3;
        if (bytes > limitStr) {
          throw badRequest('BODY_TOO_LARGE', 'a string in the request body is too large', {
            max_string_bytes: limitStr,
          });
        }
      }
      if (bytes > limitStr) {
        throw badRequest('BODY_TOO_LARGE', 'a string in the request body is too large', {
          max_string_bytes: limitStr,
        });
      }
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > maxDepth) {
        throw badRequest('BODY_TOO_DEEP', 'request body is nested too deeply', { max_depth: maxDepth });
      }
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
}

/** Remove own `__proto__` keys everywhere (iterative; depth is already bounded). */
function dropProtoKeys(root: unknown): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (const item of v) if (typeof item === 'object' && item !== null) stack.push(item);
    } else if (typeof v === 'object' && v !== null) {
      const obj = v as Record<string, unknown>;
      if (Object.prototype.hasOwnProperty.call(obj, '__proto__')) delete obj['__proto__'];
      for (const key of Object.keys(obj)) {
        const child = obj[key];
        if (typeof child === 'object' && child !== null) stack.push(child);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Shape validation
// ---------------------------------------------------------------------------------------------------------

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function shape(message: string): PluginError {
  return badRequest('BODY_SHAPE', message);
}

const CHAT_ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

/** Optional field check helper: undefined/null pass. */
type Check = (v: unknown) => boolean;
const isString: Check = (v) => typeof v === 'string';
const isBool: Check = (v) => typeof v === 'boolean';
const isNumberIn =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
const isIntIn =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

function optional(obj: Record<string, unknown>, key: string, check: Check, what: string, prefix = ''): void {
  const v = obj[key];
  if (v === undefined || v === null) return;
  if (!check(v)) throw shape(`${prefix}${key} must be ${what}`);
}

function requireModel(body: Record<string, unknown>): void {
  const m = body['model'];
  if (typeof m !== 'string' || m.length === 0 || m.length > 256) {
    throw shape('model must be a non-empty string (at most 256 characters)');
  }
}

function requireObjectBody(body: unknown): Record<string, unknown> {
  if (!isRecord(body)) throw shape('request body must be a JSON object');
  return body;
}

function validateTokenLimits(body: Record<string, unknown>): void {
  const tokens = isIntIn(0, MAX_TOKENS_BOUND);
  const what = `a non-negative integer at most ${MAX_TOKENS_BOUND}`;
  optional(body, 'max_tokens', tokens, what);
  optional(body, 'max_completion_tokens', tokens, what);
  optional(body, 'max_output_tokens', tokens, what);
}

function validateCommonSampling(body: Record<string, unknown>): void {
  optional(body, 'stream', isBool, 'a boolean');
  const so = body['stream_options'];
  if (so !== undefined && so !== null) {
    if (!isRecord(so)) throw shape('stream_options must be an object');
    optional(so, 'include_usage', isBool, 'a boolean', 'stream_options.');
  }
  optional(body, 'temperature', isNumberIn(0, 2), 'a number between 0 and 2');
  optional(body, 'top_p', isNumberIn(0, 1), 'a number between 0 and 1');
  optional(body, 'n', isIntIn(1, 128), 'an integer between 1 and 128');
  optional(body, 'seed', (v) => typeof v === 'number' && Number.isSafeInteger(v), 'a safe integer');
  optional(body, 'presence_penalty', isNumberIn(-2, 2), 'a number between -2 and 2');
  optional(body, 'frequency_penalty', isNumberIn(-2, 2), 'a number between -2 and 2');
  optional(body, 'user', isString, 'a string');
  optional(
    body,
    'logprobs',
    (v) => typeof v === 'boolean' || isIntIn(0, 20)(v),
    'a boolean or a small integer',
  );
  optional(body, 'top_logprobs', isIntIn(0, 20), 'an integer between 0 and 20');
  optional(body, 'logit_bias', isRecord, 'an object');
  optional(body, 'metadata', isRecord, 'an object');
  const stop = body['stop'];
  if (stop !== undefined && stop !== null && typeof stop !== 'string') {
    if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string')) {
      throw shape('stop must be a string or an array of strings');
    }
  }
}

function validateFunctionDefinition(fn: unknown, path: string): void {
  if (!isRecord(fn)) throw shape(`${path} must be an object`);
  if (typeof fn['name'] !== 'string' || fn['name'].length === 0)
    throw shape(`${path}.name must be a non-empty string`);
  optional(fn, 'description', isString, 'a string', `${path}.`);
  optional(fn, 'parameters', isRecord, 'an object', `${path}.`);
  optional(fn, 'strict', isBool, 'a boolean', `${path}.`);
}

function validateToolCall(tc: unknown, path: string): void {
  if (!isRecord(tc)) throw shape(`${path} must be an object`);
  if (typeof tc['id'] !== 'string') throw shape(`${path}.id must be a string`);
  const type = tc['type'] ?? 'function';
  if (typeof type !== 'string') throw shape(`${path}.type must be a string`);
  if (type === 'function') {
    const fn = tc['function'];
    if (!isRecord(fn)) throw shape(`${path}.function must be an object`);
    if (typeof fn['name'] !== 'string') throw shape(`${path}.function.name must be a string`);
    if (typeof fn['arguments'] !== 'string') throw shape(`${path}.function.arguments must be a string`);
  } else if (type === 'custom') {
    const c = tc['custom'];
    if (!isRecord(c) || typeof c['name'] !== 'string' || typeof c['input'] !== 'string') {
      throw shape(`${path}.custom must be an object with string name and input`);
    }
  } else {
    throw shape(`${path}.type must be "function" or "custom"`);
  }
}

const PART_RULES: Record<string, (p: Record<string, unknown>, path: string) => void> = {
  text: (p, path) => {
    if (typeof p['text'] !== 'string') throw shape(`${path}.text must be a string`);
  },
  image_url: (p, path) => {
    const iu = p['image_url'];
    if (!isRecord(iu) || typeof iu['url'] !== 'string') throw shape(`${path}.image_url.url must be a string`);
    const d = iu['detail'];
    if (d !== undefined && d !== null && d !== 'auto' && d !== 'low' && d !== 'high') {
      throw shape(`${path}.image_url.detail must be "auto", "low" or "high"`);
    }
  },
  input_audio: (p, path) => {
    const a = p['input_audio'];
    if (!isRecord(a) || typeof a['data'] !== 'string' || typeof a['format'] !== 'string') {
      throw shape(`${path}.input_audio must be an object with string data and format`);
    }
  },
  file: (p, path) => {
    const f = p['file'];
    if (!isRecord(f)) throw shape(`${path}.file must be an object`);
    optional(f, 'file_data', isString, 'a string', `${path}.file.`);
    optional(f, 'file_id', isString, 'a string', `${path}.file.`);
    optional(f, 'filename', isString, 'a string', `${path}.file.`);
  },
  refusal: (p, path) => {
    if (typeof p['refusal'] !== 'string') throw shape(`${path}.refusal must be a string`);
  },
};

/** Part types allowed per role (unknown part types are rejected so guards cannot be bypassed through them). */
const PARTS_BY_ROLE: Record<string, ReadonlySet<string>> = {
  system: new Set(['text']),
  developer: new Set(['text']),
  user: new Set(['text', 'image_url', 'input_audio', 'file']),
  assistant: new Set(['text', 'refusal']),
  tool: new Set(['text']),
  function: new Set(['text']),
};

function validateMessage(m: unknown, i: number): void {
  const path = `messages[${i}]`;
  if (!isRecord(m)) throw shape(`${path} must be an object`);
  const role = m['role'];
  if (typeof role !== 'string' || !CHAT_ROLES.has(role)) {
    throw shape(`${path}.role must be one of system, developer, user, assistant, tool, function`);
  }
  const content = m['content'];
  const mayBeEmpty = role === 'assistant' || role === 'function';
  if (content === undefined || content === null) {
    if (!mayBeEmpty) throw shape(`${path}.content is required for role ${role}`);
  } else if (typeof content !== 'string') {
    if (!Array.isArray(content)) {
      throw shape(`${path}.content must be a string or an array of content parts`);
    }
    const allowed = PARTS_BY_ROLE[role] ?? new Set<string>();
    for (let j = 0; j < content.length; j++) {
      const p: unknown = content[j];
      const ppath = `${path}.content[${j}]`;
      if (!isRecord(p) || typeof p['type'] !== 'string')
        throw shape(`${ppath} must be an object with a string type`);
      const rule = PART_RULES[p['type']];
      if (rule === undefined || !allowed.has(p['type'])) {
        throw shape(`${ppath}.type is not an allowed content part type for role ${role}`);
      }
      rule(p, ppath);
    }
  }
  optional(m, 'name', isString, 'a string', `${path}.`);
  if (role === 'tool' && typeof m['tool_call_id'] !== 'string') {
    throw shape(`${path}.tool_call_id must be a string`);
  }
  if (role === 'function' && typeof m['name'] !== 'string') throw shape(`${path}.name must be a string`);
  const tcs = m['tool_calls'];
  if (tcs !== undefined && tcs !== null) {
    if (role !== 'assistant') throw shape(`${path}.tool_calls is only allowed on assistant messages`);
    if (!Array.isArray(tcs)) throw shape(`${path}.tool_calls must be an array`);
    tcs.forEach((tc, k) => validateToolCall(tc, `${path}.tool_calls[${k}]`));
  }
  const fc = m['function_call'];
  if (fc !== undefined && fc !== null) {
    if (!isRecord(fc) || typeof fc['name'] !== 'string' || typeof fc['arguments'] !== 'string') {
      throw shape(`${path}.function_call must be an object with string name and arguments`);
    }
  }
}

/**
 * Validate a chat completions body and return it typed (same object; unknown fields kept).
 * @throws PluginError BODY_SHAPE (400) with the path of the first problem, e.g.
 *   "messages[2].content must be a string or an array of content parts".
 */
export function parseChatRequest(body: unknown): ChatRequest {
  const b = requireObjectBody(body);
  requireModel(b);
  const messages = b['messages'];
  if (!Array.isArray(messages) || messages.length === 0) throw shape('messages must be a non-empty array');
  messages.forEach(validateMessage);
  validateTokenLimits(b);
  validateCommonSampling(b);
  optional(b, 'parallel_tool_calls', isBool, 'a boolean');
  optional(b, 'store', isBool, 'a boolean');
  optional(b, 'reasoning_effort', isString, 'a string');
  optional(b, 'service_tier', isString, 'a string');
  optional(b, 'modalities', (v) => Array.isArray(v) && v.every(isString), 'an array of strings');

  const tools = b['tools'];
  if (tools !== undefined && tools !== null) {
    if (!Array.isArray(tools)) throw shape('tools must be an array');
    tools.forEach((t: unknown, i) => {
      if (!isRecord(t) || typeof t['type'] !== 'string')
        throw shape(`tools[${i}] must be an object with a string type`);
      if (t['type'] === 'function') validateFunctionDefinition(t['function'], `tools[${i}].function`);
    });
  }
  const tc = b['tool_choice'];
  if (tc !== undefined && tc !== null) {
    if (typeof tc === 'string') {
      if (tc !== 'none' && tc !== 'auto' && tc !== 'required') {
        throw shape('tool_choice must be "none", "auto", "required" or an object');
      }
    } else if (!isRecord(tc)) {
      throw shape('tool_choice must be "none", "auto", "required" or an object');
    }
  }
  const fns = b['functions'];
  if (fns !== undefined && fns !== null) {
    if (!Array.isArray(fns)) throw shape('functions must be an array');
    fns.forEach((f, i) => validateFunctionDefinition(f, `functions[${i}]`));
  }
  const fcall = b['function_call'];
  if (fcall !== undefined && fcall !== null && fcall !== 'none' && fcall !== 'auto') {
    if (!isRecord(fcall) || typeof fcall['name'] !== 'string') {
      throw shape('function_call must be "none", "auto" or an object with a string name');
    }
  }
  const rf = b['response_format'];
  if (rf !== undefined && rf !== null) {
    if (!isRecord(rf) || typeof rf['type'] !== 'string')
      throw shape('response_format must be an object with a string type');
    if (rf['type'] === 'json_schema' && !isRecord(rf['json_schema'])) {
      throw shape('response_format.json_schema must be an object');
    }
  }
  return b as ChatRequest;
}

function isTokenArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((t) => typeof t === 'number' && Number.isInteger(t) && t >= 0);
}

/**
 * Validate a legacy completions body (`prompt`: string | string[] | token ids | token-id arrays).
 * @throws PluginError BODY_SHAPE (400).
 */
export function parseCompletionRequest(body: unknown): CompletionRequest {
  const b = requireObjectBody(body);
  requireModel(b);
  const p = b['prompt'];
  const ok =
    typeof p === 'string' ||
    (Array.isArray(p) && (p.every((s) => typeof s === 'string') || isTokenArray(p) || p.every(isTokenArray)));
  if (!ok) throw shape('prompt must be a string, an array of strings, or token-id arrays');
  validateTokenLimits(b);
  validateCommonSampling(b);
  optional(b, 'echo', isBool, 'a boolean');
  optional(b, 'best_of', isIntIn(1, 128), 'an integer between 1 and 128');
  optional(b, 'suffix', isString, 'a string');
  return b as CompletionRequest;
}

/**
 * Validate an embeddings body (`input`: non-empty string | string[] | token ids | token-id arrays).
 * @throws PluginError BODY_SHAPE (400).
 */
export function parseEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  const b = requireObjectBody(body);
  requireModel(b);
  const inp = b['input'];
  const ok =
    typeof inp === 'string' ||
    (Array.isArray(inp) &&
      inp.length > 0 &&
      (inp.every((s) => typeof s === 'string') || isTokenArray(inp) || inp.every(isTokenArray)));
  if (!ok) throw shape('input must be a string, a non-empty array of strings, or token-id arrays');
  const ef = b['encoding_format'];
  if (ef !== undefined && ef !== null && ef !== 'float' && ef !== 'base64') {
    throw shape('encoding_format must be "float" or "base64"');
  }
  optional(b, 'dimensions', isIntIn(1, 65536), 'a positive integer');
  optional(b, 'user', isString, 'a string');
  return b as EmbeddingsRequest;
}

const RESPONSES_ONLY_FIELDS = [
  'instructions',
  'previous_response_id',
  'reasoning',
  'text',
  'max_output_tokens',
  'tools',
];

/**
 * Which API operation a request targets. The path suffix decides first (query string ignored; `/v1/chat/completions`,
 * `/openai/deployments/x/chat/completions`, `/v1/completions`, `/v1/embeddings`, `/v1/responses`); otherwise the body
 * shape: `messages` → chat, `prompt` → completions, `input` holding message/item objects or Responses-only fields →
 * responses, `input` with token ids or embeddings-only fields (`encoding_format`, `dimensions`) → embeddings.
 * A bare `{ model, input: "text" }` is ambiguous and yields `undefined`.
 */
export function detectOperation(path: string, body: unknown): Operation | undefined {
  const q = path.indexOf('?');
  let p = (q >= 0 ? path.slice(0, q) : path).toLowerCase();
  while (p.endsWith('/')) p = p.slice(0, -1);
  if (p.endsWith('/chat/completions')) return 'chat';
  if (p.endsWith('/completions')) return 'completions';
  if (p.endsWith('/embeddings')) return 'embeddings';
  if (p.endsWith('/responses')) return 'responses';
  if (!isRecord(body)) return undefined;
  if (Array.isArray(body['messages'])) return 'chat';
  if (body['prompt'] !== undefined) return 'completions';
  const input = body['input'];
  if (input === undefined) return undefined;
  if (RESPONSES_ONLY_FIELDS.some((k) => body[k] !== undefined)) return 'responses';
  if (Array.isArray(input) && input.some(isRecord)) return 'responses';
  if (body['encoding_format'] !== undefined || body['dimensions'] !== undefined) return 'embeddings';
  if (isTokenArray(input) || (Array.isArray(input) && input.length > 0 && input.every(isTokenArray)))
    return 'embeddings';
  return undefined;
}
