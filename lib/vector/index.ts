/**
 * In-process ANN index for the semantic cache: hnswlib-node (HNSW, cosine) plus an exact brute-force path.
 *
 * Partitioning (tenants): ONE shared HNSW graph per index, every vector tagged with its partition, and
 *   - a partition with ≤ `partitionBruteForce` entries (the common case with many tenants) is searched
 *     exactly over its own vectors (a few thousand dot products: well under a millisecond), and
 *   - a large partition is searched in the graph with hnswlib's filter callback (checked during the graph
 *     walk, so no "fetch k×N and hope" over-fetching).
 * One index per partition was rejected: hnswlib preallocates `maxElements` slots per index and each index
 * has its own entry point and level structures, so thousands of small tenants would waste memory and
 * give worse recall than exact search on their few entries.
 *
 * Below `bruteForceBelow` entries in total no graph is built at all. Vectors are also kept in one
 * contiguous Float32Array (needed for the exact path and to rebuild after many deletions).
 * Vectors must be L2-normalised (lib/embeddings guarantees it): similarity = dot = 1 - cosine distance.
 */
import { HierarchicalNSW } from 'hnswlib-node';

export interface IndexOptions {
  dimensions: number;
  /** Initial capacity; grows automatically (doubling). Default 1024. */
  maxElements?: number;
  space?: 'cosine';
  /** No HNSW graph while the index holds fewer entries than this (exact search). Default 2048. */
  bruteForceBelow?: number;
  /** A partition this small is searched exactly even when the graph exists. Default 4096. */
  partitionBruteForce?: number;
  /** HNSW parameters. Defaults M=16, efConstruction=200, efSearch=64. */
  m?: number;
  efConstruction?: number;
  efSearch?: number;
}

export interface SearchHit {
  id: number;
  /** Cosine similarity, 1 - cosine distance. */
  similarity: number;
}

/** A partition name, or a predicate on ids (both may be combined with the object form). */
export type SearchFilter =
  string | ((id: number) => boolean) | { partition?: string; accept?: (id: number) => boolean };

export interface VectorIndex {
  readonly dimensions: number;
  /** Live entries. */
  readonly size: number;
  /** Adds or replaces `id` (a non-negative integer), optionally in a partition (default ""). */
  add(id: number, vec: Float32Array | number[], partition?: string): void;
  /** Removes `id`; returns whether it existed. */
  remove(id: number): boolean;
  has(id: number): boolean;
  /** Up to `k` hits, best first. */
  search(vec: Float32Array | number[], k: number, filter?: SearchFilter): SearchHit[];
  /** Approximate bytes held (vectors + graph estimate). */
  memoryBytes(): number;
  /** Entries per partition (for metrics). */
  partitions(): Map<string, number>;
  clear(): void;
}

export function createIndex(opts: IndexOptions): VectorIndex {
  return new HnswVectorIndex(opts);
}

class HnswVectorIndex implements VectorIndex {
  readonly dimensions: number;
  private readonly bruteForceBelow: number;
  private readonly partitionBruteForce: number;
  private readonly m: number;
  private readonly efConstruction: number;
  private readonly efSearch: number;
  private capacity: number;

  // Contiguous vector store: slot → vector; id ↔ slot.
  private store: Float32Array;
  private readonly slotOf = new Map<number, number>();
  private idOfSlot: Int32Array;
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;

  private readonly partOf = new Map<number, string>();
  private readonly members = new Map<string, Set<number>>();

  private hnsw: HierarchicalNSW | undefined;
  private hnswCapacity = 0;
  /** Labels present in the graph (possibly marked deleted). */
  private readonly inGraph = new Set<number>();
  /** Labels marked deleted in the graph (their slots are not reused; a rebuild drops them). */
  private readonly deletedInGraph = new Set<number>();

  constructor(opts: IndexOptions) {
    if (!Number.isInteger(opts.dimensions) || opts.dimensions <= 0)
      throw new Error('index dimensions must be a positive integer');
    if (opts.space && opts.space !== 'cosine') throw new Error('only the cosine space is supported');
    this.dimensions = opts.dimensions;
    this.capacity = Math.max(16, opts.maxElements ?? 1024);
    this.bruteForceBelow = opts.bruteForceBelow ?? 2048;
    this.partitionBruteForce = opts.partitionBruteForce ?? 4096;
    this.m = opts.m ?? 16;
    this.efConstruction = opts.efConstruction ?? 200;
    this.efSearch = opts.efSearch ?? 64;
    this.store = new Float32Array(this.capacity * this.dimensions);
    this.idOfSlot = new Int32Array(this.capacity).fill(-1);
  }

  get size(): number {
    return this.slotOf.size;
  }

  has(id: number): boolean {
    return this.slotOf.has(id);
  }

  add(id: number, vec: Float32Array | number[], partition = ''): void {
    if (!Number.isSafeInteger(id) || id < 0) throw new Error('index ids must be non-negative integers');
    if (vec.length !== this.dimensions) {
      throw new Error(`vector has ${vec.length} dimensions, index has ${this.dimensions}`);
    }
    let slot = this.slotOf.get(id);
    if (slot === undefined) {
      slot = this.freeSlots.pop() ?? this.nextSlot++;
      if (slot >= this.capacity) this.grow(slot + 1);
      this.slotOf.set(id, slot);
      this.idOfSlot[slot] = id;
    }
    this.store.set(vec, slot * this.dimensions);
    const oldPart = this.partOf.get(id);
    if (oldPart !== partition) {
      if (oldPart !== undefined) this.members.get(oldPart)?.delete(id);
      this.partOf.set(id, partition);
      let set = this.members.get(partition);
      if (!set) this.members.set(partition, (set = new Set()));
      set.add(id);
    }
    if (this.hnsw) this.graphAdd(id, slot);
    else if (this.slotOf.size >= this.bruteForceBelow) this.buildGraph();
  }

  remove(id: number): boolean {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return false;
    this.slotOf.delete(id);
    this.idOfSlot[slot] = -1;
    this.freeSlots.push(slot);
    const part = this.partOf.get(id);
    this.partOf.delete(id);
    if (part !== undefined) {
      const set = this.members.get(part);
      set?.delete(id);
      if (set && set.size === 0) this.members.delete(part);
    }
    if (this.hnsw && this.inGraph.has(id)) {
      this.hnsw.markDelete(id);
      this.inGraph.delete(id);
      this.deletedInGraph.add(id);
      // Too many tombstones slow the graph walk down: rebuild from the store.
      if (this.deletedInGraph.size > 1024 && this.deletedInGraph.size > this.slotOf.size) this.buildGraph();
    }
    return true;
  }

  search(vec: Float32Array | number[], k: number, filter?: SearchFilter): SearchHit[] {
    if (vec.length !== this.dimensions) {
      throw new Error(`vector has ${vec.length} dimensions, index has ${this.dimensions}`);
    }
    if (k <= 0 || this.slotOf.size === 0) return [];
    const f =
      typeof filter === 'string'
        ? { partition: filter }
        : typeof filter === 'function'
          ? { accept: filter }
          : filter;
    const partition = f?.partition;
    const accept = f?.accept;
    if (partition !== undefined) {
      const members = this.members.get(partition);
      if (!members || members.size === 0) return [];
      if (!this.hnsw || members.size <= this.partitionBruteForce) return this.exact(vec, k, members, accept);
    } else if (!this.hnsw) {
      return this.exact(vec, k, this.slotOf.keys(), accept);
    }
    const hnsw = this.hnsw!;
    const want = Math.min(k, this.slotOf.size);
    hnsw.setEf(Math.max(this.efSearch, want));
    const q = Array.from(vec);
    const pf =
      partition !== undefined || accept
        ? (label: number): boolean =>
            (partition === undefined || this.partOf.get(label) === partition) && (!accept || accept(label))
        : undefined;
    const res = pf ? hnsw.searchKnn(q, want, pf) : hnsw.searchKnn(q, want);
    const hits: SearchHit[] = [];
    for (let i = 0; i < res.neighbors.length; i++) {
      hits.push({ id: res.neighbors[i]!, similarity: 1 - res.distances[i]! });
    }
    return hits;
  }

  memoryBytes(): number {
    const vectors = this.capacity * this.dimensions * 4;
    // hnswlib: per element data (dims*4 + level-0 links (2M+1)*4 + label 8) + upper levels (~M*4/ln M avg).
    const perGraph = this.dimensions * 4 + (2 * this.m + 1) * 4 + 8 + 16;
    return vectors + (this.hnsw ? this.hnswCapacity * perGraph : 0) + this.slotOf.size * 120;
  }

  partitions(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [p, s] of this.members) out.set(p, s.size);
    return out;
  }

  clear(): void {
    this.slotOf.clear();
    this.partOf.clear();
    this.members.clear();
    this.freeSlots.length = 0;
    this.nextSlot = 0;
    this.idOfSlot.fill(-1);
    this.hnsw = undefined;
    this.inGraph.clear();
    this.deletedInGraph.clear();
  }

  // ------------------------------------------------------------------------------------------ private

  private exact(
    vec: Float32Array | number[],
    k: number,
    ids: Iterable<number>,
    accept?: (id: number) => boolean,
  ): SearchHit[] {
    const d = this.dimensions;
    const s = this.store;
    // Keep the k best in a small sorted array (k is small).
    const best: SearchHit[] = [];
    for (const id of ids) {
      if (accept && !accept(id)) continue;
      const base = this.slotOf.get(id)! * d;
      let dot = 0;
      for (let i = 0; i < d; i++) dot += vec[i]! * s[base + i]!;
      if (best.length < k) {
        best.push({ id, similarity: dot });
        best.sort((a, b) => b.similarity - a.similarity);
      } else if (dot > best[best.length - 1]!.similarity) {
        best[best.length - 1] = { id, similarity: dot };
        best.sort((a, b) => b.similarity - a.similarity);
      }
    }
    return best;
  }

  private grow(minSlots: number): void {
    let cap = this.capacity;
    while (cap < minSlots) cap *= 2;
    const store = new Float32Array(cap * this.dimensions);
    store.set(this.store);
    this.store = store;
    const ids = new Int32Array(cap).fill(-1);
    ids.set(this.idOfSlot);
    this.idOfSlot = ids;
    this.capacity = cap;
  }

  private vectorOf(slot: number): number[] {
    return Array.from(this.store.subarray(slot * this.dimensions, (slot + 1) * this.dimensions));
  }

  private buildGraph(): void {
    const h = new HierarchicalNSW('cosine', this.dimensions);
    this.hnswCapacity = Math.max(this.capacity, this.slotOf.size * 2, 1024);
    h.initIndex(this.hnswCapacity, this.m, this.efConstruction, 100);
    this.hnsw = h;
    this.inGraph.clear();
    this.deletedInGraph.clear();
    for (const [id, slot] of this.slotOf) this.graphAdd(id, slot);
  }

  private graphAdd(id: number, slot: number): void {
    const h = this.hnsw!;
    const known = this.inGraph.has(id) || this.deletedInGraph.has(id);
    if (!known && this.inGraph.size + this.deletedInGraph.size + 1 > this.hnswCapacity) {
      this.hnswCapacity *= 2;
      h.resizeIndex(this.hnswCapacity);
    }
    // hnswlib updates an existing label in place (and un-deletes it when it was marked deleted).
    h.addPoint(this.vectorOf(slot), id);
    this.deletedInGraph.delete(id);
    this.inGraph.add(id);
  }
}
