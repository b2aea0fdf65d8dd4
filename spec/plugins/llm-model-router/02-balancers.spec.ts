import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { SmoothWrr, ewma, lowest, rendezvous, unitHash } from '../../../plugins/llm-model-router/balancers';
import { RouterState, type HealthSettings } from '../../../plugins/llm-model-router/state';
import { MemoryStore } from '../../../lib/store/memory';
import type { Store } from '../../../lib/store/types';

const silent = pino({ level: 'silent' });
const H: HealthSettings = {
  max_fails: 3,
  fail_window: 30,
  fail_timeout: 10,
  max_retry_after: 300,
  ewma_alpha: 0.5,
  latency_ttl: 300,
  usage_window: 60,
};

describe('smooth weighted round-robin', () => {
  it('distributes 10k decisions exactly by weight and interleaves them', () => {
    const w = new SmoothWrr();
    const cands = [
      { name: 'a', weight: 5 },
      { name: 'b', weight: 3 },
      { name: 'c', weight: 2 },
    ];
    const n: Record<string, number> = { a: 0, b: 0, c: 0 };
    const seq: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const p = w.pick(cands).name;
      n[p]!++;
      if (i < 10) seq.push(p);
    }
    assert.deepEqual(n, { a: 5000, b: 3000, c: 2000 });
    // smooth: no burst of five a's in a row
    assert.ok(!seq.join('').includes('aaaaa'), seq.join(''));
  });

  it('keeps a separate sequence per candidate set', () => {
    const w = new SmoothWrr();
    const ab = [
      { name: 'a', weight: 1 },
      { name: 'b', weight: 1 },
    ];
    assert.equal(w.pick(ab).name, 'a');
    assert.equal(
      w.pick([
        { name: 'c', weight: 1 },
        { name: 'd', weight: 1 },
      ]).name,
      'c',
    );
    assert.equal(w.pick(ab).name, 'b');
  });
});

describe('consistent hashing (weighted rendezvous)', () => {
  const cands = ['a', 'b', 'c', 'd'].map((name) => ({ name, weight: 100 }));

  it('maps a key to the same target every time', () => {
    for (let i = 0; i < 100; i++)
      assert.equal(
        rendezvous(`session-${i}`, cands).name,
        rendezvous(`session-${i}`, [...cands].reverse()).name,
      );
  });

  it('moves only the keys of a removed target, and they come back', () => {
    const keys = Array.from({ length: 4000 }, (_, i) => `user-${i}`);
    const before = new Map(keys.map((k) => [k, rendezvous(k, cands).name]));
    const without = cands.filter((c) => c.name !== 'b');
    let moved = 0;
    for (const k of keys) {
      const now = rendezvous(k, without).name;
      if (before.get(k) !== 'b') assert.equal(now, before.get(k));
      else moved++;
    }
    assert.ok(moved > 800 && moved < 1200, `~1/4 of the keys lived on b: ${moved}`);
    for (const k of keys) assert.equal(rendezvous(k, cands).name, before.get(k));
  });

  it('spreads keys by weight', () => {
    const w = [
      { name: 'x', weight: 300 },
      { name: 'y', weight: 100 },
    ];
    let x = 0;
    for (let i = 0; i < 10_000; i++) if (rendezvous(`k${i}`, w).name === 'x') x++;
    assert.ok(Math.abs(x / 10_000 - 0.75) < 0.02, String(x));
  });

  it('hashes uniformly into (0, 1)', () => {
    let sum = 0;
    for (let i = 0; i < 10_000; i++) {
      const u = unitHash(`v${i}`);
      assert.ok(u > 0 && u < 1);
      sum += u;
    }
    assert.ok(Math.abs(sum / 10_000 - 0.5) < 0.01);
  });
});

describe('EWMA and lowest', () => {
  it('averages with alpha and starts at the first sample', () => {
    assert.equal(ewma(undefined, 100, 0.3), 100);
    assert.equal(ewma(100, 200, 0.5), 150);
    let v: number | undefined;
    for (let i = 0; i < 50; i++) v = ewma(v, 40, 0.3);
    assert.equal(Math.round(v!), 40);
  });

  it('returns the ties of the lowest score; unscored candidates are explored first', () => {
    const c = [
      { n: 'a', s: 10 },
      { n: 'b', s: 10.5 },
      { n: 'c', s: 20 },
    ];
    assert.deepEqual(
      lowest(c, (x) => x.s).map((x) => x.n),
      ['a'],
    );
    assert.deepEqual(
      lowest(c, (x) => x.s, 0.1).map((x) => x.n),
      ['a', 'b'],
    );
    assert.deepEqual(
      lowest([...c, { n: 'd', s: undefined as unknown as number }], (x) => x.s).map((x) => x.n),
      ['d'],
    );
  });
});

describe('passive health with a fake clock', () => {
  function setup(store?: Store) {
    let now = 1_000_000;
    const clock = () => now;
    const local = new MemoryStore({ now: clock });
    const st = new RouterState({
      store: store ?? new MemoryStore({ now: clock }),
      local,
      prefix: 't',
      now: clock,
      log: silent,
    });
    return { st, advance: (ms: number) => (now += ms), clock };
  }
  const fail = (status = 500, retryAfterSec?: number) => ({
    ok: false,
    failure: true,
    status,
    ...(retryAfterSec !== undefined ? { retryAfterSec } : {}),
  });
  const ok = { ok: true, failure: false, status: 200 };

  it('ejects after max_fails within fail_window, half-opens after fail_timeout, closes on a good probe', async () => {
    const { st, advance } = setup();
    await st.record('a', 'a', fail(), H);
    await st.record('a', 'a', fail(), H);
    assert.equal((await st.snapshot(['a'], H)).get('a')!.ejectedUntil, undefined);
    await st.record('a', 'a', fail(), H);
    const v = (await st.snapshot(['a'], H)).get('a')!;
    assert.ok(v.ejectedUntil! > 1_000_000);
    advance(9_999);
    assert.ok((await st.snapshot(['a'], H)).get('a')!.ejectedUntil);
    advance(2);
    const half = (await st.snapshot(['a'], H)).get('a')!;
    assert.equal(half.ejectedUntil, undefined);
    assert.equal(half.halfOpen, true);
    assert.equal(await st.tryProbe('a', H), true, 'first caller probes');
    assert.equal(await st.tryProbe('a', H), false, 'others wait for the probe');
    await st.record('a', 'a', ok, H);
    const closed = (await st.snapshot(['a'], H)).get('a')!;
    assert.equal(closed.halfOpen, false);
    assert.equal(closed.ejectedUntil, undefined);
  });

  it('re-ejects at once when the half-open probe fails', async () => {
    const { st, advance } = setup();
    for (let i = 0; i < 3; i++) await st.record('a', 'a', fail(502), H);
    advance(10_001);
    assert.equal(await st.tryProbe('a', H), true);
    await st.record('a', 'a', fail(502), H);
    assert.ok((await st.snapshot(['a'], H)).get('a')!.ejectedUntil);
  });

  it('failures outside the window do not add up', async () => {
    const { st, advance } = setup();
    await st.record('a', 'a', fail(), H);
    await st.record('a', 'a', fail(), H);
    advance(31_000);
    await st.record('a', 'a', fail(), H);
    assert.equal((await st.snapshot(['a'], H)).get('a')!.ejectedUntil, undefined);
  });

  it('a 429 with Retry-After ejects at once for that long (capped)', async () => {
    const { st, advance } = setup();
    await st.record('a', 'a', fail(429, 2), H);
    assert.ok((await st.snapshot(['a'], H)).get('a')!.ejectedUntil);
    advance(2_001);
    assert.equal((await st.snapshot(['a'], H)).get('a')!.ejectedUntil, undefined);
    await st.record('b', 'b', fail(429, 99_999), H);
    assert.equal((await st.snapshot(['b'], H)).get('b')!.ejectedUntil, 1_002_001 + 300_000);
  });

  it('learns latency EWMA per kind and usage per window', async () => {
    const { st } = setup();
    await st.record('a', 'a', { ...ok, latencyMs: 100, latencyKind: 'ttft', tokens: 30 }, H);
    await st.record('a', 'a', { ...ok, latencyMs: 200, latencyKind: 'ttft', tokens: 20 }, H);
    await st.record('a', 'a', { ...ok, latencyMs: 900, latencyKind: 'e2e' }, H);
    const v = (await st.snapshot(['a'], H)).get('a')!;
    assert.equal(v.ttft, 150);
    assert.equal(v.e2e, 900);
    assert.equal(v.usage, 50);
  });

  it('falls back to its local state when the shared store fails', async () => {
    const broken = new MemoryStore();
    const boom = async () => {
      throw new Error('ECONNREFUSED');
    };
    Object.assign(broken, { mget: boom, get: boom, set: boom, incrBy: boom, del: boom });
    const { st } = setup(broken);
    for (let i = 0; i < 3; i++) await st.record('a', 'a', fail(), H);
    assert.equal(st.degraded, true);
    assert.ok((await st.snapshot(['a'], H)).get('a')!.ejectedUntil, 'ejection kept locally');
  });
});
