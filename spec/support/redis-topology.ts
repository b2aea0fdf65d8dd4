/**
 * Real Redis topologies for specs: redis-server / redis-sentinel processes (Debian packages) on free
 * loopback ports, in a temporary directory, stopped (SIGKILL) and removed by `stop()`. Readiness is
 * taken from the servers' own log lines and replies, never from sleeps.
 *
 *   const s = await startSentinelTopology();   // 1 master + 1 replica + 3 sentinels
 *   const c = await startClusterTopology();    // 3 masters + 3 replicas, slots assigned, state ok
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';

const run = promisify(execFile);
const HOST = '127.0.0.1';

/** A port free on 127.0.0.1 now (and, for cluster nodes, its bus port +10000 too). */
export async function freePort(withBus = false): Promise<number> {
  const grab = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(port, HOST, () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
  for (let i = 0; i < 50; i++) {
    const p = await grab(0);
    if (!withBus) return p;
    if (p + 10000 > 65535) continue;
    try {
      await grab(p + 10000);
      return p;
    } catch {
      // bus port taken: try another
    }
  }
  throw new Error('no free loopback port pair');
}

/** A started server process with its port and log. */
export interface Proc {
  port: number;
  child: ChildProcess;
  log: string[];
  /** Resolves with the first log line matching `re` (also one logged before the call). */
  waitLog(re: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGKILL, resolved when the process is gone. */
  kill(): Promise<void>;
  alive(): boolean;
}

function startProc(bin: string, args: string[], port: number, what: string): Proc {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let exited = false;
  let buf = '';
  const onData = (d: Buffer) => {
    buf += d.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      log.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const gone = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  return {
    port,
    child,
    log,
    alive: () => !exited,
    waitLog(re, timeoutMs = 20_000) {
      const hit = log.find((l) => re.test(l));
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { re, resolve: (l: string) => (clearTimeout(timer), resolve(l)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(
            new Error(
              `${what} :${port}: no log line ${re} within ${timeoutMs} ms\n${log.slice(-20).join('\n')}`,
            ),
          );
        }, timeoutMs);
        waiters.push(w);
        if (exited) {
          clearTimeout(timer);
          reject(new Error(`${what} :${port} exited\n${log.slice(-20).join('\n')}`));
        }
      });
    },
    async kill() {
      if (!exited) child.kill('SIGKILL');
      await gone;
    },
  };
}

const BASE_ARGS = (port: number, dir: string) => [
  '--port',
  String(port),
  '--bind',
  HOST,
  '--save',
  '',
  '--appendonly',
  'no',
  '--dir',
  dir,
  '--daemonize',
  'no',
  '--loglevel',
  'notice',
  // start a replica's first sync at once instead of after 5 s
  '--repl-diskless-sync-delay',
  '0',
];

async function startServer(dir: string, port: number, extra: string[] = []): Promise<Proc> {
  const p = startProc('redis-server', [...BASE_ARGS(port, dir), ...extra], port, 'redis-server');
  await p.waitLog(/Ready to accept connections/);
  return p;
}

/** A plain client for inspecting a node (no retries: a dead node fails at once). */
export function nodeClient(port: number): Redis {
  const r = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => {});
  return r;
}

/** Poll `check` until it returns true or the deadline passes (for state that has no event). */
export async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet answering
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface SentinelTopology {
  masterName: string;
  master: Proc;
  replica: Proc;
  sentinels: Proc[];
  /** `sentinel_nodes` for a redis config block. */
  sentinelNodes: { host: string; port: number }[];
  /** Resolves on the first `+switch-master` a sentinel publishes, with the new master's port. */
  switchMaster(): Promise<number>;
  stop(): Promise<void>;
}

/** 1 master + 1 replica + 3 sentinels (quorum 2, down-after 1 s). */
export async function startSentinelTopology(masterName = 'llm-master'): Promise<SentinelTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'llm-sentinel-'));
  const procs: Proc[] = [];
  const subs: Redis[] = [];
  const stop = async () => {
    for (const s of subs) s.disconnect();
    await Promise.all(procs.map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const mport = await freePort();
    const master = await startServer(dir, mport);
    procs.push(master);
    const rport = await freePort();
    const replica = await startServer(dir, rport, [
      '--replicaof',
      HOST,
      String(mport),
      '--dbfilename',
      `replica-${rport}.rdb`,
    ]);
    procs.push(replica);
    await replica.waitLog(/MASTER <-> REPLICA sync: Finished with success/);
    const sentinels: Proc[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          `bind ${HOST}`,
          `dir ${dir}`,
          `sentinel monitor ${masterName} ${HOST} ${mport} 2`,
          `sentinel down-after-milliseconds ${masterName} 1000`,
          `sentinel failover-timeout ${masterName} 10000`,
          `sentinel parallel-syncs ${masterName} 1`,
          '',
        ].join('\n'),
      );
      const p = startProc('redis-sentinel', [conf], port, 'redis-sentinel');
      procs.push(p);
      sentinels.push(p);
    }
    // Ready for a failover once every sentinel knows the replica and the two other sentinels.
    for (const s of sentinels) {
      await s.waitLog(/\+slave slave /);
      await until(
        async () => s.log.filter((l) => /\+sentinel sentinel /.test(l)).length >= 2,
        20_000,
        'sentinels to discover each other',
      );
    }
    const switchMaster = () =>
      new Promise<number>((resolve, reject) => {
        const sub = new Redis({ host: HOST, port: sentinels[0]!.port, maxRetriesPerRequest: 0 });
        sub.on('error', () => {});
        subs.push(sub);
        sub.subscribe('+switch-master').catch(reject);
        // payload: <name> <old-ip> <old-port> <new-ip> <new-port>
        sub.on('message', (_ch, msg: string) => {
          const parts = msg.split(' ');
          if (parts[0] === masterName) resolve(Number(parts[4]));
        });
      });
    return {
      masterName,
      master,
      replica,
      sentinels,
      sentinelNodes: sentinels.map((s) => ({ host: HOST, port: s.port })),
      switchMaster,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface ClusterNode {
  proc: Proc;
  port: number;
  id: string;
}

export interface ClusterTopology {
  nodes: ClusterNode[];
  /** `cluster_nodes` for a redis config block. */
  seeds: { ip: string; port: number }[];
  /** The node currently serving a slot as master (asked from a live node). */
  ownerOf(slot: number): Promise<ClusterNode>;
  masters(): Promise<ClusterNode[]>;
  /** Move one slot and its keys from its owner to `to` (MIGRATING/IMPORTING, MIGRATE, SETSLOT NODE). */
  migrateSlot(slot: number, to: ClusterNode, between?: () => Promise<void>): Promise<void>;
  /** Kill a master; resolves once its replica serves its slots and every live master says state ok. */
  killMaster(node: ClusterNode): Promise<ClusterNode>;
  stop(): Promise<void>;
}

interface NodeLine {
  id: string;
  port: number;
  flags: string[];
  masterId: string;
  slots: [number, number][];
}

function parseNodes(text: string): NodeLine[] {
  return text
    .trim()
    .split('\n')
    .map((l) => {
      const f = l.split(' ');
      const addr = f[1]!.split('@')[0]!;
      const slots: [number, number][] = [];
      for (const s of f.slice(8)) {
        if (s.startsWith('[')) continue; // migrating/importing marks
        const [a, b] = s.split('-').map(Number);
        slots.push([a!, b ?? a!]);
      }
      return { id: f[0]!, port: Number(addr.split(':')[1]), flags: f[2]!.split(','), masterId: f[3]!, slots };
    });
}

/** 3 masters + 3 replicas (node timeout 1 s), created with `redis-cli --cluster create`. */
export async function startClusterTopology(): Promise<ClusterTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'llm-cluster-'));
  const nodes: ClusterNode[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.proc.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  const ask = async <T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> => {
    const r = nodeClient(port);
    try {
      await r.connect();
      return await fn(r);
    } finally {
      r.disconnect();
    }
  };
  const live = () => nodes.filter((n) => n.proc.alive());
  const table = async (): Promise<NodeLine[]> => {
    for (const n of live()) {
      try {
        return parseNodes(String(await ask(n.port, (r) => r.call('CLUSTER', 'NODES'))));
      } catch {
        // try the next node
      }
    }
    throw new Error('no live cluster node');
  };
  const byId = (id: string) => {
    const n = nodes.find((x) => x.id === id);
    if (!n) throw new Error(`unknown node ${id}`);
    return n;
  };
  const stateOk = async (port: number) =>
    /cluster_state:ok/.test(String(await ask(port, (r) => r.call('CLUSTER', 'INFO'))));
  try {
    for (let i = 0; i < 6; i++) {
      const port = await freePort(true);
      const proc = await startServer(dir, port, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '1000',
        // a replica may always take over (the default refuses after ~10 node timeouts apart)
        '--cluster-replica-validity-factor',
        '0',

        '--dbfilename',
        `dump-${port}.rdb`,
      ]);
      const id = String(await ask(port, (r) => r.call('CLUSTER', 'MYID')));
      nodes.push({ proc, port, id });
    }
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `${HOST}:${n.port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { timeout: 60_000 },
    );
    await until(
      async () => (await Promise.all(nodes.map((n) => stateOk(n.port)))).every(Boolean),
      30_000,
      'cluster_state:ok',
    );
    // A replica that has not finished its first sync cannot take over with the data: wait for it.
    await until(
      async () =>
        (
          await Promise.all(
            nodes.map(async (n) => {
              const info = String(await ask(n.port, (r) => r.info('replication')));
              return /role:master/.test(info)
                ? /slave0:.*state=online/.test(info)
                : /master_link_status:up/.test(info);
            }),
          )
        ).every(Boolean),
      30_000,
      'replicas in sync',
    );
    const ownerOf = async (slot: number) => {
      const t = await table();
      const m = t.find(
        (n) =>
          n.flags.includes('master') &&
          !n.flags.includes('fail') &&
          n.slots.some(([a, b]) => slot >= a && slot <= b),
      );
      if (!m) throw new Error(`no master serves slot ${slot}`);
      return byId(m.id);
    };
    const masters = async () =>
      (await table())
        .filter((n) => n.flags.includes('master') && !n.flags.includes('fail') && n.slots.length)
        .map((n) => byId(n.id));
    return {
      nodes,
      seeds: nodes.slice(0, 3).map((n) => ({ ip: HOST, port: n.port })),
      ownerOf,
      masters,
      async migrateSlot(slot, to, between) {
        const from = await ownerOf(slot);
        if (from.id === to.id) return;
        await ask(to.port, (r) => r.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', from.id));
        await ask(from.port, (r) => r.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', to.id));
        // Traffic now meets ASK (keys already moved) and TRYAGAIN (a script's keys split across nodes).
        if (between) await between();
        for (;;) {
          const keys = (await ask(from.port, (r) =>
            r.call('CLUSTER', 'GETKEYSINSLOT', String(slot), '100'),
          )) as string[];
          if (!keys.length) break;
          await ask(from.port, (r) =>
            r.call('MIGRATE', HOST, String(to.port), '', '0', '5000', 'REPLACE', 'KEYS', ...keys),
          );
          if (between) await between();
        }
        // Tell every master: afterwards the old owner answers MOVED.
        for (const m of await masters())
          await ask(m.port, (r) => r.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id));
        await ask(to.port, (r) => r.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id));
        await ask(from.port, (r) => r.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id));
      },
      async killMaster(node) {
        const t = await table();
        const replica = t.find((n) => n.masterId === node.id);
        if (!replica) throw new Error(`master :${node.port} has no replica`);
        await node.proc.kill();
        const promoted = byId(replica.id);
        await until(
          async () => String(await ask(promoted.port, (r) => r.call('ROLE'))).startsWith('master'),
          30_000,
          'replica promotion',
        );
        await until(
          async () => (await Promise.all(live().map((n) => stateOk(n.port)))).every(Boolean),
          30_000,
          'cluster_state:ok after failover',
        );
        return promoted;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
