import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createIndex } from '../../../lib/vector';

/** Seeded unit vectors with cluster structure (random vectors are a poor ANN test). */
function data(n: number, dims: number, seed = 1): Float32Array[] {
  let s = seed;
  const r = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const centers = Array.from({ length: 32 }, () => Array.from({ length: dims }, r));
  return Array.from({ length: n }, (_, i) => {
    const c = centers[i % centers.length]!;
    const v = Float32Array.from(c, (x) => x + 0.3 * r());
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

test('index: add / search / remove (exact path)', () => {
  const idx = createIndex({ dimensions: 8, space: 'cosine' });
  const vs = data(50, 8);
  vs.forEach((v, i) => idx.add(i, v));
  assert.equal(idx.size, 50);
  const hits = idx.search(vs[7]!, 3);
  assert.equal(hits[0]!.id, 7);
  assert.ok(Math.abs(hits[0]!.similarity - 1) < 1e-5);
  assert.ok(hits[0]!.similarity >= hits[1]!.similarity);
  assert.equal(idx.remove(7), true);
  assert.equal(idx.remove(7), false);
  assert.notEqual(idx.search(vs[7]!, 1)[0]!.id, 7);
  assert.throws(() => idx.add(1, new Float32Array(3)), /dimensions/);
  assert.throws(() => idx.add(-1, vs[0]!), /non-negative/);
});

test('index: grows past maxElements, builds the HNSW graph, recall stays high', () => {
  const dims = 32;
  const idx = createIndex({ dimensions: dims, maxElements: 16, bruteForceBelow: 200 });
  const vs = data(3000, dims, 3);
  vs.forEach((v, i) => idx.add(i, v));
  assert.equal(idx.size, 3000);
  let found = 0;
  for (let i = 0; i < 200; i++) if (idx.search(vs[i]!, 1)[0]?.id === i) found++;
  assert.ok(found >= 195, `self-recall ${found}/200`);
  // remove from the graph: never returned again
  for (let i = 0; i < 100; i++) idx.remove(i);
  for (let i = 0; i < 100; i++) assert.ok(idx.search(vs[i]!, 5).every((h) => h.id >= 100));
  // re-add a removed id (un-delete in the graph)
  idx.add(5, vs[5]!);
  assert.equal(idx.search(vs[5]!, 1)[0]!.id, 5);
});

test('index: partitions never leak across tenants (exact and graph paths)', () => {
  const dims = 16;
  const vs = data(2000, dims, 5);
  for (const partitionBruteForce of [0, 100_000]) {
    const idx = createIndex({ dimensions: dims, bruteForceBelow: 100, partitionBruteForce });
    vs.forEach((v, i) => idx.add(i, v, i % 2 === 0 ? 'tenant-a' : 'tenant-b'));
    for (let i = 0; i < 50; i++) {
      const hits = idx.search(vs[i]!, 5, 'tenant-b');
      assert.ok(hits.length > 0);
      assert.ok(
        hits.every((h) => h.id % 2 === 1),
        'only tenant-b ids',
      );
    }
    assert.deepEqual(idx.search(vs[0]!, 5, 'nobody'), []);
    // predicate filter
    assert.ok(idx.search(vs[0]!, 5, (id) => id < 10).every((h) => h.id < 10));
    assert.deepEqual([...idx.partitions().entries()].sort(), [
      ['tenant-a', 1000],
      ['tenant-b', 1000],
    ]);
  }
});

test('index: moving an id to another partition', () => {
  const idx = createIndex({ dimensions: 4 });
  idx.add(1, Float32Array.from([1, 0, 0, 0]), 'a');
  idx.add(1, Float32Array.from([1, 0, 0, 0]), 'b');
  assert.deepEqual(idx.search(Float32Array.from([1, 0, 0, 0]), 1, 'a'), []);
  assert.equal(idx.search(Float32Array.from([1, 0, 0, 0]), 1, 'b')[0]!.id, 1);
});
