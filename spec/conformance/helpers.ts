/**
 * Shared helpers for the conformance specs: a real Kong 3.9 (spec/support/real-kong.ts) serving the
 * fixture JS plugins of spec/fixtures/plugins through the patched plugin server, plus a tiny upstream.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startKong, REPO_ROOT, type KongHandle, type KongOptions } from '../support/real-kong';

export const FIXTURE_CONF = path.join(REPO_ROOT, 'spec', 'fixtures', 'pluginserver.conf');
export const FIXTURE_PLUGINS = path.join(REPO_ROOT, 'spec', 'fixtures', 'plugins');

export interface Upstream {
  url: string;
  port: number;
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
  /** send times (ms since epoch) of the SSE events of the last /sse request */
  sseSent: number[];
  /** lets the pending /sse-step request send its next event */
  step(): void;
  stop(): Promise<void>;
}

/**
 * `/sse?n=5&gap=100` streams n SSE events `gap` ms apart; `/sse-step?n=5` sends its first event at
 * once and each further one (then `[DONE]`) only when the test calls `step()`; `/gzip` returns a gzip
 * body; `/slow?ms=` delays the answer; anything else echoes the request as JSON.
 */
export async function startUpstream(): Promise<Upstream> {
  const requests: Upstream['requests'] = [];
  let onStep: (() => void) | undefined;
  const up: Partial<Upstream> = { requests, sseSent: [], step: () => onStep?.() };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname.endsWith('/sse')) {
        const n = Number(u.searchParams.get('n') ?? 5);
        const gap = Number(u.searchParams.get('gap') ?? 100);
        res.socket?.setNoDelay(true);
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
        res.flushHeaders();
        const sent: number[] = [];
        up.sseSent = sent;
        let i = 0;
        const tick = (): void => {
          if (res.destroyed) return;
          if (i < n) {
            sent.push(Date.now());
            res.write(`data: {"i":${i}}\n\n`);
            i++;
            setTimeout(tick, gap);
          } else {
            sent.push(Date.now());
            res.end('data: [DONE]\n\n');
          }
        };
        tick();
        return;
      }
      if (u.pathname.endsWith('/sse-step')) {
        const n = Number(u.searchParams.get('n') ?? 5);
        res.socket?.setNoDelay(true);
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
        let i = 0;
        const send = (): void => {
          if (res.destroyed) return;
          if (i < n) res.write(`data: {"i":${i++}}\n\n`);
          else {
            onStep = undefined;
            res.end('data: [DONE]\n\n');
          }
        };
        onStep = send;
        send();
        return;
      }
      if (u.pathname.endsWith('/gzip')) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const gz = (require('node:zlib') as typeof import('node:zlib')).gzipSync(
          Buffer.from('{"zipped":true}'),
        );
        res.writeHead(200, {
          'Content-Type': 'application/json',
          'Content-Encoding': 'gzip',
          'Content-Length': gz.length,
        });
        res.end(gz);
        return;
      }
      const answer = (): void => {
        const out = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body });
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(out) });
        res.end(out);
      };
      if (u.pathname.endsWith('/slow')) setTimeout(answer, Number(u.searchParams.get('ms') ?? 500));
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(up, {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  }) as Upstream;
}

/** A real Kong whose plugin server serves the fixture plugins (spec/fixtures/pluginserver.conf). */
export function fixtureKong(config: object, extra: Partial<KongOptions> = {}): Promise<KongHandle> {
  return startKong({ pluginServerConf: FIXTURE_CONF, pluginsDir: FIXTURE_PLUGINS, config, ...extra });
}

/**
 * The JSON object at the start of `s` (Kong appends `, context: ngx.timer, client: …` to a log line).
 */
function leadingJson(s: string): string | undefined {
  let depth = 0;
  let inStr = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
    } else if (c === '"') inStr = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return s.slice(0, i + 1);
  }
  return undefined;
}

/**
 * `REPORT {...}` lines the fixture plugins write through kong.log.notice: Kong writes them to its
 * error log (`[kong] mp_rpc.lua:… [js-echo] REPORT {…}, context: ngx.timer, client: …`).
 */
export function reports(kong: KongHandle, plugin?: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const l of kong.pluginServerLog()) {
    const i = l.indexOf('] REPORT {');
    if (i < 0) continue;
    const json = leadingJson(l.slice(i + 9));
    if (!json) throw new Error(`REPORT line cut short (nginx limits a log line): ${l.slice(0, 200)}…`);
    const r = JSON.parse(json) as Record<string, unknown>;
    if (!plugin || r['plugin'] === plugin) out.push(r);
  }
  return out;
}

/** A service + route document for one upstream. */
export function simpleConfig(
  upstreamUrl: string,
  routePlugins: object[],
  routeExtra: object = {},
  top: object = {},
): object {
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'svc',
        url: upstreamUrl,
        routes: [
          {
            name: 'r1',
            paths: ['/t'],
            strip_path: true,
            response_buffering: false,
            plugins: routePlugins,
            ...routeExtra,
          },
        ],
      },
    ],
    ...top,
  };
}

/** Reads a streamed response and records the arrival time of every chunk. */
export async function timedChunks(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; headers: Headers; chunks: Array<{ t: number; text: string }>; t0: number }> {
  const t0 = Date.now();
  const res = await fetch(url, init);
  const chunks: Array<{ t: number; text: string }> = [];
  const dec = new TextDecoder();
  if (res.body)
    for await (const c of res.body) chunks.push({ t: Date.now(), text: dec.decode(c as Uint8Array) });
  return { status: res.status, headers: res.headers, chunks, t0 };
}

/**
 * Reads an `/sse-step` stream in lockstep: after each event arrives the upstream is allowed to send
 * the next one. A gateway that buffers the response never delivers the first event while the
 * upstream waits, so the read hits the deadline: streaming is proven by causality, not by timing.
 */
export async function lockstep(
  up: Upstream,
  url: string,
  init?: RequestInit,
  deadlineMs = 15_000,
): Promise<{ status: number; headers: Headers; events: string[] }> {
  const events: string[] = [];
  // the deadline covers the response head too: a buffering gateway sends nothing at all
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => ac.abort(), deadlineMs);
  };
  const fail = (e: unknown): never => {
    if (ac.signal.aborted)
      assert.fail(`event ${events.length} did not reach the client while the upstream waited for it`);
    throw e;
  };
  arm();
  try {
    const res = await fetch(url, { ...init, signal: ac.signal }).catch(fail);
    const reader = res.body?.getReader();
    assert.ok(reader, 'a response body');
    const dec = new TextDecoder();
    let pending = '';
    for (;;) {
      const next = await reader.read().catch(fail);
      if (next.done) break;
      pending += dec.decode(next.value, { stream: true });
      let i: number;
      let got = 0;
      while ((i = pending.indexOf('\n\n')) >= 0) {
        events.push(pending.slice(0, i));
        pending = pending.slice(i + 2);
        got++;
      }
      if (got) arm();
      for (let k = 0; k < got; k++) up.step();
    }
    return { status: res.status, headers: res.headers, events };
  } finally {
    clearTimeout(timer);
  }
}
