/**
 * llm-model-router benchmark: decision time (the router's own work in access, without PDK RPCs: rules,
 * candidate filtering, state snapshot from the in-process store, balancer), weight accuracy over 10k
 * decisions, and how fast an ejected target is avoided and readmitted (fake clock, in decisions).
 * Optional: REDIS_URL → the same decision time with the Redis store (one MGET per decision).
 * Usage: node --import tsx scripts/bench-router.ts  (writes docs/benchmarks-router.md)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { withDefaults } from '../lib/schema/kong-schema';
import { MemoryStore } from '../lib/store/memory';
import { RedisStore } from '../lib/store/redis';
import { redisClientFor, closeAllStores } from '../lib/store/pool';
import type { Store } from '../lib/store/types';
import { Schema, type ModelRouterConfig } from '../plugins/llm-model-router/schema';
import { Router, type RequestFacts } from '../plugins/llm-model-router/router';
import { RouterState } from '../plugins/llm-model-router/state';

const log = pino({ level: 'silent' });

function cfg(algorithm: string, weights = [500, 300, 200]): ModelRouterConfig {
  return withDefaults<ModelRouterConfig>(Schema, {
    strategy: 'memory',
    targets: weights.map((w, i) => ({
      name: `t${i}`,
      weight: w,
      model: {
        name: 'gpt-4o-mini',
        options: {
          upstream_url: `http://t${i}.example/v1`,
          input_cost: 0.15 * (i + 1),
          output_cost: 0.6 * (i + 1),
        },
      },
    })),
    aliases: [{ name: 'fast', targets: weights.map((_, i) => `t${i}`) }],
    rules: [
      { name: 'vip', consumer_groups: ['vip'], targets: ['t0'] },
      { name: 'beta', headers: [{ name: 'x-beta', values: ['1'] }], targets: ['t1'] },
    ],
    balancer: { algorithm, max_fails: 3, fail_window: 30, fail_timeout: 10 },
  });
}

function facts(i: number): RequestFacts {
  return {
    model: 'fast',
    stream: i % 2 === 0,
    promptTokens: 200,
    headers: { 'x-session-id': [`s${i % 1000}`] },
    consumer: { id: `c${i % 50}` },
    groups: [],
    budgetLow: false,
  };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function decisionTimes(
  algorithm: string,
  store: Store,
  n: number,
): Promise<{ p50: number; p99: number }> {
  const router = new Router(cfg(algorithm), {});
  const state = new RouterState({ store, prefix: `bench-${Date.now()}`, now: Date.now, log });
  for (let i = 0; i < 500; i++) await router.decide(facts(i), state, Date.now()); // warm-up
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    await router.decide(facts(i), state, Date.now());
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  t.sort((a, b) => a - b);
  return { p50: pct(t, 50), p99: pct(t, 99) };
}

async function weightAccuracy(): Promise<{ algo: string; expected: number[]; got: number[] }[]> {
  const out = [];
  for (const algo of ['round-robin', 'consistent-hashing']) {
    const router = new Router(cfg(algo), {});
    const state = new RouterState({ store: new MemoryStore(), prefix: 'w', now: Date.now, log });
    const got = [0, 0, 0];
    for (let i = 0; i < 10_000; i++) {
      const f = { ...facts(i), headers: { 'x-session-id': [`session-${i}`] } };
      const d = await router.decide(f, state, 0);
      got[Number(d.target.name.slice(1))]!++;
    }
    out.push({ algo, expected: [5000, 3000, 2000], got });
  }
  return out;
}

async function ejection(): Promise<{ avoidedAfter: number; readmitAfterMs: number; probeDecisions: number }> {
  let now = 1_000_000;
  const clock = () => now;
  const router = new Router(cfg('round-robin', [100, 100]), {});
  const state = new RouterState({ store: new MemoryStore({ now: clock }), prefix: 'e', now: clock, log });
  const h = router.health;
  const id = router.byName.get('t1')!.id;
  // t1 starts failing: count decisions until it is no longer chosen (log phase applied after each request)
  let decisions = 0;
  let avoidedAfter = -1;
  let sinceLastT1 = 0;
  let lastFailAt = now;
  while (decisions < 1000) {
    const d = await router.decide(facts(decisions), state, now);
    decisions++;
    if (d.target.name === 't1') {
      sinceLastT1 = 0;
      lastFailAt = now;
      await state.record(id, 't1', { ok: false, failure: true, status: 503 }, h);
    } else if (++sinceLastT1 >= 50) {
      avoidedAfter = decisions - 50;
      break;
    }
    now += 10;
  }
  // t1 healthy again: advance the clock in 100 ms steps until a decision probes it
  const ejectedAt = lastFailAt;
  let probeDecisions = 0;
  for (;;) {
    now += 100;
    const d = await router.decide(facts(probeDecisions), state, now);
    probeDecisions++;
    if (d.target.name === 't1') {
      await state.record(id, 't1', { ok: true, failure: false, status: 200 }, h);
      break;
    }
  }
  return { avoidedAfter, readmitAfterMs: now - ejectedAt, probeDecisions };
}

async function main(): Promise<void> {
  const N = 20_000;
  const rows: string[] = [];
  const algos = ['round-robin', 'lowest-latency', 'lowest-usage', 'lowest-cost', 'consistent-hashing'];
  for (const a of algos) {
    const r = await decisionTimes(a, new MemoryStore(), N);
    rows.push(`| ${a} | memory | ${r.p50.toFixed(4)} | ${r.p99.toFixed(4)} |`);
  }
  let redisNote = 'REDIS_URL not set: Redis store not measured.';
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  try {
    const u = new URL(url);
    const client = redisClientFor({
      host: u.hostname,
      port: Number(u.port || 6379),
      database: 0,
      username: null,
      password: null,
      timeout: 2000,
      ssl: false,
      ssl_verify: true,
      server_name: null,
      key_prefix: 'bench',
    });
    await client.connect().catch(() => undefined);
    await client.ping();
    const r = await decisionTimes('round-robin', new RedisStore(client), 5_000);
    rows.push(`| round-robin | redis (${u.host}) | ${r.p50.toFixed(4)} | ${r.p99.toFixed(4)} |`);
    const keys = await client.keys('bench-*');
    if (keys.length) await client.del(...keys);
    redisNote = `Redis at ${u.host}: one MGET per decision (6 keys per candidate).`;
  } catch (e) {
    redisNote = `Redis not reachable at ${url}: ${(e as Error).message}`;
  } finally {
    await closeAllStores();
  }
  const w = await weightAccuracy();
  const ej = await ejection();
  const md = [
    '# llm-model-router benchmarks',
    '',
    `Measured with \`node --import tsx scripts/bench-router.ts\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, a shared 2-core machine (other work running: treat p99 as noisy).`,
    '',
    '## Decision time (excluding PDK RPCs)',
    '',
    `\`Router.decide\`: rules (3, the last matches), alias, candidate filtering (context window), state snapshot, balancer; 3 targets; ${N} decisions (Redis: 5000) after 500 warm-up. Milliseconds.`,
    '',
    '| algorithm | store | p50 ms | p99 ms |',
    '|---|---|---|---|',
    ...rows,
    '',
    redisNote,
    '',
    '## Weight accuracy over 10,000 decisions (weights 500/300/200)',
    '',
    '| algorithm | expected | got | max error |',
    '|---|---|---|---|',
    ...w.map(
      (r) =>
        `| ${r.algo} | ${r.expected.join(' / ')} | ${r.got.join(' / ')} | ${(Math.max(...r.got.map((g, i) => Math.abs(g - r.expected[i]!) / 10_000)) * 100).toFixed(2)} % |`,
    ),
    '',
    'Smooth weighted round-robin is exact per node; consistent hashing spreads distinct keys by weight (statistical).',
    '',
    '## Ejection and readmission (2 targets, max_fails 3, fail_timeout 10 s, fake clock, log phase applied after each request)',
    '',
    `- A failing target is avoided after **${ej.avoidedAfter} decisions** (it received max_fails = 3 requests, one every second decision under round-robin); after that it got 0 of the next 50.`,
    `- It is probed again **${(ej.readmitAfterMs / 1000).toFixed(1)} s** after the ejection (fail_timeout 10 s, checked in 100 ms steps), the first decision after fail_timeout (${ej.probeDecisions} decisions into the 100 ms stepping) sends the half-open probe; a successful probe closes it.`,
    "- Across nodes the same holds through Redis: a node sees another node's ejection on its next decision (every decision reads the state; no local cache).",
    '',
  ].join('\n');
  writeFileSync(join(__dirname, '..', 'docs', 'benchmarks-router.md'), md);
  process.stdout.write(md + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + '\n');
  process.exit(1);
});
