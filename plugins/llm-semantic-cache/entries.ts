/**
 * Cache entries in the Store (shared by every node with `redis`) and the per-process ANN index fed from it.
 *
 * Layout (prefix = vectordb.redis.key_prefix):
 *   `<prefix>:v1:cache:e:<phash>:<ekey>`  one JSON entry per answer, with the store TTL = cache_ttl
 *   `<prefix>:v1:cache:log`               stream of index changes written by every node:
 *                                         {op: add, key, ip, emb, vec, exp} | {op: del, key} |
 *                                         {op: delp, phash} | {op: clear}
 * Each plugin-server process keeps one index per (store, prefix, embedder) at module level (plugin
 * instances are recreated on every config change and have no close hook): warm-loaded from the entries
 * when first used, then kept current by reading the stream from its cursor when older than
 * `sync_interval_ms` at a lookup. Expired entries are skipped and dropped from the index.
 */
import { createIndex, type VectorIndex } from '../../lib/vector';
import { makeKey } from '../../lib/store/keys';
import type { Store } from '../../lib/store/types';
import type { ToolCall } from '../../lib/openai';
import type { SharedUsage } from '../../lib/kong/shared-ctx';
import { KEY_RE } from './key';

export interface CachedAnswer {
  content: string | null;
  tool_calls?: ToolCall[];
  finish_reason: string;
}

/** One stored entry. `prompt` is the compared text (needed to verify candidates on any node). */
export interface Entry {
  v: 1;
  key: string;
  partition: string;
  ip: string;
  /** Requested model alias. */
  model: string;
  /** Model that produced the answer (provider's `model`), for prices and the replayed response. */
  served_model?: string;
  /** Embedder id and vector (base64 float32) when the entry is searchable. */
  emb?: string;
  vec?: string;
  prompt: string;
  answer: CachedAnswer;
  usage?: SharedUsage;
  /** Creation time (ms since epoch) and TTL (s). */
  created: number;
  ttl: number;
}

export function entryStoreKey(prefix: string, key: string): string {
  const [phash, ekey] = key.split('-');
  return makeKey(prefix, 'cache', 'e', phash ?? '', ekey ?? '');
}

export function partitionStorePrefix(prefix: string, phash: string): string {
  return `${makeKey(prefix, 'cache', 'e', phash)}:`;
}

export function allEntriesPrefix(prefix: string): string {
  return `${makeKey(prefix, 'cache', 'e')}:`;
}

export function changeStream(prefix: string): string {
  return makeKey(prefix, 'cache', 'log');
}

export function encodeVec(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

export function decodeVec(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new Float32Array(copy.buffer, 0, Math.floor(b.byteLength / 4));
}

export function parseEntry(raw: string | undefined): Entry | undefined {
  if (!raw) return undefined;
  try {
    const e = JSON.parse(raw) as Entry;
    if (
      e &&
      e.v === 1 &&
      typeof e.key === 'string' &&
      KEY_RE.test(e.key) &&
      e.answer &&
      typeof e.created === 'number'
    )
      return e;
  } catch {
    /* a corrupt entry is a miss */
  }
  return undefined;
}

export function expiresAt(e: Pick<Entry, 'created' | 'ttl'>): number {
  return e.created + e.ttl * 1000;
}

interface Meta {
  key: string;
  ip: string;
  exp: number;
}

export interface IndexHit {
  key: string;
  similarity: number;
}

export interface IndexOptions {
  store: Store;
  prefix: string;
  embedderId: string;
  maxEntries: number;
  streamMaxLen: number;
  now?: () => number;
}

/** The per-process ANN index over the entries of one (store, prefix, embedder). */
export class SharedIndex {
  private index: VectorIndex | undefined;
  private readonly ids = new Map<string, number>();
  private readonly meta = new Map<number, Meta>();
  private nextId = 0;
  private cursor = '0';
  private lastSync = 0;
  private warmed: Promise<void> | undefined;
  private syncing: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(readonly opts: IndexOptions) {
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.ids.size;
  }

  has(key: string): boolean {
    return this.ids.has(key);
  }

  /** Load every entry of the store once (concurrent callers share the load); retried after a failure. */
  warm(): Promise<void> {
    if (!this.warmed) {
      this.warmed = this.load().catch((err: unknown) => {
        this.warmed = undefined;
        throw err;
      });
    }
    return this.warmed;
  }

  private async load(): Promise<void> {
    const { store, prefix, maxEntries } = this.opts;
    const keys = await store.keys(allEntriesPrefix(prefix), maxEntries);
    for (let i = 0; i < keys.length; i += 500) {
      const raws = await store.mget(keys.slice(i, i + 500));
      for (const raw of raws) {
        const e = parseEntry(raw);
        if (e && e.vec && e.emb === this.opts.embedderId)
          this.add(e.key, decodeVec(e.vec), e.ip, expiresAt(e));
      }
    }
    // Replay the change stream from its start: later deletes win over the scan, later adds are idempotent.
    this.cursor = '0';
    await this.readStream();
    this.lastSync = this.now();
  }

  /** Read other nodes' changes when the index is older than `maxAgeMs`. */
  async sync(maxAgeMs: number): Promise<void> {
    await this.warm();
    if (this.now() - this.lastSync < maxAgeMs) return;
    if (!this.syncing) {
      this.syncing = this.readStream()
        .then(() => {
          this.lastSync = this.now();
        })
        .finally(() => {
          this.syncing = undefined;
        });
    }
    await this.syncing;
  }

  private async readStream(): Promise<void> {
    const stream = changeStream(this.opts.prefix);
    for (;;) {
      const batch = await this.opts.store.streamRead(stream, this.cursor, 1000);
      for (const { id, fields } of batch) {
        this.cursor = id;
        this.apply(fields);
      }
      if (batch.length < 1000) return;
    }
  }

  private apply(f: Record<string, string>): void {
    switch (f['op']) {
      case 'add': {
        const exp = Number(f['exp']);
        if (f['emb'] !== this.opts.embedderId || !f['key'] || !f['vec'] || !f['ip']) return;
        if (!(exp > this.now())) return;
        this.add(f['key'], decodeVec(f['vec']), f['ip'], exp);
        return;
      }
      case 'del':
        if (f['key']) this.remove(f['key']);
        return;
      case 'delp': {
        const p = f['phash'];
        if (p) for (const m of [...this.meta.values()]) if (m.ip.startsWith(`${p}/`)) this.remove(m.key);
        return;
      }
      case 'clear':
        this.clear();
        return;
    }
  }

  add(key: string, vec: Float32Array, ip: string, exp: number): void {
    if (!this.index) this.index = createIndex({ dimensions: vec.length, space: 'cosine' });
    if (vec.length !== this.index.dimensions) return;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(key, id);
    }
    this.meta.set(id, { key, ip, exp });
    this.index.add(id, vec, ip);
  }

  remove(key: string): void {
    const id = this.ids.get(key);
    if (id === undefined) return;
    this.ids.delete(key);
    this.meta.delete(id);
    this.index?.remove(id);
  }

  clear(): void {
    this.ids.clear();
    this.meta.clear();
    this.index?.clear();
  }

  /** Up to `k` live entries of index partition `ip`, best first. */
  search(vec: Float32Array, ip: string, k: number): IndexHit[] {
    if (!this.index || vec.length !== this.index.dimensions) return [];
    const now = this.now();
    const expired: string[] = [];
    const hits = this.index.search(vec, k, {
      partition: ip,
      accept: (id) => {
        const m = this.meta.get(id);
        if (!m) return false;
        if (m.exp <= now) {
          expired.push(m.key);
          return false;
        }
        return true;
      },
    });
    for (const key of expired) this.remove(key);
    const out: IndexHit[] = [];
    for (const h of hits) {
      const m = this.meta.get(h.id);
      if (m) out.push({ key: m.key, similarity: h.similarity });
    }
    return out;
  }

  /** Publish a change for every node (this one applies it directly). */
  async publish(fields: Record<string, string>): Promise<void> {
    await this.opts.store.streamAdd(changeStream(this.opts.prefix), fields, this.opts.streamMaxLen);
  }
}

const indexes = new Map<string, SharedIndex>();

/** The process-wide index for a (store, prefix, embedder). */
export function sharedIndexFor(storeId: string, opts: IndexOptions): SharedIndex {
  const id = `${storeId}|${opts.prefix}|${opts.embedderId}`;
  let ix = indexes.get(id);
  if (!ix) indexes.set(id, (ix = new SharedIndex(opts)));
  return ix;
}

/** Forget every process-wide index (tests). */
export function resetSharedIndexes(): void {
  indexes.clear();
}
