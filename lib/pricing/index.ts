/**
 * Model price lookup and exact cost arithmetic.
 *
 * Arithmetic: prices (USD per 1M tokens) are converted to integer micro-USD per 1M tokens
 * (`round(price × 1e6)`, so prices are exact to 1e-6 USD per 1M tokens), and `tokens × that` is an exact
 * integer amount of PICO-USD (1e-12 USD), computed with BigInt. All splitting and summing happens on those
 * integers; conversion to a USD `number` happens once per field at the end (integer part and fraction
 * converted separately), so results are exact to far better than 1e-9 USD and `total` is exactly the sum of
 * the parts before conversion. `total_nanousd` is the total rounded UP to whole nano-USD, for integer counters.
 *
 * Semantics (OpenAI usage): cached tokens are a SUBSET of prompt tokens, billed at `cached_input` instead of
 * `input` (never twice); cache-write and audio prompt tokens are subsets too. Reasoning tokens are part of
 * completion tokens and billed once, at `output`. Usage from providers that report these separately must be
 * normalised to this shape first.
 */
import { PluginError } from '../errors';
import type { Usage } from '../openai/types';
import { CATALOG, type Prices } from './catalog';

export { CATALOG, CATALOG_AS_OF, CATALOG_SOURCE, type Prices } from './catalog';

/** Provider prefixes stripped before lookup: `openai/gpt-4o`, `models/gemini-2.0-flash`, `bedrock/…`. */
const PROVIDER_PREFIX =
  /^(openai|azure|azure_ai|anthropic|google|gemini|vertex_ai|vertex|mistral|mistralai|groq|bedrock|openrouter|models|together_ai|fireworks_ai|deepinfra)\//;
/** Bedrock-style vendor prefixes, optionally with a region: `anthropic.claude-…`, `us.anthropic.claude-…`. */
const VENDOR_DOT_PREFIX = /^(?:[a-z]{2,4}\.)?(anthropic|meta|mistral|amazon|cohere)\./;
/**
 * Snapshot/version suffixes stripped one at a time: `-2024-08-06`, `-20241022`, `-0613`, `-002`, `-latest`,
 * `@20240620`, `-v2:0`, `-preview`, `-preview-05-20`, `-exp`, `-exp-1206`. Only these: an arbitrary suffix
 * (`-pro`, `-realtime-preview`, `-deep-research`) is a different, differently priced model and does not match.
 */
const SNAPSHOT_SUFFIX =
  /(?:-\d{4}-\d{2}-\d{2}|-\d{8}|-\d{4}|-\d{3}|-latest|@\d{8}|@latest|-v\d+(?::\d+)?|:\d+|-preview(?:-\d{2}-\d{2}(?:-\d{4})?)?|-exp(?:-\d{4})?)$/;

function candidates(model: string): string[] {
  const out: string[] = [];
  let m = model.trim().toLowerCase();
  out.push(m);
  for (;;) {
    const next = m.replace(PROVIDER_PREFIX, '').replace(VENDOR_DOT_PREFIX, '');
    if (next === m) break;
    m = next;
    out.push(m);
  }
  return out;
}

function lookupIn<T>(
  table: ReadonlyMap<string, T> | Readonly<Record<string, T>>,
  model: string,
): { key: string; value: T } | undefined {
  const get = (k: string): T | undefined =>
    table instanceof Map
      ? table.get(k)
      : Object.prototype.hasOwnProperty.call(table, k)
        ? (table as Record<string, T>)[k]
        : undefined;
  for (const c of candidates(model)) {
    let name = c;
    for (let i = 0; i < 6; i++) {
      const hit = get(name);
      if (hit !== undefined) return { key: name, value: hit };
      const stripped = name.replace(SNAPSHOT_SUFFIX, '');
      if (stripped === name || stripped.length === 0) break;
      name = stripped;
    }
  }
  return undefined;
}

/**
 * Find a model in the built-in catalog: exact name, then without provider prefixes (`openai/`, `bedrock/`,
 * `us.anthropic.`), then with snapshot suffixes removed (`gpt-4o-2024-08-06` → `gpt-4o`,
 * `claude-3-5-sonnet-20241022-v2:0` → `claude-3-5-sonnet`); case-insensitive.
 */
export function lookupModel(model: string): { key: string; prices: Readonly<Prices> } | undefined {
  const hit = lookupIn(CATALOG, model);
  return hit && { key: hit.key, prices: hit.value };
}

/** Prices resolved for a request, with where they came from. */
export interface ResolvedPrices extends Prices {
  source: 'override' | 'catalog' | 'default' | 'zero';
  /** The catalog or override key that matched (absent for default/zero). */
  key?: string;
}

/** What to do for a model that is neither overridden nor in the catalog. */
export type PriceFallback = 'reject' | 'default' | 'zero';

const normalisedOverrides = new WeakMap<object, Map<string, Partial<Prices>>>();

function overrideMap(overrides: Record<string, Partial<Prices>>): Map<string, Partial<Prices>> {
  let m = normalisedOverrides.get(overrides);
  if (m === undefined) {
    m = new Map(Object.entries(overrides).map(([k, v]) => [k.trim().toLowerCase(), v]));
    normalisedOverrides.set(overrides, m);
  }
  return m;
}

function checkPrice(v: unknown, field: string): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1e6)) {
    throw new PluginError(
      'CONFIG_INVALID',
      `price ${field} must be a number between 0 and 1e6 USD per 1M tokens`,
      500,
    );
  }
}

function validated(p: Partial<Prices>): Prices {
  if (typeof p.input !== 'number' || typeof p.output !== 'number') {
    throw new PluginError('CONFIG_INVALID', 'prices need at least input and output', 500);
  }
  for (const f of ['input', 'output', 'cached_input', 'cache_write', 'audio_input', 'audio_output'] as const)
    checkPrice(p[f], f);
  return p as Prices;
}

/**
 * Prices for a model. Order: `overrides` (same matching rules as the catalog; a partial override is merged over
 * the catalog entry it shadows), then the catalog, then `fallback`: `'reject'` throws MODEL_UNKNOWN (400),
 * `'default'` returns `defaultPrices` (CONFIG_INVALID if missing), `'zero'` returns zero prices.
 * @throws PluginError MODEL_UNKNOWN or CONFIG_INVALID.
 */
export function resolvePrices(
  model: string,
  overrides: Record<string, Partial<Prices>> | undefined,
  fallback: PriceFallback,
  defaultPrices?: Prices,
): ResolvedPrices {
  const catalogHit = lookupModel(model);
  if (overrides !== undefined) {
    const o = lookupIn(overrideMap(overrides), model);
    if (o !== undefined) {
      const base = lookupModel(o.key)?.prices ?? catalogHit?.prices ?? {};
      return { ...validated({ ...base, ...o.value }), source: 'override', key: o.key };
    }
  }
  if (catalogHit !== undefined) return { ...catalogHit.prices, source: 'catalog', key: catalogHit.key };
  switch (fallback) {
    case 'zero':
      return { input: 0, output: 0, source: 'zero' };
    case 'default':
      if (defaultPrices === undefined) {
        throw new PluginError('CONFIG_INVALID', 'fallback "default" needs default prices', 500);
      }
      return { ...validated(defaultPrices), source: 'default' };
    case 'reject':
    default:
      throw new PluginError('MODEL_UNKNOWN', 'no price is configured for the requested model', 400, true);
  }
}

/** Cost split in USD. `input` covers uncached prompt tokens (incl. cache writes and audio), `cached_input` cache reads. */
export interface Cost {
  input: number;
  cached_input: number;
  output: number;
  total: number;
  /** `total` in nano-USD (1e-9), rounded UP; a safe integer for counters up to ~9 million USD. */
  total_nanousd: number;
}

/** The same split in exact integer pico-USD (1e-12 USD). */
export interface CostPico {
  input: bigint;
  cached_input: bigint;
  output: bigint;
  total: bigint;
}

function micro(price: number | undefined, fallback: number): bigint {
  const p = price ?? fallback;
  if (!Number.isFinite(p) || p < 0)
    throw new PluginError('CONFIG_INVALID', 'prices must be finite and non-negative', 500);
  return BigInt(Math.round(p * 1e6));
}

function tok(v: number | undefined): bigint {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? BigInt(Math.floor(v)) : 0n;
}

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** Exact cost in pico-USD (see the module doc for the billing rules). */
export function costOfPico(
  usage: Pick<Usage, 'prompt_tokens' | 'completion_tokens'> & Partial<Usage>,
  prices: Prices,
): CostPico {
  const pin = micro(prices.input, 0);
  const pout = micro(prices.output, 0);
  const prompt = tok(usage.prompt_tokens);
  const completion = tok(usage.completion_tokens);
  const cached = min(tok(usage.cached_tokens), prompt);
  const cacheWrite = min(tok(usage.cache_write_tokens), prompt - cached);
  const audioIn = min(tok(usage.audio_prompt_tokens), prompt - cached - cacheWrite);
  const textIn = prompt - cached - cacheWrite - audioIn;
  const audioOut = min(tok(usage.audio_completion_tokens), completion);
  const input =
    textIn * pin +
    cacheWrite * micro(prices.cache_write, prices.input) +
    audioIn * micro(prices.audio_input, prices.input);
  const cached_input = cached * micro(prices.cached_input, prices.input);
  const output = (completion - audioOut) * pout + audioOut * micro(prices.audio_output, prices.output);
  return { input, cached_input, output, total: input + cached_input + output };
}

const PICO = 1_000_000_000_000n;

/** Convert integer pico-USD to a USD number (integer and fractional parts converted separately). */
export function picoToUsd(pico: bigint): number {
  const sign = pico < 0n ? -1 : 1;
  const a = pico < 0n ? -pico : pico;
  return sign * (Number(a / PICO) + Number(a % PICO) / 1e12);
}

/**
 * Cost of a usage record in USD, split into uncached input, cached input and output (module doc: cached tokens
 * are a subset of prompt tokens, reasoning tokens a subset of completion tokens). Token counts that are not
 * non-negative numbers count as 0.
 */
export function costOf(
  usage: Pick<Usage, 'prompt_tokens' | 'completion_tokens'> & Partial<Usage>,
  prices: Prices,
): Cost {
  const c = costOfPico(usage, prices);
  return {
    input: picoToUsd(c.input),
    cached_input: picoToUsd(c.cached_input),
    output: picoToUsd(c.output),
    total: picoToUsd(c.total),
    total_nanousd: Number((c.total + 999n) / 1000n),
  };
}
