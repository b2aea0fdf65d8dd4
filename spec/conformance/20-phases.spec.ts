/**
 * Real Kong 3.9 + the patched plugin server against kong-runtime.md §3 / §9 / §11 (phases, buffering
 * vs streaming, exit, ctx.shared across plugins, key-auth before JS plugins, ordering, the event
 * table), with the fixture plugins of spec/fixtures/plugins. One Kong for the file; each test loads
 * its routes with POST /config. Streaming is proven by causality (the upstream sends the next event
 * only once the client has the previous one), never by a timing bound.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureKong, lockstep, reports, startUpstream, timedChunks, type Upstream } from './helpers';
import type { KongHandle } from '../support/real-kong';

let up: Upstream;
let gw: KongHandle;

function cfg(
  routes: Array<{ name: string; path: string; plugins: object[]; extra?: object }>,
  top: object = {},
): object {
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'svc',
        url: up.url,
        routes: routes.map((r) => ({
          name: r.name,
          paths: [r.path],
          strip_path: true,
          response_buffering: false,
          plugins: r.plugins,
          ...(r.extra ?? {}),
        })),
      },
    ],
    ...top,
  };
}

before(async () => {
  up = await startUpstream();
  gw = await fixtureKong({ _format_version: '3.0' });
});
after(async () => {
  await gw?.stop();
  await up?.stop();
});

test('real Kong: §9.1/§11 streaming survives access+log plugins (each event reaches the client before the upstream sends the next)', async () => {
  await gw.loadConfig(
    cfg([
      {
        name: 'sse',
        path: '/sse-route',
        plugins: [{ name: 'js-echo' }, { name: 'js-noop', config: { label: 'x' } }],
      },
    ]),
  );
  const n = reports(gw, 'js-echo').length;
  const r = await lockstep(up, `${gw.proxyUrl}/sse-route/sse-step?n=5`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/event-stream');
  assert.deepEqual(r.events, [0, 1, 2, 3, 4].map((i) => `data: {"i":${i}}`).concat('data: [DONE]'));
  await gw.waitForLogs();
  // the log phase ran after the stream ended
  assert.equal(reports(gw, 'js-echo').length, n + 1);
  assert.equal(reports(gw, 'js-echo').at(-1)?.['tag'], 'echo');
});

test('real Kong: §3.2/§9.3 a response handler buffers the SSE stream (the first byte only after the upstream finished)', async () => {
  await gw.loadConfig(cfg([{ name: 'buf', path: '/buf', plugins: [{ name: 'js-response' }] }]));
  const r = await timedChunks(`${gw.proxyUrl}/buf/sse?n=5&gap=100`);
  assert.equal(r.status, 200);
  const first = r.chunks[0]?.t ?? 0;
  const lastSent = up.sseSent.at(-1) ?? 0;
  assert.ok(first >= lastSent, 'first byte only after the upstream sent its last event');
  assert.match(r.headers.get('x-response-seen') ?? '', /^200:\d+$/);
  assert.equal(
    r.chunks
      .map((c) => c.text)
      .join('')
      .match(/data: /g)?.length,
    6,
  );
});

test('real Kong: §3.4/§9.2 conditional enableBuffering: body readable in log; streamed request keeps streaming and log getRawBody fails', async () => {
  await gw.loadConfig(cfg([{ name: 'cb', path: '/cb', plugins: [{ name: 'js-buffer' }] }]));
  const before = reports(gw, 'js-buffer').length;
  const r1 = await fetch(`${gw.proxyUrl}/cb/json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"stream":false}',
  });
  const text = await r1.text();
  await gw.waitForLogs();
  const rep = reports(gw, 'js-buffer').slice(before);
  const body = rep.find((x) => x['stage'] === 'log-body');
  assert.equal(body?.['type'], 'Uint8Array');
  assert.equal(body?.['text'], text);

  const before2 = reports(gw, 'js-buffer').length;
  const r2 = await lockstep(up, `${gw.proxyUrl}/cb/sse-step?n=5`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"stream":true}',
  });
  assert.equal(r2.events.length, 6, 'the streamed request kept streaming');
  await gw.waitForLogs();
  const rep2 = reports(gw, 'js-buffer').slice(before2);
  assert.deepEqual(
    rep2.map((x) => x['stage']),
    ['log-start'],
  );
  assert.ok(
    gw.pluginServerLog().some((l) => l.includes('service body is only available with buffered proxying')),
  );
});

test('real Kong: §3.3 a PDK call invalid in the phase aborts the event; in access the client gets 500', async () => {
  await gw.loadConfig(
    cfg([{ name: 'ip', path: '/ip', plugins: [{ name: 'js-echo', config: { action: 'invalid-phase' } }] }]),
  );
  const n = up.requests.length;
  const r = await fetch(`${gw.proxyUrl}/ip/x`);
  assert.equal(r.status, 500);
  assert.equal(((await r.json()) as { message: string }).message, 'An unexpected error occurred');
  assert.equal(up.requests.length, n, 'upstream not called');
});

test('real Kong: §2.8 a JS exception in access fails open (request proxied)', async () => {
  await gw.loadConfig(cfg([{ name: 'th', path: '/th', plugins: [{ name: 'js-throw' }] }]));
  const r = await fetch(`${gw.proxyUrl}/th/x`);
  assert.equal(r.status, 200);
  await r.arrayBuffer();
});

test('real Kong: §9.6 exit with an SSE body is a valid one-shot stream (Content-Length, upstream not called)', async () => {
  const sse = 'data: {"a":1}\n\ndata: [DONE]\n\n';
  await gw.loadConfig(
    cfg([
      {
        name: 'ex',
        path: '/ex',
        plugins: [{ name: 'js-exit', config: { body: sse, content_type: 'text/event-stream' } }],
      },
    ]),
  );
  const n = up.requests.length;
  const r = await fetch(`${gw.proxyUrl}/ex/x`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/event-stream');
  assert.equal(r.headers.get('content-length'), String(Buffer.byteLength(sse)));
  assert.equal(await r.text(), sse);
  assert.equal(up.requests.length, n);
});

test('real Kong: kong.response.exit with a table body is JSON; kong.response.error uses Kong default messages', async () => {
  await gw.loadConfig(
    cfg([
      {
        name: 'j',
        path: '/j',
        plugins: [{ name: 'js-exit', config: { status: 403, body: 'nope', as_json: true } }],
      },
      {
        name: 'e',
        path: '/e',
        plugins: [{ name: 'js-exit', config: { status: 429, body: 'default', use_error: true } }],
      },
    ]),
  );
  const r1 = await fetch(`${gw.proxyUrl}/j`);
  assert.equal(r1.status, 403);
  assert.match(r1.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(await r1.json(), { message: 'nope' });
  const r2 = await fetch(`${gw.proxyUrl}/e`);
  assert.equal(r2.status, 429);
  assert.equal(((await r2.json()) as { message: string }).message, 'Too many requests');
});

test('real Kong: §9.4/§11 ctx.shared set in access is visible in log, also after an exit by a later plugin', async () => {
  await gw.loadConfig(
    cfg([
      {
        name: 'sh',
        path: '/sh',
        plugins: [
          { name: 'js-echo', config: { tag: 'shared' } },
          { name: 'js-exit', config: { status: 418 } },
        ],
      },
    ]),
  );
  const r = await fetch(`${gw.proxyUrl}/sh/x`);
  assert.equal(r.status, 418);
  await r.arrayBuffer();
  await gw.waitForLogs();
  const rep = reports(gw, 'js-echo').at(-1);
  assert.equal((rep?.['echo'] as Record<string, unknown>)['tag'], 'shared');
  assert.equal((rep?.['serialize'] as Record<string, unknown>)['status'], 418);
});

test('real Kong: §11 key-auth before a JS plugin: 401 without key (only the log phase runs); the consumer is visible with a key', async () => {
  await gw.loadConfig(
    cfg(
      [
        {
          name: 'ka',
          path: '/ka',
          plugins: [{ name: 'key-auth' }, { name: 'js-echo', config: { tag: 'ka' } }],
        },
      ],
      {
        consumers: [{ username: 'team-a', keyauth_credentials: [{ key: 'secret-a' }] }],
      },
    ),
  );
  const n = reports(gw, 'js-echo').length;
  const r1 = await fetch(`${gw.proxyUrl}/ka/x`);
  assert.equal(r1.status, 401);
  assert.equal(((await r1.json()) as { message: string }).message, 'No API key found in request');
  // key-auth's `realm` is unset by default: Kong 3.9 sends the bare scheme
  assert.equal(r1.headers.get('www-authenticate'), 'Key');
  const r2 = await fetch(`${gw.proxyUrl}/ka/x`, { headers: { apikey: 'wrong' } });
  assert.equal(r2.status, 401);
  await r2.arrayBuffer();
  await gw.waitForLogs();
  const noKey = reports(gw, 'js-echo').slice(n);
  assert.equal(noKey.length, 2, 'log phase ran for both rejected requests');
  // kong.ctx.shared.get of a key never set answers nil, which reaches JS as undefined (not null)
  assert.ok(!('echo' in (noKey[0] ?? {})), 'access did not run');
  assert.ok(!('echo' in (noKey[1] ?? {})), 'access did not run');

  const r3 = await fetch(`${gw.proxyUrl}/ka/x`, { headers: { apikey: 'secret-a' } });
  assert.equal(r3.status, 200);
  const upb = (await r3.json()) as { headers: Record<string, string> };
  assert.equal(upb.headers['x-consumer-username'], 'team-a');
  await gw.waitForLogs();
  const rep = reports(gw, 'js-echo').at(-1);
  assert.equal((rep?.['echo'] as Record<string, unknown>)['consumer'], 'team-a');
  assert.equal((rep?.['serialize'] as Record<string, unknown>)['consumer'], 'team-a');
});

test('real Kong: plugins run by priority (key-auth 1250 > js-echo 500 > js-buffer 450 > js-response 400)', async () => {
  await gw.loadConfig(
    cfg(
      [
        {
          name: 'or',
          path: '/or',
          plugins: [
            { name: 'js-response' },
            { name: 'js-buffer' },
            { name: 'js-echo' },
            { name: 'key-auth' },
          ],
        },
      ],
      {
        consumers: [{ username: 'u', keyauth_credentials: [{ key: 'k' }] }],
      },
    ),
  );
  const r = await fetch(`${gw.proxyUrl}/or/x`, { headers: { apikey: 'k' } });
  assert.equal(r.status, 200);
  await r.arrayBuffer();
  await gw.waitForLogs();
  assert.deepEqual(reports(gw, 'js-echo').at(-1)?.['order'], ['js-echo', 'js-buffer', 'js-response']);
});

test('real Kong: consumer-scoped plugin config beats the route config (plugins_iterator combos)', async () => {
  await gw.loadConfig(
    cfg(
      [
        {
          name: 'cs',
          path: '/cs',
          plugins: [{ name: 'key-auth' }, { name: 'js-echo', config: { tag: 'route' } }],
        },
      ],
      {
        consumers: [
          { username: 'special', keyauth_credentials: [{ key: 'ks' }] },
          { username: 'plain', keyauth_credentials: [{ key: 'kp' }] },
        ],
        plugins: [{ name: 'js-echo', route: 'cs', consumer: 'special', config: { tag: 'route+consumer' } }],
      },
    ),
  );
  const a = (await (await fetch(`${gw.proxyUrl}/cs/x`, { headers: { apikey: 'ks' } })).json()) as {
    headers: Record<string, string>;
  };
  const b = (await (await fetch(`${gw.proxyUrl}/cs/x`, { headers: { apikey: 'kp' } })).json()) as {
    headers: Record<string, string>;
  };
  assert.equal(a.headers['x-echo-seen'], 'route+consumer');
  assert.equal(b.headers['x-echo-seen'], 'route');
});

test('real Kong: patched server: the event table returns to 0 after exits and no-PDK-call phases (GetStatus Events)', async () => {
  // events abandoned by earlier tests (Lua errors) stay until the server's idle sweep: measure the delta
  await gw.waitForLogs();
  const base = ((await gw.pluginServerStatus()) as { Events: number }).Events;
  await gw.loadConfig(
    cfg([
      { name: 'noop', path: '/noop', plugins: [{ name: 'js-noop', config: { label: 'x' } }] },
      {
        name: 'exit',
        path: '/exit',
        plugins: [{ name: 'js-exit' }, { name: 'js-noop', config: { label: 'y' } }],
      },
    ]),
  );
  for (let i = 0; i < 20; i++) {
    await (await fetch(`${gw.proxyUrl}/noop/x`)).arrayBuffer();
    await (await fetch(`${gw.proxyUrl}/exit/x`)).arrayBuffer();
  }
  await gw.waitForLogs();
  const s = (await gw.pluginServerStatus()) as { Events: number; EventsSwept: number };
  assert.equal(s.Events - base, 0);
});

test('real Kong: upstream errors: connection refused → 502 after retries, timeout → 504 (Kong messages)', async () => {
  const doc = {
    _format_version: '3.0',
    services: [
      { name: 'dead', url: 'http://127.0.0.1:1', retries: 2, routes: [{ name: 'dead', paths: ['/dead'] }] },
      {
        name: 'slow',
        url: `${up.url}/slow?ms=800`,
        read_timeout: 200,
        routes: [{ name: 'slow', paths: ['/slowr'] }],
      },
    ],
  };
  await gw.loadConfig(doc);
  const r1 = await fetch(`${gw.proxyUrl}/dead`);
  assert.equal(r1.status, 502);
  assert.equal(
    ((await r1.json()) as { message: string }).message,
    'An invalid response was received from the upstream server',
  );
  const r2 = await fetch(`${gw.proxyUrl}/slowr`);
  assert.equal(r2.status, 504);
  assert.equal(((await r2.json()) as { message: string }).message, 'The upstream server is timing out');
});

test('real Kong: gzip bodies pass through untouched; Via and latency headers are added', async () => {
  await gw.loadConfig(cfg([{ name: 'gz', path: '/gz', plugins: [] }]));
  const http = await import('node:http');
  const res = await new Promise<import('node:http').IncomingMessage>((resolve) =>
    http.get(`${gw.proxyUrl}/gz/gzip`, resolve),
  );
  const parts: Buffer[] = [];
  for await (const c of res) parts.push(c as Buffer);
  assert.equal(res.headers['content-encoding'], 'gzip');
  const zlib = await import('node:zlib');
  assert.equal(zlib.gunzipSync(Buffer.concat(parts)).toString(), '{"zipped":true}');
  assert.equal(res.headers['via'], `1.1 kong/${gw.version}`);
  assert.ok(res.headers['x-kong-upstream-latency'] !== undefined);
  assert.ok(res.headers['x-kong-proxy-latency'] !== undefined);
});

test('real Kong: client disconnect mid-stream aborts the upstream and still runs the log phase', async () => {
  await gw.loadConfig(
    cfg([{ name: 'dc', path: '/dc', plugins: [{ name: 'js-echo', config: { tag: 'dc' } }] }]),
  );
  const n = reports(gw, 'js-echo').length;
  const ac = new AbortController();
  const res = await fetch(`${gw.proxyUrl}/dc/sse?n=50&gap=50`, { signal: ac.signal });
  const reader = res.body?.getReader();
  await reader?.read();
  ac.abort();
  await reader?.cancel().catch(() => undefined);
  // the log phase is the event we wait for
  const deadline = Date.now() + 5000;
  while (reports(gw, 'js-echo').length === n && Date.now() < deadline)
    await gw.waitForLogs().then(() => new Promise((r) => setImmediate(r)));
  assert.equal(reports(gw, 'js-echo').length, n + 1);
  assert.ok((up.sseSent.length ?? 0) < 50, 'upstream stopped early');
});
