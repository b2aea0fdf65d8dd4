/**
 * Learned injection/jailbreak classifier: a logistic regression over hashed words and word pairs, the SIF-weighted
 * mean of the shipped GloVe word vectors, the phrase-rule findings and a few text-shape ratios (GCG token soup).
 *
 * Why: many jailbreaks (PAIR-style persuasion, GCG suffixes) carry no injection wording a rule could key on; what
 * separates them from benign role-play is the harmful request inside, which word statistics capture and phrase
 * rules do not. Weights are trained offline by scripts/train-guard.ts (deterministic) and shipped in
 * data/guard/; loading is synchronous and cached per path. No feature reads the total length: every block is
 * L2-normalised or a ratio, so a long text does not score higher for being long (docs/guard.md, length buckets).
 */
import { readFileSync } from 'node:fs';
import { shippedDataFile } from '../../../lib/data-files';
import { tokenize } from '../../../lib/embeddings/builtin';
import { loadWordVectors, type WordVectors } from '../../../lib/embeddings/wordvectors';
import { isOdd, repetitionStats } from './repetition';
import { RULE_FAMILIES, type Finding, type InjectionModelLike, type TextStats } from './types';

export const DEFAULT_MODEL_FILE = 'injection-lr-v1.bin';
const MAGIC = 'KLGRD001';

/** Feature layout; stored in the model header so a model is only ever used with the layout it was trained on. */
export interface FeatureSpec {
  /** log2 of the hashed-feature space (words, word pairs, rule ids). */
  bits: number;
  /** Block weights (0 = block off). */
  word: number;
  bigram: number;
  glove: number;
  rules: number;
  ruleIds: number;
  shape: number;
}

export const DEFAULT_FEATURES: FeatureSpec = {
  bits: 18,
  word: 1,
  bigram: 0.7,
  glove: 1,
  rules: 1,
  ruleIds: 1,
  shape: 1,
};

export const SHAPE_FEATURES = 5;
/** Tokens at the end of the text examined for optimiser-suffix soup (GCG appends it to the request). */
const TAIL_TOKENS = 24;

export interface ModelHeader {
  version: 1;
  features: FeatureSpec;
  /** Intercept of the logistic regression. */
  bias: number;
  /**
   * Added to the logit before the sigmoid so that the calibrated score crosses the detector's default threshold
   * at the operating point chosen during training (see scripts/train-guard.ts).
   */
  shift: number;
  /** Provenance: what the model was trained on and how it did out of fold. */
  trained?: Record<string, unknown>;
}

export interface SparseVec {
  idx: Uint32Array;
  val: Float32Array;
  /** Word tokens in the text (short texts are damped, see {@link calibrated}). */
  tokens: number;
}

/**
 * Texts shorter than this many words get a proportionally smaller score: one or two words ("okay", "tell me a
 * joke") carry too little evidence for word statistics, and short injections are the rules' strength.
 */
export const FULL_EVIDENCE_TOKENS = 12;

/** The classifier's score from a raw logit: sigmoid(logit + shift), damped for short texts. */
export function calibrated(logit: number, shift: number, tokens: number): number {
  return (1 / (1 + Math.exp(-(logit + shift)))) * Math.min(1, tokens / FULL_EVIDENCE_TOKENS);
}

/** Size of the full feature space of a spec (hashed part + dense blocks). */
export function featureDims(spec: FeatureSpec, gloveDims: number): number {
  return 2 ** spec.bits + gloveDims + RULE_FAMILIES.length + 1 + SHAPE_FEATURES;
}

/** FNV-1a continued from state `h` (so "w" + token is hashed without building the string). */
function fnvFrom(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
const FNV_SEED = 0x811c9dc5;
const fnv1a = (s: string): number => fnvFrom(FNV_SEED, s);
const H_WORD = fnv1a('w');
const H_PAIR = fnv1a('b');

/**
 * The classifier reads at most this many characters (head 3/4, tail 1/4): its features are ratios and unit
 * vectors, so a longer text adds cost but little evidence; the rules still scan `maxScanChars`.
 */
export const CLASSIFIER_MAX_CHARS = 8192;

// Scratch space reused across calls (single-threaded): per-block "seen" stamps for the hashed space.
let stamps = new Int32Array(0);
let stamp = 0;

const LATIN_WORD = /[A-Za-z]{3,}/g;
const MAX_SHAPE_WORDS = 20_000;

/**
 * Features of one text. `findings` and `ruleScore` are the phrase-rule results for the same text (unweighted by
 * source), so the model learns how much to trust each rule.
 */
export function featurize(
  text: string,
  findings: readonly Finding[],
  ruleScore: number,
  spec: FeatureSpec,
  wv: WordVectors,
  stats?: TextStats,
): SparseVec {
  const size = 2 ** spec.bits;
  const out = new Map<number, number>();
  const add = (i: number, v: number): void => {
    out.set(i, (out.get(i) ?? 0) + v);
  };
  const toks = tokenize(text);
  if (stamps.length !== size) {
    stamps = new Int32Array(size);
    stamp = 0;
  }

  // Hashed words and adjacent pairs: presence, each block L2-normalised.
  const hashed = (keys: readonly number[], weight: number): void => {
    stamp = stamp >= 0x7ffffffe ? (stamps.fill(0), 1) : stamp + 1;
    const seen: number[] = [];
    for (const h of keys) {
      const i = h % size;
      if (stamps[i] !== stamp) {
        stamps[i] = stamp;
        seen.push(i);
      }
    }
    const w = weight / Math.sqrt(seen.length || 1);
    for (const i of seen) add(i, w);
  };
  if (spec.word > 0)
    hashed(
      toks.map((t) => fnvFrom(H_WORD, t)),
      spec.word,
    );
  if (spec.bigram > 0) {
    const pairs: number[] = [];
    // "b" + a + " " + b, hashed incrementally.
    for (let i = 0; i + 1 < toks.length; i++) {
      pairs.push(fnvFrom(fnvFrom(fnvFrom(H_PAIR, toks[i]!), ' '), toks[i + 1]!));
    }
    hashed(pairs, spec.bigram);
  }
  if (spec.ruleIds > 0) {
    for (const f of findings) add(fnv1a(`r${f.rule}`) % size, f.score * spec.ruleIds);
  }
  let base = size;

  // Meaning: SIF-weighted mean of the word vectors, unit length.
  if (spec.glove > 0) {
    const v = new Float64Array(wv.dims);
    for (const t of toks) {
      const r = wv.rank(t);
      if (r === undefined) continue;
      const p = 1 / ((r + 1) * 12);
      wv.addScaled(r, 1e-2 / (1e-2 + p), v);
    }
    let n = 0;
    for (let d = 0; d < v.length; d++) n += v[d]! * v[d]!;
    const inv = n > 0 ? spec.glove / Math.sqrt(n) : 0;
    for (let d = 0; d < v.length; d++) if (v[d] !== 0) add(base + d, v[d]! * inv);
  }
  base += wv.dims;

  // Phrase-rule evidence per family, plus the combined rule score.
  if (spec.rules > 0) {
    const fam = new Map<string, number>();
    for (const f of findings) fam.set(f.family, Math.max(fam.get(f.family) ?? 0, f.score));
    RULE_FAMILIES.forEach((f, i) => {
      const s = fam.get(f) ?? 0;
      if (s > 0) add(base + i, s * spec.rules);
    });
    if (ruleScore > 0) add(base + RULE_FAMILIES.length, ruleScore * spec.rules);
  }
  base += RULE_FAMILIES.length + 1;

  // Text shape (ratios, no length): camelCase glue, odd-token windows (GCG optimiser soup), odd tokens at the end
  // of the text (where GCG appends its suffix), code, punctuation density. Out-of-vocabulary ratios were tried and
  // dropped: they also fire on every non-English prompt.
  if (spec.shape > 0) {
    const st = stats ?? repetitionStats(text);
    let words = 0;
    let camel = 0;
    LATIN_WORD.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = LATIN_WORD.exec(text)) !== null && words < MAX_SHAPE_WORDS) {
      words++;
      if (/[a-z][A-Z]/.test(m[0])) camel++;
    }
    LATIN_WORD.lastIndex = 0;
    const tail = text.slice(-4000).split(/\s+/).filter(Boolean).slice(-TAIL_TOKENS);
    let tailOdd = 0;
    for (const t of tail) if (isOdd(t)) tailOdd++;
    let punct = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      // Not a letter, digit or whitespace: ASCII symbols, and other non-letters outside the BMP letter ranges.
      if ((c > 32 && c < 48) || (c > 57 && c < 65) || (c > 90 && c < 97) || (c > 122 && c < 127)) punct++;
      // Symbols outside ASCII by block (no per-character regex): general punctuation to dingbats and arrows,
      // CJK symbols, small/fullwidth forms, emoji (surrogate lead units).
      else if (
        (c >= 0x2000 && c <= 0x2bff) ||
        (c >= 0x3000 && c <= 0x303f) ||
        (c >= 0xfe30 && c <= 0xfe4f) ||
        (c >= 0xff00 && c <= 0xff0f) ||
        (c >= 0xd83c && c <= 0xd83e)
      )
        punct++;
    }
    const shape = [
      camel / Math.max(1, words),
      Math.min(1, st.oddWindowMax / 6),
      tailOdd / Math.max(1, tail.length),
      st.codeLike ? 1 : 0,
      Math.min(1, (punct / Math.max(1, text.length)) * 5),
    ];
    shape.forEach((v, i) => {
      if (v !== 0) add(base + i, v * spec.shape);
    });
  }

  const idx = new Uint32Array(out.size);
  const val = new Float32Array(out.size);
  let k = 0;
  for (const [i, v] of out) {
    idx[k] = i;
    val[k++] = v;
  }
  return { idx, val, tokens: toks.length };
}

/** A loaded model: weights indexed by feature id. */
export interface InjectionModel extends InjectionModelLike {
  readonly header: ModelHeader;
  readonly path: string;
  /** Raw logit of a feature vector (without the calibration shift). */
  logit(x: SparseVec): number;
  /** Calibrated score in [0, 1) ({@link calibrated}). */
  score(x: SparseVec): number;
  readonly wv: WordVectors;
}

export function encodeModel(header: ModelHeader, weights: Float64Array): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const nz: number[] = [];
  for (let i = 0; i < weights.length; i++) if (Math.fround(weights[i]!) !== 0) nz.push(i);
  const buf = Buffer.alloc(8 + 4 + json.length + 4 + nz.length * 8);
  let o = buf.write(MAGIC, 0, 'ascii');
  o = buf.writeUInt32LE(json.length, o);
  o += json.copy(buf, o);
  o = buf.writeUInt32LE(nz.length, o);
  for (const i of nz) o = buf.writeUInt32LE(i, o);
  for (const i of nz) o = buf.writeFloatLE(weights[i]!, o);
  return buf;
}

export function decodeModel(
  buf: Buffer,
  dims: (spec: FeatureSpec) => number,
): {
  header: ModelHeader;
  weights: Float32Array;
} {
  const bad = (why: string): Error => new Error(`injection classifier model is corrupt: ${why}`);
  if (buf.length < 16 || buf.toString('ascii', 0, 8) !== MAGIC) throw bad('unknown format');
  const jlen = buf.readUInt32LE(8);
  if (12 + jlen + 4 > buf.length) throw bad('truncated header');
  const header = JSON.parse(buf.toString('utf8', 12, 12 + jlen)) as ModelHeader;
  if (header.version !== 1 || typeof header.bias !== 'number' || typeof header.shift !== 'number') {
    throw bad('unsupported header');
  }
  const n = buf.readUInt32LE(12 + jlen);
  const at = 16 + jlen;
  if (buf.length !== at + n * 8) throw bad('truncated weights');
  const weights = new Float32Array(dims(header.features));
  for (let k = 0; k < n; k++) {
    const i = buf.readUInt32LE(at + k * 4);
    if (i >= weights.length) throw bad('weight index out of range');
    weights[i] = buf.readFloatLE(at + n * 4 + k * 4);
  }
  return { header, weights };
}

/** Locates the model: an explicit file, else `data/guard/` from source or `dist/` layouts. */
export function resolveModelPath(explicit?: string): string {
  return explicit ?? shippedDataFile('injection classifier model', 'guard', DEFAULT_MODEL_FILE);
}

export function modelFromWeights(
  header: ModelHeader,
  weights: Float32Array | Float64Array,
  wv: WordVectors,
  path = '(memory)',
): InjectionModel {
  const logit = (x: SparseVec): number => {
    let z = header.bias;
    for (let k = 0; k < x.idx.length; k++) z += (weights[x.idx[k]!] ?? 0) * x.val[k]!;
    return z;
  };
  const score = (x: SparseVec): number => calibrated(logit(x), header.shift, x.tokens);
  return {
    header,
    path,
    wv,
    logit,
    score,
    scoreText: (text, findings, ruleScore, stats) =>
      score(featurize(text, findings, ruleScore, header.features, wv, stats)),
  };
}

const cache = new Map<string, InjectionModel>();

/** Loads (once per process and path) the shipped model and the word vectors it needs. */
export function loadInjectionModel(explicit?: string): InjectionModel {
  const path = resolveModelPath(explicit);
  const hit = cache.get(path);
  if (hit) return hit;
  const wv = loadWordVectors();
  const { header, weights } = decodeModel(readFileSync(path), (s) => featureDims(s, wv.dims));
  const model = modelFromWeights(header, weights, wv, path);
  cache.set(path, model);
  return model;
}
