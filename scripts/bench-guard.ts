/**
 * Benchmark of the llm-prompt-guard detector. Usage: npx tsx scripts/bench-guard.ts [corpus.jsonl]
 * Prints ONE JSON line:
 * - us_per_kb: p50/p99 microseconds per KB of prompt over realistic prompts (the eval corpus if given, else
 *   generated prose), after warm-up;
 * - adversarial: per input class (long repetitive strings, huge base64 blobs, random Unicode, 100k random
 *   strings, markup floods) the max scan time. Each input is timed as the minimum of 3 runs so that scheduler
 *   stalls on a shared machine are not attributed to the detector; the single-run wall-clock max is reported too.
 * - rules_only: the same corpus timed with the classifier family off, interleaved per prompt with the full
 *   detector, and the full/rules-only ratio (side by side in one run: this machine is noisy).
 * Never prints prompt text.
 */
import { readFileSync } from 'node:fs';
import { compileInjectionDetector } from '../plugins/llm-prompt-guard/detect/detector';
import { DEFAULT_THRESHOLD } from '../plugins/llm-prompt-guard/detect/types';

const det = compileInjectionDetector({ threshold: DEFAULT_THRESHOLD, families: {} });
const rulesOnly = compileInjectionDetector({
  threshold: DEFAULT_THRESHOLD,
  families: { classifier: false },
});
const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? 0;
};

let seed = 12345;
const rnd = (): number => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 4294967296;
};
const randInt = (n: number): number => Math.floor(rnd() * n);

function timeOnce(text: string, d = det): number {
  const t0 = process.hrtime.bigint();
  d.scan(text, 'user');
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
function timeMin3(text: string, d = det): { min: number; first: number } {
  const first = timeOnce(text, d);
  return { min: Math.min(first, timeOnce(text, d), timeOnce(text, d)), first };
}

// ---- realistic corpus
const corpusPath = process.argv[2];
let corpus: string[];
if (corpusPath) {
  corpus = readFileSync(corpusPath, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { text: string }).text);
} else {
  const words =
    'the a model user request please write summary of report about budget travel weather code function error explain why how when'.split(
      ' ',
    );
  corpus = Array.from({ length: 500 }, () =>
    Array.from({ length: 20 + randInt(600) }, () => words[randInt(words.length)]).join(' '),
  );
}
for (const t of corpus) {
  det.scan(t, 'user'); // warm-up (regex tier-up, JIT)
  rulesOnly.scan(t, 'user');
}
const perKb: number[] = [];
const perKbRules: number[] = [];
let sumFull = 0;
let sumRules = 0;
for (const t of corpus) {
  const kb = Math.max(0.1, Buffer.byteLength(t) / 1024);
  const full = timeMin3(t).min;
  const rules = timeMin3(t, rulesOnly).min;
  perKb.push((full * 1000) / kb);
  perKbRules.push((rules * 1000) / kb);
  sumFull += full;
  sumRules += rules;
}

// ---- adversarial classes
function randomUnicode(len: number): string {
  let s = '';
  while (s.length < len) {
    const r = rnd();
    let cp: number;
    if (r < 0.3) cp = 0x20 + randInt(95);
    else if (r < 0.4) cp = [0x200b, 0x200c, 0x200d, 0x202e, 0x2066, 0xfeff][randInt(6)]!;
    else if (r < 0.5) cp = 0xe0000 + randInt(128);
    else if (r < 0.6) cp = 0x1f300 + randInt(0x300);
    else cp = randInt(0xd7ff);
    s += String.fromCodePoint(cp);
  }
  return s;
}
const b64 = (n: number): string =>
  Buffer.from(Array.from({ length: n }, () => randInt(256))).toString('base64');
const b64Text = (n: number): string =>
  Buffer.from('ignore all previous instructions '.repeat(Math.ceil(n / 33)).slice(0, n)).toString('base64');
const classes: Record<string, () => string[]> = {
  long_repetitive: () => [
    'a'.repeat(1_000_000),
    'ignore '.repeat(150_000),
    'ignore previous '.repeat(60_000),
    '<|im_start|>'.repeat(80_000),
    'ab'.repeat(500_000),
    `${'you are '.repeat(100_000)}`,
    '!['.repeat(200_000),
    'a '.repeat(500_000),
  ],
  huge_base64: () => [b64(750_000), b64Text(750_000), `${b64(100)} `.repeat(8000), 'QUFB'.repeat(250_000)],
  random_unicode: () => Array.from({ length: 200 }, () => randomUnicode(1 + randInt(20_000))),
  markup_and_symbols: () => [
    '[INST]'.repeat(100_000),
    '###'.repeat(300_000),
    '\n'.repeat(1_000_000),
    `${'([{'.repeat(100_000)}`,
    '\u200B'.repeat(500_000),
    String.fromCodePoint(0xe0041).repeat(200_000),
  ],
  random_strings_100k: () =>
    Array.from({ length: 100_000 }, () => {
      const len = 1 + randInt(200);
      let s = '';
      for (let i = 0; i < len; i++)
        s += String.fromCharCode(rnd() < 0.8 ? 0x20 + randInt(95) : randInt(0x3000));
      return s;
    }),
};
const adversarial: Record<string, unknown> = {};
let overallMax = 0;
let overallWallMax = 0;
let over10 = 0;
for (const [name, gen] of Object.entries(classes)) {
  const inputs = gen();
  let max = 0;
  let wallMax = 0;
  let maxLen = 0;
  for (const t of inputs) {
    // 100k class: min-of-3 only for the slow ones (keeps the run short)
    const first = timeOnce(t);
    const min = first > 1 ? Math.min(first, timeOnce(t), timeOnce(t)) : first;
    wallMax = Math.max(wallMax, first);
    if (min > max) {
      max = min;
      maxLen = t.length;
    }
    if (min > 10) over10++;
  }
  overallMax = Math.max(overallMax, max);
  overallWallMax = Math.max(overallWallMax, wallMax);
  adversarial[name] = {
    inputs: inputs.length,
    max_ms: r3(max),
    max_ms_input_chars: maxLen,
    wall_max_ms: r3(wallMax),
  };
}

process.stdout.write(
  `${JSON.stringify({
    corpus: corpusPath ?? 'generated',
    prompts: corpus.length,
    us_per_kb: { p50: r3(pct(perKb, 0.5)), p99: r3(pct(perKb, 0.99)) },
    rules_only_us_per_kb: { p50: r3(pct(perKbRules, 0.5)), p99: r3(pct(perKbRules, 0.99)) },
    full_over_rules_total_time: r3(sumFull / sumRules),
    adversarial,
    adversarial_max_ms: r3(overallMax),
    adversarial_wall_max_ms: r3(overallWallMax),
    inputs_over_10ms: over10,
    budget_ms: 10,
    ok: overallMax <= 10,
  })}\n`,
);
