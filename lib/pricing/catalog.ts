/**
 * Built-in price catalog: USD per 1M tokens, plus output and context limits.
 *
 * SOURCE / AS OF: the providers' public pricing pages (openai.com/api/pricing, anthropic.com/pricing,
 * ai.google.dev/gemini-api/docs/pricing, mistral.ai/pricing, groq.com/pricing) as known to the authors in
 * late 2025. Standard (non-batch, non-priority) tier, prompts up to the first context tier (Gemini 2.5 Pro and
 * 1.5 models charge more above 200k/128k prompt tokens: NOT modelled). Prices change: override per model in the
 * plugin config; do not treat this table as authoritative for invoices.
 */

/** Prices and limits of one model. All prices in USD per 1,000,000 tokens. */
export interface Prices {
  /** Uncached prompt tokens. */
  input: number;
  /** Completion tokens (reasoning tokens included). */
  output: number;
  /** Prompt tokens read from the provider's prompt cache (default: `input`). */
  cached_input?: number;
  /** Prompt tokens written to the provider's prompt cache (Anthropic cache creation; default: `input`). */
  cache_write?: number;
  /** Audio prompt tokens (default: `input`). */
  audio_input?: number;
  /** Audio completion tokens (default: `output`). */
  audio_output?: number;
  /** Maximum completion tokens per request. */
  max_output?: number;
  /** Context window (prompt + completion) in tokens. */
  context_window?: number;
}

/** When the catalog was last reviewed. */
export const CATALOG_AS_OF = '2025-11';

/** Where the catalog's numbers come from. */
export const CATALOG_SOURCE =
  'public pricing pages of OpenAI, Anthropic, Google (Gemini API), Mistral and Groq; standard tier, first context tier';

const oa4o = { context_window: 128_000, max_output: 16_384 };
const oa41 = { context_window: 1_047_576, max_output: 32_768 };
const oaO = { context_window: 200_000, max_output: 100_000 };
const oa5 = { context_window: 400_000, max_output: 128_000 };
const claude = { context_window: 200_000 };
const gem1m = { context_window: 1_048_576 };

/** The catalog, keyed by lower-case canonical model name (no date suffix, no provider prefix). */
export const CATALOG: Readonly<Record<string, Readonly<Prices>>> = {
  // OpenAI
  'gpt-4o': { input: 2.5, cached_input: 1.25, output: 10, ...oa4o },
  'chatgpt-4o-latest': { input: 5, output: 15, ...oa4o },
  'gpt-4o-mini': { input: 0.15, cached_input: 0.075, output: 0.6, ...oa4o },
  'gpt-4.1': { input: 2, cached_input: 0.5, output: 8, ...oa41 },
  'gpt-4.1-mini': { input: 0.4, cached_input: 0.1, output: 1.6, ...oa41 },
  'gpt-4.1-nano': { input: 0.1, cached_input: 0.025, output: 0.4, ...oa41 },
  'gpt-4-turbo': { input: 10, output: 30, context_window: 128_000, max_output: 4_096 },
  'gpt-4': { input: 30, output: 60, context_window: 8_192, max_output: 8_192 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5, context_window: 16_385, max_output: 4_096 },
  o1: { input: 15, cached_input: 7.5, output: 60, ...oaO },
  'o1-mini': { input: 1.1, cached_input: 0.55, output: 4.4, context_window: 128_000, max_output: 65_536 },
  'o1-pro': { input: 150, output: 600, ...oaO },
  o3: { input: 2, cached_input: 0.5, output: 8, ...oaO },
  'o3-mini': { input: 1.1, cached_input: 0.55, output: 4.4, ...oaO },
  'o3-pro': { input: 20, output: 80, ...oaO },
  'o4-mini': { input: 1.1, cached_input: 0.275, output: 4.4, ...oaO },
  'gpt-5': { input: 1.25, cached_input: 0.125, output: 10, ...oa5 },
  'gpt-5-mini': { input: 0.25, cached_input: 0.025, output: 2, ...oa5 },
  'gpt-5-nano': { input: 0.05, cached_input: 0.005, output: 0.4, ...oa5 },
  'gpt-5-chat': { input: 1.25, cached_input: 0.125, output: 10, context_window: 128_000, max_output: 16_384 },
  'gpt-5-codex': { input: 1.25, cached_input: 0.125, output: 10, ...oa5 },
  'gpt-5.1': { input: 1.25, cached_input: 0.125, output: 10, ...oa5 },
  'gpt-5-pro': { input: 15, output: 120, context_window: 400_000, max_output: 272_000 },
  'text-embedding-3-small': { input: 0.02, output: 0, context_window: 8_191, max_output: 0 },
  'text-embedding-3-large': { input: 0.13, output: 0, context_window: 8_191, max_output: 0 },
  'text-embedding-ada-002': { input: 0.1, output: 0, context_window: 8_191, max_output: 0 },

  // Anthropic (cached_input = cache read, cache_write = 5-minute cache write)
  'claude-3-haiku': {
    input: 0.25,
    cached_input: 0.03,
    cache_write: 0.3,
    output: 1.25,
    ...claude,
    max_output: 4_096,
  },
  'claude-3-opus': {
    input: 15,
    cached_input: 1.5,
    cache_write: 18.75,
    output: 75,
    ...claude,
    max_output: 4_096,
  },
  'claude-3-5-haiku': {
    input: 0.8,
    cached_input: 0.08,
    cache_write: 1,
    output: 4,
    ...claude,
    max_output: 8_192,
  },
  'claude-3-5-sonnet': {
    input: 3,
    cached_input: 0.3,
    cache_write: 3.75,
    output: 15,
    ...claude,
    max_output: 8_192,
  },
  'claude-3-7-sonnet': {
    input: 3,
    cached_input: 0.3,
    cache_write: 3.75,
    output: 15,
    ...claude,
    max_output: 64_000,
  },
  'claude-sonnet-4': {
    input: 3,
    cached_input: 0.3,
    cache_write: 3.75,
    output: 15,
    ...claude,
    max_output: 64_000,
  },
  'claude-sonnet-4-5': {
    input: 3,
    cached_input: 0.3,
    cache_write: 3.75,
    output: 15,
    ...claude,
    max_output: 64_000,
  },
  'claude-opus-4': {
    input: 15,
    cached_input: 1.5,
    cache_write: 18.75,
    output: 75,
    ...claude,
    max_output: 32_000,
  },
  'claude-opus-4-1': {
    input: 15,
    cached_input: 1.5,
    cache_write: 18.75,
    output: 75,
    ...claude,
    max_output: 32_000,
  },
  'claude-haiku-4-5': {
    input: 1,
    cached_input: 0.1,
    cache_write: 1.25,
    output: 5,
    ...claude,
    max_output: 64_000,
  },

  // Google Gemini API (prompts ≤ 128k for 1.5, ≤ 200k for 2.5 Pro)
  'gemini-1.5-flash': { input: 0.075, cached_input: 0.01875, output: 0.3, ...gem1m, max_output: 8_192 },
  'gemini-1.5-flash-8b': { input: 0.0375, cached_input: 0.01, output: 0.15, ...gem1m, max_output: 8_192 },
  'gemini-1.5-pro': {
    input: 1.25,
    cached_input: 0.3125,
    output: 5,
    context_window: 2_097_152,
    max_output: 8_192,
  },
  'gemini-2.0-flash': { input: 0.1, cached_input: 0.025, output: 0.4, ...gem1m, max_output: 8_192 },
  'gemini-2.0-flash-lite': { input: 0.075, output: 0.3, ...gem1m, max_output: 8_192 },
  'gemini-2.5-flash': { input: 0.3, cached_input: 0.03, output: 2.5, ...gem1m, max_output: 65_536 },
  'gemini-2.5-flash-lite': { input: 0.1, cached_input: 0.01, output: 0.4, ...gem1m, max_output: 65_536 },
  'gemini-2.5-pro': { input: 1.25, cached_input: 0.125, output: 10, ...gem1m, max_output: 65_536 },

  // Mistral (La Plateforme, "-latest" aliases)
  'mistral-large': { input: 2, output: 6, context_window: 128_000 },
  'mistral-medium': { input: 0.4, output: 2, context_window: 128_000 },
  'mistral-small': { input: 0.1, output: 0.3, context_window: 128_000 },
  codestral: { input: 0.3, output: 0.9, context_window: 256_000 },
  'open-mistral-nemo': { input: 0.15, output: 0.15, context_window: 128_000 },
  'ministral-8b': { input: 0.1, output: 0.1, context_window: 128_000 },
  'ministral-3b': { input: 0.04, output: 0.04, context_window: 128_000 },
  'mistral-embed': { input: 0.1, output: 0, context_window: 8_192, max_output: 0 },

  // Groq (Llama)
  'llama-3.3-70b-versatile': { input: 0.59, output: 0.79, context_window: 131_072, max_output: 32_768 },
  'llama-3.1-8b-instant': { input: 0.05, output: 0.08, context_window: 131_072, max_output: 131_072 },
  'meta-llama/llama-4-scout-17b-16e-instruct': {
    input: 0.11,
    output: 0.34,
    context_window: 131_072,
    max_output: 8_192,
  },
  'meta-llama/llama-4-maverick-17b-128e-instruct': {
    input: 0.2,
    output: 0.6,
    context_window: 131_072,
    max_output: 8_192,
  },
};
