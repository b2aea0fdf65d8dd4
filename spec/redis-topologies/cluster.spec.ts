/**
 * Redis Cluster, for real: 3 masters + 3 replicas created with `redis-cli --cluster create`. The
 * store comes from a Kong-style redis block (cluster_nodes) through the plugins' pool. Checks the
 * slot layout, the cross-slot reservation protocol, a live reshard (MOVED/ASK/TRYAGAIN) and a master
 * loss under traffic.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { storeFor, closeAllStores } from '../../lib/store/pool';
import { hashSlot } from '../../lib/store/keys';
import { redisProblems, type RedisConfig } from '../../lib/schema/redis';
import type { BudgetWindow, Store } from '../../lib/store/types';
import { activeLimits } from '../../plugins/llm-token-accounting/policies';
import { startClusterTopology, nodeClient, type ClusterTopology } from '../support/redis-topology';
import { Traffic, accountingConfig, RESERVE } from './traffic';

const WORKERS = 4;

describe('redis topologies: cluster', () => {
  let topo: ClusterTopology;
  let cfg: RedisConfig;
  let store: Store;

  before(async () => {
    topo = await startClusterTopology();
    cfg = {
      host: '127.0.0.1',
      port: 6379,
      database: 0,
      username: null,
      password: null,
      timeout: 1000,
      ssl: false,
      ssl_verify: true,
      server_name: null,
      key_prefix: `clu-${process.pid}`,
      cluster_nodes: topo.seeds,
      cluster_max_redirections: 16,
    };
    assert.deepEqual(redisProblems(cfg), []);
    store = storeFor('redis', cfg);
  });

  after(async () => {
    await closeAllStores();
    await topo?.stop();
  });

  const windowsOf = (c: ReturnType<typeof accountingConfig>, payer: string): BudgetWindow[] =>
    activeLimits(
      c,
      { headers: {}, consumer: { username: payer }, route: { name: 'chat' } },
      `consumer=${payer}`,
      Date.now(),
    ).map((l) => l.window);

  it('maps keys to slots as the cluster does; one partition’s windows share a slot, cache keys spread', async () => {
    const c = accountingConfig(cfg, { payer: 1000, global: 1000 });
    const ws = windowsOf(c, 'alice');
    const keys = ws.flatMap((w) => [w.key, `${w.key}:r`, `${w.key}:ra`, `${w.key}:rs`]);
    const probe = nodeClient(topo.nodes[0]!.port);
    await probe.connect();
    try {
      for (const k of [...keys, 'plain', 'a{b}c', '{}x', 'x{}{y}', 'ünïcode{tag}']) {
        assert.equal(hashSlot(k), Number(await probe.call('CLUSTER', 'KEYSLOT', k)), k);
      }
    } finally {
      probe.disconnect();
    }
    const [day, hour, global] = [ws[1]!, ws[0]!, ws[2]!];
    assert.equal(hashSlot(day.key), hashSlot(hour.key), 'the payer’s windows share a slot');
    assert.notEqual(hashSlot(day.key), hashSlot(global.key), 'the global policy lives elsewhere');
    const cacheSlots = new Set(
      Array.from({ length: 50 }, (_, i) => hashSlot(`${cfg.key_prefix}:v1:cache:e:p:k${i}`)),
    );
    assert.ok(cacheSlots.size > 40, `cache entries spread over slots (${cacheSlots.size}/50)`);
  });

  it('reserves across slots without passing any limit, compensating refused holds', async () => {
    const c = accountingConfig(cfg, { payer: 300, global: 1500 });
    const global = windowsOf(c, 'x')[2]!;
    // payers whose slot sorts before and after the global window's, so both protocol orders run
    const names = Array.from({ length: 400 }, (_, i) => `p${i}`);
    const before = names.filter((n) => hashSlot(windowsOf(c, n)[0]!.key) < hashSlot(global.key)).slice(0, 3);
    const afterG = names.filter((n) => hashSlot(windowsOf(c, n)[0]!.key) > hashSlot(global.key)).slice(0, 3);
    const payers = [...before, ...afterG];
    assert.equal(payers.length, 6);
    const accepted = new Map<string, number>();
    const results = await Promise.all(
      Array.from({ length: 240 }, async (_, i) => {
        const payer = payers[i % payers.length]!;
        const ok = (await store.reserve(windowsOf(c, payer), [10, 10, 10], `x${i}`, 60)).ok;
        if (ok) accepted.set(payer, (accepted.get(payer) ?? 0) + 10);
        return ok;
      }),
    );
    const total = [...accepted.values()].reduce((a, b) => a + b, 0);
    assert.ok(results.includes(false), 'some reservations were refused');
    // each step is atomic and the refused ones released what they held: usage is exactly the accepted
    assert.deepEqual(await store.usage([global]), [total]);
    assert.ok(total <= 1500, `global ${total} > 1500`);
    for (const p of payers) {
      const [hour] = await store.usage([windowsOf(c, p)[0]!]);
      assert.equal(hour, accepted.get(p) ?? 0, p);
      assert.ok(hour! <= 300);
    }
    // A payer at its limit whose slot sorts after the global window's: the global hold taken first
    // is compensated when the payer's step refuses.
    const c2 = accountingConfig(
      { ...cfg, key_prefix: `${cfg.key_prefix}-comp` },
      { payer: 10, global: 1000 },
    );
    const g2 = windowsOf(c2, 'x')[2]!;
    const full = names.find((n) => hashSlot(windowsOf(c2, n)[0]!.key) > hashSlot(g2.key))!;
    const w = windowsOf(c2, full);
    assert.equal((await store.reserve(w, [10, 0, 0], 'fill', 60)).ok, true);
    const refused = await store.reserve(w, [1, 1, 1], 'refused', 60);
    assert.equal(refused.ok, false);
    assert.equal(refused.failedIndex, 0, 'refused by the payer’s hour window');
    assert.deepEqual(await store.usage([g2]), [0], 'the global hold was released');
  });

  it('keeps serving while slots move (MOVED/ASK/TRYAGAIN): nothing fails, is lost or booked twice', async (t) => {
    const c = accountingConfig(
      { ...cfg, key_prefix: `${cfg.key_prefix}-reshard` },
      { payer: 1_000_000, global: 10_000_000 },
    );
    const traffic = new Traffic(store, c, ['alice', 'bob', 'carol']);
    const moving = [
      ...new Set([
        hashSlot(windowsOf(c, 'alice')[0]!.key),
        hashSlot(windowsOf(c, 'alice')[2]!.key),
        hashSlot(traffic.ledger),
      ]),
    ];
    traffic.start(WORKERS);
    try {
      await traffic.answered(30);
      for (const slot of moving) {
        const from = await topo.ownerOf(slot);
        const to = (await topo.masters()).find((m) => m.id !== from.id)!;
        // traffic runs between each step of the migration
        await topo.migrateSlot(slot, to, () => traffic.answered(10));
        assert.equal((await topo.ownerOf(slot)).id, to.id);
      }
      await traffic.answered(30);
    } finally {
      await traffic.stop();
    }
    t.diagnostic(
      `moved slots ${moving.join(', ')}; ops ${traffic.ops.length}, failed ${traffic.failures().length}`,
    );
    assert.deepEqual(
      traffic.failures().map((f) => `${f.op}: ${f.error}`),
      [],
    );
    await checkBooks(store, traffic);
  });

  it('fails over when a master dies under traffic: failures only inside the window, within the bound', async (t) => {
    const c = accountingConfig(
      { ...cfg, key_prefix: `${cfg.key_prefix}-failover` },
      { payer: 4_000, global: 10_000_000 },
    );
    const traffic = new Traffic(store, c, ['dave', 'erin', 'frank']);
    // kill the master that owns dave's windows, so every third request meets the failover
    const victim = await topo.ownerOf(hashSlot(windowsOf(c, 'dave')[0]!.key));
    let killedAt = 0;
    let promotedAt = 0;
    traffic.start(WORKERS);
    try {
      await traffic.answered(30);
      killedAt = Date.now();
      const promoted = topo.killMaster(victim);
      await promoted;
      promotedAt = Date.now();
      await traffic.answered(250);
    } finally {
      await traffic.stop();
    }
    const failed = traffic.failures();
    // the window ends with the first success of a request that touched the lost slots after promotion
    const lastFail = Math.max(killedAt, ...failed.map((f) => f.end));
    const reserves = traffic.ops.filter((o) => o.op === 'reserve');
    t.diagnostic(
      `kill→promoted and cluster_state:ok ${promotedAt - killedAt} ms, kill→last failure ${lastFail - killedAt} ms; ` +
        `reserves ${reserves.length}, failed ${failed.filter((o) => o.op === 'reserve').length}; failed ops total ${failed.length}; ` +
        `accepted ${traffic.accepted}, refused ${traffic.refused}`,
    );
    for (const f of failed) {
      assert.ok(
        f.end >= killedAt && f.start <= promotedAt,
        `${f.op} failed outside the window (${f.start - killedAt}..${f.end - killedAt} ms after the kill, promoted at ${promotedAt - killedAt}): ${f.error}`,
      );
    }
    assert.equal(failed.filter((o) => o.op === 'settle' || o.op === 'ledger').length, 0);
    assert.ok(traffic.refused > 0, 'the payer limits were reached, so the bound was exercised');
    const over = await checkBooks(store, traffic);
    t.diagnostic(`largest committed − limit over all windows: ${over} (bound ${WORKERS * RESERVE})`);
  });
});

/** Counters hold exactly the acknowledged settles, within the bound; every acked ledger row is there once. */
async function checkBooks(store: Store, traffic: Traffic): Promise<number> {
  const keys = [...traffic.settled.keys()];
  const counters = await store.mget(keys);
  keys.forEach((key, i) => {
    const sum = traffic.settled.get(key)!;
    assert.equal(Number(counters[i] ?? 0), sum, `committed usage of ${key}`);
    const limit = traffic.limits.get(key)!;
    assert.ok(sum <= limit + WORKERS * RESERVE, `${key}: ${sum} > ${limit} + ${WORKERS * RESERVE}`);
  });
  const rows = await store.streamRead(traffic.ledger, '0', 1_000_000);
  const ids = rows.map((r) => r.fields.request_id);
  assert.equal(new Set(ids).size, ids.length, 'no ledger row written twice');
  for (const id of traffic.ledgerAcked) assert.ok(ids.includes(id), `ledger row ${id} lost`);
  return Math.max(...keys.map((k) => traffic.settled.get(k)! - traffic.limits.get(k)!));
}
