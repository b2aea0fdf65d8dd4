#!/usr/bin/env -S npx tsx
/**
 * llm-token-accounting benchmark:
 *  1. reserve + settle latency against a local Redis (the two scripts a request runs), p50/p99;
 *  2. overshoot: 200 concurrent requests through the test gateway against one nearly spent budget.
 *   npx tsx scripts/bench-accounting.ts [--n 5000] [--concurrency 200]
 * Appends to docs/benchmarks-accounting.md.
 */
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import Redis from 'ioredis';
import { RedisStore } from '../lib/store/redis';
import type { BudgetWindow } from '../lib/store/types';
import { startKong } from '../spec/support/real-kong';
import { startMockLlm } from '../spec/support/mock-llm';

const root = join(__dirname, '..');
const args = process.argv.slice(2);
const arg = (n: string, d: number) =>
  args.includes(`--${n}`) ? Number(args[args.indexOf(`--${n}`) + 1]) : d;
const N = arg('n', 5000);
const CONC = arg('concurrency', 200);
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

async function storeLatency(redisUrl: string): Promise<string> {
  const client = new Redis(redisUrl);
  const store = new RedisStore(client);
  const prefix = `bench-acct-${Date.now().toString(36)}`;
  const windows: BudgetWindow[] = [
    { key: `${prefix}:hour`, limit: 1e12, ttlSec: 7200 },
    { key: `${prefix}:day`, limit: 1e12, ttlSec: 172800, prev: { key: `${prefix}:day-prev`, weight: 0.5 } },
  ];
  const reserve: number[] = [];
  const settle: number[] = [];
  for (let i = 0; i < N; i++) {
    let t = performance.now();
    await store.reserve(windows, [500, 500], `r${i}`, 900);
    reserve.push(performance.now() - t);
    t = performance.now();
    await store.settle(windows, [120, 120], `r${i}`);
    settle.push(performance.now() - t);
  }
  const keys = await client.keys(`${prefix}*`);
  if (keys.length) await client.del(...keys);
  client.disconnect();
  return `| reserve (2 windows) | ${pct(reserve, 50).toFixed(3)} | ${pct(reserve, 99).toFixed(3)} |\n| settle (2 windows) | ${pct(settle, 50).toFixed(3)} | ${pct(settle, 99).toFixed(3)} |`;
}

function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  agent: http.Agent,
): Promise<number> {
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

async function overshoot(redisUrl: string): Promise<string> {
  const u = new URL(redisUrl);
  const redis = {
    host: u.hostname,
    port: Number(u.port || 6379),
    key_prefix: `bench-os-${Date.now().toString(36)}`,
  };
  const mock = await startMockLlm();
  const limit = 5000;
  const gw = await startKong({
    config: {
      _format_version: '3.0',
      services: [
        {
          name: 'llm',
          url: `${mock.url}/v1`,
          routes: [
            {
              name: 'r',
              paths: ['/ai/v1'],
              strip_path: true,
              plugins: [
                {
                  name: 'llm-token-accounting',
                  config: {
                    strategy: 'redis',
                    redis,
                    identifier: ['global'],
                    policies: [{ name: 'one', limits: [{ limit, window_size: 3600 }] }],
                  },
                },
                { name: 'llm-response-tap' },
              ],
            },
          ],
        },
      ],
    },
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONC });
  const url = `${gw.proxyUrl}/ai/v1/chat/completions`;
  const statuses = await Promise.all(
    Array.from({ length: CONC }, (_, i) =>
      post(
        url,
        JSON.stringify({
          model: 'gpt-4o-mini',
          max_tokens: 40,
          messages: [{ role: 'user', content: `concurrent question ${i}` }],
        }),
        {},
        agent,
      ),
    ),
  );
  await gw.waitForLogs();
  const client = new Redis(redisUrl);
  const rows = await client.xrange(`${redis.key_prefix}:v1:ledger`, '-', '+');
  let committed = 0;
  for (const [, kv] of rows) {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < kv.length; i += 2) f[kv[i]!] = kv[i + 1]!;
    committed += Number(f.prompt_tokens) + Number(f.completion_tokens);
  }
  const keys = await client.keys(`${redis.key_prefix}*`);
  if (keys.length) await client.del(...keys);
  client.disconnect();
  agent.destroy();
  await gw.stop();
  await mock.stop();
  const ok = statuses.filter((s) => s === 200).length;
  const rejected = statuses.filter((s) => s === 429).length;
  return `${CONC} concurrent requests (max_tokens 40) against one budget of ${limit} tokens: ${ok} served, ${rejected} answered 429, other ${CONC - ok - rejected}; committed ${committed} tokens = ${((committed / limit) * 100).toFixed(1)}% of the limit; overshoot ${Math.max(0, committed - limit)} tokens.`;
}

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const lat = await storeLatency(redisUrl);
  const os1 = await overshoot(redisUrl);
  const out = [
    '',
    `## Run ${new Date().toISOString()}`,
    '',
    `Command: \`npx tsx scripts/bench-accounting.ts --n ${N} --concurrency ${CONC}\`; ${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.version}, local Redis.`,
    '',
    '| operation (Redis round trip incl. Lua script) | p50 ms | p99 ms |',
    '|---|---:|---:|',
    lat,
    '',
    `Overshoot: ${os1}`,
    '',
  ].join('\n');
  appendFileSync(join(root, 'docs', 'benchmarks-accounting.md'), out);
  process.stdout.write(out);
}

main().catch((err) => {
  process.stderr.write(`bench-accounting: ${(err as Error).stack}\n`);
  process.exit(1);
});
