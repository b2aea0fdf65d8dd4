/**
 * Mock LLM server speaking the OpenAI wire format (chat completions incl. SSE streaming, embeddings,
 * models, legacy completions) with deterministic answers, realistic token accounting (gpt-tokenizer)
 * and fault injection. Used by integration/e2e tests and as the default docker-compose upstream
 * (see scripts/mock-llm.ts).
 *
 * Determinism: the answer for a chat request is a function of (model, messages, choice index) plus the
 * request knobs (max_tokens / max_completion_tokens, stop, tools / tool_choice) and the x-mock-* headers;
 * `expectedCompletion()` computes it without a server.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as zlib from 'node:zlib';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import * as o200k from 'gpt-tokenizer/cjs/encoding/o200k_base';
import * as cl100k from 'gpt-tokenizer/cjs/encoding/cl100k_base';

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

export interface RecordedRequest {
  method: string;
  /** URL path without the query string. */
  path: string;
  /** Full request target as received (path + query string). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or the raw body as a string when it is not JSON (undefined when empty). */
  body: unknown;
  rawBody: Buffer;
  /** Date.now() when the request body had been fully received. */
  receivedAt: number;
}

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: number; body?: string }
  | { kind: 'timeout' }
  | { kind: 'malformed' }
  | { kind: 'drop-mid-stream'; afterChunks: number }
  | { kind: 'no-usage' }
  | { kind: 'gzip' };

export interface MockResponseInfo {
  method: string;
  path: string;
  status: number;
  durationMs: number;
  model?: string;
  stream?: boolean;
  fault?: string;
  /** true when the response did not complete (client gone, dropped, timeout fault, server stopped). */
  aborted: boolean;
}

export interface MockLlmOptions {
  port?: number;
  host?: string;
  /** Time to first token (ms) for streams; for non-stream responses it delays the whole answer. */
  ttftMs?: number;
  /** Completion tokens per second after the first one; 0 = as fast as possible. */
  tokensPerSecond?: number;
  /** When set, reported as `model` in responses instead of echoing the requested model; also the
   *  model used when an Azure-style request omits it; listed first by GET /v1/models. */
  model?: string;
  /** Echoed in the `x-mock-llm-name` response header. */
  name?: string;
  tls?: { key: string; cert: string };
  /** Called once per API request when its response ends or is abandoned (no prompt text). */
  onResponse?: (info: MockResponseInfo) => void;
}

export interface MockLlm {
  url: string;
  requests: RecordedRequest[];
  setFault(f: Fault | undefined, opts?: { times?: number }): void;
  setOptions(o: Partial<MockLlmOptions>): void;
  reset(): void;
  stop(): Promise<void>;
}

export interface ExpectedCompletion {
  /** The answer text ('' for a tool-call answer). */
  content: string;
  promptTokens: number;
  /** Completion tokens of this choice (usage.completion_tokens is the sum over all `n` choices). */
  completionTokens: number;
  finishReason: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  toolCall?: { id: string; name: string; arguments: string };
}

export interface ExpectedCompletionOptions {
  /** x-mock-* request headers to take into account (x-mock-content, x-mock-tool-call, ...). */
  headers?: Record<string, string | undefined>;
  /** Which of the `n` choices (default 0). */
  choiceIndex?: number;
  /** Model to assume when the body has none (Azure-style deployment paths). */
  model?: string;
}

/** The deterministic answer text and usage the mock produces for a chat request body. */
export function expectedCompletion(body: unknown, opts: ExpectedCompletionOptions = {}): ExpectedCompletion {
  if (!isObj(body)) throw new TypeError('expectedCompletion: body must be a chat completion request object');
  const model = typeof body['model'] === 'string' ? body['model'] : (opts.model ?? '');
  const plan = planChat(body, model, lowerKeys(opts.headers ?? {}));
  const choice = plan.choices[opts.choiceIndex ?? 0];
  if (!choice) throw new RangeError(`expectedCompletion: no choice ${opts.choiceIndex ?? 0}`);
  const out: ExpectedCompletion = {
    content: choice.content,
    promptTokens: plan.promptTokens,
    completionTokens: choice.completionTokens,
    finishReason: choice.finishReason,
  };
  if (choice.toolCall) out.toolCall = { ...choice.toolCall };
  return out;
}

/** Prompt tokens the mock reports for a list of chat messages (OpenAI cookbook accounting). */
export function countPromptTokens(messages: unknown[], model = 'gpt-4o', tools?: unknown): number {
  return chatPromptTokens(messages, tokenizerFor(model), tools);
}

/** Number of tokens of `text` for `model` (o200k_base for gpt-4o/4.1/5/o-series, cl100k_base for gpt-4/3.5). */
export function countTokens(text: string, model = 'gpt-4o'): number {
  return tokenizerFor(model).encode(text).length;
}

/** The deterministic embedding vector the mock returns for `text` (unit length, float32 values). */
export function mockEmbedding(text: string, dimensions = DEFAULT_EMBEDDING_DIMENSIONS): number[] {
  const v = new Float64Array(dimensions);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const features = words.length > 0 ? words : [text];
  for (const w of features) {
    const h = createHash('sha256').update(w).digest();
    // two hashed slots per word limits the damage of collisions in small dimensions
    for (let k = 0; k < 2; k++) {
      const idx = h.readUInt32LE(k * 8) % dimensions;
      const sign = (h[k * 8 + 4] ?? 0) & 1 ? 1 : -1;
      v[idx] = (v[idx] ?? 0) + sign * (k === 0 ? 1 : 0.5);
    }
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm === 0) {
    // all contributions cancelled out: fall back to a single deterministic slot
    const h = createHash('sha256').update(text).digest();
    v[h.readUInt32LE(0) % dimensions] = 1;
    norm = 1;
  }
  return Array.from(v, (x) => Math.fround(x / norm));
}

export const DEFAULT_EMBEDDING_DIMENSIONS = 64;

export async function startMockLlm(opts: MockLlmOptions = {}): Promise<MockLlm> {
  const server = new MockServer(opts);
  await server.listen();
  return server.api();
}

// ---------------------------------------------------------------------------------------------
// Tokenizers
// ---------------------------------------------------------------------------------------------

interface Tokenizer {
  encode(text: string): number[];
  decodeGenerator(tokens: Iterable<number>): Generator<string, void, void>;
}

const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };
const O200K: Tokenizer = {
  encode: (t) => o200k.encode(t, PLAIN_TEXT),
  decodeGenerator: (t) => o200k.decodeGenerator(t),
};
const CL100K: Tokenizer = {
  encode: (t) => cl100k.encode(t, PLAIN_TEXT),
  decodeGenerator: (t) => cl100k.decodeGenerator(t),
};

function tokenizerFor(model: string): Tokenizer {
  const m = model.toLowerCase().replace(/^.*\//, '');
  if (
    /^gpt-4(-|$)/.test(m) ||
    m.startsWith('gpt-3.5') ||
    m.startsWith('gpt-35') ||
    m.startsWith('text-embedding')
  )
    return CL100K;
  if (/^(davinci|babbage)-002/.test(m)) return CL100K;
  return O200K;
}

/**
 * Text contributed by each token, such that the concatenation equals the text. A token holding only
 * part of a multi-byte character contributes '' and the token completing it carries the character.
 */
function tokenTexts(text: string, tk: Tokenizer): string[] {
  const tokens = tk.encode(text);
  const per: string[] = tokens.map(() => '');
  let pulled = 0;
  const counted: Iterable<number> = {
    *[Symbol.iterator]() {
      for (const t of tokens) {
        pulled++;
        yield t;
      }
    },
  };
  for (const s of tk.decodeGenerator(counted)) {
    const i = Math.max(0, pulled - 1);
    per[i] = (per[i] ?? '') + s;
  }
  if (per.join('') !== text) {
    // defensive: should not happen; keep the invariant "concatenation == text"
    return tokens.length === 0 ? [] : [text, ...tokens.slice(1).map(() => '')];
  }
  return per;
}

interface Piece {
  text: string;
  tokens: number;
}

/** Group tokens into SSE pieces of 1..4 tokens (never splitting a character). */
function toPieces(per: string[], rand: () => number): Piece[] {
  const pieces: Piece[] = [];
  let text = '';
  let tokens = 0;
  let i = 0;
  while (i < per.length) {
    const end = Math.min(per.length, i + 1 + Math.floor(rand() * 4));
    for (; i < end; i++) {
      text += per[i] ?? '';
      tokens++;
    }
    if (text !== '') {
      pieces.push({ text, tokens });
      text = '';
      tokens = 0;
    }
  }
  const last = pieces[pieces.length - 1];
  if (tokens > 0 && last) last.tokens += tokens;
  return pieces;
}

// ---------------------------------------------------------------------------------------------
// Deterministic content
// ---------------------------------------------------------------------------------------------

/** Deterministic pseudo-random stream: SHA-256 in counter mode over a seed. */
function seededRandom(seed: string): () => number {
  let counter = 0;
  let block = Buffer.alloc(0);
  let off = 0;
  return () => {
    if (off + 4 > block.length) {
      block = createHash('sha256').update(seed).update(String(counter++)).digest();
      off = 0;
    }
    const x = block.readUInt32LE(off);
    off += 4;
    return x / 0x1_0000_0000;
  };
}

const WORDS = [
  'the',
  'gateway',
  'model',
  'token',
  'request',
  'response',
  'cache',
  'latency',
  'stream',
  'prompt',
  'policy',
  'route',
  'budget',
  'answer',
  'system',
  'data',
  'quickly',
  'carefully',
  'every',
  'simple',
  'reliable',
  'mock',
  'server',
  'returns',
  'a',
  'of',
  'to',
  'and',
  'with',
  'for',
  'in',
  'this',
  'that',
  'is',
  'will',
  'can',
  'should',
  'each',
  'upstream',
  'client',
  'header',
  'value',
  'signal',
  'result',
  'context',
  'window',
  'limit',
  'sample',
  'deterministic',
  'plugin',
  'consumer',
  'service',
  'usage',
  'count',
  'green',
  'bright',
  'river',
];
const EXOTIC = ['café', 'naïve', 'über', 'jalapeño', '日本語', 'Ελληνικά', '🚀', '✨', '👍🏽', 'déjà'];

function generateText(model: string, messages: unknown, index: number): string {
  const rand = seededRandom(`${model}\u0000${JSON.stringify(messages)}\u0000${index}`);
  const pick = <T>(arr: readonly T[]): T => arr[Math.floor(rand() * arr.length)] as T;
  const sentences: string[] = [];
  const nSentences = 2 + Math.floor(rand() * 3);
  for (let s = 0; s < nSentences; s++) {
    const words: string[] = [];
    const nWords = 5 + Math.floor(rand() * 8);
    for (let w = 0; w < nWords; w++) words.push(rand() < 1 / 12 ? pick(EXOTIC) : pick(WORDS));
    const first = words[0] ?? '';
    words[0] = first.charAt(0).toUpperCase() + first.slice(1);
    sentences.push(words.join(' ') + '.');
  }
  return sentences.join(' ');
}

function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (isObj(p) && typeof p['text'] === 'string' ? p['text'] : ''))
      .filter((s) => s !== '')
      .join('\n');
  }
  return '';
}

function chatPromptTokens(messages: unknown[], tk: Tokenizer, tools: unknown): number {
  // OpenAI cookbook accounting: 3 tokens per message, +1 per name, +3 priming the reply.
  let n = 3;
  for (const m of messages) {
    n += 3;
    if (!isObj(m)) continue;
    for (const [key, value] of Object.entries(m)) {
      if (typeof value === 'string') {
        n += tk.encode(value).length;
        if (key === 'name') n += 1;
      } else if (key === 'content' && Array.isArray(value)) {
        for (const part of value) {
          if (!isObj(part)) continue;
          if (typeof part['text'] === 'string') n += tk.encode(part['text']).length;
          else if (part['type'] === 'image_url') n += 85; // low-detail image (approximation)
        }
      } else if (key === 'tool_calls' && Array.isArray(value)) {
        for (const call of value) {
          const fn = isObj(call) && isObj(call['function']) ? call['function'] : undefined;
          if (!fn) continue;
          n +=
            3 + tk.encode(String(fn['name'] ?? '')).length + tk.encode(String(fn['arguments'] ?? '')).length;
        }
      }
    }
  }
  // Tool definitions: real accounting is model-internal; approximate with their JSON size.
  if (Array.isArray(tools) && tools.length > 0) n += tk.encode(JSON.stringify(tools)).length;
  return n;
}

type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

interface ChoicePlan {
  content: string;
  /** per-token texts of `content` (for streaming) */
  tokenTexts: string[];
  completionTokens: number;
  finishReason: FinishReason;
  toolCall?: { id: string; name: string; arguments: string; argumentTokenTexts: string[] };
}

interface ChatPlan {
  promptTokens: number;
  choices: ChoicePlan[];
  tokenizer: Tokenizer;
}

type HeaderMap = Record<string, string | undefined>;

function lowerKeys(h: Record<string, string | undefined>): HeaderMap {
  const out: HeaderMap = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

function maxTokensOf(body: Record<string, unknown>): number | undefined {
  const v = body['max_completion_tokens'] ?? body['max_tokens'];
  return typeof v === 'number' ? v : undefined;
}

function stopSequences(body: Record<string, unknown>): string[] {
  const s = body['stop'];
  if (typeof s === 'string') return s === '' ? [] : [s];
  if (Array.isArray(s)) return s.filter((x): x is string => typeof x === 'string' && x !== '');
  return [];
}

/** Apply stop sequences then max tokens to an answer. */
function shapeAnswer(
  text: string,
  tk: Tokenizer,
  maxTokens: number | undefined,
  stops: string[],
): { content: string; tokenTexts: string[]; finishReason: FinishReason } {
  let cut = text;
  for (const s of stops) {
    const i = cut.indexOf(s);
    if (i >= 0) cut = cut.slice(0, i);
  }
  let per = tokenTexts(cut, tk);
  let finishReason: FinishReason = 'stop';
  if (maxTokens !== undefined && per.length > maxTokens) {
    per = per.slice(0, maxTokens);
    finishReason = 'length';
  }
  return { content: per.join(''), tokenTexts: per, finishReason };
}

function toolArguments(tools: unknown, name: string): string {
  const tool = Array.isArray(tools)
    ? tools.find((t) => isObj(t) && isObj(t['function']) && t['function']['name'] === name)
    : undefined;
  const params = isObj(tool) && isObj(tool['function']) ? tool['function']['parameters'] : undefined;
  return JSON.stringify(sampleFromSchema(params, name));
}

function sampleFromSchema(schema: unknown, key: string, depth = 0): unknown {
  if (!isObj(schema) || depth > 4) return {};
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return schema['enum'][0];
  const type = Array.isArray(schema['type']) ? schema['type'][0] : schema['type'];
  switch (type) {
    case 'string':
      return `${key}-value`;
    case 'integer':
    case 'number':
      return typeof schema['minimum'] === 'number' ? schema['minimum'] : 1;
    case 'boolean':
      return true;
    case 'array':
      return [sampleFromSchema(schema['items'], key, depth + 1)];
    case 'object':
    default: {
      const props = isObj(schema['properties']) ? schema['properties'] : {};
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(props)) out[k] = sampleFromSchema(v, k, depth + 1);
      return out;
    }
  }
}

function forcedToolName(body: Record<string, unknown>, headers: HeaderMap): string | undefined {
  const h = headers['x-mock-tool-call'];
  if (h) return h;
  const choice = body['tool_choice'];
  if (isObj(choice) && isObj(choice['function']) && typeof choice['function']['name'] === 'string')
    return choice['function']['name'];
  const tools = body['tools'];
  if (choice === 'required' && Array.isArray(tools)) {
    const first = tools[0];
    if (isObj(first) && isObj(first['function']) && typeof first['function']['name'] === 'string')
      return first['function']['name'];
  }
  return undefined;
}

function forcedContent(headers: HeaderMap): string | undefined {
  const b64 = headers['x-mock-content-b64'];
  if (b64 !== undefined) return Buffer.from(b64, 'base64').toString('utf8');
  return headers['x-mock-content'];
}

const ECHO_MARKER = '[[echo]]';

function planChat(body: Record<string, unknown>, model: string, headers: HeaderMap): ChatPlan {
  const tk = tokenizerFor(model);
  const messages = Array.isArray(body['messages']) ? body['messages'] : [];
  const promptTokens = chatPromptTokens(messages, tk, body['tools']);
  const n = typeof body['n'] === 'number' && body['n'] >= 1 ? Math.floor(body['n']) : 1;
  const maxTokens = maxTokensOf(body);
  const stops = stopSequences(body);
  const forcedFinish = headers['x-mock-finish-reason'] as FinishReason | undefined;
  const toolName = forcedToolName(body, headers);
  const forced = forcedContent(headers);
  let echo: string | undefined;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (isObj(m) && m['role'] === 'user') {
      const t = messageText(m['content']);
      if (t.includes(ECHO_MARKER)) echo = t;
      break;
    }
  }
  const choices: ChoicePlan[] = [];
  for (let i = 0; i < n; i++) {
    if (toolName !== undefined) {
      const args = toolArguments(body['tools'], toolName);
      const id =
        'call_' +
        createHash('sha256')
          .update(`${model}\u0000${JSON.stringify(messages)}\u0000${i}`)
          .digest('base64url')
          .slice(0, 24);
      const argTexts = tokenTexts(args, tk);
      choices.push({
        content: '',
        tokenTexts: [],
        completionTokens: tk.encode(toolName).length + argTexts.length,
        finishReason: forcedFinish ?? 'tool_calls',
        toolCall: { id, name: toolName, arguments: args, argumentTokenTexts: argTexts },
      });
      continue;
    }
    const raw = forced ?? echo ?? generateText(model, messages, i);
    const shaped = shapeAnswer(raw, tk, maxTokens, stops);
    choices.push({
      content: shaped.content,
      tokenTexts: shaped.tokenTexts,
      completionTokens: shaped.tokenTexts.length,
      finishReason: forcedFinish ?? shaped.finishReason,
    });
  }
  return { promptTokens, choices, tokenizer: tk };
}

function usageObject(promptTokens: number, completionTokens: number): Record<string, unknown> {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Validation (OpenAI-style 400s)
// ---------------------------------------------------------------------------------------------

interface ApiError {
  status: number;
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

const badRequest = (message: string, param: string | null = null, code: string | null = null): ApiError => ({
  status: 400,
  message,
  type: 'invalid_request_error',
  param,
  code,
});

const JSON_PARSE_ERROR =
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)";

const ROLES = ['system', 'assistant', 'user', 'function', 'tool', 'developer'];

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return typeof v === 'number' ? (Number.isInteger(v) ? 'an integer' : 'a decimal') : `a ${typeof v}`;
}

function checkPositiveInt(body: Record<string, unknown>, key: string, max?: number): ApiError | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v))
    return badRequest(
      `Invalid type for '${key}': expected an integer, but got ${typeName(v)} instead.`,
      key,
      'invalid_type',
    );
  if (v < 1)
    return badRequest(
      `Invalid '${key}': integer below minimum value. Expected a value >= 1, but got ${v} instead.`,
      key,
      'integer_below_min_value',
    );
  if (max !== undefined && v > max)
    return badRequest(
      `Invalid '${key}': integer above maximum value. Expected a value <= ${max}, but got ${v} instead.`,
      key,
      'integer_above_max_value',
    );
  return undefined;
}

function checkModel(body: Record<string, unknown>, required: boolean): ApiError | undefined {
  const m = body['model'];
  if (m === undefined || m === null || m === '')
    return required ? badRequest('you must provide a model parameter') : undefined;
  if (typeof m !== 'string')
    return badRequest(
      `Invalid type for 'model': expected a string, but got ${typeName(m)} instead.`,
      'model',
      'invalid_type',
    );
  return undefined;
}

function validateChat(body: Record<string, unknown>, modelRequired: boolean): ApiError | undefined {
  const modelErr = checkModel(body, modelRequired);
  if (modelErr) return modelErr;
  const messages = body['messages'];
  if (messages === undefined || messages === null)
    return badRequest("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  if (!Array.isArray(messages))
    return badRequest(
      `Invalid type for 'messages': expected an array of objects, but got ${typeName(messages)} instead.`,
      'messages',
      'invalid_type',
    );
  if (messages.length === 0)
    return badRequest(
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'messages',
      'empty_array',
    );
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    const p = `messages[${i}]`;
    if (!isObj(m))
      return badRequest(
        `Invalid type for '${p}': expected an object, but got ${typeName(m)} instead.`,
        p,
        'invalid_type',
      );
    const role = m['role'];
    if (role === undefined)
      return badRequest(
        `Missing required parameter: '${p}.role'.`,
        `${p}.role`,
        'missing_required_parameter',
      );
    if (typeof role !== 'string' || !ROLES.includes(role))
      return badRequest(
        `Invalid value: '${String(role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
        `${p}.role`,
        'invalid_value',
      );
    const content = m['content'];
    const needsContent = role !== 'assistant';
    if (needsContent && content === undefined)
      return badRequest(
        `Missing required parameter: '${p}.content'.`,
        `${p}.content`,
        'missing_required_parameter',
      );
    if (content !== undefined && content !== null && typeof content !== 'string' && !Array.isArray(content))
      return badRequest(
        `Invalid type for '${p}.content': expected one of a string or array of objects, but got ${typeName(content)} instead.`,
        `${p}.content`,
        'invalid_type',
      );
  }
  const intErr =
    checkPositiveInt(body, 'max_tokens') ??
    checkPositiveInt(body, 'max_completion_tokens') ??
    checkPositiveInt(body, 'n', 128);
  if (intErr) return intErr;
  if (body['stream_options'] !== undefined && body['stream_options'] !== null && body['stream'] !== true)
    return badRequest(
      "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
      'stream_options',
      null,
    );
  if (body['stream'] !== undefined && body['stream'] !== null && typeof body['stream'] !== 'boolean')
    return badRequest(
      `Invalid type for 'stream': expected a boolean, but got ${typeName(body['stream'])} instead.`,
      'stream',
      'invalid_type',
    );
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------

/** Parse an `x-mock-fault` header value; throws on invalid input. */
export function parseFaultHeader(value: string): Fault {
  const v = value.trim();
  if (v.startsWith('{')) return parseFaultObject(JSON.parse(v));
  const parts = v
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
  const kv = new Map<string, string>();
  for (const p of parts) {
    const eq = p.indexOf('=');
    kv.set((eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase(), eq < 0 ? '' : p.slice(eq + 1).trim());
  }
  const num = (s: string | undefined, what: string): number => {
    const n = Number(s);
    if (s === undefined || s === '' || !Number.isFinite(n))
      throw new Error(`x-mock-fault: ${what} must be a number`);
    return n;
  };
  if (kv.has('status')) {
    const f: Fault = { kind: 'status', status: num(kv.get('status'), 'status') };
    if (kv.has('retry-after')) f.retryAfter = num(kv.get('retry-after'), 'retry-after');
    if (kv.has('body')) f.body = kv.get('body') ?? '';
    return f;
  }
  if (kv.has('drop') || kv.has('drop-mid-stream'))
    return { kind: 'drop-mid-stream', afterChunks: num(kv.get('drop') ?? kv.get('drop-mid-stream'), 'drop') };
  const first = parts[0]?.toLowerCase();
  if (first === 'timeout' || first === 'malformed' || first === 'no-usage' || first === 'gzip')
    return { kind: first };
  throw new Error(`x-mock-fault: unknown fault '${value}'`);
}

function parseFaultObject(o: unknown): Fault {
  if (!isObj(o)) throw new Error('fault must be an object');
  switch (o['kind']) {
    case 'status': {
      if (typeof o['status'] !== 'number') throw new Error('status fault needs a numeric status');
      const f: Fault = { kind: 'status', status: o['status'] };
      if (typeof o['retryAfter'] === 'number') f.retryAfter = o['retryAfter'];
      if (typeof o['body'] === 'string') f.body = o['body'];
      return f;
    }
    case 'drop-mid-stream':
      if (typeof o['afterChunks'] !== 'number')
        throw new Error('drop-mid-stream fault needs numeric afterChunks');
      return { kind: 'drop-mid-stream', afterChunks: o['afterChunks'] };
    case 'timeout':
    case 'malformed':
    case 'no-usage':
    case 'gzip':
      return { kind: o['kind'] };
    default:
      throw new Error(`unknown fault kind ${JSON.stringify(o['kind'])}`);
  }
}

function faultLabel(f: Fault | undefined): string | undefined {
  if (!f) return undefined;
  if (f.kind === 'status') return `status=${f.status}`;
  if (f.kind === 'drop-mid-stream') return `drop=${f.afterChunks}`;
  return f.kind;
}

function defaultErrorFor(status: number): { message: string; type: string; code: string | null } {
  switch (status) {
    case 400:
      return { message: 'Bad request (injected by mock).', type: 'invalid_request_error', code: null };
    case 401:
      return {
        message: 'Incorrect API key provided.',
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      };
    case 403:
      return {
        message: 'You are not allowed to sample from this model.',
        type: 'invalid_request_error',
        code: null,
      };
    case 404:
      return {
        message: 'The model does not exist or you do not have access to it.',
        type: 'invalid_request_error',
        code: 'model_not_found',
      };
    case 429:
      return {
        message: 'Rate limit reached for requests. Please try again later.',
        type: 'requests',
        code: 'rate_limit_exceeded',
      };
    case 503:
      return {
        message: 'The engine is currently overloaded, please try again later.',
        type: 'server_error',
        code: null,
      };
    default:
      return status >= 500
        ? {
            message: 'The server had an error while processing your request. Sorry about that!',
            type: 'server_error',
            code: null,
          }
        : { message: `Injected error ${status}.`, type: 'invalid_request_error', code: null };
  }
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function randomId(prefix: string, len = 29): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(len);
  let s = prefix;
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return s;
}

function fingerprint(model: string): string {
  return 'fp_' + createHash('sha256').update(model).digest('hex').slice(0, 10);
}

const KNOWN_MODELS = [
  'gpt-4o',
  'gpt-4o-mini',
  'gpt-4.1',
  'gpt-4.1-mini',
  'gpt-4-turbo',
  'gpt-3.5-turbo',
  'o3-mini',
  'text-embedding-3-small',
  'text-embedding-3-large',
  'text-embedding-ada-002',
];

interface Ctx {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  path: string;
  body: unknown;
  fault: Fault | undefined;
  headers: HeaderMap;
  receivedAt: number;
  ttftMs: number;
  tokensPerSecond: number;
  /** set true once the response is closed (finished or aborted) */
  closed: boolean;
  info: { model?: string; stream?: boolean };
}

/** Output sink that writes SSE frames one by one, optionally through a flushed gzip stream. */
interface Sink {
  write(s: string): Promise<void>;
  end(): void;
}

class MockServer {
  private opts: MockLlmOptions;
  private server: http.Server | https.Server;
  private sockets = new Set<Socket>();
  private timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private fault: { fault: Fault; remaining: number | undefined } | undefined;
  readonly requests: RecordedRequest[] = [];
  url = '';

  constructor(opts: MockLlmOptions) {
    this.opts = { ...opts };
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          this.sendError(res, {
            status: 500,
            message: `mock internal error: ${String(err)}`,
            type: 'server_error',
            param: null,
            code: null,
          });
        } else res.destroy();
      });
    };
    this.server = opts.tls
      ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler)
      : http.createServer(handler);
    // a 'timeout' fault must be able to hang for as long as the client waits
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 0;
    this.server.on('connection', (socket: Socket) => {
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  listen(): Promise<void> {
    const host = this.opts.host ?? '127.0.0.1';
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 0, host, () => {
        this.server.off('error', reject);
        const addr = this.server.address() as AddressInfo;
        const shown =
          host === '0.0.0.0'
            ? '127.0.0.1'
            : host === '::'
              ? '[::1]'
              : host.includes(':')
                ? `[${host}]`
                : host;
        this.url = `${this.opts.tls ? 'https' : 'http'}://${shown}:${addr.port}`;
        resolve();
      });
    });
  }

  api(): MockLlm {
    return {
      url: this.url,
      requests: this.requests,
      setFault: (f, o) => this.setFault(f, o?.times),
      setOptions: (o) => {
        this.opts = { ...this.opts, ...o };
      },
      reset: () => this.reset(),
      stop: () => this.stop(),
    };
  }

  private setFault(f: Fault | undefined, times: number | undefined): void {
    this.fault = f ? { fault: f, remaining: times } : undefined;
  }

  private reset(): void {
    this.requests.length = 0;
    this.fault = undefined;
  }

  private takeFault(): Fault | undefined {
    const f = this.fault;
    if (!f) return undefined;
    if (f.remaining !== undefined) {
      f.remaining--;
      if (f.remaining <= 0) this.fault = undefined;
    }
    return f.fault;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private sleepUntil(at: number): Promise<void> {
    return new Promise((resolve) => {
      const tick = (): void => {
        const left = at - Date.now();
        if (left <= 0 || this.stopped) {
          if (!this.stopped) resolve();
          return;
        }
        const t = setTimeout(() => {
          this.timers.delete(t);
          tick();
        }, left);
        this.timers.add(t);
      };
      tick();
    });
  }

  // ----- request handling -----

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks);
    const receivedAt = Date.now();
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const path = qi < 0 ? url : url.slice(0, qi);
    const method = (req.method ?? 'GET').toUpperCase();

    if (this.opts.name) res.setHeader('x-mock-llm-name', this.opts.name);
    res.setHeader('x-request-id', randomId('req_', 24));

    if (path.startsWith('/__mock/')) return this.handleControl(method, path, rawBody, res);

    let body: unknown;
    let jsonOk = false;
    if (rawBody.length > 0) {
      const text = rawBody.toString('utf8');
      try {
        body = JSON.parse(text);
        jsonOk = true;
      } catch {
        body = text;
      }
    }
    this.requests.push({ method, path, url, headers: { ...req.headers }, body, rawBody, receivedAt });

    const headers: HeaderMap = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;

    let fault: Fault | undefined;
    const fh = headers['x-mock-fault'];
    if (fh) {
      try {
        fault = parseFaultHeader(fh);
      } catch (e) {
        return this.sendError(
          res,
          badRequest(`mock: ${(e as Error).message}`, 'x-mock-fault', 'mock_invalid_fault'),
        );
      }
    } else fault = this.takeFault();

    const num = (h: string | undefined, dflt: number | undefined): number => {
      const n = h === undefined ? NaN : Number(h);
      return Number.isFinite(n) && n >= 0 ? n : (dflt ?? 0);
    };
    const ctx: Ctx = {
      req,
      res,
      path,
      body,
      fault,
      headers,
      receivedAt,
      ttftMs: num(headers['x-mock-ttft-ms'], this.opts.ttftMs),
      tokensPerSecond: num(headers['x-mock-tokens-per-s'], this.opts.tokensPerSecond),
      closed: false,
      info: {},
    };
    let finished = false;
    res.on('finish', () => (finished = true));
    res.on('close', () => {
      ctx.closed = true;
      this.opts.onResponse?.({
        method,
        path,
        status: res.statusCode,
        durationMs: Date.now() - receivedAt,
        ...(ctx.info.model !== undefined ? { model: ctx.info.model } : {}),
        ...(ctx.info.stream !== undefined ? { stream: ctx.info.stream } : {}),
        ...(fault ? { fault: faultLabel(fault) } : {}),
        aborted: !finished,
      });
    });

    if (fault?.kind === 'timeout') return; // never answer
    if (fault?.kind === 'status') return this.sendStatusFault(ctx, fault);

    const isPost = method === 'POST';
    if (isPost && path.endsWith('/chat/completions')) {
      if (!jsonOk || !isObj(body)) return this.sendError(res, badRequest(JSON_PARSE_ERROR));
      return this.handleChat(ctx, body);
    }
    if (isPost && path.endsWith('/completions')) {
      if (!jsonOk || !isObj(body)) return this.sendError(res, badRequest(JSON_PARSE_ERROR));
      return this.handleLegacy(ctx, body);
    }
    if (isPost && path.endsWith('/embeddings')) {
      if (!jsonOk || !isObj(body)) return this.sendError(res, badRequest(JSON_PARSE_ERROR));
      return this.handleEmbeddings(ctx, body);
    }
    if (method === 'GET') {
      const m = /\/models(?:\/([^/]+))?$/.exec(path);
      if (m) return this.handleModels(ctx, m[1] === undefined ? undefined : decodeURIComponent(m[1]));
    }
    return this.sendError(res, {
      status: 404,
      message: `Invalid URL (${method} ${path})`,
      type: 'invalid_request_error',
      param: null,
      code: null,
    });
  }

  private handleControl(method: string, path: string, rawBody: Buffer, res: http.ServerResponse): void {
    const parse = (): unknown => (rawBody.length === 0 ? undefined : JSON.parse(rawBody.toString('utf8')));
    try {
      if (method === 'GET' && path === '/__mock/health') return this.sendJson(res, 200, { ok: true });
      if (method === 'GET' && path === '/__mock/requests')
        return this.sendJson(
          res,
          200,
          this.requests.map((r) => ({ ...r, rawBody: r.rawBody.toString('base64') })),
        );
      if (method === 'POST' && path === '/__mock/reset') {
        this.reset();
        return this.sendJson(res, 200, { ok: true });
      }
      if (method === 'POST' && path === '/__mock/fault') {
        const b = parse();
        if (b === undefined || b === null) this.setFault(undefined, undefined);
        else if (isObj(b) && 'fault' in b) {
          const times = typeof b['times'] === 'number' ? b['times'] : undefined;
          this.setFault(b['fault'] === null ? undefined : parseFaultObject(b['fault']), times);
        } else this.setFault(parseFaultObject(b), undefined);
        return this.sendJson(res, 200, { ok: true });
      }
      if (method === 'POST' && path === '/__mock/options') {
        const b = parse();
        if (!isObj(b)) throw new Error('options must be an object');
        const o: Partial<MockLlmOptions> = {};
        if (typeof b['ttftMs'] === 'number') o.ttftMs = b['ttftMs'];
        if (typeof b['tokensPerSecond'] === 'number') o.tokensPerSecond = b['tokensPerSecond'];
        if (typeof b['model'] === 'string') o.model = b['model'];
        if (typeof b['name'] === 'string') o.name = b['name'];
        this.opts = { ...this.opts, ...o };
        return this.sendJson(res, 200, { ok: true });
      }
    } catch (e) {
      return this.sendError(res, badRequest(`mock: ${(e as Error).message}`, null, 'mock_invalid_request'));
    }
    return this.sendError(res, {
      status: 404,
      message: `Unknown mock control endpoint ${method} ${path}`,
      type: 'invalid_request_error',
      param: null,
      code: null,
    });
  }

  // ----- responses -----

  private sendJson(
    res: http.ServerResponse,
    status: number,
    obj: unknown,
    extraHeaders: Record<string, string> = {},
  ): void {
    const buf = Buffer.from(JSON.stringify(obj));
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(buf.length),
      ...extraHeaders,
    });
    res.end(buf);
  }

  private sendError(res: http.ServerResponse, e: ApiError, extraHeaders: Record<string, string> = {}): void {
    this.sendJson(
      res,
      e.status,
      { error: { message: e.message, type: e.type, param: e.param, code: e.code } },
      extraHeaders,
    );
  }

  private sendStatusFault(ctx: Ctx, f: Extract<Fault, { kind: 'status' }>): void {
    const headers: Record<string, string> = {};
    if (f.retryAfter !== undefined) headers['retry-after'] = String(f.retryAfter);
    if (f.body !== undefined) {
      const buf = Buffer.from(f.body);
      const looksJson = /^\s*[[{]/.test(f.body);
      ctx.res.writeHead(f.status, {
        'content-type': looksJson ? 'application/json' : 'text/plain; charset=utf-8',
        'content-length': String(buf.length),
        ...headers,
      });
      ctx.res.end(buf);
      return;
    }
    const d = defaultErrorFor(f.status);
    this.sendError(
      ctx.res,
      { status: f.status, message: d.message, type: d.type, param: null, code: d.code },
      headers,
    );
  }

  /** Successful JSON body, honouring the malformed / drop-mid-stream / gzip faults. */
  private async sendSuccess(ctx: Ctx, obj: unknown, delayUntil: number): Promise<void> {
    await this.sleepUntil(delayUntil);
    if (ctx.closed) return;
    const res = ctx.res;
    let buf = Buffer.from(JSON.stringify(obj));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'openai-version': '2020-10-01',
      'openai-processing-ms': String(Date.now() - ctx.receivedAt),
    };
    const f = ctx.fault;
    if (f?.kind === 'malformed') buf = buf.subarray(0, Math.max(1, Math.floor(buf.length / 2)));
    if (f?.kind === 'gzip') {
      buf = zlib.gzipSync(buf);
      headers['content-encoding'] = 'gzip';
    }
    headers['content-length'] = String(buf.length);
    res.writeHead(200, headers);
    if (f?.kind === 'drop-mid-stream') {
      res.write(buf.subarray(0, Math.floor(buf.length / 2)), () => res.destroy());
      return;
    }
    res.end(buf);
  }

  private openSse(ctx: Ctx): Sink {
    const res = ctx.res;
    const headers: Record<string, string> = {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'openai-version': '2020-10-01',
      'openai-processing-ms': String(Date.now() - ctx.receivedAt),
    };
    const gzip = ctx.fault?.kind === 'gzip';
    if (gzip) headers['content-encoding'] = 'gzip';
    res.writeHead(200, headers);
    res.flushHeaders();
    if (!gzip) {
      return {
        write: (s) => new Promise((resolve) => (ctx.closed ? resolve() : res.write(s, () => resolve()))),
        end: () => res.end(),
      };
    }
    const gz = zlib.createGzip();
    gz.pipe(res);
    return {
      write: (s) =>
        new Promise((resolve) => {
          if (ctx.closed) return resolve();
          gz.write(s);
          gz.flush(() => resolve());
        }),
      end: () => gz.end(),
    };
  }

  /**
   * Stream `frames` (already serialised data payloads) with pacing and faults. `at[i]` is the time
   * (ms epoch) frame i may be sent.
   */
  private async streamFrames(
    ctx: Ctx,
    frames: { data: string; at: number; content?: boolean }[],
  ): Promise<void> {
    const sink = this.openSse(ctx);
    const f = ctx.fault;
    let sent = 0;
    let broke = false;
    if (f?.kind === 'drop-mid-stream' && f.afterChunks <= 0) {
      ctx.res.destroy();
      return;
    }
    for (const fr of frames) {
      await this.sleepUntil(fr.at);
      if (ctx.closed) return;
      let data = fr.data;
      if (f?.kind === 'malformed' && !broke && (fr.content || sent > 0)) {
        // cut the JSON in half: a frame that cannot be parsed
        data = data.slice(0, Math.max(1, Math.floor(data.length / 2)));
        broke = true;
      }
      await sink.write(`data: ${data}\n\n`);
      sent++;
      if (f?.kind === 'drop-mid-stream' && sent >= f.afterChunks) {
        ctx.res.destroy();
        return;
      }
    }
    if (ctx.closed) return;
    if (f?.kind === 'drop-mid-stream') {
      // fewer chunks than afterChunks: still drop, before [DONE], so the fault is always visible
      ctx.res.destroy();
      return;
    }
    await sink.write('data: [DONE]\n\n');
    sink.end();
  }

  // ----- endpoints -----

  private async handleChat(ctx: Ctx, body: Record<string, unknown>): Promise<void> {
    const azure = /\/deployments\/([^/]+)\/chat\/completions$/.exec(ctx.path);
    const err = validateChat(body, !azure && this.opts.model === undefined);
    if (err) return this.sendError(ctx.res, err);
    const requested =
      typeof body['model'] === 'string' && body['model'] !== ''
        ? body['model']
        : (this.opts.model ?? (azure?.[1] !== undefined ? decodeURIComponent(azure[1]) : 'gpt-4o'));
    const model = this.opts.model ?? requested;
    ctx.info.model = model;
    const plan = planChat(body, requested, ctx.headers);
    const completionTokens = plan.choices.reduce((a, c) => a + c.completionTokens, 0);
    const created = Math.floor(Date.now() / 1000);
    const id = randomId('chatcmpl-');
    const fp = fingerprint(model);
    const withUsage = ctx.fault?.kind !== 'no-usage';
    const tps = ctx.tokensPerSecond;
    const firstAt = ctx.receivedAt + ctx.ttftMs;
    const msPerToken = tps > 0 ? 1000 / tps : 0;
    const stream = body['stream'] === true;
    ctx.info.stream = stream;

    if (!stream) {
      const obj: Record<string, unknown> = {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: plan.choices.map((c, index) => ({
          index,
          message: c.toolCall
            ? {
                role: 'assistant',
                content: null,
                tool_calls: [
                  {
                    id: c.toolCall.id,
                    type: 'function',
                    function: { name: c.toolCall.name, arguments: c.toolCall.arguments },
                  },
                ],
                refusal: null,
                annotations: [],
              }
            : { role: 'assistant', content: c.content, refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: c.finishReason,
        })),
      };
      if (withUsage) obj['usage'] = usageObject(plan.promptTokens, completionTokens);
      obj['service_tier'] = 'default';
      obj['system_fingerprint'] = fp;
      const maxChoiceTokens = Math.max(0, ...plan.choices.map((c) => c.completionTokens));
      return this.sendSuccess(ctx, obj, firstAt + maxChoiceTokens * msPerToken);
    }

    const so = body['stream_options'];
    const includeUsage = isObj(so) && so['include_usage'] === true;
    const chunk = (choices: unknown[], usage?: unknown): string => {
      const o: Record<string, unknown> = {
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        service_tier: 'default',
        system_fingerprint: fp,
        choices,
      };
      if (includeUsage) o['usage'] = usage ?? null;
      return JSON.stringify(o);
    };
    const choiceDelta = (index: number, delta: unknown, finish: FinishReason | null = null): unknown => ({
      index,
      delta,
      logprobs: null,
      finish_reason: finish,
    });

    // Per choice: list of (delta, tokens) steps; the first carries the role.
    const steps: { delta: Record<string, unknown>; tokens: number }[][] = plan.choices.map((c, index) => {
      const rand = seededRandom(`pieces\u0000${index}\u0000${c.content}\u0000${c.toolCall?.arguments ?? ''}`);
      if (c.toolCall) {
        const tc = c.toolCall;
        const head = {
          delta: {
            role: 'assistant',
            content: null,
            tool_calls: [
              { index: 0, id: tc.id, type: 'function', function: { name: tc.name, arguments: '' } },
            ],
            refusal: null,
          },
          tokens: 0,
        };
        return [
          head,
          ...toPieces(tc.argumentTokenTexts, rand).map((p) => ({
            delta: { tool_calls: [{ index: 0, function: { arguments: p.text } }] },
            tokens: p.tokens,
          })),
        ];
      }
      return [
        { delta: { role: 'assistant', content: '', refusal: null }, tokens: 0 },
        ...toPieces(c.tokenTexts, rand).map((p) => ({ delta: { content: p.text }, tokens: p.tokens })),
      ];
    });

    const frames: { data: string; at: number; content?: boolean }[] = [];
    const emitted = plan.choices.map(() => 0);
    const rounds = Math.max(...steps.map((s) => s.length));
    for (let r = 0; r < rounds; r++) {
      steps.forEach((s, index) => {
        const step = s[r];
        if (!step) return;
        const at = firstAt + (emitted[index] ?? 0) * msPerToken;
        emitted[index] = (emitted[index] ?? 0) + step.tokens;
        frames.push({ data: chunk([choiceDelta(index, step.delta)]), at, content: r > 0 });
      });
    }
    plan.choices.forEach((c, index) => {
      frames.push({
        data: chunk([choiceDelta(index, {}, c.finishReason)]),
        at: firstAt + (emitted[index] ?? 0) * msPerToken,
      });
    });
    if (includeUsage && withUsage) {
      const last = frames[frames.length - 1]?.at ?? firstAt;
      frames.push({ data: chunk([], usageObject(plan.promptTokens, completionTokens)), at: last });
    }
    // keep timestamps monotonic (interleaved choices)
    for (let i = 1; i < frames.length; i++) {
      const prev = frames[i - 1];
      const cur = frames[i];
      if (prev && cur && cur.at < prev.at) cur.at = prev.at;
    }
    return this.streamFrames(ctx, frames);
  }

  private async handleLegacy(ctx: Ctx, body: Record<string, unknown>): Promise<void> {
    const err =
      checkModel(body, this.opts.model === undefined) ??
      (body['prompt'] === undefined
        ? badRequest("Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter')
        : undefined) ??
      checkPositiveInt(body, 'max_tokens') ??
      checkPositiveInt(body, 'n', 128);
    if (err) return this.sendError(ctx.res, err);
    const requested =
      typeof body['model'] === 'string' && body['model'] !== ''
        ? body['model']
        : (this.opts.model ?? 'gpt-3.5-turbo-instruct');
    const model = this.opts.model ?? requested;
    ctx.info.model = model;
    const tk = tokenizerFor(requested);
    const p = body['prompt'];
    const prompts = Array.isArray(p)
      ? p.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)))
      : [typeof p === 'string' ? p : JSON.stringify(p)];
    const n = typeof body['n'] === 'number' ? body['n'] : 1;
    const maxTokens = typeof body['max_tokens'] === 'number' ? body['max_tokens'] : 16; // legacy API default
    const forced = forcedContent(ctx.headers);
    const stops = stopSequences(body);
    const choices: { text: string; index: number; finish: FinishReason; tokens: number }[] = [];
    prompts.forEach((prompt, pi) => {
      for (let i = 0; i < n; i++) {
        const s = shapeAnswer(forced ?? ' ' + generateText(requested, prompt, i), tk, maxTokens, stops);
        choices.push({
          text: s.content,
          index: pi * n + i,
          finish: s.finishReason,
          tokens: s.tokenTexts.length,
        });
      }
    });
    const promptTokens = prompts.reduce((a, s) => a + tk.encode(s).length, 0);
    const completionTokens = choices.reduce((a, c) => a + c.tokens, 0);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const withUsage = ctx.fault?.kind !== 'no-usage';
    const id = randomId('cmpl-');
    const created = Math.floor(Date.now() / 1000);
    const firstAt = ctx.receivedAt + ctx.ttftMs;
    const msPerToken = ctx.tokensPerSecond > 0 ? 1000 / ctx.tokensPerSecond : 0;
    ctx.info.stream = body['stream'] === true;
    if (body['stream'] !== true) {
      const obj: Record<string, unknown> = {
        id,
        object: 'text_completion',
        created,
        model,
        choices: choices.map((c) => ({
          text: c.text,
          index: c.index,
          logprobs: null,
          finish_reason: c.finish,
        })),
      };
      if (withUsage) obj['usage'] = usage;
      return this.sendSuccess(ctx, obj, firstAt + Math.max(0, ...choices.map((c) => c.tokens)) * msPerToken);
    }
    const frames: { data: string; at: number; content?: boolean }[] = [];
    const so = body['stream_options'];
    const includeUsage = isObj(so) && so['include_usage'] === true;
    const frame = (cs: unknown[], u?: unknown): string =>
      JSON.stringify({
        id,
        object: 'text_completion',
        created,
        model,
        choices: cs,
        ...(includeUsage ? { usage: u ?? null } : {}),
      });
    for (const c of choices) {
      let t = 0;
      for (const p of toPieces(tokenTexts(c.text, tk), seededRandom(c.text))) {
        frames.push({
          data: frame([{ text: p.text, index: c.index, logprobs: null, finish_reason: null }]),
          at: firstAt + t * msPerToken,
          content: true,
        });
        t += p.tokens;
      }
      frames.push({
        data: frame([{ text: '', index: c.index, logprobs: null, finish_reason: c.finish }]),
        at: firstAt + t * msPerToken,
      });
    }
    if (includeUsage && withUsage) frames.push({ data: frame([], usage), at: 0 });
    for (let i = 1; i < frames.length; i++) {
      const prev = frames[i - 1];
      const cur = frames[i];
      if (prev && cur && cur.at < prev.at) cur.at = prev.at;
    }
    return this.streamFrames(ctx, frames);
  }

  private async handleEmbeddings(ctx: Ctx, body: Record<string, unknown>): Promise<void> {
    const modelErr = checkModel(body, this.opts.model === undefined && !/\/deployments\//.test(ctx.path));
    if (modelErr) return this.sendError(ctx.res, modelErr);
    const requested =
      typeof body['model'] === 'string' && body['model'] !== ''
        ? body['model']
        : (this.opts.model ?? 'text-embedding-3-small');
    const model = this.opts.model ?? requested;
    ctx.info.model = model;
    const tk = tokenizerFor(requested);
    const input = body['input'];
    const invalid = badRequest(
      "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
      null,
      null,
    );
    if (input === undefined || input === null)
      return this.sendError(
        ctx.res,
        badRequest("Missing required parameter: 'input'.", 'input', 'missing_required_parameter'),
      );
    const dimsErr = checkPositiveInt(body, 'dimensions', 3072);
    if (dimsErr) return this.sendError(ctx.res, dimsErr);
    const dims = typeof body['dimensions'] === 'number' ? body['dimensions'] : DEFAULT_EMBEDDING_DIMENSIONS;
    const fmt = body['encoding_format'] ?? 'float';
    if (fmt !== 'float' && fmt !== 'base64')
      return this.sendError(
        ctx.res,
        badRequest(
          `Invalid value: '${String(fmt)}'. Supported values are: 'float' and 'base64'.`,
          'encoding_format',
          'invalid_value',
        ),
      );

    // Normalise to a list of (text, tokenCount).
    const items: { text: string; tokens: number }[] = [];
    const decodeTokens = (arr: number[]): string => {
      let s = '';
      for (const piece of tk.decodeGenerator(arr)) s += piece;
      return s;
    };
    const isTokenArray = (v: unknown): v is number[] =>
      Array.isArray(v) &&
      v.length > 0 &&
      v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0);
    if (typeof input === 'string') {
      if (input === '') return this.sendError(ctx.res, invalid);
      items.push({ text: input, tokens: tk.encode(input).length });
    } else if (isTokenArray(input)) {
      items.push({ text: decodeTokens(input), tokens: input.length });
    } else if (Array.isArray(input) && input.length > 0) {
      for (const x of input) {
        if (typeof x === 'string' && x !== '') items.push({ text: x, tokens: tk.encode(x).length });
        else if (isTokenArray(x)) items.push({ text: decodeTokens(x), tokens: x.length });
        else return this.sendError(ctx.res, invalid);
      }
    } else return this.sendError(ctx.res, invalid);

    const data = items.map((it, index) => {
      const vec = mockEmbedding(it.text, dims);
      const embedding = fmt === 'base64' ? Buffer.from(new Float32Array(vec).buffer).toString('base64') : vec;
      return { object: 'embedding', index, embedding };
    });
    const promptTokens = items.reduce((a, it) => a + it.tokens, 0);
    const obj: Record<string, unknown> = { object: 'list', data, model };
    if (ctx.fault?.kind !== 'no-usage')
      obj['usage'] = { prompt_tokens: promptTokens, total_tokens: promptTokens };
    return this.sendSuccess(ctx, obj, ctx.receivedAt + ctx.ttftMs);
  }

  private async handleModels(ctx: Ctx, id: string | undefined): Promise<void> {
    const created = 1_700_000_000;
    const ids = [...new Set([...(this.opts.model ? [this.opts.model] : []), ...KNOWN_MODELS])];
    const entry = (m: string): Record<string, unknown> => ({
      id: m,
      object: 'model',
      created,
      owned_by: 'system',
    });
    if (id !== undefined) return this.sendSuccess(ctx, entry(id), ctx.receivedAt);
    return this.sendSuccess(ctx, { object: 'list', data: ids.map(entry) }, ctx.receivedAt);
  }
}
