/**
 * Semantic-cache lookup benchmark (builtin embedder, no Redis/RPC):
 *   lookup = embed(query) + ANN search (k=4) + verifyCandidate on the candidates above the threshold.
 *
 *   node --expose-gc --import tsx scripts/bench-cache.ts [--sizes 10000,100000] [--queries 2000] [--corpus path.tsv]
 *
 * Entries are realistic sentences: PAWS sentences (../shared/eval/cache/paws-wiki-dev.tsv by default) with two
 * words replaced at random (seeded), so every entry is distinct. Queries: half near-duplicates of stored entries
 * (one word dropped), half unseen sentences. Prints one JSON line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BuiltinEmbedder, BUILTIN_DEFAULT_THRESHOLD } from '../lib/embeddings';
import { createIndex, type VectorIndex } from '../lib/vector';
import { DEFAULT_VERIFY, verifyCandidate } from '../plugins/llm-semantic-cache/verify';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 ? (process.argv[i + 1] ?? def) : def;
}

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

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 1000) / 1000;
};
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

function main(): void {
  const sizes = arg('--sizes', '10000,100000').split(',').map(Number);
  const nQueries = Number(arg('--queries', '2000'));
  const corpus = resolve(
    arg('--corpus', resolve(__dirname, '..', '..', 'shared', 'eval', 'cache', 'paws-wiki-dev.tsv')),
  );
  if (!existsSync(corpus)) {
    process.stderr.write(`bench-cache: corpus ${corpus} not found; pass --corpus <pairs.tsv>\n`);
    process.exit(2);
  }
  const base = [
    ...new Set(
      readFileSync(corpus, 'utf8')
        .split('\n')
        .flatMap((l) => l.split('\t').slice(1, 3)),
    ),
  ].filter((s) => s.length > 20);
  const vocab = [...new Set(base.flatMap((s) => s.split(' ')).filter((w) => /^[a-z]{3,}$/.test(w)))];
  const r = rng(11);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const mutate = (s: string): string => {
    const w = s.split(' ');
    for (let k = 0; k < 2; k++) w[Math.floor(r() * w.length)] = pick(vocab);
    return w.join(' ');
  };

  const embedder = new BuiltinEmbedder();
  const t0 = performance.now();
  const load = embedder.warmup();
  const loadMs = Math.round(performance.now() - t0);
  const results: Record<string, unknown>[] = [];

  for (const size of sizes) {
    for (const layout of ['single-partition', '100-partitions'] as const) {
      if (layout === '100-partitions' && size < 100_000) continue;
      const texts: string[] = [];
      for (let i = 0; i < size; i++) texts.push(mutate(pick(base)));
      gc();
      const before = process.memoryUsage();
      const idx: VectorIndex = createIndex({ dimensions: embedder.dimensions, maxElements: size });
      const tb = performance.now();
      let embedMs = 0;
      const partOf = (i: number): string => (layout === 'single-partition' ? '' : `tenant-${i % 100}`);
      for (let i = 0; i < size; i++) {
        const te = performance.now();
        const v = embedder.embedOne(texts[i]!);
        embedMs += performance.now() - te;
        idx.add(i, v, partOf(i));
      }
      const buildS = (performance.now() - tb) / 1000;
      gc();
      const after = process.memoryUsage();
      // Warm-up (JIT) before measuring.
      for (let q = 0; q < 300; q++) {
        const query = mutate(pick(base));
        const v = embedder.embedOne(query);
        for (const h of idx.search(v, 4, partOf(q))) verifyCandidate(query, texts[h.id]!, DEFAULT_VERIFY);
      }
      const lat: number[] = [];
      const parts = { embed: [] as number[], search: [] as number[], verify: [] as number[] };
      let hits = 0;
      for (let q = 0; q < nQueries; q++) {
        const near = q % 2 === 0;
        const id = Math.floor(r() * size);
        const query = near
          ? texts[id]!.split(' ')
              .filter((_, i) => i !== 2)
              .join(' ')
          : mutate(pick(base));
        const partition = partOf(near ? id : q);
        const t1 = performance.now();
        const v = embedder.embedOne(query);
        const t2 = performance.now();
        const found = idx.search(v, 4, partition);
        const t3 = performance.now();
        for (const h of found) {
          if (h.similarity < BUILTIN_DEFAULT_THRESHOLD) break;
          if (verifyCandidate(query, texts[h.id]!, DEFAULT_VERIFY).ok) {
            hits++;
            break;
          }
        }
        const t4 = performance.now();
        lat.push(t4 - t1);
        parts.embed.push(t2 - t1);
        parts.search.push(t3 - t2);
        parts.verify.push(t4 - t3);
      }
      const mb = (x: number): number => Math.round((x / 1048576) * 10) / 10;
      results.push({
        entries: size,
        layout,
        dimensions: embedder.dimensions,
        build_s: Math.round(buildS * 10) / 10,
        embed_ms_per_entry: Math.round((embedMs / size) * 1000) / 1000,
        lookup_ms: { p50: pct(lat, 0.5), p99: pct(lat, 0.99) },
        embed_ms: { p50: pct(parts.embed, 0.5), p99: pct(parts.embed, 0.99) },
        search_ms: { p50: pct(parts.search, 0.5), p99: pct(parts.search, 0.99) },
        verify_ms: { p50: pct(parts.verify, 0.5), p99: pct(parts.verify, 0.99) },
        hit_rate: Math.round((hits / nQueries) * 1000) / 1000,
        memory_mb: {
          rss_delta: mb(after.rss - before.rss),
          heap_plus_external_delta: mb(after.heapUsed + after.external - (before.heapUsed + before.external)),
          index_estimate: mb(idx.memoryBytes()),
        },
      });
      idx.clear();
    }
  }
  process.stdout.write(
    JSON.stringify({
      node: process.version,
      data_file: { bytes: load.bytes, words: load.words, load_ms: loadMs },
      queries: nQueries,
      threshold: BUILTIN_DEFAULT_THRESHOLD,
      results,
    }) + '\n',
  );
}

main();
