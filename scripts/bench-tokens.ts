/**
 * Token-counting benchmark: gpt-tokenizer (what lib/tokens uses) vs js-tiktoken, side by side in one run, on the
 * chat-request corpus (spec/fixtures/chat-requests/corpus.json).
 *
 * Reports per-message latency (p50/p99, µs), throughput (tokens/s), and the number of texts whose counts differ.
 * Prints a markdown section and appends it to docs/benchmarks-tokens.md.
 * Run: node --import tsx scripts/bench-tokens.ts [rounds=5]
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import { countWithEncoding, encodingForModel, warmUpEncoders, type EncodingName } from '../lib/tokens';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const o200k = new Tiktoken(require('js-tiktoken/ranks/o200k_base') as TiktokenBPE);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cl100k = new Tiktoken(require('js-tiktoken/ranks/cl100k_base') as TiktokenBPE);
const ref: Record<EncodingName, Tiktoken> = { o200k_base: o200k, cl100k_base: cl100k };

interface Msg {
  text: string;
  enc: EncodingName;
}
const root = join(__dirname, '..');
const corpus = JSON.parse(readFileSync(join(root, 'spec/fixtures/chat-requests/corpus.json'), 'utf8')) as {
  model: string;
  messages: { content: string | { type: string; text?: string }[] }[];
}[];
const msgs: Msg[] = [];
for (const req of corpus) {
  const enc = encodingForModel(req.model).encoding;
  for (const m of req.messages) {
    const text = typeof m.content === 'string' ? m.content : m.content.map((p) => p.text ?? '').join('');
    msgs.push({ text, enc });
  }
}
const rounds = Number(process.argv[2] ?? 5);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function run(
  name: string,
  count: (m: Msg) => number,
): { name: string; p50: number; p99: number; tps: number; tokens: number } {
  for (const m of msgs) count(m); // warm-up (JIT, merge caches)
  const times: number[] = [];
  let tokens = 0;
  let total = 0;
  for (let r = 0; r < rounds; r++) {
    for (const m of msgs) {
      const t0 = process.hrtime.bigint();
      const n = count(m);
      const dt = Number(process.hrtime.bigint() - t0) / 1000;
      times.push(dt);
      total += dt;
      tokens += n;
    }
  }
  times.sort((a, b) => a - b);
  return {
    name,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    tps: tokens / (total / 1e6),
    tokens: tokens / rounds,
  };
}

const t0 = performance.now();
warmUpEncoders();
const loadMs = performance.now() - t0;

let mismatches = 0;
for (const m of msgs)
  if (countWithEncoding(m.text, m.enc) !== ref[m.enc].encode(m.text, [], []).length) mismatches++;

const a = run('gpt-tokenizer 4.0.0 (lib/tokens)', (m) => countWithEncoding(m.text, m.enc));
const b = run('js-tiktoken 1.0.21', (m) => ref[m.enc].encode(m.text, [], []).length);

const chars = msgs.reduce((s, m) => s + m.text.length, 0);
const lines = [
  `## ${new Date().toISOString()} — node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} (${cpus().length} cores)`,
  '',
  `Corpus: ${corpus.length} requests, ${msgs.length} messages, ${chars} chars, ${a.tokens} tokens; ${rounds} rounds after one warm-up round.`,
  `Encoder load (both encodings): ${loadMs.toFixed(0)} ms. Count mismatches vs js-tiktoken: **${mismatches}** / ${msgs.length}.`,
  '',
  '| library | p50 µs/message | p99 µs/message | tokens/s |',
  '|---|---:|---:|---:|',
  ...[a, b].map(
    (r) =>
      `| ${r.name} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${Math.round(r.tps).toLocaleString('en-US')} |`,
  ),
  '',
];
const out = lines.join('\n');
process.stdout.write(out + '\n');
const doc = join(root, 'docs/benchmarks-tokens.md');
if (!existsSync(doc)) {
  writeFileSync(
    doc,
    '# Token counting benchmarks\n\nAppended by `node --import tsx scripts/bench-tokens.ts`. Latency is per message ' +
      '(one `countTokens` call), measured with `process.hrtime`; machines are shared, so compare rows of one run.\n\n',
  );
}
appendFileSync(doc, out + '\n');
