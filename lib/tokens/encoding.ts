/**
 * Encoding selection and cached encoders (gpt-tokenizer v4).
 *
 * Encoders are loaded lazily on first use (the BPE tables are large: loading one costs ~100-300 ms and tens of MB)
 * and then kept for the life of the process; counting allocates no tables per call.
 */
import type * as Enc from 'gpt-tokenizer/cjs/encoding/o200k_base';

/** The BPE encodings this module can count with. */
export type EncodingName = 'o200k_base' | 'cl100k_base';

/** Which encoding to use for a model, and whether that is an approximation. */
export interface EncodingChoice {
  encoding: EncodingName;
  /** True for non-OpenAI or unknown models: their own tokenizers differ, o200k_base is a stand-in. */
  approximate: boolean;
}

type Encoder = typeof Enc;
const encoders: Partial<Record<EncodingName, Encoder>> = {};

/** Special tokens such as `<|endoftext|>` in user text are counted as ordinary text (tiktoken `encode_ordinary`). */
const ORDINARY = { disallowedSpecial: new Set<string>() };

function load(name: EncodingName): Encoder {
  let e = encoders[name];
  if (e === undefined) {
    // Lazy: nothing is loaded (or printed) at module load.
    e =
      name === 'o200k_base'
        ? // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: the tables load on first use
          (require('gpt-tokenizer/cjs/encoding/o200k_base') as Encoder)
        : // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: the tables load on first use
          (require('gpt-tokenizer/cjs/encoding/cl100k_base') as Encoder);
    encoders[name] = e;
  }
  return e;
}

/** Known provider prefixes removed before model-family matching (`openai/gpt-4o`, `azure/gpt-4o`, …). */
const PROVIDER_PREFIX = /^(openai|azure|azure_ai|openrouter)\//;

const O200K =
  /^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o1|o3|o4|omni-moderation|gpt-realtime|gpt-audio|codex-mini|computer-use)/;
const CL100K = /^(gpt-4|gpt-3\.5|gpt-35|text-embedding-3|text-embedding-ada-002)/;

/**
 * Encoding for a model name (case-insensitive; `openai/`, `azure/`, `openrouter/` prefixes ignored):
 * gpt-4o / gpt-4.1 / gpt-4.5 / gpt-5 / o1 / o3 / o4 / gpt-oss → o200k_base (exact);
 * gpt-4 / gpt-3.5 / text-embedding-3 / ada-002 → cl100k_base (exact);
 * anything else (claude, gemini, llama, mistral, unknown) → o200k_base with `approximate: true`. Those models use
 * their own tokenizers; o200k_base is a documented stand-in (typically within ±15% for English, worse for code
 * and some scripts), good enough for pre-request estimation but not for billing.
 */
export function encodingForModel(model: string | undefined): EncodingChoice {
  const m = (model ?? '').toLowerCase().replace(PROVIDER_PREFIX, '');
  if (O200K.test(m)) return { encoding: 'o200k_base', approximate: false };
  if (CL100K.test(m)) return { encoding: 'cl100k_base', approximate: false };
  return { encoding: 'o200k_base', approximate: true };
}

/**
 * Recent counts: in one request the cache, accounting and router each count the same prompt in this
 * process, so the second and third count is a map lookup. Bounded by entries and by text length
 * (long texts are rare and a key that size would cost more memory than the count saves).
 */
const MEMO_MAX_ENTRIES = 512;
const MEMO_MAX_TEXT = 4096;
const memo = new Map<string, number>();

/** Count the tokens of a text with a given encoding (special-token strings count as ordinary text). */
export function countWithEncoding(text: string, encoding: EncodingName): number {
  if (text.length === 0) return 0;
  if (text.length > MEMO_MAX_TEXT) return load(encoding).countTokens(text, ORDINARY);
  const key = encoding === 'o200k_base' ? `o${text}` : `c${text}`;
  const hit = memo.get(key);
  if (hit !== undefined) return hit;
  const n = load(encoding).countTokens(text, ORDINARY);
  if (memo.size >= MEMO_MAX_ENTRIES) memo.delete(memo.keys().next().value as string);
  memo.set(key, n);
  return n;
}

/** Token ids of a text with a given encoding (special-token strings encoded as ordinary text). */
export function encodeWithEncoding(text: string, encoding: EncodingName): number[] {
  return load(encoding).encode(text, ORDINARY);
}

/** Load both encoders now (e.g. at plugin start) so the first request does not pay the load cost. */
export function warmUpEncoders(): void {
  load('o200k_base');
  load('cl100k_base');
}
