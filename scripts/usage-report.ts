#!/usr/bin/env -S npx tsx
/**
 * Usage report from the llm-token-accounting ledger (a Redis stream):
 *   npx tsx scripts/usage-report.ts [--redis redis://127.0.0.1:6379] [--prefix llm] [--format table|csv|json]
 *       [--since 2026-11-01] [--until 2026-12-01]
 * Totals per payer, served model and UTC day: requests, prompt/completion/cached tokens, cost, savings.
 */
import Redis from 'ioredis';

export interface ReportRow {
  payer: string;
  model: string;
  day: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  total_tokens: number;
  cost_usd: number;
  savings_usd: number;
  cache_hits: number;
}

export interface ReportOptions {
  redisUrl: string;
  prefix: string;
  format: 'table' | 'csv' | 'json';
  since?: string;
  until?: string;
}

/** Read the whole ledger (in pages) and aggregate it. */
export async function runUsageReport(o: ReportOptions): Promise<ReportRow[]> {
  const redis = new Redis(o.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const stream = `${o.prefix}:v1:ledger`;
  const rows = new Map<string, ReportRow>();
  // Costs are summed in pico-USD integers so the report matches the ledger exactly.
  const pico = new Map<string, { cost: bigint; savings: bigint }>();
  let start = '-';
  try {
    for (;;) {
      const page = await redis.xrange(stream, start, '+', 'COUNT', 1000);
      if (!page.length) break;
      for (const [, kv] of page) {
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < kv.length; i += 2) f[kv[i]!] = kv[i + 1]!;
        const day = (f.time ?? '').slice(0, 10);
        if (o.since && day < o.since) continue;
        if (o.until && day >= o.until) continue;
        const key = `${f.payer}\u0000${f.model_served}\u0000${day}`;
        let r = rows.get(key);
        if (!r) {
          r = {
            payer: f.payer ?? '',
            model: f.model_served ?? '',
            day,
            requests: 0,
            prompt_tokens: 0,
            completion_tokens: 0,
            cached_tokens: 0,
            total_tokens: 0,
            cost_usd: 0,
            savings_usd: 0,
            cache_hits: 0,
          };
          rows.set(key, r);
          pico.set(key, { cost: 0n, savings: 0n });
        }
        const n = (v: string | undefined) => Number(v ?? 0) || 0;
        r.requests++;
        r.prompt_tokens += n(f.prompt_tokens);
        r.completion_tokens += n(f.completion_tokens);
        r.cached_tokens += n(f.cached_tokens);
        r.total_tokens += n(f.prompt_tokens) + n(f.completion_tokens);
        if (f.cache_status === 'Hit') r.cache_hits++;
        const p = pico.get(key)!;
        p.cost += BigInt(Math.round(n(f.cost_usd) * 1e12));
        p.savings += BigInt(Math.round(n(f.savings_usd) * 1e12));
      }
      const last = page[page.length - 1]![0];
      start = `(${last}`;
    }
  } finally {
    redis.disconnect();
  }
  for (const [key, r] of rows) {
    const p = pico.get(key)!;
    r.cost_usd = Number(p.cost) / 1e12;
    r.savings_usd = Number(p.savings) / 1e12;
  }
  return [...rows.values()].sort(
    (a, b) => a.day.localeCompare(b.day) || a.payer.localeCompare(b.payer) || a.model.localeCompare(b.model),
  );
}

function format(rows: ReportRow[], fmt: ReportOptions['format']): string {
  if (fmt === 'json') return JSON.stringify(rows, null, 2);
  const cols: (keyof ReportRow)[] = [
    'day',
    'payer',
    'model',
    'requests',
    'prompt_tokens',
    'completion_tokens',
    'cached_tokens',
    'total_tokens',
    'cost_usd',
    'savings_usd',
    'cache_hits',
  ];
  const cell = (r: ReportRow, c: keyof ReportRow) =>
    c === 'cost_usd' || c === 'savings_usd' ? (r[c] as number).toFixed(6) : String(r[c]);
  if (fmt === 'csv') {
    const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    return [cols.join(','), ...rows.map((r) => cols.map((c) => q(cell(r, c))).join(','))].join('\n');
  }
  const table = [cols.map(String), ...rows.map((r) => cols.map((c) => cell(r, c)))];
  const widths = cols.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((v, i) => v.padEnd(widths[i]!)).join('  ')).join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt?: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : dflt;
  };
  runUsageReport({
    redisUrl: opt('redis', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')!,
    prefix: opt('prefix', 'llm')!,
    format: (opt('format', 'table') as ReportOptions['format']) ?? 'table',
    since: opt('since'),
    until: opt('until'),
  })
    .then((rows) =>
      process.stdout.write(
        format(rows, (opt('format', 'table') as ReportOptions['format']) ?? 'table') + '\n',
      ),
    )
    .catch((err) => {
      process.stderr.write(`usage-report: ${(err as Error).message}\n`);
      process.exit(1);
    });
}
