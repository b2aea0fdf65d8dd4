/**
 * Redis Sentinel, for real: 1 master + 1 replica + 3 redis-sentinel processes on loopback ports.
 * The store is built from a Kong-style redis block (sentinel_master + sentinel_nodes) through the
 * same pool the plugins use. Under traffic the master is SIGKILLed; the sentinels promote the replica.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { redisClientFor, storeFor, closeAllStores } from '../../lib/store/pool';
import { redisProblems, type RedisConfig } from '../../lib/schema/redis';
import type { Store } from '../../lib/store/types';
import {
  startSentinelTopology,
  nodeClient,
  type Proc,
  type SentinelTopology,
} from '../support/redis-topology';
import { Traffic, accountingConfig, RESERVE } from './traffic';

const WORKERS = 4;

describe('redis topologies: sentinel', () => {
  let topo: SentinelTopology;
  let cfg: RedisConfig;
  let store: Store;

  before(async () => {
    topo = await startSentinelTopology();
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
      key_prefix: `sent-${process.pid}`,
      sentinel_master: topo.masterName,
      sentinel_nodes: topo.sentinelNodes,
    };
    assert.deepEqual(redisProblems(cfg), []);
    store = storeFor('redis', cfg);
  });

  after(async () => {
    await closeAllStores();
    await topo?.stop();
  });

  it('finds the master through the sentinels', async () => {
    await store.set(`${cfg.key_prefix}:probe`, 'x');
    const direct = nodeClient(topo.master.port);
    await direct.connect();
    assert.equal(await direct.get(`${cfg.key_prefix}:probe`), 'x');
    direct.disconnect();
  });

  /**
   * Run traffic, `disrupt` the master in the middle of it, and check the books. The window ends when
   * the shared client is ready for the last time: Sentinel also kills the clients of the promoted
   * replica and of a demoted master (CLIENT KILL TYPE normal), so a client may reconnect twice.
   */
  async function underTraffic(
    t: { diagnostic(msg: string): void },
    what: string,
    prefix: string,
    disrupt: () => Promise<void>,
  ): Promise<void> {
    const acc = accountingConfig(
      { ...cfg, key_prefix: `${cfg.key_prefix}-${prefix}` },
      { payer: 4_000, global: 1_000_000 },
    );
    const traffic = new Traffic(store, acc, ['alice', 'bob', 'carol']);
    const client = redisClientFor(cfg);
    const readies: number[] = [];
    const onReady = () => readies.push(Date.now());
    client.on('ready', onReady);
    let startedAt = 0;
    let switchedAt = 0;
    traffic.start(WORKERS);
    try {
      await traffic.answered(40);
      const switched = topo.switchMaster();
      const firstReady = new Promise<void>((resolve) => client.once('ready', () => resolve()));
      const expected = otherOf(await currentMaster()).port;
      startedAt = Date.now();
      await disrupt();
      assert.equal(await switched, expected, 'the sentinels promoted the replica');
      switchedAt = Date.now();
      await firstReady;
      await traffic.answered(200);
    } finally {
      await traffic.stop();
      client.off('ready', onReady);
    }
    const readyAt = Math.max(...readies);
    const failed = traffic.failures();
    const reserves = traffic.ops.filter((o) => o.op === 'reserve');
    const inWindow = reserves.filter((o) => o.end >= startedAt && o.start <= readyAt);
    t.diagnostic(
      `${what}: →+switch-master ${switchedAt - startedAt} ms, →client ready ${readyAt - startedAt} ms ` +
        `(${readies.length} reconnections); ` +
        `reserves ${reserves.length}, in window ${inWindow.length}, failed ${failed.filter((o) => o.op === 'reserve').length}; ` +
        `failed ops total ${failed.length}; accepted ${traffic.accepted}, refused ${traffic.refused}`,
    );
    // Every failure overlapped the failover window; everything started after it succeeded.
    for (const f of failed) {
      assert.ok(
        f.end >= startedAt && f.start <= readyAt,
        `${f.op} failed outside the window (${f.start - startedAt}..${f.end - startedAt} ms after the start, ready at ${readyAt - startedAt}): ${f.error}`,
      );
    }
    // Log-phase writes retry across the failover: none of them failed.
    assert.equal(failed.filter((o) => o.op === 'settle' || o.op === 'ledger').length, 0);

    // Budgets: each window holds exactly the acknowledged settles (a settle retried over the failover
    // is booked once), and no window passed its limit by more than the stated bound.
    const counters = await store.mget([...traffic.settled.keys()]);
    [...traffic.settled.entries()].forEach(([key, sum], i) => {
      assert.equal(Number(counters[i] ?? 0), sum, `committed usage of ${key}`);
      const limit = traffic.limits.get(key)!;
      assert.ok(sum <= limit + WORKERS * RESERVE, `${key}: ${sum} > ${limit} + ${WORKERS * RESERVE}`);
    });
    assert.ok(traffic.refused > 0, 'the payer limits were reached, so the bound was exercised');
    const over = Math.max(...[...traffic.settled].map(([k, sum]) => sum - traffic.limits.get(k)!));
    t.diagnostic(`${what}: largest committed − limit over all windows: ${over} (bound ${WORKERS * RESERVE})`);

    // Ledger: every acknowledged row is there, once.
    const rows = await store.streamRead(traffic.ledger, '0', 1_000_000);
    const ids = rows.map((r) => r.fields.request_id);
    assert.equal(new Set(ids).size, ids.length, 'no ledger row written twice');
    for (const id of traffic.ledgerAcked) assert.ok(ids.includes(id), `ledger row ${id} lost`);
  }

  /** The data node the sentinels name as master now. */
  async function currentMaster(): Promise<Proc> {
    const s = nodeClient(topo.sentinels[0]!.port);
    await s.connect();
    try {
      const [, port] = (await s.call('SENTINEL', 'get-master-addr-by-name', topo.masterName)) as [
        string,
        string,
      ];
      return [topo.master, topo.replica].find((p) => p.port === Number(port))!;
    } finally {
      s.disconnect();
    }
  }
  const otherOf = (p: Proc) => (p === topo.master ? topo.replica : topo.master);

  it('fails over when the master is killed under traffic: failures only inside the window, nothing lost or booked twice', async (t) => {
    const victim = await currentMaster();
    await underTraffic(t, 'kill', 'kill', () => victim.kill());
  });
});
