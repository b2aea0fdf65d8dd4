/**
 * The canonical OpenAI request/response model shared by every plugin.
 *
 * Only the fields the gateway reasons about are typed; every object also keeps unknown fields (providers add
 * their own), hence the index signatures. Values are validated by `parse.ts` before they get these types.
 */

/** Roles accepted in `messages[].role`. */
export type ChatRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function';

/** `{ type: 'text', text }` content part. */
export interface TextPart {
  type: 'text';
  text: string;
  [extra: string]: unknown;
}

/** `{ type: 'image_url', image_url: { url, detail? } }` content part. */
export interface ImageUrlPart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high'; [extra: string]: unknown };
  [extra: string]: unknown;
}

/** `{ type: 'input_audio', input_audio: { data (base64), format } }` content part. */
export interface InputAudioPart {
  type: 'input_audio';
  input_audio: { data: string; format: string; [extra: string]: unknown };
  [extra: string]: unknown;
}

/** `{ type: 'file', file: { file_data?, file_id?, filename? } }` content part. */
export interface FilePart {
  type: 'file';
  file: { file_data?: string; file_id?: string; filename?: string; [extra: string]: unknown };
  [extra: string]: unknown;
}

/** `{ type: 'refusal', refusal }` content part (assistant messages only). */
export interface RefusalPart {
  type: 'refusal';
  refusal: string;
  [extra: string]: unknown;
}

/** Any content part. */
export type ContentPart = TextPart | ImageUrlPart | InputAudioPart | FilePart | RefusalPart;

/** A tool call made by the assistant. `function.arguments` is a JSON-encoded string (not validated as JSON). */
export interface ToolCall {
  id: string;
  type: string;
  function?: { name: string; arguments: string; [extra: string]: unknown };
  [extra: string]: unknown;
}

/** One chat message. `content` is absent/null only for assistant (tool-call) and legacy function messages. */
export interface ChatMessage {
  role: ChatRole;
  content?: string | ContentPart[] | null;
  name?: string;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  /** Legacy (pre-tools) assistant function call. */
  function_call?: { name: string; arguments: string; [extra: string]: unknown };
  [extra: string]: unknown;
}

/** A function definition (inside `tools[].function` or legacy `functions[]`). */
export interface FunctionDefinition {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
  strict?: boolean | null;
  [extra: string]: unknown;
}

/** A tool definition. Only `type: 'function'` tools carry a validated `function`. */
export interface ToolDefinition {
  type: string;
  function?: FunctionDefinition;
  [extra: string]: unknown;
}

/** `POST /v1/chat/completions` request body. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean; [extra: string]: unknown } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  n?: number | null;
  seed?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  stop?: string | string[] | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  tools?: ToolDefinition[];
  tool_choice?: 'none' | 'auto' | 'required' | Record<string, unknown>;
  parallel_tool_calls?: boolean;
  response_format?: { type: string; [extra: string]: unknown };
  /** Legacy function calling. */
  functions?: FunctionDefinition[];
  /** Legacy function calling. */
  function_call?: 'none' | 'auto' | { name: string; [extra: string]: unknown };
  user?: string;
  [extra: string]: unknown;
}

/** `POST /v1/completions` (legacy) request body. */
export interface CompletionRequest {
  model: string;
  prompt: string | string[] | number[] | number[][];
  stream?: boolean | null;
  max_tokens?: number | null;
  n?: number | null;
  [extra: string]: unknown;
}

/** `POST /v1/embeddings` request body. */
export interface EmbeddingsRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
  [extra: string]: unknown;
}

/** The API operation a request targets. */
export type Operation = 'chat' | 'completions' | 'embeddings' | 'responses';

/**
 * Normalised token usage. `cached_tokens` is a SUBSET of `prompt_tokens`; `reasoning_tokens` is a SUBSET of
 * `completion_tokens` (OpenAI semantics). Optional modality/cache-write counts are subsets too.
 */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  /** Prompt tokens written to a provider prompt cache (Anthropic-style cache creation); subset of prompt_tokens. */
  cache_write_tokens?: number;
  /** Audio prompt tokens; subset of prompt_tokens. */
  audio_prompt_tokens?: number;
  /** Audio completion tokens; subset of completion_tokens. */
  audio_completion_tokens?: number;
}

/** One choice of a non-stream chat completion. */
export interface ChatCompletionChoice {
  index: number;
  message: {
    role: 'assistant';
    content: string | null;
    refusal?: string | null;
    tool_calls?: ToolCall[];
    [extra: string]: unknown;
  };
  logprobs?: unknown;
  finish_reason: string | null;
  [extra: string]: unknown;
}

/** A non-stream `chat.completion` response. */
export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatCompletionChoice[];
  usage?: {
    prompt_tokens: number;
    completion_tokens: number;
    total_tokens: number;
    prompt_tokens_details?: Record<string, unknown>;
    completion_tokens_details?: Record<string, unknown>;
    [extra: string]: unknown;
  };
  system_fingerprint?: string | null;
  [extra: string]: unknown;
}
