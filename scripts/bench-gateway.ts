#!/usr/bin/env -S npx tsx
/**
 * Gateway benchmark: test gateway (Kong 3.9 emulator) + the real plugin server + a zero-latency mock
 * LLM, side by side in one run. For each scenario (no plugins, each plugin alone, the full chain):
 * added latency p50/p99 over sequential requests, req/s under concurrency, RPC round trips per
 * request; then a soak of the full chain with the plugin server's RSS and event table.
 *   npx tsx scripts/bench-gateway.ts [--requests 400] [--concurrency 16] [--seconds 3] [--soak 100000]
 * Writes docs/benchmarks.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { startGateway, type GatewayHandle } from '../spec/support/kong';
import { startMockLlm } from '../spec/support/mock-llm';
import { createLuaRunner } from '../spec/support/lua-host';

const root = join(__dirname, '..');
const args = process.argv.slice(2);
const arg = (n: string, d: number) => {
  const i = args.indexOf(`--${n}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const N = arg('requests', 400);
const CONC = arg('concurrency', 16);
const SECONDS = arg('seconds', 3);
const SOAK = arg('soak', 20000);

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(url: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } },
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

interface Result {
  name: string;
  p50: number;
  p99: number;
  rps: number;
  rpcPerReq: number;
  errors: number;
}

async function main(): Promise<void> {
  const mock = await startMockLlm();
  const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const redis = {
    host: redisUrl.hostname,
    port: Number(redisUrl.port || 6379),
    key_prefix: `bench-${Date.now().toString(36)}`,
  };
  const shipped = [
    'llm-prompt-guard',
    'llm-pii-redaction',
    'llm-token-accounting',
    'llm-semantic-cache',
    'llm-model-router',
  ].filter((p) => existsSync(join(root, 'dist', 'plugins', p, 'index.js')));
  const pluginConf: Record<string, Record<string, unknown>> = {
    'llm-prompt-guard': {},
    'llm-pii-redaction': {},
    'llm-token-accounting': {
      strategy: 'redis',
      redis,
      policies: [{ name: 'big', limits: [{ limit: 1e12, window_size: 3600 }] }],
    },
    'llm-semantic-cache': { partition_by: 'global', vectordb: { strategy: 'redis', redis } },
    'llm-model-router': {
      strategy: 'redis',
      redis,
      targets: [
        { name: 'mock', model: { name: 'gpt-4o-mini', options: { upstream_url: `${mock.url}/v1` } } },
      ],
    },
  };
  type Conf = Record<string, Record<string, unknown>>;
  const scenarios: { name: string; plugins: string[]; conf?: Conf }[] = [
    { name: 'no plugins', plugins: [] },
    ...shipped.map((p) => ({ name: p, plugins: [p] })),
    // The guard's learned classifier off, side by side with the default above.
    ...(shipped.includes('llm-prompt-guard')
      ? [
          {
            name: 'llm-prompt-guard, rules only',
            plugins: ['llm-prompt-guard'],
            conf: { 'llm-prompt-guard': { injection: { families: { classifier: false } } } },
          },
        ]
      : []),
    { name: 'full chain + tap', plugins: [...shipped, 'llm-response-tap'] },
  ];
  const config = (plugins: string[], conf: Conf = pluginConf) => ({
    _format_version: '3.0',
    services: [
      {
        name: 'llm',
        url: `${mock.url}/v1`,
        routes: [
          {
            name: 'bench',
            paths: ['/ai/v1'],
            strip_path: true,
            response_buffering: false,
            plugins: plugins.map((name) => ({
              name,
              ...(conf[name] ? { config: conf[name] } : {}),
            })),
          },
        ],
      },
    ],
  });
  const gw: GatewayHandle = await startGateway({
    pluginServerConf: join(root, 'kong/pluginserver.conf'),
    luaPlugins: ['llm-response-tap'],
    luaRunner: await createLuaRunner(),
    config: config([]),
  });
  const url = `${gw.proxyUrl}/ai/v1/chat/completions`;
  let seq = 0;
  // Distinct prompts so the cache scenario measures misses + fills, not hits.
  const body = () =>
    JSON.stringify({
      model: 'gpt-4o-mini',
      max_tokens: 16,
      messages: [{ role: 'user', content: `Benchmark question number ${seq++} about the weather.` }],
    });
  const results: Result[] = [];
  for (const sc of scenarios) {
    try {
      await gw.loadConfig(config(sc.plugins, { ...pluginConf, ...sc.conf }));
    } catch (err) {
      process.stderr.write(`${sc.name}: skipped, config rejected: ${(err as Error).message}\n`);
      continue;
    }
    for (let i = 0; i < 50; i++) await post(url, body(), {});
    await gw.waitForLogs();
    const rpc0 = gw.gateway.pluginServers?.rpcCalls() ?? 0;
    const lat: number[] = [];
    let errors = 0;
    for (let i = 0; i < N; i++) {
      const t = performance.now();
      const s = await post(url, body(), {});
      lat.push(performance.now() - t);
      if (s !== 200) errors++;
    }
    await gw.waitForLogs();
    const rpcPerReq = ((gw.gateway.pluginServers?.rpcCalls() ?? 0) - rpc0) / N;
    let done = 0;
    const end = performance.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONC }, async () => {
        while (performance.now() < end) {
          if ((await post(url, body(), {})) !== 200) errors++;
          done++;
        }
      }),
    );
    await gw.waitForLogs();
    results.push({
      name: sc.name,
      p50: pct(lat, 50),
      p99: pct(lat, 99),
      rps: done / SECONDS,
      rpcPerReq,
      errors,
    });
    process.stderr.write(
      `${sc.name}: p50 ${pct(lat, 50).toFixed(2)} ms p99 ${pct(lat, 99).toFixed(2)} ms ${(done / SECONDS).toFixed(0)} req/s rpc/req ${rpcPerReq.toFixed(1)} errors ${errors}\n`,
    );
  }
  // Soak of the full chain.
  await gw.loadConfig(config([...shipped, 'llm-response-tap']));
  const before = await gw.pluginServerStatus();
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
        await post(url, body(), {});
        completed++;
        if (completed >= nextSample) {
          nextSample += step;
          const n = completed;
          const st = await gw.pluginServerStatus();
          samples.push({ n, rss: st.Memory.Rss, heap: st.Memory.HeapUsed, events: st.Events });
        }
      }
    }),
  );
  await gw.waitForLogs();
  const after = await gw.pluginServerStatus();
  const soakSeconds = (performance.now() - t0) / 1000;
  await gw.stop();
  await mock.stop();
  agent.destroy();

  const base = results[0]!;
  const mb = (n: number) => (n / 1048576).toFixed(1);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const lines = [
    '# Gateway benchmark',
    '',
    `Command: \`npx tsx scripts/bench-gateway.ts --requests ${N} --concurrency ${CONC} --seconds ${SECONDS} --soak ${SOAK}\``,
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${mb(os.totalmem())} MB, Node ${process.version}, kong-pdk ${pkg.dependencies['kong-pdk']} (patched); ${new Date().toISOString()}.`,
    'Setup: test gateway (Kong 3.9 emulator, one worker) + the real plugin server serving dist/ + mock LLM with zero latency + local Redis; non-stream requests, distinct prompts (cache scenarios measure miss + fill).',
    'The gateway itself is a Node process on the same 2 cores, so absolute numbers are pessimistic; compare the added latency between rows measured in the same run.',
    '',
    '| scenario | p50 ms | p99 ms | added p50 ms | req/s (conc ' +
      CONC +
      ') | RPC round trips / request | errors |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.name} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${(r.p50 - base.p50).toFixed(2)} | ${r.rps.toFixed(0)} | ${r.rpcPerReq.toFixed(1)} | ${r.errors} |`,
    ),
    '',
    `## Soak: ${SOAK} requests through the full chain (${(SOAK / soakSeconds).toFixed(0)} req/s)`,
    '',
    '| requests | RSS MB | heap MB | event table |',
    '|---:|---:|---:|---:|',
    `| 0 | ${mb(before.Memory.Rss)} | ${mb(before.Memory.HeapUsed)} | ${before.Events} |`,
    ...samples
      .sort((a, b) => a.n - b.n)
      .map((s) => `| ${s.n} | ${mb(s.rss)} | ${mb(s.heap)} | ${s.events} |`),
    `| end | ${mb(after.Memory.Rss)} | ${mb(after.Memory.HeapUsed)} | ${after.Events} |`,
    '',
  ];
  const out = lines.join('\n');
  writeFileSync(join(root, 'docs', 'benchmarks.md'), out);
  process.stdout.write(out + '\n');
}

main().catch((err) => {
  process.stderr.write(`bench-gateway: ${(err as Error).stack}\n`);
  process.exit(1);
});
