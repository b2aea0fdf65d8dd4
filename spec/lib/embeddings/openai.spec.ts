import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEmbedder, dot, embeddingsUrl, EmbeddingError } from '../../../lib/embeddings';

interface Seen {
  url: string | undefined;
  auth: string | undefined;
  body: { model: string; input: string[]; encoding_format?: string; dimensions?: number };
}
const seen: Seen[] = [];
let mode: 'ok' | 'reversed' | 'error' | 'short' | 'slow' | 'base64' = 'ok';
let server: Server;
let base = '';

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c: Buffer) => (s += c.toString()));
    req.on('end', () => resolve(s));
  });
}

/** Deterministic fake embedding: 4 dims from the text length and first char (not normalised). */
function fake(t: string): number[] {
  return [t.length, t.charCodeAt(0) || 1, 3, 4];
}

before(async () => {
  server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      const body = JSON.parse(raw) as Seen['body'];
      seen.push({ url: req.url, auth: req.headers['authorization'] as string | undefined, body });
      if (mode === 'error') {
        res.writeHead(429, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'rate limited' } }));
        return;
      }
      if (mode === 'slow') return; // never answers: the client times out
      let data = body.input.map((t, index) => ({
        object: 'embedding',
        index,
        embedding:
          mode === 'base64' ? Buffer.from(new Float32Array(fake(t)).buffer).toString('base64') : fake(t),
      }));
      if (mode === 'reversed') data = data.reverse();
      if (mode === 'short') data = data.slice(1);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          object: 'list',
          data,
          model: body.model,
          usage: { prompt_tokens: 1, total_tokens: 1 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

test('embeddingsUrl accepts a base URL, a /v1 URL or the full endpoint', () => {
  assert.equal(embeddingsUrl('http://h:1'), 'http://h:1/v1/embeddings');
  assert.equal(embeddingsUrl('http://h:1/v1/'), 'http://h:1/v1/embeddings');
  assert.equal(embeddingsUrl('http://h:1/v1/embeddings'), 'http://h:1/v1/embeddings');
});

test('openai: posts model+input, sends the auth header, maps by index, normalises', async () => {
  mode = 'reversed';
  seen.length = 0;
  const e = createEmbedder({
    provider: 'openai',
    name: 'text-embedding-3-small',
    options: { upstream_url: base },
    auth: { header_name: 'Authorization', header_value: 'Bearer sk-test' },
  });
  const out = await e.embed(['a', 'bbb']);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.url, '/v1/embeddings');
  assert.equal(seen[0]!.auth, 'Bearer sk-test');
  assert.deepEqual(seen[0]!.body.input, ['a', 'bbb']);
  assert.equal(seen[0]!.body.model, 'text-embedding-3-small');
  assert.equal(seen[0]!.body.encoding_format, 'float');
  assert.equal(e.dimensions, 4);
  assert.equal(out.length, 2);
  // index mapping: out[1] belongs to "bbb" (length 3) even though the server answered in reverse order
  const expect = fake('bbb');
  const n = Math.hypot(...expect);
  assert.ok(Math.abs(out[1]![0]! - expect[0]! / n) < 1e-6);
  assert.ok(Math.abs(dot(out[0]!, out[0]!) - 1) < 1e-5);
  assert.equal(e.id, 'openai:text-embedding-3-small');
});

test('openai: batches large inputs and sends dimensions', async () => {
  mode = 'ok';
  seen.length = 0;
  const e = createEmbedder({
    provider: 'openai',
    name: 'm',
    options: { upstream_url: `${base}/v1`, dimensions: 4 },
  });
  const texts = Array.from({ length: 300 }, (_, i) => `t${i}`);
  const out = await e.embed(texts);
  assert.equal(out.length, 300);
  assert.equal(seen.length, 2);
  assert.equal(seen[0]!.body.dimensions, 4);
});

test('openai: tolerates base64 embeddings', async () => {
  mode = 'base64';
  const e = createEmbedder({ provider: 'openai', name: 'm', options: { upstream_url: base } });
  const [v] = await e.embed(['hello']);
  assert.equal(v!.length, 4);
});

test('openai: errors are EmbeddingErrors without prompt text', async () => {
  const secret = 'my secret prompt text';
  const e = createEmbedder({
    provider: 'openai',
    name: 'm',
    options: { upstream_url: base },
    timeout_ms: 200,
  });
  for (const m of ['error', 'short', 'slow'] as const) {
    mode = m;
    await assert.rejects(e.embed([secret, 'x']), (err: unknown) => {
      assert.ok(err instanceof EmbeddingError, String(err));
      assert.ok(!err.message.includes(secret));
      if (m === 'error') assert.match(err.message, /HTTP 429/);
      if (m === 'slow') assert.match(err.message, /timed out/);
      return true;
    });
  }
  const down = createEmbedder({
    provider: 'openai',
    name: 'm',
    options: { upstream_url: 'http://127.0.0.1:9' },
  });
  await assert.rejects(
    down.embed([secret]),
    (err: unknown) => err instanceof EmbeddingError && !err.message.includes(secret),
  );
});

test('openai: configuration errors', () => {
  assert.throws(() => createEmbedder({ provider: 'openai', name: 'm' }), /upstream_url/);
  assert.throws(() => createEmbedder({ provider: 'openai', options: { upstream_url: base } }), /model name/);
});
