/**
 * Train the llm-prompt-guard injection classifier (plugins/llm-prompt-guard/detect/classifier.ts).
 *
 *   npx tsx scripts/train-guard.ts [train.jsonl…] [--out data/guard/injection-lr-v1.bin] [--target-fpr 0.015] [--check]
 * With no files it trains on the shipped training rows, `TRAINING_FILES` (data/guard/, sources and licences in
 * data/guard/README.md): that is the shipped model. Rows whose source starts with `synthetic:` are training-only.
 *
 * Rows are `{text, label: "injection"|"benign", source}`. Training is deterministic (seeded shuffles, no clock),
 * so the same data gives the same bytes: `--check` retrains and fails if the shipped model differs.
 *
 * Recipe: logistic regression (L2, AdaGrad, fixed epochs, 5 shuffles averaged) on the runtime features, hashed
 * words scaled NB-LR style by their log-count ratio (Wang & Manning 2012), and sample weights that balance the
 * labels within each length bucket, so that length cannot stand in for the label (the available injections are
 * much longer than the benign prompts). The calibration
 * shift is set out of fold: 5-fold scores of models that did not see a row decide where the combined score
 * (max of the rules' noisy-OR and the classifier) crosses the default threshold, at `target-fpr` of the benign rows. Prints one JSON
 * line (never prompt text).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  DEFAULT_FEATURES,
  calibrated,
  encodeModel,
  featureDims,
  featurize,
  type FeatureSpec,
  type ModelHeader,
  type SparseVec,
} from '../plugins/llm-prompt-guard/detect/classifier';
import { compileInjectionDetector } from '../plugins/llm-prompt-guard/detect/detector';
import { DEFAULT_THRESHOLD } from '../plugins/llm-prompt-guard/detect/types';
import { loadWordVectors } from '../lib/embeddings/wordvectors';
import { xorshift32 } from '../lib/random';

export interface Row {
  text: string;
  label: 'injection' | 'benign';
  source: string;
}

export interface TrainParams {
  lambda: number;
  epochs: number;
  lr: number;
  seed: number;
  folds: number;
  targetFpr: number;
  /** NB-LR smoothing: hashed features are scaled by their smoothed log-count ratio (0 = plain LR). */
  nbAlpha: number;
  /** Cap of the length-balancing sample weights (0 = plain class balance). */
  lengthCap: number;
  /** Runs with different shuffles averaged into one linear model. */
  bag: number;
  /** Fold assignments whose out-of-fold logits are averaged for the calibration. */
  calRepeats: number;
}

export const DEFAULT_PARAMS: TrainParams = {
  lambda: 1e-4,
  epochs: 8,
  lr: 0.5,
  seed: 20261126,
  folds: 5,
  targetFpr: 0.0125,
  nbAlpha: 0.5,
  lengthCap: 3,
  bag: 5,
  calRepeats: 2,
};

/** The rows the shipped model is trained on, in order (the model header records their names and hashes). */
export const TRAINING_FILES: readonly string[] = ['injection-dev.jsonl', 'synthetic.jsonl'].map((f) =>
  join(__dirname, '..', 'data', 'guard', f),
);

export function readRows(paths: readonly string[]): Row[] {
  const rows: Row[] = [];
  for (const p of paths) {
    for (const line of readFileSync(p, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as Partial<Row>;
      if (typeof r.text !== 'string' || (r.label !== 'injection' && r.label !== 'benign')) {
        throw new Error(`${p}: row without text/label`);
      }
      rows.push({ text: r.text, label: r.label, source: String(r.source ?? '') });
    }
  }
  return rows;
}

/** Runtime features of each row plus its rule-only score (the classifier family off). */
export interface Prepared {
  x: SparseVec[];
  y: Uint8Array;
  ruleScore: Float64Array;
  /** Training-only rows (source `synthetic:*`): never held out, never used to calibrate. */
  trainOnly: Uint8Array;
  /** Text lengths (characters), for length-balanced sample weights. */
  len: Uint32Array;
  dims: number;
  spec: FeatureSpec;
}

export function prepare(rows: readonly Row[], spec: FeatureSpec = DEFAULT_FEATURES): Prepared {
  const wv = loadWordVectors();
  const det = compileInjectionDetector({
    threshold: DEFAULT_THRESHOLD,
    families: { classifier: false },
  });
  const x: SparseVec[] = [];
  const ruleScore = new Float64Array(rows.length);
  rows.forEach((r, i) => {
    const inp = det.classifierInput(r.text);
    x.push(featurize(inp.text, inp.findings, inp.score, spec, wv, inp.stats));
    ruleScore[i] = inp.score;
  });
  return {
    x,
    y: Uint8Array.from(rows, (r) => (r.label === 'injection' ? 1 : 0)),
    ruleScore,
    len: Uint32Array.from(rows, (r) => r.text.length),
    trainOnly: Uint8Array.from(rows, (r) => (r.source.startsWith('synthetic:') ? 1 : 0)),
    dims: featureDims(spec, wv.dims),
    spec,
  };
}

/** Logistic regression on the rows `idx`; returns weights (last slot = intercept). */
export function fit(p: Prepared, idx: readonly number[], params: TrainParams): Float64Array {
  const bag = params.bag;
  if (bag <= 1) return fitOne(p, idx, params);
  // Average of runs with different shuffles: still one linear model, less dependent on the SGD order.
  const acc = new Float64Array(p.dims + 1);
  for (let b = 0; b < bag; b++) {
    const w = fitOne(p, idx, { ...params, seed: params.seed + b * 7919 });
    for (let j = 0; j < acc.length; j++) acc[j] = acc[j]! + w[j]! / bag;
  }
  return acc;
}

function fitOne(p: Prepared, idx: readonly number[], params: TrainParams): Float64Array {
  const d = p.dims;
  const w = new Float64Array(d + 1);
  const g2 = new Float64Array(d + 1).fill(1e-8);
  let npos = 0;
  for (const i of idx) npos += p.y[i]!;
  const nneg = idx.length - npos;
  if (npos === 0 || nneg === 0) throw new Error('training data needs both labels');
  const cw = [idx.length / (2 * nneg), idx.length / (2 * npos)];
  const sw = params.lengthCap > 0 ? lengthWeights(p, idx, params.lengthCap) : null;
  // NB-LR: scale hashed features by their log-count ratio (Wang & Manning 2012), folded into the weights at the end.
  const nb = params.nbAlpha > 0 ? nbRatios(p, idx, params.nbAlpha) : null;
  const scale = (j: number): number => (nb && j < nb.length ? nb[j]! : 1);
  const order = [...idx];
  const rand = xorshift32(params.seed);
  for (let ep = 0; ep < params.epochs; ep++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const i of order) {
      const x = p.x[i]!;
      let z = w[d]!;
      for (let k = 0; k < x.idx.length; k++) z += w[x.idx[k]!]! * x.val[k]! * scale(x.idx[k]!);
      const y = p.y[i]!;
      const g = (1 / (1 + Math.exp(-z)) - y) * (sw ? sw.get(i)! : cw[y]!);
      for (let k = 0; k < x.idx.length; k++) {
        const j = x.idx[k]!;
        const gr = g * x.val[k]! * scale(j) + params.lambda * w[j]!;
        g2[j] = g2[j]! + gr * gr;
        w[j] = w[j]! - (params.lr / Math.sqrt(g2[j]!)) * gr;
      }
      g2[d] = g2[d]! + g * g;
      w[d] = w[d]! - (params.lr / Math.sqrt(g2[d]!)) * g;
    }
  }
  if (nb) for (let j = 0; j < nb.length; j++) w[j] = w[j]! * nb[j]!;
  return w;
}

/**
 * Sample weights that balance the labels within each length bucket, so that "long" cannot stand in for
 * "injection" (injections are much longer than benign prompts in the available data). Capped at `cap`.
 */
export function lengthWeights(p: Prepared, idx: readonly number[], cap: number): Map<number, number> {
  const bucket = (n: number): number => (n < 100 ? 0 : n < 300 ? 1 : n < 1000 ? 2 : n < 3000 ? 3 : 4);
  const counts = new Map<string, number>();
  for (const i of idx) {
    const k = `${bucket(p.len[i]!)}:${p.y[i]!}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const out = new Map<number, number>();
  for (const i of idx) {
    const b = bucket(p.len[i]!);
    const n0 = counts.get(`${b}:0`) ?? 0;
    const n1 = counts.get(`${b}:1`) ?? 0;
    const mine = p.y[i] ? n1 : n0;
    // Both labels present: equalise them within the bucket; otherwise plain class balance.
    const w = n0 && n1 ? (n0 + n1) / (2 * mine) : 1;
    out.set(i, Math.min(cap, w));
  }
  // Keep the overall label balance of the class-weighted recipe.
  let s0 = 0;
  let s1 = 0;
  for (const i of idx) {
    if (p.y[i]) s1 += out.get(i)!;
    else s0 += out.get(i)!;
  }
  for (const i of idx) out.set(i, (out.get(i)! * idx.length) / (2 * (p.y[i] ? s1 : s0)));
  return out;
}

function nbRatios(p: Prepared, idx: readonly number[], alpha: number): Float64Array {
  const size = 2 ** p.spec.bits;
  const pc = new Float64Array(size).fill(alpha);
  const nc = new Float64Array(size).fill(alpha);
  for (const i of idx) {
    const x = p.x[i]!;
    const c = p.y[i] ? pc : nc;
    for (let k = 0; k < x.idx.length; k++) if (x.idx[k]! < size) c[x.idx[k]!] = c[x.idx[k]!]! + 1;
  }
  let sp = 0;
  let sn = 0;
  for (let j = 0; j < size; j++) {
    sp += pc[j]!;
    sn += nc[j]!;
  }
  const r = new Float64Array(size);
  for (let j = 0; j < size; j++) r[j] = Math.abs(Math.log(pc[j]! / sp / (nc[j]! / sn)));
  return r;
}

export function logit(w: Float64Array, x: SparseVec): number {
  const d = w.length - 1;
  let z = w[d]!;
  for (let k = 0; k < x.idx.length; k++) z += w[x.idx[k]!]! * x.val[k]!;
  return z;
}

/** Stratified (by source and label) fold of every row in `idx`, deterministic. */
export function folds(rows: readonly Row[], idx: readonly number[], k: number, seed: number): number[][] {
  const groups = new Map<string, number[]>();
  for (const i of idx) {
    const key = `${rows[i]!.source}\u0000${rows[i]!.label}`;
    const g = groups.get(key) ?? [];
    g.push(i);
    groups.set(key, g);
  }
  const out: number[][] = Array.from({ length: k }, () => []);
  const rand = xorshift32(seed ^ 0x5bd1e995);
  let offset = 0;
  for (const key of [...groups.keys()].sort()) {
    const g = [...groups.get(key)!];
    for (let i = g.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [g[i], g[j]] = [g[j]!, g[i]!];
    }
    g.forEach((row, j) => out[(j + offset) % k]!.push(row));
    offset = (offset + g.length) % k;
  }
  return out;
}

/** The detector's score: rules (noisy-OR) and classifier joined by max (detector.ts). */
const combined = (rule: number, z: number, shift: number, tokens: number): number =>
  Math.max(rule, calibrated(z, shift, tokens));

/**
 * Smallest shift whose benign false-positive rate (rows `neg`, combined score >= threshold) is <= target:
 * the combined score only grows with the shift, so a bisection finds it.
 */
export function calibrate(
  ruleScore: ArrayLike<number>,
  z: ArrayLike<number>,
  tokens: ArrayLike<number>,
  neg: readonly number[],
  targetFpr: number,
  threshold = DEFAULT_THRESHOLD,
): number {
  const fpr = (s: number): number =>
    neg.filter((i) => combined(ruleScore[i]!, z[i]!, s, tokens[i]!) >= threshold).length / neg.length;
  let lo = -30;
  let hi = 30;
  for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2;
    if (fpr(mid) <= targetFpr) lo = mid;
    else hi = mid;
  }
  return Math.round(lo * 1e6) / 1e6;
}

export interface Trained {
  header: ModelHeader;
  weights: Float64Array;
  /** Out-of-fold logits of the training rows (calibration input). */
  oof: Float64Array;
}

/** The full recipe on rows `idx`: fit, out-of-fold logits, calibration shift. */
export function trainRecipe(
  rows: readonly Row[],
  p: Prepared,
  idx: readonly number[],
  params: TrainParams,
): Trained {
  const w = fit(p, idx, params);
  const oof = new Float64Array(rows.length);
  // Out-of-fold logits averaged over several fold assignments: one split alone moves the shift noticeably.
  // Training-only rows stay in every training part and are never scored.
  const real = idx.filter((i) => !p.trainOnly[i]);
  const extra = idx.filter((i) => p.trainOnly[i]);
  for (let r = 0; r < params.calRepeats; r++) {
    for (const f of folds(rows, real, params.folds, params.seed + r * 104729)) {
      const inFold = new Set(f);
      const wf = fit(p, [...real.filter((i) => !inFold.has(i)), ...extra], params);
      for (const i of f) oof[i] = oof[i]! + logit(wf, p.x[i]!) / params.calRepeats;
    }
  }
  const neg = real.filter((i) => p.y[i] === 0);
  const shift = calibrate(
    p.ruleScore,
    oof,
    p.x.map((x) => x.tokens),
    neg,
    params.targetFpr,
  );
  const d = p.dims;
  const header: ModelHeader = { version: 1, features: p.spec, bias: w[d]!, shift };
  return { header, weights: w.subarray(0, d), oof };
}

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function main(): void {
  const args = process.argv.slice(2);
  const valued = new Set(['--out', '--target-fpr']);
  const given = args.filter((a, i) => !a.startsWith('--') && !valued.has(args[i - 1] ?? ''));
  const paths = given.length > 0 ? given : [...TRAINING_FILES];
  const out = arg(args, '--out') ?? join(__dirname, '..', 'data', 'guard', 'injection-lr-v1.bin');
  const params: TrainParams = {
    ...DEFAULT_PARAMS,
    targetFpr: Number(arg(args, '--target-fpr') ?? DEFAULT_PARAMS.targetFpr),
  };
  const t0 = performance.now();
  const rows = readRows(paths);
  const p = prepare(rows);
  const all = rows.map((_, i) => i);
  const t = trainRecipe(rows, p, all, params);
  const pos = all.filter((i) => p.y[i] === 1 && !p.trainOnly[i]);
  const neg = all.filter((i) => p.y[i] === 0 && !p.trainOnly[i]);
  const rate = (xs: number[]): number =>
    xs.filter(
      (i) => combined(p.ruleScore[i]!, t.oof[i]!, t.header.shift, p.x[i]!.tokens) >= DEFAULT_THRESHOLD,
    ).length / xs.length;
  t.header.trained = {
    data: paths.map((x) => {
      const part = readRows([x]);
      return {
        file: basename(x),
        sha256: createHash('sha256').update(readFileSync(x)).digest('hex'),
        rows: part.length,
        injections: part.filter((r) => r.label === 'injection').length,
      };
    }),
    params,
    // Out-of-fold rates at the default threshold: what the calibration targeted (in-sample would flatter).
    oof_at_default_threshold: {
      tpr: Math.round(rate(pos) * 10000) / 10000,
      fpr: Math.round(rate(neg) * 10000) / 10000,
    },
  };
  const buf = encodeModel(t.header, t.weights);
  const summary = {
    out,
    bytes: buf.length,
    rows: rows.length,
    shift: t.header.shift,
    oof_at_default_threshold: t.header.trained['oof_at_default_threshold'],
    ms: Math.round(performance.now() - t0),
  };
  if (args.includes('--check')) {
    const same = Buffer.compare(readFileSync(out), buf) === 0;
    process.stdout.write(`${JSON.stringify({ ...summary, check: same ? 'identical' : 'DIFFERENT' })}\n`);
    process.exit(same ? 0 : 1);
  }
  writeFileSync(out, buf);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

if (require.main === module) main();
