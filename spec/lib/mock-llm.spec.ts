import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as https from 'node:https';
import * as zlib from 'node:zlib';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import OpenAI from 'openai';
import { encodeChat } from 'gpt-tokenizer/cjs/model/gpt-4o';
import {
  startMockLlm,
  expectedCompletion,
  mockEmbedding,
  countTokens,
  type MockLlm,
} from '../support/mock-llm';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function raw(
  url: string,
  opts: { method?: string; body?: string | Buffer; headers?: Record<string, string>; ca?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(
      u,
      {
        method: opts.method ?? (opts.body !== undefined ? 'POST' : 'GET'),
        headers: { 'content-type': 'application/json', ...opts.headers },
        ...(opts.ca ? { ca: opts.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const rawJson = (r: RawResponse): Record<string, unknown> =>
  JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  a.forEach((x, i) => {
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  });
  return dot / Math.sqrt(na * nb);
}

describe('mock LLM', () => {
  let mock: MockLlm;
  let client: OpenAI;

  before(async () => {
    mock = await startMockLlm({ name: 'primary' });
    client = new OpenAI({ baseURL: mock.url + '/v1', apiKey: 'x', maxRetries: 0 });
  });
  after(() => mock.stop());
  beforeEach(() => {
    mock.reset();
    mock.setOptions({ ttftMs: 0, tokensPerSecond: 0 });
  });

  test('non-stream chat completion matches OpenAI format and expectedCompletion', async () => {
    const body = {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system' as const, content: 'You are terse.' },
        { role: 'user' as const, content: 'Say something about gateways.', name: 'alice' },
      ],
    };
    const { data: r, response } = await client.chat.completions.create(body).withResponse();
    const exp = expectedCompletion(body);
    assert.equal(response.headers.get('x-mock-llm-name'), 'primary');
    assert.match(r.id, /^chatcmpl-/);
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.model, 'gpt-4o-mini');
    assert.equal(typeof r.created, 'number');
    assert.match(r.system_fingerprint ?? '', /^fp_[0-9a-f]{10}$/);
    assert.equal(r.choices.length, 1);
    const c = r.choices[0];
    assert.ok(c);
    assert.equal(c.index, 0);
    assert.equal(c.message.role, 'assistant');
    assert.equal(c.message.refusal, null);
    assert.equal(c.logprobs, null);
    assert.equal(c.finish_reason, 'stop');
    assert.equal(c.message.content, exp.content);
    assert.ok(exp.content.length > 20);
    assert.equal(r.usage?.prompt_tokens, exp.promptTokens);
    assert.equal(r.usage?.completion_tokens, exp.completionTokens);
    assert.equal(r.usage?.completion_tokens, countTokens(exp.content, 'gpt-4o-mini'));
    assert.equal(r.usage?.total_tokens, exp.promptTokens + exp.completionTokens);
    assert.equal(r.usage?.prompt_tokens_details?.cached_tokens, 0);
    assert.equal(r.usage?.completion_tokens_details?.reasoning_tokens, 0);
    // deterministic: same request, same answer
    const again = await client.chat.completions.create(body);
    assert.equal(again.choices[0]?.message.content, exp.content);
  });

  test('prompt tokens follow OpenAI chat accounting', async () => {
    const hi = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(hi.usage?.prompt_tokens, 8); // what OpenAI reports for a single "hi" on gpt-4o
    // cross-check with the gpt-4o chat template: per message <|im_start|>role<|im_sep|>content<|im_end|>,
    // plus the 3-token assistant priming (<|im_start|>assistant<|im_sep|>), which encodeChat includes
    const messages = [
      { role: 'system' as const, content: 'You are a helpful assistant.' },
      { role: 'user' as const, content: 'Wie spät ist es in 東京? 🚀' },
    ];
    const r = await client.chat.completions.create({ model: 'gpt-4o', messages });
    assert.equal(r.usage?.prompt_tokens, encodeChat(messages).length);
    assert.equal(
      r.usage?.prompt_tokens,
      3 + messages.reduce((n, m) => n + 3 + countTokens(m.role) + countTokens(m.content), 0),
    );
  });

  test('stream with include_usage: OpenAI chunk format, deltas concatenate to the answer', async () => {
    const body = {
      model: 'gpt-4o',
      messages: [{ role: 'user' as const, content: 'Stream me a story.' }],
      stream: true as const,
      stream_options: { include_usage: true },
    };
    const stream = await client.chat.completions.create(body);
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const ch of stream) chunks.push(ch);
    const exp = expectedCompletion(body);
    assert.ok(chunks.length >= 4);
    const first = chunks[0];
    assert.ok(first);
    assert.deepEqual(first.choices[0]?.delta, { role: 'assistant', content: '', refusal: null });
    const ids = new Set(chunks.map((c) => c.id));
    assert.equal(ids.size, 1);
    for (const c of chunks) {
      assert.equal(c.object, 'chat.completion.chunk');
      assert.equal(c.model, 'gpt-4o');
      assert.match(c.system_fingerprint ?? '', /^fp_/);
    }
    const usageChunk = chunks[chunks.length - 1];
    assert.ok(usageChunk);
    assert.deepEqual(usageChunk.choices, []);
    assert.equal(usageChunk.usage?.prompt_tokens, exp.promptTokens);
    assert.equal(usageChunk.usage?.completion_tokens, exp.completionTokens);
    for (const c of chunks.slice(0, -1)) assert.equal(c.usage, null);
    const finishChunk = chunks[chunks.length - 2];
    assert.deepEqual(finishChunk?.choices[0]?.delta, {});
    assert.equal(finishChunk?.choices[0]?.finish_reason, 'stop');
    const deltas = chunks.slice(1, -2).map((c) => c.choices[0]?.delta.content ?? '');
    for (const d of deltas) assert.ok(d.length > 0);
    assert.equal(deltas.join(''), exp.content);
  });

  test('stream without include_usage has no usage key; pieces split on token boundaries (UTF-8 safe)', async () => {
    const text = 'Héllo 🚀🚀 日本語のテキスト 👍🏽👨‍👩‍👧 done — ok.';
    const r = await raw(mock.url + '/v1/chat/completions', {
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true }),
      headers: { 'x-mock-content-b64': Buffer.from(text).toString('base64') },
    });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/event-stream/);
    const frames = r.body.toString('utf8').split('\n\n').filter(Boolean);
    assert.equal(frames[frames.length - 1], 'data: [DONE]');
    const objs = frames.slice(0, -1).map((f) => {
      assert.ok(f.startsWith('data: '));
      return JSON.parse(f.slice(6)) as { usage?: unknown; choices: { delta: { content?: string } }[] };
    });
    for (const o of objs) assert.equal('usage' in o, false);
    const pieces = objs.slice(1, -1).map((o) => o.choices[0]?.delta.content ?? '');
    assert.equal(pieces.join(''), text);
    for (const p of pieces) assert.ok(!p.includes('\uFFFD'));
    assert.ok(pieces.length > 5);
  });

  test('max_tokens / max_completion_tokens stop with finish_reason length', async () => {
    for (const key of ['max_tokens', 'max_completion_tokens'] as const) {
      const body = {
        model: 'gpt-4o',
        messages: [{ role: 'user' as const, content: 'long please' }],
        [key]: 5,
      };
      const r = await client.chat.completions.create(body);
      assert.equal(r.choices[0]?.finish_reason, 'length');
      assert.equal(r.usage?.completion_tokens, 5);
      const exp = expectedCompletion(body);
      assert.equal(exp.finishReason, 'length');
      assert.equal(r.choices[0]?.message.content, exp.content);
      assert.ok(expectedCompletion({ ...body, [key]: undefined }).content.startsWith(exp.content));
    }
    const s = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'long please' }],
      max_tokens: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    let finish: string | null | undefined;
    let completion: number | undefined;
    for await (const ch of s) {
      finish = ch.choices[0]?.finish_reason ?? finish;
      completion = ch.usage?.completion_tokens ?? completion;
    }
    assert.equal(finish, 'length');
    assert.equal(completion, 3);
  });

  test('n > 1 returns distinct deterministic choices; usage sums them', async () => {
    const body = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'two answers' }], n: 2 };
    const r = await client.chat.completions.create(body);
    assert.equal(r.choices.length, 2);
    const e0 = expectedCompletion(body, { choiceIndex: 0 });
    const e1 = expectedCompletion(body, { choiceIndex: 1 });
    assert.equal(r.choices[0]?.message.content, e0.content);
    assert.equal(r.choices[1]?.message.content, e1.content);
    assert.notEqual(e0.content, e1.content);
    assert.equal(r.usage?.completion_tokens, e0.completionTokens + e1.completionTokens);

    const s = await client.chat.completions.create({ ...body, stream: true });
    const acc = ['', ''];
    for await (const ch of s) for (const c of ch.choices) acc[c.index] += c.delta.content ?? '';
    assert.deepEqual(acc, [e0.content, e1.content]);
  });

  test('tool calls: non-stream and streamed the OpenAI way', async () => {
    const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: {
            type: 'object',
            properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
          },
        },
      },
    ];
    const body = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'weather?' }], tools };
    const r = await client.chat.completions.create(body, { headers: { 'x-mock-tool-call': 'get_weather' } });
    const exp = expectedCompletion(body, { headers: { 'x-mock-tool-call': 'get_weather' } });
    const c = r.choices[0];
    assert.equal(c?.finish_reason, 'tool_calls');
    assert.equal(c?.message.content, null);
    const call = c?.message.tool_calls?.[0];
    assert.ok(call && call.type === 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'city-value', unit: 'c' });
    assert.equal(call.id, exp.toolCall?.id);
    assert.equal(r.usage?.completion_tokens, exp.completionTokens);

    // tool_choice forcing a function also produces a call; streamed in pieces
    const s = await client.chat.completions.create({
      ...body,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      stream: true,
    });
    let args = '';
    let name = '';
    let id = '';
    let argPieces = 0;
    let finish: string | null = null;
    for await (const ch of s) {
      const ch0 = ch.choices[0];
      for (const tc of ch0?.delta.tool_calls ?? []) {
        assert.equal(tc.index, 0);
        if (tc.id) id = tc.id;
        if (tc.function?.name) name = tc.function.name;
        if (tc.function?.arguments) {
          args += tc.function.arguments;
          argPieces++;
        }
      }
      finish = ch0?.finish_reason ?? finish;
    }
    assert.equal(name, 'get_weather');
    assert.match(id, /^call_/);
    assert.equal(args, call.function.arguments);
    assert.ok(argPieces > 1);
    assert.equal(finish, 'tool_calls');
  });

  test('x-mock-content, [[echo]], x-mock-finish-reason', async () => {
    const forced = await client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'anything' }] },
      { headers: { 'x-mock-content': 'Hello <EMAIL_1>!', 'x-mock-finish-reason': 'content_filter' } },
    );
    assert.equal(forced.choices[0]?.message.content, 'Hello <EMAIL_1>!');
    assert.equal(forced.choices[0]?.finish_reason, 'content_filter');
    assert.equal(forced.usage?.completion_tokens, countTokens('Hello <EMAIL_1>!'));

    const userText = '[[echo]] Contact <EMAIL_1> or <PHONE_2> please.';
    const echoed = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: userText },
      ],
    });
    assert.equal(echoed.choices[0]?.message.content, userText);
  });

  test('validation errors look like OpenAI 400s', async () => {
    const url = mock.url + '/v1/chat/completions';
    const bad = await raw(url, { body: '{"model": "gpt-4o", "messages": [' });
    assert.equal(bad.status, 400);
    const be = rawJson(bad)['error'] as Record<string, unknown>;
    assert.equal(be['type'], 'invalid_request_error');
    assert.match(String(be['message']), /could not parse the JSON body/);
    assert.deepEqual(Object.keys(be).sort(), ['code', 'message', 'param', 'type']);

    const noModel = await raw(url, { body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }) });
    assert.equal(noModel.status, 400);
    assert.match(String((rawJson(noModel)['error'] as Record<string, unknown>)['message']), /model/);

    const noMessages = await raw(url, { body: JSON.stringify({ model: 'gpt-4o' }) });
    assert.equal(noMessages.status, 400);
    assert.deepEqual(rawJson(noMessages)['error'], {
      message: "Missing required parameter: 'messages'.",
      type: 'invalid_request_error',
      param: 'messages',
      code: 'missing_required_parameter',
    });

    await assert.rejects(
      client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'wizard' as 'user', content: 'x' }],
      }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'messages[0].role',
    );
    const notFound = await raw(mock.url + '/v1/nope', { body: '{}' });
    assert.equal(notFound.status, 404);
  });

  test('Azure-style and prefixed paths', async () => {
    const az = await raw(mock.url + '/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21', {
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }] }),
    });
    assert.equal(az.status, 200);
    assert.equal(rawJson(az)['model'], 'my-gpt');
    const pref = await raw(mock.url + '/ai/v1/chat/completions', {
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] }),
    });
    assert.equal(pref.status, 200);
    assert.equal(mock.requests[0]?.path, '/openai/deployments/my-gpt/chat/completions');
    assert.equal(mock.requests[0]?.url, '/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21');
  });

  test('embeddings: deterministic hashed bag-of-words, float and base64, dimensions', async () => {
    // the SDK asks for base64 by default and decodes it
    const r = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['the cat sat on the mat', 'the cat sat on a mat', 'quarterly revenue report'],
    });
    assert.equal(r.object, 'list');
    assert.equal(r.data.length, 3);
    const [a, b, c] = r.data.map((d) => d.embedding);
    assert.ok(a && b && c);
    assert.equal(a.length, 64);
    assert.deepEqual(a, mockEmbedding('the cat sat on the mat'));
    assert.equal(r.data[1]?.index, 1);
    assert.equal(r.data[0]?.object, 'embedding');
    assert.ok(cosine(a, b) > 0.8);
    assert.ok(cosine(a, b) > cosine(a, c) + 0.3);
    assert.equal(
      r.usage.prompt_tokens,
      countTokens('the cat sat on the mat', 'text-embedding-3-small') +
        countTokens('the cat sat on a mat', 'text-embedding-3-small') +
        countTokens('quarterly revenue report', 'text-embedding-3-small'),
    );
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens);

    const f = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'hello world',
      encoding_format: 'float',
      dimensions: 16,
    });
    assert.deepEqual(f.data[0]?.embedding, mockEmbedding('hello world', 16));

    const b64 = await raw(mock.url + '/v1/embeddings', {
      body: JSON.stringify({
        model: 'text-embedding-3-small',
        input: 'hello world',
        encoding_format: 'base64',
      }),
    });
    const d0 = (rawJson(b64)['data'] as { embedding: string }[])[0];
    assert.ok(d0 && typeof d0.embedding === 'string');
    const buf = Buffer.from(d0.embedding, 'base64');
    assert.deepEqual(
      Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4)),
      mockEmbedding('hello world'),
    );

    await assert.rejects(
      client.embeddings.create({ model: 'text-embedding-3-small', input: '' }),
      OpenAI.BadRequestError,
    );
  });

  test('models list and legacy completions', async () => {
    const models = [];
    for await (const m of client.models.list()) models.push(m.id);
    assert.ok(models.includes('gpt-4o'));
    const r = await client.completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Once upon a time',
    });
    assert.equal(r.object, 'text_completion');
    assert.ok((r.choices[0]?.text ?? '').length > 0);
    assert.equal(r.usage?.prompt_tokens, countTokens('Once upon a time', 'gpt-3.5-turbo-instruct'));
    assert.ok((r.usage?.completion_tokens ?? 0) <= 16);
  });

  test('records requests; reset clears them; control endpoints work over HTTP', async () => {
    const body = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'record me' }] };
    const before = Date.now();
    await client.chat.completions.create(body, { headers: { 'x-custom': 'yes' } });
    assert.equal(mock.requests.length, 1);
    const rec = mock.requests[0];
    assert.ok(rec);
    assert.equal(rec.method, 'POST');
    assert.equal(rec.path, '/v1/chat/completions');
    assert.equal(rec.headers['authorization'], 'Bearer x');
    assert.equal(rec.headers['x-custom'], 'yes');
    assert.deepEqual(rec.body, body);
    assert.deepEqual(JSON.parse(rec.rawBody.toString('utf8')), body);
    assert.ok(rec.receivedAt >= before && rec.receivedAt <= Date.now());

    const list = await raw(mock.url + '/__mock/requests');
    const arr = JSON.parse(list.body.toString('utf8')) as { path: string; body: unknown }[];
    assert.equal(arr.length, 1);
    assert.deepEqual(arr[0]?.body, body);

    const setF = await raw(mock.url + '/__mock/fault', {
      body: JSON.stringify({ fault: { kind: 'status', status: 503 }, times: 1 }),
    });
    assert.equal(setF.status, 200);
    await assert.rejects(
      client.chat.completions.create(body),
      (e: unknown) => e instanceof OpenAI.InternalServerError && e.status === 503,
    );
    await client.chat.completions.create(body); // times: 1 → next one succeeds

    await raw(mock.url + '/__mock/reset', { body: '' });
    assert.equal(mock.requests.length, 0);
    mock.reset();
  });

  describe('faults', () => {
    test('429 with Retry-After → RateLimitError (instance-wide, times)', async () => {
      mock.setFault({ kind: 'status', status: 429, retryAfter: 2 }, { times: 1 });
      await assert.rejects(
        client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
        (e: unknown) => {
          assert.ok(e instanceof OpenAI.RateLimitError);
          assert.equal(e.status, 429);
          assert.equal(e.headers?.get('retry-after'), '2');
          assert.equal(e.code, 'rate_limit_exceeded');
          return true;
        },
      );
      const ok = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
      });
      assert.equal(ok.choices.length, 1);
    });

    test('status via header, including 500 and a custom body', async () => {
      await assert.rejects(
        client.chat.completions.create(
          { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] },
          { headers: { 'x-mock-fault': 'status=500' } },
        ),
        (e: unknown) =>
          e instanceof OpenAI.InternalServerError && e.status === 500 && e.type === 'server_error',
      );
      const r = await raw(mock.url + '/v1/chat/completions', {
        body: '{}',
        headers: { 'x-mock-fault': 'status=502;body=upstream exploded' },
      });
      assert.equal(r.status, 502);
      assert.equal(r.body.toString(), 'upstream exploded');
    });

    test('timeout: never answers (client gives up)', async () => {
      const impatient = new OpenAI({ baseURL: mock.url + '/v1', apiKey: 'x', maxRetries: 0, timeout: 200 });
      mock.setFault({ kind: 'timeout' });
      await assert.rejects(
        impatient.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
        OpenAI.APIConnectionTimeoutError,
      );
      mock.setFault(undefined);
      assert.equal(mock.requests.length, 1);
    });

    test('drop-mid-stream: socket destroyed after N chunks → SDK stream errors', async () => {
      const s = await client.chat.completions.create(
        { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true },
        { headers: { 'x-mock-fault': 'drop=3' } },
      );
      let got = 0;
      await assert.rejects(async () => {
        for await (const _ of s) got++;
      });
      assert.equal(got, 3);

      mock.setFault({ kind: 'drop-mid-stream', afterChunks: 1 });
      await assert.rejects(
        client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
      );
      mock.setFault(undefined);
    });

    test('malformed: invalid JSON body and broken SSE frame', async () => {
      const r = await raw(mock.url + '/v1/chat/completions', {
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
        headers: { 'x-mock-fault': 'malformed' },
      });
      assert.equal(r.status, 200);
      assert.throws(() => JSON.parse(r.body.toString('utf8')), SyntaxError);
      await assert.rejects(
        client.chat.completions.create(
          { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] },
          { headers: { 'x-mock-fault': 'malformed' } },
        ),
      );
      // logLevel off: the SDK would log the unparsable frame before throwing
      const quiet = new OpenAI({ baseURL: mock.url + '/v1', apiKey: 'x', maxRetries: 0, logLevel: 'off' });
      const s = await quiet.chat.completions.create(
        { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true },
        { headers: { 'x-mock-fault': 'malformed' } },
      );
      let parsed = 0;
      await assert.rejects(async () => {
        for await (const _ of s) parsed++;
      }, SyntaxError);
      assert.equal(parsed, 1); // the role chunk, then the broken frame
    });

    test('no-usage: omitted from JSON and from the stream even with include_usage', async () => {
      mock.setFault({ kind: 'no-usage' });
      const r = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
      });
      assert.equal(r.usage, undefined);
      const s = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let usageSeen = false;
      let last: OpenAI.Chat.Completions.ChatCompletionChunk | undefined;
      for await (const ch of s) {
        if (ch.usage) usageSeen = true;
        last = ch;
      }
      assert.equal(usageSeen, false);
      assert.equal(last?.choices[0]?.finish_reason, 'stop');
      mock.setFault(undefined);
    });

    test('gzip: content-encoding gzip, decoded by the SDK (JSON and SSE)', async () => {
      const body = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'zip it' }] };
      const r = await raw(mock.url + '/v1/chat/completions', {
        body: JSON.stringify(body),
        headers: { 'x-mock-fault': 'gzip' },
      });
      assert.equal(r.headers['content-encoding'], 'gzip');
      const decoded = JSON.parse(zlib.gunzipSync(r.body).toString('utf8')) as {
        choices: { message: { content: string } }[];
      };
      assert.equal(decoded.choices[0]?.message.content, expectedCompletion(body).content);

      mock.setFault({ kind: 'gzip' });
      const viaSdk = await client.chat.completions.create(body);
      assert.equal(viaSdk.choices[0]?.message.content, expectedCompletion(body).content);
      const s = await client.chat.completions.create({ ...body, stream: true });
      let text = '';
      for await (const ch of s) text += ch.choices[0]?.delta.content ?? '';
      assert.equal(text, expectedCompletion(body).content);
      mock.setFault(undefined);
    });
  });

  test('pacing: first chunk after ttft, tokens/s spreads the rest', async () => {
    mock.setOptions({ ttftMs: 100 });
    const body = {
      model: 'gpt-4o',
      messages: [{ role: 'user' as const, content: 'pace me' }],
      stream: true as const,
    };
    const t0 = Date.now();
    const s = await client.chat.completions.create(body, { headers: { 'x-mock-tokens-per-s': '200' } });
    const arrivals: number[] = [];
    for await (const _ of s) arrivals.push(Date.now());
    const first = arrivals[0];
    const lastA = arrivals[arrivals.length - 1];
    assert.ok(first !== undefined && lastA !== undefined);
    assert.ok(first - t0 >= 100, `first chunk after ${first - t0} ms`);
    const rec = mock.requests[0];
    assert.ok(rec && first - rec.receivedAt >= 100);
    // all but the first piece's tokens are paced at 5 ms/token
    const tokens = expectedCompletion(body).completionTokens;
    assert.ok(lastA - first >= (tokens - 4) * 5 - 2, `stream took ${lastA - first} ms for ${tokens} tokens`);

    // header override of ttft for one request
    mock.setOptions({ ttftMs: 0 });
    const t1 = Date.now();
    const s2 = await client.chat.completions.create(body, { headers: { 'x-mock-ttft-ms': '60' } });
    let firstArrival = 0;
    for await (const _ of s2) if (!firstArrival) firstArrival = Date.now();
    assert.ok(firstArrival - t1 >= 60);
  });

  test('HTTPS target', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mock-llm-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          path.join(dir, 'k.pem'),
          '-out',
          path.join(dir, 'c.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ],
        { stdio: 'ignore' },
      );
      const cert = fs.readFileSync(path.join(dir, 'c.pem'), 'utf8');
      const tls = await startMockLlm({
        tls: { key: fs.readFileSync(path.join(dir, 'k.pem'), 'utf8'), cert },
        name: 'tls',
      });
      try {
        assert.match(tls.url, /^https:\/\/127\.0\.0\.1:\d+$/);
        const r = await raw(tls.url + '/v1/chat/completions', {
          body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'secure' }] }),
          ca: cert,
        });
        assert.equal(r.status, 200);
        assert.equal(r.headers['x-mock-llm-name'], 'tls');
      } finally {
        await tls.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('stop() ends hanging requests', async () => {
    const m2 = await startMockLlm();
    const pending = raw(m2.url + '/v1/chat/completions', {
      body: '{}',
      headers: { 'x-mock-fault': 'timeout' },
    });
    while (m2.requests.length === 0) await new Promise((r) => setImmediate(r));
    await m2.stop();
    await assert.rejects(pending);
  });

  test('standalone CLI serves and logs one line per request without prompt text', async () => {
    const repo = path.resolve(__dirname, '../..');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/mock-llm.ts', '--port', '0', '--host', '127.0.0.1', '--name', 'cli'],
      {
        cwd: repo,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    try {
      let stderr = '';
      const lines: string[] = [];
      const waitFor = (pred: () => boolean): Promise<void> =>
        new Promise((resolve, reject) => {
          const check = (): void => {
            if (pred()) {
              child.stderr.off('data', onData);
              resolve();
            }
          };
          const onData = (d: Buffer): void => {
            stderr += d.toString();
            lines.splice(0, lines.length, ...stderr.split('\n').filter(Boolean));
            check();
          };
          child.stderr.on('data', onData);
          child.once('exit', (code) => reject(new Error(`cli exited ${code}: ${stderr}`)));
          check();
        });
      await waitFor(() => /listening on (\S+)/.test(stderr));
      const url = /listening on (\S+)/.exec(stderr)?.[1] ?? '';
      const secret = 'my secret prompt text';
      const r = await raw(url + '/v1/chat/completions', {
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: secret }] }),
      });
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-mock-llm-name'], 'cli');
      await waitFor(() => lines.length >= 2);
      assert.match(lines[1] ?? '', /POST \/v1\/chat\/completions 200 \d+ms model=gpt-4o/);
      assert.ok(!stderr.includes(secret));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
