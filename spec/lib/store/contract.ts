/**
 * The store contract, run against every implementation (memory with a fake clock, real Redis).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { BudgetWindow, Store } from '../../../lib/store/types';

export interface ContractTarget {
  store: Store;
  prefix: string;
  /** Let `ms` of store time pass (fake clock, or real waiting where the store owns time). */
  advance(ms: number): Promise<void>;
  cleanup(): Promise<void>;
}

export function storeContract(name: string, make: () => Promise<ContractTarget>): void {
  describe(`store contract: ${name}`, () => {
    let t: ContractTarget;
    let s: Store;
    let n = 0;
    const k = (x: string) => `${t.prefix}:${x}:${n++}`;
    const win = (key: string, limit: number, prev?: { key: string; weight: number }): BudgetWindow => ({
      key,
      limit,
      ttlSec: 60,
      ...(prev ? { prev } : {}),
    });

    before(async () => {
      t = await make();
      s = t.store;
    });
    after(async () => t.cleanup());

    it('returns undefined for a miss and round-trips values', async () => {
      const key = k('kv');
      assert.equal(await s.get(key), undefined);
      await s.set(key, 'v1');
      assert.equal(await s.get(key), 'v1');
      assert.deepEqual(await s.mget([key, k('missing')]), ['v1', undefined]);
      assert.equal(await s.ttl(key), -1);
      assert.equal(await s.ttl(k('missing')), -2);
    });

    it('expires values after their TTL', async () => {
      const key = k('ttl');
      await s.set(key, 'x', 1);
      const ttl = await s.ttl(key);
      assert.ok(ttl >= 0 && ttl <= 1, `ttl ${ttl}`);
      await t.advance(1100);
      assert.equal(await s.get(key), undefined);
    });

    it('increments atomically and starts the TTL on first write only', async () => {
      const key = k('incr');
      assert.equal(await s.incrBy(key, 5, 30), 5);
      assert.equal(await s.incrBy(key, 7, 1), 12);
      const ttl = await s.ttl(key);
      assert.ok(ttl > 1 && ttl <= 30, `ttl ${ttl}`);
      await assert.rejects(s.incrBy(key, 1.5, 30));
      const all = await Promise.all(Array.from({ length: 100 }, () => s.incrBy(key, 1, 30)));
      assert.equal(Math.max(...all), 112);
      assert.equal(new Set(all).size, 100);
    });

    it('deletes and lists keys by literal prefix', async () => {
      const base = k('list');
      await s.set(`${base}:a*`, '1');
      await s.set(`${base}:b`, '2');
      await s.set(`${base}x:c`, '3');
      const listed = (await s.keys(`${base}:`)).sort();
      assert.deepEqual(listed, [`${base}:a*`, `${base}:b`]);
      assert.equal(await s.del(`${base}:a*`, `${base}:b`, `${base}:nope`), 2);
      assert.deepEqual(await s.keys(`${base}:`), []);
    });

    it('reserves all windows or none', async () => {
      const a = win(k('w'), 100);
      const b = win(k('w'), 50);
      const r1 = await s.reserve([a, b], [40, 40], 'r1', 60);
      assert.deepEqual(r1, { ok: true, used: [0, 0] });
      const r2 = await s.reserve([a, b], [40, 40], 'r2', 60);
      assert.equal(r2.ok, false);
      assert.equal(r2.failedIndex, 1);
      assert.deepEqual(r2.used, [40, 40]);
      // the failed reservation left nothing behind in the window that would have accepted it
      assert.deepEqual(await s.usage([a, b]), [40, 40]);
    });

    it('settles a reservation to the actual amount and releases others', async () => {
      const a = win(k('w'), 1000);
      await s.reserve([a], [300], 'r1', 60);
      await s.reserve([a], [200], 'r2', 60);
      assert.deepEqual(await s.usage([a]), [500]);
      assert.deepEqual(await s.settle([a], [120], 'r1'), [320]);
      await s.release([a], 'r2');
      assert.deepEqual(await s.usage([a]), [120]);
      // releasing twice is harmless
      await s.release([a], 'r2');
      assert.deepEqual(await s.usage([a]), [120]);
    });

    it('books a settle retried with the same reservation id once (failover retries)', async () => {
      const a = win(k('w'), 1000);
      const b = win(k('w'), 1000);
      assert.equal((await s.reserve([a, b], [300, 300], 'once', 60)).ok, true);
      assert.deepEqual(await s.settle([a, b], [120, 80], 'once'), [120, 80]);
      assert.deepEqual(await s.settle([a, b], [120, 80], 'once'), [120, 80]);
      // a late release or a retried reserve of the settled id changes nothing either
      await s.release([a, b], 'once');
      assert.equal((await s.reserve([a, b], [300, 300], 'once', 60)).ok, true);
      assert.deepEqual(await s.usage([a, b]), [120, 80]);
      // another id is another request
      assert.deepEqual(await s.settle([a, b], [10, 10], 'other'), [130, 90]);
    });

    it('answers a retried reservation as accepted without holding twice', async () => {
      const a = win(k('w'), 100);
      assert.equal((await s.reserve([a], [60], 'dup', 60)).ok, true);
      const again = await s.reserve([a], [60], 'dup', 60);
      assert.equal(again.ok, true);
      assert.deepEqual(await s.usage([a]), [60]);
      await s.release([a], 'dup');
      assert.deepEqual(await s.usage([a]), [0]);
    });

    it('frees a reservation that is never settled once it expires', async () => {
      const a = win(k('w'), 100);
      assert.equal((await s.reserve([a], [100], 'lost', 0.2)).ok, true);
      assert.equal((await s.reserve([a], [1], 'next', 60)).ok, false);
      await t.advance(300);
      assert.deepEqual(await s.usage([a]), [0]);
      assert.equal((await s.reserve([a], [100], 'after', 60)).ok, true);
    });

    it('books the actual amount even when the reservation already expired', async () => {
      const a = win(k('w'), 100);
      await s.reserve([a], [50], 'slow', 0.2);
      await t.advance(300);
      assert.deepEqual(await s.settle([a], [70], 'slow'), [70]);
    });

    it('never lets concurrent reservations exceed the limit', async () => {
      const a = win(k('w'), 100);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => s.reserve([a], [10], `c${i}`, 60)),
      );
      assert.equal(results.filter((r) => r.ok).length, 10);
      assert.deepEqual(await s.usage([a]), [100]);
    });

    it('weights the previous window for sliding limits', async () => {
      const prev = k('prev');
      await s.incrBy(prev, 100, 60);
      const a = win(k('w'), 100, { key: prev, weight: 0.25 });
      assert.deepEqual(await s.usage([a]), [25]);
      assert.equal((await s.reserve([a], [76], 'x', 60)).ok, false);
      assert.equal((await s.reserve([a], [75], 'y', 60)).ok, true);
    });

    it('appends to and reads a capped stream in order', async () => {
      const st = k('stream');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await s.streamAdd(st, { i: String(i) }, 1000));
      const all = await s.streamRead(st, '0', 100);
      assert.deepEqual(
        all.map((e) => e.fields.i),
        ['0', '1', '2', '3', '4'],
      );
      const after = await s.streamRead(st, ids[2]!, 100);
      assert.deepEqual(
        after.map((e) => e.fields.i),
        ['3', '4'],
      );
      const capped = k('capped');
      for (let i = 0; i < 400; i++) await s.streamAdd(capped, { i: String(i) }, 50);
      const left = await s.streamRead(capped, '0', 1000);
      assert.ok(left.length >= 50 && left.length < 400, `kept ${left.length}`);
      assert.equal(left.at(-1)?.fields.i, '399');
    });

    it('appends a stream entry with an entry id once', async () => {
      const st = k('ledger');
      const first = await s.streamAdd(st, { row: 'a' }, 1000, 'req-1');
      const again = await s.streamAdd(st, { row: 'a' }, 1000, 'req-1');
      assert.equal(again, first);
      await s.streamAdd(st, { row: 'b' }, 1000, 'req-2');
      await s.streamAdd(st, { row: 'c' }, 1000);
      assert.deepEqual(
        (await s.streamRead(st, '0', 100)).map((e) => e.fields.row),
        ['a', 'b', 'c'],
      );
    });

    it('answers ping', async () => {
      assert.equal(await s.ping(), true);
    });
  });
}
