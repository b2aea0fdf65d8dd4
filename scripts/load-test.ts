/**
 * Load test through the test gateway (real plugin server serving dist/plugins, Lua tap, a private
 * redis-server, the mock LLM): N concurrent streaming requests, then a sustained non-stream load on a
 * route with the full chain (guard, PII, accounting, tap) and on a bare route (no plugins) to report
 * the latency the plugins add (p50/p99/max), errors, and the plugin server's memory and event table.
 *
 *   npm run build && node --import tsx scripts/load-test.ts [--streams 1000] [--seconds 30] [--concurrency 16]
 *
 * The CI version (spec/resilience/40-load.spec.ts) calls runLoad() with 100 streams.
 */
import * as http from 'node:http';
import { startKong } from '../spec/support/real-kong';
import { startMockLlm } from '../spec/support/mock-llm';
import { PrivateRedis, percentile } from '../spec/resilience/helpers';

export interface LoadOptions {
  streams: number;
  /** sustained non-stream phase length (s) */
  seconds: number;
  /** concurrent clients in the sustained phase (per route) */
  concurrency: number;
}

export interface Latency {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export interface LoadReport {
  options: LoadOptions;
  streams: { ok: number; errors: number; wallMs: number; ttfb: Latency; total: Latency };
  sustained: {
    plugins: Latency;
    bare: Latency;
    errors: number;
    rps: number;
    addedP50: number;
    addedP99: number;
  };
  memory: { rssBeforeMb: number; rssAfterMb: number; heapBeforeMb: number; heapAfterMb: number };
  eventsAfter: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 2048 });

function lat(xs: number[]): Latency {
  const s = [...xs].sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 100) / 100;
  return { n: s.length, p50: r(percentile(s, 50)), p99: r(percentile(s, 99)), max: r(s.at(-1) ?? NaN) };
}

function request(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; ttfb: number; total: number; body: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        const ttfb = performance.now() - t0;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            ttfb,
            total: performance.now() - t0,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;

export async function runLoad(opts: LoadOptions): Promise<LoadReport> {
  const rds = await PrivateRedis.start();
  const mock = await startMockLlm();
  const redis = { host: '127.0.0.1', port: rds.port, key_prefix: `load-${process.pid}` };
  const gw = await startKong({
    config: {
      _format_version: '3.0',
      services: [
        {
          name: 'llm',
          url: `${mock.url}/v1`,
          routes: [
            {
              name: 'full',
              paths: ['/full'],
              strip_path: true,
              response_buffering: false,
              plugins: [
                { name: 'llm-prompt-guard', config: {} },
                { name: 'llm-pii-redaction', config: {} },
                {
                  name: 'llm-token-accounting',
                  config: {
                    strategy: 'redis',
                    redis,
                    ledger: { log: false },
                    policies: [{ name: 'h', limits: [{ limit: 1_000_000_000, window_size: 3600 }] }],
                  },
                },
                { name: 'llm-response-tap' },
              ],
            },
            { name: 'bare', paths: ['/bare'], strip_path: true, response_buffering: false },
          ],
        },
      ],
    },
  });
  try {
    const status = async () =>
      (await gw.pluginServerStatus()) as { Events: number; Memory: { Rss: number; HeapUsed: number } };
    const body = (i: number, stream: boolean) =>
      JSON.stringify({
        model: 'gpt-4o-mini',
        max_tokens: 30,
        messages: [
          { role: 'user', content: `Question ${i}: mail ops${i}@example.com about the river report.` },
        ],
        ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
      });
    // warm the instances
    await request(`${gw.proxyUrl}/full/chat/completions`, body(0, false), {});
    await gw.waitForLogs();
    const before = await status();

    // 1. N concurrent streams (paced so they overlap)
    const pace = { 'x-mock-ttft-ms': '200', 'x-mock-tokens-per-s': '50' };
    const t0 = performance.now();
    const streams = await Promise.allSettled(
      Array.from({ length: opts.streams }, (_, i) =>
        request(`${gw.proxyUrl}/full/chat/completions`, body(i, true), pace),
      ),
    );
    const wallMs = performance.now() - t0;
    const okStreams = streams.filter(
      (s) => s.status === 'fulfilled' && s.value.status === 200 && s.value.body.includes('[DONE]'),
    );
    await gw.waitForLogs();

    // 2. sustained non-stream load, plugins vs bare, interleaved
    const times: Record<'full' | 'bare', number[]> = { full: [], bare: [] };
    let errors = 0;
    const end = Date.now() + opts.seconds * 1000;
    let n = 0;
    const worker = async (route: 'full' | 'bare') => {
      while (Date.now() < end) {
        const r = await request(`${gw.proxyUrl}/${route}/chat/completions`, body(n++, false), {}).catch(
          () => undefined,
        );
        if (!r || r.status !== 200) errors++;
        else times[route].push(r.total);
      }
    };
    const s0 = performance.now();
    await Promise.all(
      Array.from({ length: opts.concurrency * 2 }, (_, i) => worker(i % 2 ? 'bare' : 'full')),
    );
    const sustainedMs = performance.now() - s0;
    await gw.waitForLogs();
    let after = await status();
    for (let i = 0; i < 100 && after.Events > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await status();
    }
    const full = lat(times.full);
    const bare = lat(times.bare);
    return {
      options: opts,
      streams: {
        ok: okStreams.length,
        errors: opts.streams - okStreams.length,
        wallMs: Math.round(wallMs),
        ttfb: lat(okStreams.map((s) => (s as PromiseFulfilledResult<{ ttfb: number }>).value.ttfb)),
        total: lat(okStreams.map((s) => (s as PromiseFulfilledResult<{ total: number }>).value.total)),
      },
      sustained: {
        plugins: full,
        bare,
        errors,
        rps: Math.round(((times.full.length + times.bare.length) / sustainedMs) * 1000),
        addedP50: Math.round((full.p50 - bare.p50) * 100) / 100,
        addedP99: Math.round((full.p99 - bare.p99) * 100) / 100,
      },
      memory: {
        rssBeforeMb: mb(before.Memory.Rss),
        rssAfterMb: mb(after.Memory.Rss),
        heapBeforeMb: mb(before.Memory.HeapUsed),
        heapAfterMb: mb(after.Memory.HeapUsed),
      },
      eventsAfter: after.Events,
    };
  } finally {
    await gw.stop();
    await mock.stop();
    await rds.stop();
    agent.destroy();
  }
}

if (require.main === module) {
  const arg = (name: string, dflt: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : dflt;
  };
  runLoad({ streams: arg('streams', 1000), seconds: arg('seconds', 30), concurrency: arg('concurrency', 16) })
    .then((r) => {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      process.exit(r.streams.errors || r.sustained.errors ? 1 : 0);
    })
    .catch((e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(2);
    });
}
