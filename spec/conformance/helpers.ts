/** Shared helpers for the conformance specs (test gateway + fixture plugins + a tiny upstream). */
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startGateway, REPO_ROOT, type GatewayHandle, type StartGatewayOptions } from '../support/kong';

export const FIXTURE_CONF = path.join(REPO_ROOT, 'spec', 'fixtures', 'pluginserver.conf');
export const FIXTURE_PLUGINS = path.join(REPO_ROOT, 'spec', 'fixtures', 'plugins');

export interface Upstream {
  url: string;
  port: number;
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
  /** send times (ms since epoch) of the SSE events of the last /sse request */
  sseSent: number[];
  stop(): Promise<void>;
}

/**
 * `/sse?n=5&gap=100` streams n SSE events `gap` ms apart; `/gzip` returns a gzip body;
 * `/slow?ms=` delays the answer; anything else echoes the request as JSON.
 */
export async function startUpstream(): Promise<Upstream> {
  const requests: Upstream['requests'] = [];
  const up: Partial<Upstream> = { requests, sseSent: [] };
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

export function fixtureGateway(
  config: object,
  extra: Partial<StartGatewayOptions> = {},
): Promise<GatewayHandle> {
  return startGateway({ pluginServerConf: FIXTURE_CONF, pluginsDir: FIXTURE_PLUGINS, config, ...extra });
}

/** `REPORT {...}` lines written by the fixture plugins through kong.log.notice */
export function reports(gw: GatewayHandle, plugin?: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const l of gw.pluginServerLog()) {
    const i = l.indexOf('REPORT ');
    if (i < 0) continue;
    const r = JSON.parse(l.slice(i + 7)) as Record<string, unknown>;
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
