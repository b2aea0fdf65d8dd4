import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLuaRunner, type LuaPluginRunner, type LuaRequest, type SharedCtx } from '../support/lua-host';

const FIX = path.join(__dirname, '..', 'fixtures', 'sse');
const fixture = (n: string): Buffer => fs.readFileSync(path.join(FIX, n));
const TAP = 'llm-response-tap';

class Shared implements SharedCtx {
  readonly map = new Map<string, unknown>();
  get(k: string): unknown {
    return this.map.has(k) ? this.map.get(k) : null;
  }
  set(k: string, v: unknown): void {
    if (v === null || v === undefined) this.map.delete(k);
    else this.map.set(k, v);
  }
}

/** deterministic random split points */
function randomChunks(buf: Buffer, seed: number, max: number): Buffer[] {
  const out: Buffer[] = [];
  let x = seed;
  for (let pos = 0; pos < buf.length;) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const n = 1 + (x % max);
    out.push(buf.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}

/** concatenated choices[0].delta.content of an SSE body */
function sseText(body: string): string {
  let text = '';
  for (const block of body.replace(/\r\n/g, '\n').split('\n\n')) {
    const data = block
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.replace(/^data: ?/, ''))
      .join('\n');
    if (!data || data === '[DONE]') continue;
    const o = JSON.parse(data) as { choices?: { index: number; delta?: { content?: string } }[] };
    for (const c of o.choices ?? [])
      if (c.index === 0 && typeof c.delta?.content === 'string') text += c.delta.content;
  }
  return text;
}

async function run(
  runner: LuaPluginRunner,
  chunks: Buffer[],
  opts: { shared?: Shared; conf?: Record<string, unknown>; contentType?: string; startMs?: number } = {},
): Promise<{
  out: Buffer;
  outs: Buffer[];
  headers: Record<string, string | string[]>;
  shared: Shared;
  req: LuaRequest;
}> {
  const shared = opts.shared ?? new Shared();
  const req = runner.startRequest(TAP, opts.conf ?? {}, shared, {
    startMs: opts.startMs ?? Date.now(),
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
  });
  const headers = await req.headerFilter(200, {
    'Content-Type': opts.contentType ?? 'text/event-stream',
    'Content-Length': '12345',
    'X-Other': ['a', 'b'],
  });
  const outs: Buffer[] = [];
  for (let i = 0; i < chunks.length; i++)
    outs.push(await req.bodyFilter(chunks[i] as Buffer, i === chunks.length - 1));
  return { out: Buffer.concat(outs), outs, headers, shared, req };
}

interface TapResult {
  kind: string;
  status: number;
  usage?: Record<string, number>;
  text?: string;
  frames: number;
  bad_frames: number;
  done: boolean;
  aborted: boolean;
  restored: number;
  bytes: number;
  ttft_ms?: number;
  finish_reason?: string;
  tool_calls?: { id: string; name: string; arguments: string }[];
  error?: boolean;
}

describe('lua-host (real LuaJIT running kong/plugins/llm-response-tap)', () => {
  let runner: LuaPluginRunner;
  const logs: [string, string][] = [];
  let clock: number | undefined;

  before(async () => {
    runner = await createLuaRunner({
      onLog: (level, msg) => logs.push([level, msg]),
      now: () => clock ?? Date.now(),
    });
  });
  after(async () => {
    await runner.close();
  });

  it('reports plugin info and applies schema defaults', () => {
    const info = runner.info(TAP);
    assert.ok(info);
    assert.equal(info.priority, 800);
    assert.equal(info.version, '0.1.0');
    assert.deepEqual(info.phases, ['header_filter', 'body_filter', 'log']);
    const conf = info.defaults({ keep_text: false, max_text_bytes: null });
    assert.equal(conf['keep_text'], false);
    assert.equal(conf['max_text_bytes'], 1048576);
    assert.equal(conf['max_json_bytes'], 8 * 1048576);
    assert.equal(conf['restore_pii'], true);
    assert.equal(runner.info('nope'), undefined);
  });

  it('a recorded stream split randomly passes byte-for-byte and yields llm.tap', async () => {
    const s = fixture('basic.sse');
    let first: TapResult | undefined;
    for (let seed = 1; seed <= 12; seed++) {
      const { out, headers, shared } = await run(runner, randomChunks(s, seed, 3 + seed * 17));
      assert.ok(out.equals(s));
      assert.equal(headers['Content-Length'], '12345'); // nothing to restore: length kept
      assert.deepEqual(headers['X-Other'], ['a', 'b']);
      const r = shared.get('llm.tap') as TapResult;
      assert.equal(r.kind, 'sse');
      assert.equal(r.status, 200);
      assert.deepEqual(r.usage, {
        prompt_tokens: 1117,
        completion_tokens: 46,
        total_tokens: 1163,
        cached_tokens: 1024,
        reasoning_tokens: 0,
      });
      assert.equal(r.text, sseText(s.toString('utf8')));
      assert.equal(r.frames, 9);
      assert.equal(r.done, true);
      assert.equal(r.aborted, false);
      assert.equal(r.bytes, s.length);
      assert.equal(r.finish_reason, 'stop');
      const { ttft_ms: _t, ...rest } = r;
      if (first) assert.deepEqual(rest, first);
      else first = rest as TapResult;
    }
  });

  it('restores PII placeholders across chunks and drops Content-Length', async () => {
    const s = fixture('pii.sse');
    const map = { '<EMAIL_1>': 'a@b.c', '<PHONE_NUMBER_2>': '+1 555 0100', '<PERSON_3>': 'Zoë "Z"\n' };
    const mk = (): Shared => {
      const sh = new Shared();
      sh.set('llm.pii_restore', map);
      return sh;
    };
    const whole = await run(runner, [s], { shared: mk() });
    assert.equal(whole.headers['Content-Length'], undefined);
    const upstream = sseText(s.toString('utf8'));
    const want = upstream.replace(
      /<[A-Z][A-Z0-9_]*_[0-9]+>/g,
      (p) => (map as Record<string, string>)[p] ?? p,
    );
    assert.equal(sseText(whole.out.toString('utf8')), want);
    assert.ok(want.includes('a@b.c ou appelez +1 555 0100'));
    const r = whole.shared.get('llm.tap') as TapResult;
    assert.equal(r.restored, 4);
    assert.equal(r.text, upstream); // the log phases get the upstream text, not PII
    for (let seed = 1; seed <= 15; seed++) {
      const part = await run(runner, randomChunks(s, seed, seed * 5), { shared: mk() });
      assert.ok(part.out.equals(whole.out), `seed ${seed}`);
    }
  });

  it('JSON bodies: restored content and usage', async () => {
    const s = fixture('chat.json');
    const sh = new Shared();
    sh.set('llm.pii_restore', { '<EMAIL_1>': 'a@b.c', '<PERSON_1>': 'Zoë' });
    const { out, shared, headers } = await run(runner, randomChunks(s, 5, 200), {
      shared: sh,
      contentType: 'application/json',
    });
    assert.equal(headers['Content-Length'], undefined);
    const o = JSON.parse(out.toString('utf8')) as {
      choices: { message: { content: string; tool_calls: { function: { arguments: string } }[] } }[];
    };
    assert.ok(o.choices[0]?.message.content.startsWith('Bonjour Zoë, votre adresse est a@b.c (a@b.c).'));
    assert.deepEqual(JSON.parse(o.choices[0]?.message.tool_calls[0]?.function.arguments ?? ''), {
      to: 'a@b.c',
      cc: 'Zoë',
    });
    const r = shared.get('llm.tap') as TapResult;
    assert.equal(r.kind, 'json');
    assert.equal(r.usage?.['total_tokens'], 29);
    assert.equal(r.tool_calls?.[0]?.name, 'send_email');
    assert.equal(r.restored, 5);
  });

  it('an internal error passes the response through and logs once', async () => {
    const s = fixture('basic.sse');
    logs.length = 0;
    // a non-numeric cap makes the tap fail on the first content delta
    const { out, shared } = await run(runner, randomChunks(s, 9, 300), { conf: { max_text_bytes: 'x' } });
    assert.ok(out.equals(s));
    const r = shared.get('llm.tap') as TapResult;
    assert.equal(r.error, true);
    assert.equal(logs.filter(([l]) => l === 'err').length, 1);
    assert.ok(!logs.some(([, m]) => m.includes('Bonjour'))); // never log response text
  });

  it('ttft uses the request start and the runner clock', async () => {
    clock = 10_250;
    try {
      const { shared } = await run(runner, [fixture('no-usage.sse')], { startMs: 10_000 });
      assert.equal((shared.get('llm.tap') as TapResult).ttft_ms, 250);
    } finally {
      clock = undefined;
    }
  });

  it('log() without eof publishes an aborted result', async () => {
    const s = fixture('basic.sse');
    const shared = new Shared();
    const req = runner.startRequest(TAP, {}, shared, {
      startMs: Date.now(),
      method: 'POST',
      path: '/',
      headers: {},
    });
    await req.headerFilter(200, { 'content-type': 'text/event-stream' });
    await req.bodyFilter(s.subarray(0, 700), false);
    assert.equal(shared.get('llm.tap'), null);
    await req.log?.();
    const r = shared.get('llm.tap') as TapResult;
    assert.equal(r.aborted, true);
    assert.equal(r.done, false);
    assert.ok((r.text ?? '').startsWith('Bonjour'));
  });

  it('interleaved requests keep separate state', async () => {
    const a = fixture('basic.sse');
    const b = fixture('crlf.sse');
    const sa = new Shared();
    const sb = new Shared();
    const ra = runner.startRequest(TAP, {}, sa, { startMs: 0, method: 'POST', path: '/', headers: {} });
    const rb = runner.startRequest(TAP, {}, sb, { startMs: 0, method: 'POST', path: '/', headers: {} });
    await Promise.all([
      ra.headerFilter(200, { 'content-type': 'text/event-stream' }),
      rb.headerFilter(200, { 'content-type': 'text/event-stream' }),
    ]);
    const ca = randomChunks(a, 1, 50);
    const cb = randomChunks(b, 2, 50);
    const outA: Promise<Buffer>[] = [];
    const outB: Promise<Buffer>[] = [];
    for (let i = 0; i < Math.max(ca.length, cb.length); i++) {
      if (i < ca.length) outA.push(ra.bodyFilter(ca[i] as Buffer, i === ca.length - 1));
      if (i < cb.length) outB.push(rb.bodyFilter(cb[i] as Buffer, i === cb.length - 1));
    }
    assert.ok(Buffer.concat(await Promise.all(outA)).equals(a));
    assert.ok(Buffer.concat(await Promise.all(outB)).equals(b));
    assert.equal((sa.get('llm.tap') as TapResult).text, sseText(a.toString('utf8')));
    assert.equal((sb.get('llm.tap') as TapResult).usage?.['reasoning_tokens'], 192);
  });

  it('a Lua error in a phase rejects the call; other plugins dirs load by name', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lua-host-'));
    try {
      fs.mkdirSync(path.join(dir, 'boom'));
      fs.writeFileSync(
        path.join(dir, 'boom', 'handler.lua'),
        'return { PRIORITY = 5, VERSION = "9.9.9", body_filter = function() error("kaboom") end,\n' +
          '  header_filter = function() kong.response.set_header("X-Boom", "1") end }\n',
      );
      fs.writeFileSync(
        path.join(dir, 'boom', 'schema.lua'),
        'return { name = "boom", fields = { { config = { type = "record", fields = {\n' +
          '  { n = { type = "integer", default = 3, description = "n" } },\n' +
          '  { sub = { type = "record", fields = { { s = { type = "string", default = "x", description = "s" } } } } } } } } } }\n',
      );
      const r2 = await createLuaRunner({ pluginsDir: dir, plugins: ['boom'] });
      try {
        const info = r2.info('boom');
        assert.equal(info?.priority, 5);
        assert.deepEqual(info?.defaults({}), { n: 3, sub: { s: 'x' } });
        const req = r2.startRequest('boom', {}, new Shared(), {
          startMs: 0,
          method: 'GET',
          path: '/',
          headers: {},
        });
        assert.deepEqual(await req.headerFilter(200, {}), { 'X-Boom': '1' });
        await assert.rejects(req.bodyFilter(Buffer.from('x'), true), /kaboom/);
      } finally {
        await r2.close();
      }
      await assert.rejects(
        createLuaRunner({ pluginsDir: dir, plugins: ['missing'] }),
        /module 'kong.plugins.missing.handler' not found/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
