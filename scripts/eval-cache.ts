/**
 * Semantic-cache evaluation: "would serve" = similarity ≥ threshold AND (optionally) verification passes.
 *
 *   node --import tsx scripts/eval-cache.ts [files…] [--svg docs/cache-pr.svg] [--seed 7] [--threshold 0.8]
 *
 * Files are taken by path; the format is detected from the extension:
 *   *.tsv   id \t sentence1 \t sentence2 \t label(1 = paraphrase, 0 = not), no header (PAWS)
 *   *.json  [{origin, similar}] positives; negatives = origin_i with similar_j (j ≠ i, seeded random) (GPTCache)
 *   *.tsv / *.csv with a header naming `question1`, `question2` and `is_duplicate` (Quora question pairs; other
 *           columns such as id, qid1, qid2 are ignored; CSV fields may be double-quoted)
 * Default files: ../shared/eval/cache/{gptcache-paraphrases-dev.json,paws-wiki-dev.tsv}.
 * Embedders: builtin always; an OpenAI-compatible one when EVAL_OPENAI_URL is set
 * (EVAL_OPENAI_MODEL, default text-embedding-3-small; EVAL_OPENAI_KEY → Authorization: Bearer …).
 * Prints ONE JSON line on stdout; writes a precision–recall SVG.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { BUILTIN_DEFAULT_THRESHOLD, createEmbedder, dot, type Embedder } from '../lib/embeddings';
import { DEFAULT_VERIFY, verifyCandidate } from '../plugins/llm-semantic-cache/verify';

interface Pair {
  a: string;
  b: string;
  label: 0 | 1;
}
interface Dataset {
  name: string;
  path: string;
  kind: 'paws-tsv' | 'gptcache-json' | 'pairs-header';
  pairs: Pair[];
}

function parseArgs(argv: string[]): { files: string[]; svg: string; seed: number; threshold: number } {
  const files: string[] = [];
  let svg = resolve(__dirname, '..', 'docs', 'cache-pr.svg');
  let seed = 7;
  let threshold = BUILTIN_DEFAULT_THRESHOLD;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--svg') svg = resolve(argv[++i] ?? svg);
    else if (a === '--seed') seed = Number(argv[++i]);
    else if (a === '--threshold') threshold = Number(argv[++i]);
    else files.push(a);
  }
  if (files.length === 0) {
    const dir = resolve(__dirname, '..', '..', 'shared', 'eval', 'cache');
    files.push(resolve(dir, 'gptcache-paraphrases-dev.json'), resolve(dir, 'paws-wiki-dev.tsv'));
    if (!files.every((f) => existsSync(f))) {
      process.stderr.write('eval-cache: no files given and the development sets are not beside the repo\n');
      process.exit(2);
    }
  }
  return { files, svg, seed, threshold };
}

/** mulberry32: small seeded PRNG. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One CSV/TSV record per call: RFC 4180 quoting ("" inside quotes), records may span lines inside quotes. */
function parseDelimited(text: string, sep: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === sep) {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

/** Files with a header row naming question1, question2, is_duplicate (Quora style), or null. */
function loadHeaderPairs(text: string, sep: string): Pair[] | null {
  const firstLine = text.slice(0, text.indexOf('\n') >>> 0).toLowerCase();
  if (!firstLine.includes('question1') || !firstLine.includes('is_duplicate')) return null;
  const rows = parseDelimited(text, sep);
  const head = rows[0]!.map((h) => h.trim().toLowerCase());
  const ia = head.indexOf('question1');
  const ib = head.indexOf('question2');
  const il = head.indexOf('is_duplicate');
  if (ia < 0 || ib < 0 || il < 0) return null;
  const pairs: Pair[] = [];
  for (const r of rows.slice(1)) {
    const a = r[ia];
    const b = r[ib];
    const l = r[il]?.trim();
    if (!a || !b || (l !== '0' && l !== '1')) continue;
    pairs.push({ a, b, label: l === '1' ? 1 : 0 });
  }
  return pairs;
}

function load(path: string, seed: number): Dataset {
  const text = readFileSync(path, 'utf8');
  const name = basename(path).replace(/\.(tsv|csv|json)$/, '');
  if (path.endsWith('.tsv') || path.endsWith('.csv')) {
    const withHeader = loadHeaderPairs(text, path.endsWith('.csv') ? ',' : '\t');
    if (withHeader) return { name, path, kind: 'pairs-header', pairs: withHeader };
    if (path.endsWith('.csv'))
      throw new Error(`${path}: a CSV needs a question1,question2,is_duplicate header`);
    const pairs: Pair[] = [];
    for (const line of text.split('\n')) {
      const c = line.replace(/\r$/, '').split('\t');
      if (c.length < 4 || !/^[01]$/.test(c[3]!.trim())) continue;
      pairs.push({ a: c[1]!, b: c[2]!, label: c[3]!.trim() === '1' ? 1 : 0 });
    }
    return { name, path, kind: 'paws-tsv', pairs };
  }
  const rows = JSON.parse(text) as { origin: string; similar: string }[];
  const r = rng(seed);
  const pairs: Pair[] = rows.map((x) => ({ a: x.origin, b: x.similar, label: 1 as const }));
  if (rows.length > 1) {
    rows.forEach((x, i) => {
      let j = i;
      while (j === i) j = Math.floor(r() * rows.length);
      pairs.push({ a: x.origin, b: rows[j]!.similar, label: 0 });
    });
  }
  return { name, path, kind: 'gptcache-json', pairs };
}

async function similarities(e: Embedder, pairs: Pair[]): Promise<number[]> {
  const uniq = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const vecs = new Map<string, Float32Array>();
  for (let i = 0; i < uniq.length; i += 256) {
    const chunk = uniq.slice(i, i + 256);
    const out = await e.embed(chunk);
    chunk.forEach((t, k) => vecs.set(t, out[k]!));
  }
  return pairs.map((p) => dot(vecs.get(p.a)!, vecs.get(p.b)!));
}

interface Point {
  threshold: number;
  precision: number;
  recall: number;
  false_hit_rate: number;
}

function point(pairs: Pair[], sims: number[], pass: boolean[] | undefined, t: number): Point {
  let tp = 0;
  let fp = 0;
  let pos = 0;
  let neg = 0;
  pairs.forEach((p, i) => {
    const serve = sims[i]! >= t && (pass ? pass[i]! : true);
    if (p.label === 1) {
      pos++;
      if (serve) tp++;
    } else {
      neg++;
      if (serve) fp++;
    }
  });
  const r4 = (x: number): number => Math.round(x * 10000) / 10000;
  return {
    threshold: r4(t),
    precision: r4(tp + fp === 0 ? 1 : tp / (tp + fp)),
    recall: r4(pos === 0 ? 0 : tp / pos),
    false_hit_rate: r4(neg === 0 ? 0 : fp / neg),
  };
}

/** Highest recall with precision ≥ target, and its threshold. */
function bestAtPrecision(curve: Point[], target: number): Point | null {
  let best: Point | null = null;
  for (const p of curve) if (p.precision >= target && (!best || p.recall > best.recall)) best = p;
  return best;
}

const THRESHOLDS = Array.from({ length: 60 }, (_, i) => Math.round((0.41 + i * 0.01) * 100) / 100);

interface Curve {
  dataset: string;
  embedder: string;
  verification: boolean;
  points: Point[];
}

function svgPlot(curves: Curve[], defaults: { curve: Curve; point: Point }[], path: string): void {
  const W = 1000;
  const H = 520;
  const L = 60;
  const T = 30;
  const PW = 460;
  const PH = 440;
  const x = (r: number): number => L + r * PW;
  const y = (p: number): number => T + (1 - p) * PH;
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
  );
  parts.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(
    `<text x="${L}" y="18" font-size="13">Semantic cache: precision vs recall of "would serve" (threshold sweep ${THRESHOLDS[0]}–${THRESHOLDS[THRESHOLDS.length - 1]})</text>`,
  );
  for (let k = 0; k <= 10; k++) {
    const v = k / 10;
    parts.push(`<line x1="${x(v)}" y1="${T}" x2="${x(v)}" y2="${T + PH}" stroke="#eee"/>`);
    parts.push(`<line x1="${L}" y1="${y(v)}" x2="${L + PW}" y2="${y(v)}" stroke="#eee"/>`);
    parts.push(`<text x="${x(v)}" y="${T + PH + 14}" text-anchor="middle">${v.toFixed(1)}</text>`);
    parts.push(`<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(1)}</text>`);
  }
  parts.push(`<rect x="${L}" y="${T}" width="${PW}" height="${PH}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${L + PW / 2}" y="${T + PH + 30}" text-anchor="middle">recall</text>`);
  parts.push(
    `<text x="16" y="${T + PH / 2}" transform="rotate(-90 16 ${T + PH / 2})" text-anchor="middle">precision</text>`,
  );
  curves.forEach((c, i) => {
    const color = colors[Math.floor(i / 2) % colors.length]!;
    const pts = c.points.map((p) => `${x(p.recall).toFixed(1)},${y(p.precision).toFixed(1)}`).join(' ');
    const dash = c.verification ? '' : ' stroke-dasharray="5,4"';
    parts.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="1.8"${dash}/>`);
    const ly = T + 14 + i * 16;
    parts.push(
      `<line x1="${L + PW + 14}" y1="${ly - 4}" x2="${L + PW + 40}" y2="${ly - 4}" stroke="${color}" stroke-width="1.8"${dash}/>`,
    );
    parts.push(
      `<text x="${L + PW + 46}" y="${ly}">${esc(`${c.dataset} · ${c.embedder} · verify ${c.verification ? 'on' : 'off'}`)}</text>`,
    );
  });
  for (const d of defaults) {
    parts.push(
      `<circle cx="${x(d.point.recall).toFixed(1)}" cy="${y(d.point.precision).toFixed(1)}" r="4" fill="#000"/>`,
    );
  }
  const ny = T + 14 + curves.length * 16 + 10;
  parts.push(
    `<circle cx="${L + PW + 27}" cy="${ny - 4}" r="4" fill="#000"/><text x="${L + PW + 46}" y="${ny}">default threshold ${defaults[0]?.point.threshold ?? ''}, verify on</text>`,
  );
  parts.push(`<text x="${L + PW + 14}" y="${ny + 20}">dashed = verification off</text>`);
  parts.push(`<text x="${L + PW + 14}" y="${ny + 36}">PAWS negatives = same words,</text>`);
  parts.push(`<text x="${L + PW + 14}" y="${ny + 50}">different meaning; GPTCache</text>`);
  parts.push(`<text x="${L + PW + 14}" y="${ny + 64}">negatives = random other question</text>`);
  parts.push('</svg>');
  writeFileSync(path, parts.join('\n') + '\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const datasets = args.files.map((f) => load(resolve(f), args.seed));
  const embedders: { e: Embedder; threshold: number }[] = [
    { e: createEmbedder({ provider: 'builtin' }), threshold: args.threshold },
  ];
  const url = process.env.EVAL_OPENAI_URL;
  if (url) {
    const key = process.env.EVAL_OPENAI_KEY;
    embedders.push({
      e: createEmbedder({
        provider: 'openai',
        name: process.env.EVAL_OPENAI_MODEL ?? 'text-embedding-3-small',
        options: { upstream_url: url },
        auth: key ? { header_name: 'Authorization', header_value: `Bearer ${key}` } : undefined,
        timeout_ms: 60_000,
      }),
      threshold: Number(process.env.EVAL_OPENAI_THRESHOLD ?? args.threshold),
    });
  }
  const curves: Curve[] = [];
  const defaults: { curve: Curve; point: Point }[] = [];
  const out: Record<string, unknown>[] = [];
  for (const ds of datasets) {
    const t0 = performance.now();
    const verdicts = ds.pairs.map((p) => verifyCandidate(p.a, p.b, DEFAULT_VERIFY));
    const verifyMs = performance.now() - t0;
    const pass = verdicts.map((v) => v.ok);
    const failures: Record<string, { positives: number; negatives: number }> = {};
    verdicts.forEach((v, i) => {
      if (v.failed) {
        const f = (failures[v.failed] ??= { positives: 0, negatives: 0 });
        if (ds.pairs[i]!.label === 1) f.positives++;
        else f.negatives++;
      }
    });
    const perEmbedder: Record<string, unknown>[] = [];
    for (const { e, threshold } of embedders) {
      const sims = await similarities(e, ds.pairs);
      const res: Record<string, unknown> = { embedder: e.id, dimensions: e.dimensions };
      for (const verification of [false, true]) {
        const pts = THRESHOLDS.map((t) => point(ds.pairs, sims, verification ? pass : undefined, t));
        const curve: Curve = { dataset: ds.name, embedder: e.id, verification, points: pts };
        curves.push(curve);
        const atDefault = point(ds.pairs, sims, verification ? pass : undefined, threshold);
        if (verification) defaults.push({ curve, point: atDefault });
        res[verification ? 'verify_on' : 'verify_off'] = {
          at_default: atDefault,
          best_recall_at_precision_0_98: bestAtPrecision(pts, 0.98),
          sweep: pts,
        };
      }
      res.default_threshold = threshold;
      res.kong_ee_cosine_distance_threshold = Math.round((1 - threshold) * 1000) / 1000;
      perEmbedder.push(res);
    }
    out.push({
      dataset: ds.name,
      path: ds.path,
      kind: ds.kind,
      positives: ds.pairs.filter((p) => p.label === 1).length,
      negatives: ds.pairs.filter((p) => p.label === 0).length,
      verification: { ms_per_pair: Math.round((verifyMs / ds.pairs.length) * 1e4) / 1e4, failures },
      embedders: perEmbedder,
    });
  }
  svgPlot(curves, defaults, args.svg);
  // Per file, per embedder: what the default settings would do (threshold, verification on).
  const summary = out.map((d) => ({
    dataset: d.dataset,
    embedders: (d.embedders as Record<string, unknown>[]).map((e) => ({
      embedder: e.embedder,
      ...(e.verify_on as { at_default: Point }).at_default,
    })),
  }));
  process.stdout.write(JSON.stringify({ seed: args.seed, svg: args.svg, summary, datasets: out }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`eval-cache failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
