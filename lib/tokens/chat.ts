/**
 * Prompt-token counting for OpenAI-style requests.
 *
 * Chat accounting (OpenAI cookbook "How to count tokens with tiktoken", current models):
 *   tokens = 3 (reply priming: `<|start|>assistant<|message|>`)
 *          + Σ over messages [ 3 + tokens(role) + tokens(content) + (name ? tokens(name) + 1 : 0) ]
 * Content parts: each text part counted separately and summed (parts are not merged); images per `image.ts`;
 * audio and files are estimates (see constants below).
 *
 * Estimates (result flagged `approximate: true`):
 * - Tool/function DEFINITIONS: rendered as the TypeScript-like `namespace functions { … }` block OpenAI injects
 *   into the system prompt (`// description` lines, `type name = (_: { param?: type, }) => any;`), counted,
 *   plus 9 tokens of framing, minus 4 when the request already has a system/developer message (the block then
 *   joins it). Formula derived from public experiments, typically within a few tokens; not guaranteed.
 * - Assistant tool calls: tokens(name) + tokens(arguments) + 3 per call (same for legacy `function_call`).
 * - Images without readable size, audio, files; and every non-OpenAI/unknown model (o200k_base stand-in).
 * - Text containing U+FEFF (BOM): gpt-tokenizer 4.0.0 splits it into 2 byte tokens where tiktoken uses one
 *   (overcount of about 1 token per BOM); every other text is identical to tiktoken (corpus-tested).
 */
import type {
  ChatMessage,
  ChatRequest,
  CompletionRequest,
  EmbeddingsRequest,
  FunctionDefinition,
} from '../openai/types';
import { countWithEncoding, encodingForModel, type EncodingName } from './encoding';
import { imageSizeFromDataUrl, imageTokens } from './image';

/** Result of a prompt count. */
export interface TokenCount {
  tokens: number;
  /** True when any part of the count is an estimate (non-OpenAI model, tools, unknown image size, audio, files). */
  approximate: boolean;
  encoding: EncodingName;
}

/** Tokens per message of the chat format. */
export const TOKENS_PER_MESSAGE = 3;
/** Extra tokens when a message has a `name`. */
export const TOKENS_PER_NAME = 1;
/** Reply priming added once per request. */
export const REPLY_PRIMING_TOKENS = 3;
/** Framing tokens around the rendered function definitions. */
export const TOOLS_FRAMING_TOKENS = 9;
/** Tokens saved when the function block merges into an existing system message. */
export const TOOLS_SYSTEM_MERGE_DISCOUNT = 4;
/** Overhead per assistant tool call. */
export const TOKENS_PER_TOOL_CALL = 3;
/** Estimated audio tokens per second of input audio (gpt-4o audio models bill roughly 10/s). */
export const AUDIO_TOKENS_PER_SECOND = 10;
/** Flat estimate for a `file` content part (e.g. a PDF) whose content is not inspected. */
export const FILE_PART_TOKENS = 1000;

/** Options for {@link countChatPrompt}. */
export interface CountOptions {
  /** Count as if for this model (default: `req.model`). */
  model?: string;
}

/** Count the tokens of a text for a model (encoding per {@link encodingForModel}). */
export function countText(text: string, model?: string): number {
  return countWithEncoding(text, encodingForModel(model).encoding);
}

function audioTokens(base64Length: number, format: string): number {
  const bytes = Math.floor((base64Length * 3) / 4);
  // Bytes per second assumed: WAV/PCM 24 kHz 16-bit mono; compressed formats ~128 kbit/s.
  const bytesPerSecond = format === 'wav' || format === 'pcm16' ? 48_000 : 16_000;
  return Math.ceil((bytes / bytesPerSecond) * AUDIO_TOKENS_PER_SECOND);
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

function renderType(schema: unknown, indent: string): string {
  if (!isRec(schema)) return 'any';
  const en = schema['enum'];
  if (Array.isArray(en) && en.length > 0) return en.map((v) => JSON.stringify(v)).join(' | ');
  const t = schema['type'];
  if (Array.isArray(t)) return t.map((x) => renderType({ ...schema, type: x }, indent)).join(' | ');
  switch (t) {
    case 'string':
      return 'string';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array':
      return `${renderType(schema['items'], indent)}[]`;
    case 'object':
      return isRec(schema['properties']) ? `{\n${renderProps(schema, indent)}${indent}}` : 'object';
    default:
      return 'any';
  }
}

function renderProps(schema: Rec, indent: string): string {
  const props = isRec(schema['properties']) ? schema['properties'] : {};
  const required = new Set(
    Array.isArray(schema['required']) ? schema['required'].filter((x) => typeof x === 'string') : [],
  );
  let out = '';
  for (const [key, sub] of Object.entries(props)) {
    if (isRec(sub) && typeof sub['description'] === 'string') out += `${indent}// ${sub['description']}\n`;
    out += `${indent}${key}${required.has(key) ? '' : '?'}: ${renderType(sub, indent)},\n`;
  }
  return out;
}

/** Render function definitions the way OpenAI injects them (see module doc); exported for tests. */
export function renderFunctionDefinitions(fns: readonly FunctionDefinition[]): string {
  let out = 'namespace functions {\n\n';
  for (const fn of fns) {
    if (typeof fn.description === 'string' && fn.description.length > 0) out += `// ${fn.description}\n`;
    const params = fn.parameters;
    if (isRec(params) && isRec(params['properties']) && Object.keys(params['properties']).length > 0) {
      out += `type ${fn.name} = (_: {\n${renderProps(params, '')}}) => any;\n\n`;
    } else {
      out += `type ${fn.name} = () => any;\n\n`;
    }
  }
  return `${out}} // namespace functions`;
}

function functionDefinitions(req: ChatRequest): FunctionDefinition[] {
  const out: FunctionDefinition[] = [];
  if (Array.isArray(req.tools)) {
    for (const t of req.tools) if (t.type === 'function' && t.function) out.push(t.function);
  }
  if (Array.isArray(req.functions)) out.push(...req.functions);
  return out;
}

function countMessage(
  m: ChatMessage,
  enc: EncodingName,
  model: string,
  flags: { approximate: boolean },
): number {
  // gpt-tokenizer 4.0.0 miscounts U+FEFF (BOM) inside text (+1 or more per BOM vs tiktoken): flag it.
  const cnt = (t: string, e: EncodingName): number => {
    if (t.includes('\uFEFF')) flags.approximate = true;
    return countWithEncoding(t, e);
  };
  let n = TOKENS_PER_MESSAGE + cnt(m.role, enc);
  const c = m.content;
  if (typeof c === 'string') n += cnt(c, enc);
  else if (Array.isArray(c)) {
    for (const p of c) {
      switch (p.type) {
        case 'text':
          n += cnt(p.text, enc);
          break;
        case 'refusal':
          n += cnt(p.refusal, enc);
          break;
        case 'image_url': {
          const size = imageSizeFromDataUrl(p.image_url.url);
          if (size === undefined) flags.approximate = true;
          n += imageTokens(model, size?.width, size?.height, p.image_url.detail);
          break;
        }
        case 'input_audio':
          flags.approximate = true;
          n += audioTokens(p.input_audio.data.length, p.input_audio.format);
          break;
        case 'file':
          flags.approximate = true;
          n += FILE_PART_TOKENS;
          break;
      }
    }
  }
  if (typeof m.name === 'string') n += cnt(m.name, enc) + TOKENS_PER_NAME;
  if (Array.isArray(m.tool_calls)) {
    for (const tc of m.tool_calls) {
      flags.approximate = true;
      const fn = tc.function;
      const custom = isRec(tc['custom']) ? tc['custom'] : undefined;
      const name = fn?.name ?? (typeof custom?.['name'] === 'string' ? custom['name'] : '');
      const args = fn?.arguments ?? (typeof custom?.['input'] === 'string' ? custom['input'] : '');
      n += TOKENS_PER_TOOL_CALL + cnt(name, enc) + cnt(args, enc);
    }
  }
  if (m.function_call) {
    flags.approximate = true;
    n += TOKENS_PER_TOOL_CALL + cnt(m.function_call.name, enc) + cnt(m.function_call.arguments, enc);
  }
  return n;
}

/**
 * Prompt tokens of a validated chat request (see the module doc for the formula and what is estimated).
 * Exact (equal to OpenAI's `prompt_tokens`) for text-only messages on OpenAI models with a known encoding.
 */
export function countChatPrompt(req: ChatRequest, opts: CountOptions = {}): TokenCount {
  const model = opts.model ?? req.model;
  const choice = encodingForModel(model);
  const flags = { approximate: choice.approximate };
  let tokens = REPLY_PRIMING_TOKENS;
  let hasSystem = false;
  for (const m of req.messages) {
    if (m.role === 'system' || m.role === 'developer') hasSystem = true;
    tokens += countMessage(m, choice.encoding, model, flags);
  }
  const fns = functionDefinitions(req);
  if (fns.length > 0) {
    flags.approximate = true;
    tokens += countWithEncoding(renderFunctionDefinitions(fns), choice.encoding) + TOOLS_FRAMING_TOKENS;
    if (hasSystem) tokens -= TOOLS_SYSTEM_MERGE_DISCOUNT;
  }
  return { tokens, approximate: flags.approximate, encoding: choice.encoding };
}

/** Prompt tokens of a legacy completions request (all prompts summed; token-id prompts counted by length). */
export function countCompletionPrompt(req: CompletionRequest, opts: CountOptions = {}): TokenCount {
  const choice = encodingForModel(opts.model ?? req.model);
  return {
    tokens: countInputs(req.prompt, choice.encoding),
    approximate: choice.approximate,
    encoding: choice.encoding,
  };
}

/** Input tokens of an embeddings request (all inputs summed; token-id inputs counted by length). */
export function countEmbeddingsInput(req: EmbeddingsRequest, opts: CountOptions = {}): TokenCount {
  const choice = encodingForModel(opts.model ?? req.model);
  return {
    tokens: countInputs(req.input, choice.encoding),
    approximate: choice.approximate,
    encoding: choice.encoding,
  };
}

function countInputs(v: string | string[] | number[] | number[][], enc: EncodingName): number {
  if (typeof v === 'string') return countWithEncoding(v, enc);
  let n = 0;
  for (const item of v as unknown[]) {
    if (typeof item === 'string') n += countWithEncoding(item, enc);
    else if (typeof item === 'number') n += 1;
    else if (Array.isArray(item)) n += item.length;
  }
  return n;
}

/** Catalog facts used by {@link estimateMaxOutput}. */
export interface ModelOutputInfo {
  /** The model's maximum output tokens. */
  max_output?: number;
}

/** Used when neither the request nor the catalog gives a maximum output. */
export const DEFAULT_MAX_OUTPUT = 4096;

/**
 * Worst-case completion tokens of a request, for pre-request reservation:
 * `(max_completion_tokens ?? max_tokens ?? max_output_tokens ?? modelInfo.max_output ?? fallback) × n`
 * (every choice is billed). A request limit above the model's max output is capped to the model's max output.
 */
export function estimateMaxOutput(
  req: {
    max_completion_tokens?: number | null;
    max_tokens?: number | null;
    n?: number | null;
    [k: string]: unknown;
  },
  modelInfo?: ModelOutputInfo,
  fallback: number = DEFAULT_MAX_OUTPUT,
): number {
  const pick = (v: unknown): number | undefined =>
    typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
  const modelMax = pick(modelInfo?.max_output);
  let perChoice = pick(req.max_completion_tokens) ?? pick(req.max_tokens) ?? pick(req['max_output_tokens']);
  if (perChoice === undefined) perChoice = modelMax ?? fallback;
  else if (modelMax !== undefined && modelMax > 0) perChoice = Math.min(perChoice, modelMax);
  const n = pick(req.n) ?? 1;
  return perChoice * Math.max(1, n);
}
