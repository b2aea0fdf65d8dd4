#!/usr/bin/env -S npx tsx
/**
 * Real-Kong benchmark: one DB-less Kong (2 workers) with the plugin server Kong starts from this build,
 * a zero-latency mock LLM and Redis. Every scenario is its own route in ONE config, and the sequential
 * latency rounds interleave the routes request by request, so machine noise hits all rows alike.
 *   npx tsx scripts/bench-kong.ts [--requests 500] [--concurrency 16] [--seconds 5] [--soak 100000]
 *   KONG_TEST_VERSION=3.4 KONG34_HOME=… npx tsx scripts/bench-kong.ts …   (Kong 3.4 LTS)
 * Rows: no plugins, key-auth only, each plugin alone, the full chain (guard, PII, accounting, cache,
 * router, tap, sentinel; distinct prompts: cache miss + fill), the same without llm-sentinel, a cache
 * hit; p50/p99 and added p50 over the
 * no-plugin route, req/s at the given concurrency (chain vs none), plugin-server RPC round trips per
 * request (GetStatus counters), then a soak of the full chain (RSS, heap after GC, event table).
 * Writes docs/benchmarks.md (or docs/benchmarks-kong34.md for 3.4).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { startKong, type KongHandle } from '../spec/support/real-kong';
import { startMockLlm } from '../spec/support/mock-llm';

const root = join(__dirname, '..');
const args = process.argv.slice(2);
const arg = (n: string, d: number) => {
  const i = args.indexOf(`--${n}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const N = arg('requests', 500);
const CONC = arg('concurrency', 16);
const SECONDS = arg('seconds', 5);
const SOAK = arg('soak', 100_000);

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(url: string, body: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', apikey: 'bench-key', ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

interface Scenario {
  name: string;
  path: string;
  plugins: { name: string; config?: Record<string, unknown> }[];
  /** same prompt every time (cache hit row) */
  fixed?: boolean;
  /** no llm-sentinel on this route (every other route with JS plugins has it, as kong.yml's global entry would) */
  bare?: boolean;
}

async function main(): Promise<void> {
  const mock = await startMockLlm();
  const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const redis = {
    host: redisUrl.hostname,
    port: Number(redisUrl.port || 6379),
    key_prefix: `bench-${Date.now().toString(36)}`,
  };
  const conf: Record<string, Record<string, unknown>> = {
    'llm-prompt-guard': {},
    'llm-pii-redaction': {},
    'llm-token-accounting': {
      strategy: 'redis',
      redis,
      policies: [{ name: 'big', limits: [{ limit: 1e12, window_size: 3600 }] }],
    },
    'llm-semantic-cache': { vectordb: { strategy: 'redis', redis } },
    'llm-model-router': {
      strategy: 'redis',
      redis,
      targets: [
        { name: 'mock', model: { name: 'gpt-4o-mini', options: { upstream_url: `${mock.url}/v1` } } },
      ],
    },
  };
  const p = (name: string) => ({ name, ...(conf[name] ? { config: conf[name] } : {}) });
  const auth = p('key-auth');
  const chain = [
    auth,
    p('llm-prompt-guard'),
    p('llm-pii-redaction'),
    p('llm-token-accounting'),
    p('llm-semantic-cache'),
    p('llm-model-router'),
    p('llm-response-tap'),
  ];
  const scenarios: Scenario[] = [
    { name: 'no plugins', path: 'none', plugins: [] },
    { name: 'key-auth only', path: 'keyauth', plugins: [auth] },
    { name: 'llm-prompt-guard', path: 'guard', plugins: [auth, p('llm-prompt-guard')] },
    {
      name: 'llm-pii-redaction + tap',
      path: 'pii',
      plugins: [auth, p('llm-pii-redaction'), p('llm-response-tap')],
    },
    {
      name: 'llm-token-accounting + tap',
      path: 'acct',
      plugins: [auth, p('llm-token-accounting'), p('llm-response-tap')],
    },
    {
      name: 'llm-semantic-cache + tap (miss + fill)',
      path: 'cache',
      plugins: [auth, p('llm-semantic-cache'), p('llm-response-tap')],
    },
    {
      name: 'llm-model-router + tap',
      path: 'router',
      plugins: [auth, p('llm-model-router'), p('llm-response-tap')],
    },
    { name: 'full chain (miss + fill)', path: 'chain', plugins: chain },
    { name: 'full chain without llm-sentinel', path: 'nosentinel', plugins: chain, bare: true },
    { name: 'full chain, cache hit', path: 'hit', plugins: chain, fixed: true },
  ];
  const config = {
    _format_version: '3.0',
    services: [
      {
        name: 'llm',
        url: `${mock.url}/v1`,
        routes: scenarios.map((s) => ({
          name: s.path,
          paths: [`/${s.path}/v1`],
          strip_path: true,
          response_buffering: false,
          // kong/kong.yml enables llm-sentinel globally; here it is per route so that one row can go without
          plugins: s.plugins.length > 1 && !s.bare ? [...s.plugins, { name: 'llm-sentinel' }] : s.plugins,
        })),
      },
    ],
    consumers: [{ username: 'bench', keyauth_credentials: [{ key: 'bench-key' }] }],
  };
  const kong: KongHandle = await startKong({ config, workers: 2, logLevel: 'notice' });
  const line = kong.line;
  let seq = 0;
  const body = (s: Scenario) =>
    JSON.stringify({
      model: 'gpt-4o-mini',
      // the cache never stores an answer cut by max_tokens: the hit row leaves room for the whole answer
      max_tokens: s.fixed ? 256 : 16,
      messages: [
        {
          role: 'user',
          content: s.fixed
            ? 'What is the boiling point of water at sea level?'
            : `Benchmark question number ${seq++} about the weather.`,
        },
      ],
    });
  const url = (s: Scenario) => `${kong.proxyUrl}/${s.path}/v1/chat/completions`;
  const rpcTotal = async () => {
    const st = await kong.pluginServerStatus();
    return (st.Rpc?.['HandleEvent'] ?? 0) + (st.Rpc?.['Step'] ?? 0);
  };

  // warm-up (also fills the cache-hit entry), then RPC round trips per request, one scenario at a time
  const rpcPerReq = new Map<string, number>();
  for (const s of scenarios) {
    for (let i = 0; i < 30; i++) await post(url(s), body(s));
    await kong.waitForLogs();
    const r0 = await rpcTotal();
    for (let i = 0; i < 20; i++) await post(url(s), body(s));
    await kong.waitForLogs();
    rpcPerReq.set(s.name, ((await rpcTotal()) - r0) / 20);
  }
  // sequential latency, interleaved: request i of every scenario, then request i+1 …
  const lat = new Map<string, number[]>(scenarios.map((s) => [s.name, []]));
  const errors = new Map<string, number>(scenarios.map((s) => [s.name, 0]));
  for (let i = 0; i < N; i++) {
    for (const s of scenarios) {
      const t = performance.now();
      const st = await post(url(s), body(s));
      lat.get(s.name)!.push(performance.now() - t);
      if (st !== 200) errors.set(s.name, errors.get(s.name)! + 1);
    }
  }
  await kong.waitForLogs();
  // throughput at concurrency CONC: no plugins vs full chain, alternating windows
  const rps = new Map<string, number[]>();
  for (const s of [scenarios[0]!, scenarios.find((x) => x.path === 'chain')!]) rps.set(s.name, []);
  for (let round = 0; round < 2; round++) {
    for (const s of [scenarios[0]!, scenarios.find((x) => x.path === 'chain')!]) {
      let done = 0;
      const end = performance.now() + SECONDS * 1000;
      await Promise.all(
        Array.from({ length: CONC }, async () => {
          while (performance.now() < end) {
            if ((await post(url(s), body(s))) !== 200) errors.set(s.name, errors.get(s.name)! + 1);
            done++;
          }
        }),
      );
      await kong.waitForLogs();
      rps.get(s.name)!.push(done / SECONDS);
    }
  }
  // soak of the full chain
  const chainSc = scenarios.find((x) => x.path === 'chain')!;
  const before = await kong.pluginServerStatus({ Gc: true });
  const samples: { n: number; rss: number; heap: number; events: number }[] = [];
  let sent = 0;
  let completed = 0;
  const step = Math.max(1, Math.floor(SOAK / 10));
  let nextSample = step;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      while (sent < SOAK) {
        sent++;
        await post(url(chainSc), body(chainSc));
        completed++;
        if (completed >= nextSample) {
          nextSample += step;
          const n = completed;
          const st = await kong.pluginServerStatus();
          samples.push({
            n,
            rss: st.Memory?.Rss ?? 0,
            heap: st.Memory?.HeapUsed ?? 0,
            events: st.Events ?? -1,
          });
        }
      }
    }),
  );
  await kong.waitForLogs();
  const after = await kong.pluginServerStatus({ Gc: true });
  const soakSeconds = (performance.now() - t0) / 1000;
  await kong.stop();
  await mock.stop();
  agent.destroy();

  const base = pct(lat.get('no plugins')!, 50);
  const mb = (n: number) => (n / 1048576).toFixed(1);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const noneRps = avg(rps.get('no plugins')!);
  const chainRps = avg(rps.get(chainSc.name)!);
  const lines = [
    `# Gateway benchmark on real Kong ${kong.version}`,
    '',
    `Command: \`${line === '3.4' ? 'KONG_TEST_VERSION=3.4 ' : ''}npx tsx scripts/bench-kong.ts --requests ${N} --concurrency ${CONC} --seconds ${SECONDS} --soak ${SOAK}\``,
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${mb(os.totalmem())} MB, Node ${process.version}, kong-pdk ${pkg.dependencies['kong-pdk']} (patched); ${new Date().toISOString()}.`,
    'Setup: real DB-less Kong, 2 nginx workers, the plugin server started by Kong from kong/bin (one Node process), mock LLM with zero latency, local Redis, key-auth on every row but the first, llm-sentinel on every row with JS plugins but one; non-stream requests. Kong, Node, Redis, the mock and this client share the 2 cores: compare rows of the same run, not absolute numbers across runs.',
    `Latency: ${N} sequential keep-alive requests per row, interleaved across rows. Distinct prompts except the cache-hit row.`,
    '',
    '| scenario | p50 ms | p99 ms | added p50 ms | RPC round trips / request | errors |',
    '|---|---:|---:|---:|---:|---:|',
    ...scenarios.map((s) => {
      const l = lat.get(s.name)!;
      return `| ${s.name} | ${pct(l, 50).toFixed(2)} | ${pct(l, 99).toFixed(2)} | ${(pct(l, 50) - base).toFixed(2)} | ${(rpcPerReq.get(s.name) ?? 0).toFixed(1)} | ${errors.get(s.name)} |`;
    }),
    '',
    `Throughput at concurrency ${CONC} (2 alternating windows of ${SECONDS} s each): no plugins ${noneRps.toFixed(0)} req/s, full chain ${chainRps.toFixed(0)} req/s (${((100 * chainRps) / Math.max(1, noneRps)).toFixed(0)} %).`,
    '',
    `## Soak: ${SOAK} requests through the full chain (${(SOAK / soakSeconds).toFixed(0)} req/s, concurrency ${CONC})`,
    '',
    '| requests | RSS MB | heap MB | event table |',
    '|---:|---:|---:|---:|',
    `| 0 (after GC) | ${mb(before.Memory?.Rss ?? 0)} | ${mb(before.Memory?.HeapUsed ?? 0)} | ${before.Events} |`,
    ...samples
      .sort((a, b) => a.n - b.n)
      .map((s) => `| ${s.n} | ${mb(s.rss)} | ${mb(s.heap)} | ${s.events} |`),
    `| end (after GC) | ${mb(after.Memory?.Rss ?? 0)} | ${mb(after.Memory?.HeapUsed ?? 0)} | ${after.Events} |`,
    '',
  ];
  const out = lines.join('\n');
  writeFileSync(join(root, 'docs', line === '3.4' ? 'benchmarks-kong34.md' : 'benchmarks.md'), out);
  process.stdout.write(out + '\n');
}

main().catch((err) => {
  process.stderr.write(`bench-kong: ${(err as Error).stack}\n`);
  process.exit(1);
});
