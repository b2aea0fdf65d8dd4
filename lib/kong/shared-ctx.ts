/**
 * Every `kong.ctx.shared` key the suite uses, with its value type. Plugins never import each other;
 * this module is their whole contract. Values cross the MessagePack boundary (and into Lua), so they
 * must be plain data: no Maps, Dates, class instances, `undefined` inside arrays, or functions.
 * Each get/set is an RPC round trip: one object per plugin, written once per phase.
 */

/** Token usage in OpenAI's terms; cached tokens are part of prompt tokens, reasoning part of completion. */
export interface SharedUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_tokens?: number;
  reasoning_tokens?: number;
}

/** Written by the Lua `llm-response-tap` at eof (kong/plugins/llm-response-tap). */
export interface TapResult {
  kind: 'sse' | 'json' | 'other';
  status: number;
  model?: string;
  id?: string;
  usage?: SharedUsage;
  text?: string;
  text_bytes: number;
  text_truncated: boolean;
  finish_reason?: string;
  tool_calls?: { id?: string; name?: string; arguments?: string }[];
  frames: number;
  bad_frames: number;
  done: boolean;
  aborted: boolean;
  bytes: number;
  ttft_ms?: number;
  restored: number;
}

/** The router's decision, for accounting (served model, prices) and the decision trace. */
export interface RouteDecision {
  target: string;
  model: string;
  requested_model?: string;
  provider?: string;
  reason: string;
  input_cost?: number;
  cached_input_cost?: number;
  output_cost?: number;
  upstream?: string;
  started_ms?: number;
}

/** Token accounting state carried from access to log. */
export interface AccountingState {
  reservation_id?: string;
  payer?: string;
  prompt_tokens: number;
  reserved: number;
  model?: string;
  stream: boolean;
  operation?: string;
  started_ms: number;
  budget_before?: { limit: number; remaining: number; window: string }[];
}

/** Semantic cache state carried from access to log (and read by accounting for savings). */
export interface CacheState {
  status: 'Hit' | 'Miss' | 'Bypass' | 'Refresh';
  key?: string;
  similarity?: number;
  /** On a hit: the usage the cached answer had, so accounting can book savings. */
  saved_usage?: SharedUsage;
  saved_model?: string;
  shadow?: boolean;
}

/** Prompt guard verdict (rule ids and scores only, never text). */
export interface GuardVerdict {
  action: 'allow' | 'flag' | 'block' | 'sanitize';
  score: number;
  rules: string[];
}

/** PII redaction summary (counts by category only). */
export interface PiiSummary {
  counts: Record<string, number>;
  action?: string;
  /** Placeholders to restore (`llm.pii_restore` holds them); the tap counts a restore it cannot do. */
  restore_entries?: number;
}

/** The key → value type map. */
export interface SharedCtx {
  'llm.tap': TapResult;
  'llm.pii_restore': Record<string, string>;
  'llm.pii': PiiSummary;
  'llm.route': RouteDecision;
  'llm.accounting': AccountingState;
  'llm.cache': CacheState;
  'llm.guard': GuardVerdict;
}

export type SharedKey = keyof SharedCtx;

/** All keys, for tests that check nothing else is written. */
export const SHARED_KEYS: readonly SharedKey[] = [
  'llm.tap',
  'llm.pii_restore',
  'llm.pii',
  'llm.route',
  'llm.accounting',
  'llm.cache',
  'llm.guard',
];
