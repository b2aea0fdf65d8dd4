/**
 * `builtin` embedder: offline, shipped with the package (data/embeddings/glove-100k-int8.bin), no network.
 *
 * A sentence vector is the concatenation of three L2-normalised blocks, each scaled by sqrt(weight), so
 * that cosine(a, b) = wSem·cos(sem) + wLex·cos(lex) + wOrder·cos(order):
 *   - sem:   SIF-weighted average of GloVe word vectors (weight a / (a + p(w)), p from the Zipf law on the
 *            frequency rank), with the common component removed (Arora et al. 2017, "A simple but tough-to-beat
 *            baseline for sentence embeddings"),
 *   - lex:   signed feature hashing of words (SIF-weighted) and of character 3-grams of out-of-vocabulary words
 *            (names, identifiers, typos: GloVe has no vector for them),
 *   - order: signed feature hashing of adjacent word pairs, so that word order counts.
 * Averaged word vectors cannot tell entities apart ("capital of France" ≈ "capital of Germany"): pair this
 * embedder with plugins/llm-semantic-cache/verify.ts.
 */
import { type Embedder, normalize } from './types';
import { loadWordVectors, type WordVectors } from './wordvectors';

export interface BuiltinTuning {
  /** SIF smoothing constant a. */
  sifA: number;
  /** Block weights (normalised to sum 1). */
  wSem: number;
  wLex: number;
  wOrder: number;
  /** Hashed block sizes. */
  lexDims: number;
  orderDims: number;
  /** Remove the common component from the semantic block. */
  removeCommon: boolean;
  /** Weighting of words: 'sif' or 'none' (plain average). */
  weighting: 'sif' | 'none';
}

export const DEFAULT_TUNING: BuiltinTuning = {
  sifA: 1e-2,
  wSem: 0.6,
  wLex: 0.3,
  wOrder: 0.1,
  lexDims: 96,
  orderDims: 60,
  removeCommon: true,
  weighting: 'sif',
};

/**
 * Default cosine-SIMILARITY threshold for the builtin embedder, chosen with scripts/eval-cache.ts
 * (docs/cache-eval.md). Kong EE's `vectordb.threshold` is a cosine DISTANCE: distance = 1 - similarity.
 */
export const BUILTIN_DEFAULT_THRESHOLD = 0.56;

/** Bumped whenever the vector for a given text changes (cache entries embed with it). */
export const BUILTIN_VERSION = 'glove100-sif-v1';

const TOKEN_RE = /[\p{L}\p{N}]+(?:['’\-.][\p{L}\p{N}]+)*/gu;
const NEG_CONTRACTIONS: Record<string, string> = { wo: 'will', ca: 'can', sha: 'shall', ai: 'is' };
const ZIPF_NORM = 12; // ≈ ln(100k) + γ: p(rank) = 1 / ((rank + 1) · ZIPF_NORM)

/** Lower-cased word tokens; "don't" → do, not; "it's" → it; keeps hyphenated/dotted words whole. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  const norm = text.normalize('NFKC').toLowerCase();
  for (const m of norm.matchAll(TOKEN_RE)) {
    let t = m[0].replace(/’/g, "'");
    const apo = t.indexOf("'");
    if (apo >= 0) {
      if (t.endsWith("n't")) {
        const base = t.slice(0, -3);
        out.push(NEG_CONTRACTIONS[base] ?? base, 'not');
        continue;
      }
      t = t.slice(0, apo);
      if (!t) continue;
    }
    out.push(t.replace(/\.+$/, ''));
  }
  return out;
}

/** 32-bit FNV-1a. */
function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function addHashed(out: Float64Array, key: string, weight: number, seed: number): void {
  const h = fnv1a(key, seed);
  const idx = h % out.length;
  out[idx] = out[idx]! + ((h & 0x80000000) !== 0 ? -weight : weight);
}

function unit(v: Float64Array): Float64Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  if (n > 0) {
    const inv = 1 / Math.sqrt(n);
    for (let i = 0; i < v.length; i++) v[i] = v[i]! * inv;
  }
  return v;
}

export class BuiltinEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  private wv: WordVectors | undefined;

  constructor(
    private readonly tuning: BuiltinTuning = DEFAULT_TUNING,
    private readonly dataPath?: string,
  ) {
    this.dimensions = 100 + tuning.lexDims + tuning.orderDims;
    this.id = `builtin:${BUILTIN_VERSION}`;
  }

  /** Loads the word table now (otherwise on first use); returns load stats. */
  warmup(): { bytes: number; loadMs: number; words: number } {
    const wv = this.vectors();
    return { bytes: wv.bytes, loadMs: wv.loadMs, words: wv.count };
  }

  private vectors(): WordVectors {
    this.wv ??= loadWordVectors(this.dataPath);
    return this.wv;
  }

  private weight(rank: number | undefined): number {
    if (this.tuning.weighting === 'none') return 1;
    if (rank === undefined) return 1;
    const p = 1 / ((rank + 1) * ZIPF_NORM);
    return this.tuning.sifA / (this.tuning.sifA + p);
  }

  /** The three unit blocks, before weighting (exposed for evaluation/tuning). */
  blocks(text: string): { sem: Float64Array; lex: Float64Array; order: Float64Array } {
    const wv = this.vectors();
    const t = this.tuning;
    const sem = new Float64Array(wv.dims);
    const lex = new Float64Array(t.lexDims);
    const order = new Float64Array(t.orderDims);
    let tokens = tokenize(text);
    if (tokens.length === 0) tokens = ['\u0000empty'];
    const weights: number[] = [];
    for (const tok of tokens) {
      let r = wv.rank(tok);
      let w = this.weight(r);
      if (r !== undefined) {
        wv.addScaled(r, w, sem);
      } else {
        // Compound/dotted words: use the known parts for meaning.
        const parts = tok.split(/[-.]/).filter(Boolean);
        let found = 0;
        if (parts.length > 1) {
          for (const p of parts) {
            const pr = wv.rank(p);
            if (pr !== undefined) {
              wv.addScaled(pr, this.weight(pr) / parts.length, sem);
              found++;
            }
          }
        }
        if (found === 0) {
          // Out of vocabulary: character 3-grams carry it in the lexical block.
          const s = `<${tok}>`;
          const n = Math.max(1, s.length - 2);
          for (let i = 0; i + 3 <= s.length; i++)
            addHashed(lex, s.slice(i, i + 3), 1 / Math.sqrt(n), 0x9e3779b9);
        }
        r = undefined;
        w = 1;
      }
      weights.push(w);
      addHashed(lex, tok, w, 0x811c9dc5);
    }
    for (let i = 0; i + 1 < tokens.length; i++) {
      const w = Math.sqrt(weights[i]! * weights[i + 1]!);
      addHashed(order, `${tokens[i]!}\u0001${tokens[i + 1]!}`, w, 0x85ebca6b);
    }
    if (t.removeCommon) {
      let proj = 0;
      for (let d = 0; d < wv.dims; d++) proj += sem[d]! * wv.common[d]!;
      for (let d = 0; d < wv.dims; d++) sem[d] = sem[d]! - proj * wv.common[d]!;
    }
    return { sem: unit(sem), lex: unit(lex), order: unit(order) };
  }

  embedOne(text: string): Float32Array {
    const { sem, lex, order } = this.blocks(text);
    const t = this.tuning;
    const total = t.wSem + t.wLex + t.wOrder;
    const a = Math.sqrt(t.wSem / total);
    const b = Math.sqrt(t.wLex / total);
    const c = Math.sqrt(t.wOrder / total);
    const out = new Float32Array(this.dimensions);
    let o = 0;
    for (let i = 0; i < sem.length; i++) out[o++] = sem[i]! * a;
    for (let i = 0; i < lex.length; i++) out[o++] = lex[i]! * b;
    for (let i = 0; i < order.length; i++) out[o++] = order[i]! * c;
    // Blocks that are all zero (e.g. no known word) make the norm < 1: renormalise.
    return normalize(out);
  }

  embed(texts: string[]): Promise<Float32Array[]> {
    try {
      return Promise.resolve(texts.map((t) => this.embedOne(t)));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
