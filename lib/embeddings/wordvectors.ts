/**
 * Loader for the shipped int8 word-vector table (format: scripts/build-embeddings.ts).
 * Loaded lazily once per process and per path; no network, no stdout.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { shippedDataFile } from '../data-files';

export const DEFAULT_VECTORS_FILE = 'glove-100k-int8.bin';

export interface WordVectors {
  readonly dims: number;
  readonly count: number;
  /** Unit vector of the common component (removed from sentence vectors). */
  readonly common: Float32Array;
  /** word → frequency rank (0 = most frequent). */
  rank(word: string): number | undefined;
  /** Adds `weight * vector(rank)` into `out`. */
  addScaled(rank: number, weight: number, out: Float64Array): void;
  readonly path: string;
  readonly bytes: number;
  readonly loadMs: number;
}

const cache = new Map<string, WordVectors>();

/** Locates the data file: an explicit file or folder, else `data/embeddings/` from source or `dist/` layouts. */
export function resolveVectorsPath(explicit?: string): string {
  if (!explicit) return shippedDataFile('builtin embeddings data file', 'embeddings', DEFAULT_VECTORS_FILE);
  const isDir = existsSync(explicit) && statSync(explicit).isDirectory();
  const path = isDir ? join(explicit, DEFAULT_VECTORS_FILE) : explicit;
  if (!existsSync(path)) throw new Error(`builtin embeddings data file not found (looked for ${path})`);
  return path;
}

export function loadWordVectors(explicit?: string): WordVectors {
  const path = resolveVectorsPath(explicit);
  const hit = cache.get(path);
  if (hit) return hit;
  const t0 = performance.now();
  const buf = readFileSync(path);
  if (buf.length < 24 || buf.toString('ascii', 0, 8) !== 'KLEMB001') {
    throw new Error(`builtin embeddings data file has an unknown format: ${path}`);
  }
  const dims = buf.readUInt32LE(8);
  const count = buf.readUInt32LE(12);
  const wordLen = buf.readUInt32LE(16);
  const headerBytes = 24 + dims * 4;
  const wordPadded = Math.ceil(wordLen / 4) * 4;
  const scalesOff = headerBytes + wordPadded;
  const dataOff = scalesOff + count * 4;
  if (buf.length !== dataOff + count * dims) {
    throw new Error(`builtin embeddings data file is truncated or corrupt: ${path}`);
  }
  const common = new Float32Array(dims);
  for (let d = 0; d < dims; d++) common[d] = buf.readFloatLE(24 + d * 4);
  const words = buf.toString('utf8', headerBytes, headerBytes + wordLen).split('\n');
  if (words.length !== count) throw new Error(`builtin embeddings word list is corrupt: ${path}`);
  const ranks = new Map<string, number>();
  for (let i = 0; i < count; i++) ranks.set(words[i]!, i);
  // Copy into aligned typed arrays (the Buffer may share a pool and be unaligned).
  const scales = new Float32Array(count);
  for (let i = 0; i < count; i++) scales[i] = buf.readFloatLE(scalesOff + i * 4);
  const data = new Int8Array(count * dims);
  data.set(new Int8Array(buf.buffer, buf.byteOffset + dataOff, count * dims));
  const wv: WordVectors = {
    dims,
    count,
    common,
    path,
    bytes: buf.length,
    loadMs: performance.now() - t0,
    rank: (w) => ranks.get(w),
    addScaled(rank, weight, out) {
      const s = scales[rank]! * weight;
      const base = rank * dims;
      for (let d = 0; d < dims; d++) out[d] = out[d]! + data[base + d]! * s;
    },
  };
  cache.set(path, wv);
  return wv;
}
