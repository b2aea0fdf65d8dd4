/**
 * Response-side helpers: usage extraction, building chat completions, and replaying a cached answer as SSE.
 */
import { randomBytes } from 'node:crypto';
import type { ChatCompletion, ChatCompletionChoice, ToolCall, Usage } from './types';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A non-negative safe integer, or undefined for anything else (strings, floats, negatives, NaN). */
function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/**
 * Normalised usage from a chat completion (or a final stream chunk, or a Responses API object: `input_tokens`,
 * `output_tokens`, `input_tokens_details`, `output_tokens_details`). Garbage fields count as 0; subsets are clamped
 * (cached ≤ prompt, reasoning ≤ completion); `total_tokens` is recomputed when missing or inconsistent with
 * prompt + completion. Returns `undefined` when there is no usage object or neither prompt nor completion counts.
 */
export function extractUsage(resp: unknown): Usage | undefined {
  if (!isRec(resp)) return undefined;
  const u = isRec(resp['usage'])
    ? resp['usage']
    : isRec(resp['response']) && isRec(resp['response']['usage'])
      ? resp['response']['usage']
      : undefined;
  if (u === undefined) return undefined;
  const promptRaw = count(u['prompt_tokens']) ?? count(u['input_tokens']);
  const completionRaw = count(u['completion_tokens']) ?? count(u['output_tokens']);
  if (promptRaw === undefined && completionRaw === undefined) return undefined;
  const prompt = promptRaw ?? 0;
  const completion = completionRaw ?? 0;
  const pd = isRec(u['prompt_tokens_details'])
    ? u['prompt_tokens_details']
    : isRec(u['input_tokens_details'])
      ? u['input_tokens_details']
      : {};
  const cd = isRec(u['completion_tokens_details'])
    ? u['completion_tokens_details']
    : isRec(u['output_tokens_details'])
      ? u['output_tokens_details']
      : {};
  const cached = Math.min(count(pd['cached_tokens']) ?? 0, prompt);
  const reasoning = Math.min(count(cd['reasoning_tokens']) ?? 0, completion);
  const total = count(u['total_tokens']);
  const usage: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: total !== undefined && total >= prompt + completion ? total : prompt + completion,
    cached_tokens: cached,
    reasoning_tokens: reasoning,
  };
  const ap = count(pd['audio_tokens']);
  if (ap !== undefined && ap > 0) usage.audio_prompt_tokens = Math.min(ap, prompt);
  const ac = count(cd['audio_tokens']);
  if (ac !== undefined && ac > 0) usage.audio_completion_tokens = Math.min(ac, completion);
  return usage;
}

/** Inputs of {@link buildChatCompletion}. */
export interface BuildChatCompletionOptions {
  model: string;
  /** Assistant text (null when the answer is only tool calls). */
  content: string | null;
  id?: string;
  created?: number;
  finish_reason?: string;
  tool_calls?: ToolCall[];
  refusal?: string | null;
  usage?: Usage;
  system_fingerprint?: string | null;
}

/** A fresh `chatcmpl-…` id (random, 24 hex chars). */
export function newCompletionId(): string {
  return `chatcmpl-${randomBytes(12).toString('hex')}`;
}

/** Build a one-choice, non-stream `chat.completion` object. */
export function buildChatCompletion(o: BuildChatCompletionOptions): ChatCompletion {
  const message: ChatCompletionChoice['message'] = {
    role: 'assistant',
    content: o.content,
    refusal: o.refusal ?? null,
  };
  if (o.tool_calls && o.tool_calls.length > 0) message.tool_calls = o.tool_calls;
  const out: ChatCompletion = {
    id: o.id ?? newCompletionId(),
    object: 'chat.completion',
    created: o.created ?? Math.floor(Date.now() / 1000),
    model: o.model,
    choices: [
      {
        index: 0,
        message,
        logprobs: null,
        finish_reason: o.finish_reason ?? (o.tool_calls && o.tool_calls.length > 0 ? 'tool_calls' : 'stop'),
      },
    ],
  };
  if (o.usage) out.usage = usageToWire(o.usage);
  if (o.system_fingerprint !== undefined) out.system_fingerprint = o.system_fingerprint;
  return out;
}

/** Serialise normalised usage in OpenAI's wire format (details objects included). */
export function usageToWire(u: Usage): NonNullable<ChatCompletion['usage']> {
  const prompt_tokens_details: Rec = { cached_tokens: u.cached_tokens };
  if (u.audio_prompt_tokens !== undefined) prompt_tokens_details['audio_tokens'] = u.audio_prompt_tokens;
  const completion_tokens_details: Rec = { reasoning_tokens: u.reasoning_tokens };
  if (u.audio_completion_tokens !== undefined)
    completion_tokens_details['audio_tokens'] = u.audio_completion_tokens;
  return {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: u.total_tokens,
    prompt_tokens_details,
    completion_tokens_details,
  };
}

/** Options of {@link buildSseReplay}. */
export interface SseReplayOptions {
  /** Emit the final usage chunk (`choices: []`), as when the client sent `stream_options.include_usage`. */
  includeUsage?: boolean;
  /** Characters (code points) per content chunk; default 64. Chunks never split a surrogate pair. */
  chunkChars?: number;
  /** Override the stream id (default: the completion's id). */
  id?: string;
  /** Override `created` (default: the completion's). */
  created?: number;
}

function splitCodePoints(text: string, size: number): string[] {
  const cps = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < cps.length; i += size) out.push(cps.slice(i, i + size).join(''));
  return out;
}

/**
 * Turn a (cached) non-stream chat completion into a complete OpenAI SSE stream, as one string:
 * per choice a role chunk, content (and refusal) chunks, tool-call chunks (one per call: id, name and full
 * arguments), a finish chunk carrying `finish_reason`; then, when `includeUsage`, a usage chunk with `choices: []`
 * (other chunks then carry `usage: null`, as OpenAI does); then `data: [DONE]`. Each event is
 * `data: <json>\n\n`. Parsed by the official `openai` SDK (tested).
 */
export function buildSseReplay(resp: ChatCompletion, opts: SseReplayOptions = {}): string {
  const id = opts.id ?? resp.id;
  const created = opts.created ?? resp.created;
  const size = Math.max(1, Math.floor(opts.chunkChars ?? 64));
  const head: Rec = { id, object: 'chat.completion.chunk', created, model: resp.model };
  if (resp.system_fingerprint !== undefined) head['system_fingerprint'] = resp.system_fingerprint;
  let out = '';
  const emit = (choices: unknown[], usage?: unknown): void => {
    const chunk: Rec = { ...head, choices };
    if (opts.includeUsage) chunk['usage'] = usage ?? null;
    out += `data: ${JSON.stringify(chunk)}\n\n`;
  };
  const choices = Array.isArray(resp.choices) ? resp.choices : [];
  for (const ch of choices) {
    const index = typeof ch.index === 'number' ? ch.index : 0;
    const msg = isRec(ch.message) ? ch.message : { role: 'assistant' as const, content: null };
    const delta = (d: Rec, finish: string | null = null): Rec => ({
      index,
      delta: d,
      logprobs: null,
      finish_reason: finish,
    });
    emit([delta({ role: 'assistant', content: '', refusal: null })]);
    if (typeof msg.content === 'string' && msg.content.length > 0) {
      for (const piece of splitCodePoints(msg.content, size)) emit([delta({ content: piece })]);
    }
    if (typeof msg.refusal === 'string' && msg.refusal.length > 0) {
      for (const piece of splitCodePoints(msg.refusal, size)) emit([delta({ refusal: piece })]);
    }
    if (Array.isArray(msg.tool_calls)) {
      msg.tool_calls.forEach((tc, i) => {
        const fn = isRec(tc.function) ? tc.function : { name: '', arguments: '' };
        emit([
          delta({
            tool_calls: [
              { index: i, id: tc.id, type: 'function', function: { name: fn.name, arguments: fn.arguments } },
            ],
          }),
        ]);
      });
    }
    emit([delta({}, ch.finish_reason ?? 'stop')]);
  }
  if (opts.includeUsage) {
    const u = resp.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    emit([], u);
  }
  out += 'data: [DONE]\n\n';
  return out;
}
