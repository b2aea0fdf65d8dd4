/**
 * Evaluate the llm-prompt-guard injection detector on a labelled JSONL file ({text, label, source}).
 * Usage: npx tsx scripts/eval-guard.ts <path.jsonl> [--threshold 0.35] [--cv 5 [--cv-seed 0] [--extra synthetic.jsonl]] [--model file] [--rules-only]
 *        [--errors]
 * Prints ONE JSON line: rates at the threshold, a threshold sweep, per rule family (ablation), per source and per
 * length bucket (with a within-label score/length correlation, so a length effect cannot pass for detection).
 *
 * The shipped classifier was trained on the development file, so scoring that file with it is in-sample (the
 * output says so). `--cv K` gives the honest estimate: K stratified folds, each scored by a model trained with
 * the full recipe (scripts/train-guard.ts, calibration included) on the other folds only.
 * Never prints prompt text (with --errors it prints only row indices and rule ids of misclassified rows).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadWordVectors } from '../lib/embeddings/wordvectors';
import { modelFromWeights, type InjectionModel } from '../plugins/llm-prompt-guard/detect/classifier';
import { compileInjectionDetector, loadInjectionModel } from '../plugins/llm-prompt-guard/detect/detector';
import {
  DEFAULT_THRESHOLD,
  RULE_FAMILIES,
  type Finding,
  type InjectionDetector,
  type RuleFamily,
} from '../plugins/llm-prompt-guard/detect/types';
import { DEFAULT_PARAMS, folds, prepare, readRows, trainRecipe, type Row } from './train-guard';

const args = process.argv.slice(2);
const valued = new Set(['--threshold', '--cv', '--cv-seed', '--model', '--extra']);
const path = args.find((a, i) => !a.startsWith('--') && !valued.has(args[i - 1] ?? ''));
if (!path) {
  process.stderr.write(
    'usage: npx tsx scripts/eval-guard.ts <file.jsonl> [--threshold t] [--cv k [--cv-seed n] [--extra f]] [--model file] [--rules-only] [--errors]\n',
  );
  process.exit(2);
}
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const threshold = Number(opt('--threshold') ?? DEFAULT_THRESHOLD);
const cvFolds = opt('--cv') ? Number(opt('--cv')) : 0;
// Another fold assignment: the spread across seeds shows how much the estimate owes to one split.
const cvSeed = Number(opt('--cv-seed') ?? 0);
const rulesOnly = args.includes('--rules-only');
const showErrors = args.includes('--errors');
if (cvFolds && (!Number.isInteger(cvFolds) || cvFolds < 2)) throw new Error('--cv needs an integer >= 2');

const rows = readRows([path]);
const r4 = (x: number): number => Math.round(x * 10000) / 10000;

/** Which detector scores row i (per fold under --cv), for a given set of families switched off. */
type DetectorFor = (off: Partial<Record<RuleFamily, boolean>>) => (i: number) => InjectionDetector;
let detectorFor: DetectorFor;
let mode: Record<string, unknown>;
if (rulesOnly) {
  mode = { classifier: 'off' };
  detectorFor = (off) => {
    const d = compileInjectionDetector({ threshold, families: { ...off, classifier: false } });
    return () => d;
  };
} else if (cvFolds) {
  const t0 = performance.now();
  // Training-only rows (e.g. data/guard/synthetic.jsonl) join every training part; they are never scored.
  const extraPaths = args.flatMap((a, i) => (args[i - 1] === '--extra' ? [a] : []));
  const extra = readRows(extraPaths).map((r) => ({
    ...r,
    source: r.source.startsWith('synthetic:') ? r.source : `synthetic:${r.source}`,
  }));
  const allRows = [...rows, ...extra];
  const prepared = prepare(allRows);
  const wv = loadWordVectors();
  const all = rows.map((_, i) => i);
  const extraIdx = extra.map((_, i) => rows.length + i);
  const fold = new Int32Array(rows.length);
  const models: InjectionModel[] = folds(rows, all, cvFolds, DEFAULT_PARAMS.seed + 1 + cvSeed).map((f, k) => {
    for (const i of f) fold[i] = k;
    const inFold = new Set(f);
    const t = trainRecipe(
      allRows,
      prepared,
      [...all.filter((i) => !inFold.has(i)), ...extraIdx],
      DEFAULT_PARAMS,
    );
    return modelFromWeights(t.header, t.weights, wv);
  });
  mode = {
    classifier: `${cvFolds}-fold cross-validation (nested calibration)`,
    cv_seed: cvSeed,
    training_only_rows: extra.length,
    train_ms: Math.round(performance.now() - t0),
  };
  detectorFor = (off) => {
    const ds = models.map((m) => compileInjectionDetector({ threshold, families: off, classifier: m }));
    return (i) => ds[fold[i]!]!;
  };
} else {
  const model = loadInjectionModel(opt('--model'));
  const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
  const trainedOn = (model.header.trained?.['data'] ?? []) as { sha256?: string }[];
  const inSample = trainedOn.some((d) => d.sha256 === sha);
  mode = {
    classifier: model.path,
    in_sample: inSample,
    ...(inSample ? { warning: 'the model was trained on this file: rates are in-sample; use --cv' } : {}),
  };
  detectorFor = (off) => {
    const d = compileInjectionDetector({ threshold, families: off, classifier: model });
    return () => d;
  };
}

interface Scored {
  row: Row;
  score: number;
  findings: Finding[];
  ms: number;
}
const base = detectorFor({});
const scored: Scored[] = rows.map((row, i) => {
  const det = base(i);
  const t0 = process.hrtime.bigint();
  const r = det.scan(row.text, 'user');
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { row, score: r.score, findings: r.findings, ms };
});

const pos = scored.filter((s) => s.row.label === 'injection');
const neg = scored.filter((s) => s.row.label === 'benign');
const rate = (xs: Scored[], t: number): number =>
  xs.length === 0 ? 0 : xs.filter((s) => s.score >= t).length / xs.length;

function rates(
  xs: Scored[],
  t: number,
): { n_inj: number; n_ben: number; tpr: number | null; fpr: number | null } {
  const p = xs.filter((s) => s.row.label === 'injection');
  const n = xs.filter((s) => s.row.label === 'benign');
  return {
    n_inj: p.length,
    n_ben: n.length,
    tpr: p.length ? r4(rate(p, t)) : null,
    fpr: n.length ? r4(rate(n, t)) : null,
  };
}

// Sweep
const sweep: { threshold: number; tpr: number; fpr: number }[] = [];
for (let t = 0.05; t <= 0.951; t += 0.05) {
  const tt = Math.round(t * 100) / 100;
  sweep.push({ threshold: tt, tpr: r4(rate(pos, tt)), fpr: r4(rate(neg, tt)) });
}
// Best TPR with FPR <= 2% over all distinct score cut points
const cuts = [...new Set(scored.map((s) => s.score))].filter((x) => x > 0).sort((a, b) => a - b);
let best = { threshold: 1, tpr: 0, fpr: 0 };
for (const c of cuts) {
  const fpr = rate(neg, c);
  const tpr = rate(pos, c);
  if (fpr <= 0.02 && tpr > best.tpr) best = { threshold: c, tpr: r4(tpr), fpr: r4(fpr) };
}

// Per family: how often a family fires on each label, and TPR/FPR with that family switched off (ablation).
const perFamily: Record<string, unknown> = {};
for (const fam of RULE_FAMILIES) {
  const fires = (xs: Scored[]): number =>
    r4(xs.filter((s) => s.findings.some((f) => f.family === fam)).length / Math.max(1, xs.length));
  if (rulesOnly && fam === 'classifier') continue;
  const off = detectorFor({ [fam]: false } as Partial<Record<RuleFamily, boolean>>);
  let tp = 0;
  let fp = 0;
  for (const [i, s] of scored.entries()) {
    const b = off(i).scan(s.row.text, 'user').blocked;
    if (b && s.row.label === 'injection') tp++;
    if (b && s.row.label === 'benign') fp++;
  }
  perFamily[fam] = {
    fires_on_injection: fires(pos),
    fires_on_benign: fires(neg),
    without_family: { tpr: r4(tp / Math.max(1, pos.length)), fpr: r4(fp / Math.max(1, neg.length)) },
  };
}
// Per rule id (fire counts)
const perRule: Record<string, { injection: number; benign: number }> = {};
for (const s of scored) {
  for (const f of s.findings) {
    const e = (perRule[f.rule] ??= { injection: 0, benign: 0 });
    e[s.row.label]++;
  }
}

// Per source
const perSource: Record<string, unknown> = {};
for (const src of [...new Set(rows.map((r) => r.source))].sort()) {
  perSource[src] = rates(
    scored.filter((s) => s.row.source === src),
    threshold,
  );
}
// Per source family (prefix before ':') for a compact view
const perSourceGroup: Record<string, unknown> = {};
for (const g of [...new Set(rows.map((r) => r.source.split(':')[0] ?? r.source))].sort()) {
  perSourceGroup[g] = rates(
    scored.filter((s) => (s.row.source.split(':')[0] ?? s.row.source) === g),
    threshold,
  );
}

// Length buckets (characters)
const buckets: [string, number, number][] = [
  ['<100', 0, 100],
  ['100-299', 100, 300],
  ['300-999', 300, 1000],
  ['1000-2999', 1000, 3000],
  ['>=3000', 3000, Infinity],
];
const perLength: Record<string, unknown> = {};
for (const [name, lo, hi] of buckets) {
  perLength[name] = rates(
    scored.filter((s) => s.row.text.length >= lo && s.row.text.length < hi),
    threshold,
  );
}

// Within-label Spearman correlation of score with length: a length-driven score shows a strong positive one
// among benign rows too.
function spearman(xs: number[], ys: number[]): number | null {
  if (xs.length < 3) return null;
  const rank = (v: number[]): number[] => {
    const idx = v.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
    const r = new Array<number>(v.length).fill(0);
    let i = 0;
    while (i < idx.length) {
      let j = i;
      while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++;
      for (let k = i; k <= j; k++) r[idx[k]![1]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const a = rank(xs);
  const b = rank(ys);
  const mean = (v: number[]): number => v.reduce((p, c) => p + c, 0) / v.length;
  const ma = mean(a);
  const mb = mean(b);
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - ma) * (b[i]! - mb);
    da += (a[i]! - ma) ** 2;
    db += (b[i]! - mb) ** 2;
  }
  return da === 0 || db === 0 ? null : r4(num / Math.sqrt(da * db));
}

const ms = scored.map((s) => s.ms).sort((a, b) => a - b);
const out = {
  file: path,
  mode,
  rows: rows.length,
  injections: pos.length,
  benign: neg.length,
  threshold,
  at_threshold: { tpr: r4(rate(pos, threshold)), fpr: r4(rate(neg, threshold)) },
  goal: { tpr: 0.9, max_fpr: 0.02 },
  best_tpr_at_fpr_le_2pct: best,
  sweep,
  per_family: perFamily,
  per_rule: perRule,
  per_source_group: perSourceGroup,
  per_source: perSource,
  per_length_bucket: perLength,
  score_length_spearman: {
    injection: spearman(
      pos.map((s) => s.row.text.length),
      pos.map((s) => s.score),
    ),
    benign: spearman(
      neg.map((s) => s.row.text.length),
      neg.map((s) => s.score),
    ),
  },
  scan_ms: {
    p50: r4(ms[Math.floor(ms.length * 0.5)] ?? 0),
    p99: r4(ms[Math.floor(ms.length * 0.99)] ?? 0),
    max: r4(ms[ms.length - 1] ?? 0),
  },
};
process.stdout.write(`${JSON.stringify(out)}\n`);
if (showErrors) {
  // Indices and rule ids only — never the prompt text.
  scored.forEach((s, i) => {
    const wrong = (s.row.label === 'injection') !== s.score >= threshold;
    if (wrong)
      process.stderr.write(
        `${i}\t${s.row.label}\t${s.row.source}\t${s.score}\t${s.findings.map((f) => f.rule).join(',')}\n`,
      );
  });
}
