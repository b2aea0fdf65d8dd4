import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { buildChatCompletion, buildSseReplay, extractUsage } from '../../../lib/openai';

test('extractUsage: full, partial, garbage', () => {
  assert.deepEqual(
    extractUsage({
      usage: {
        prompt_tokens: 100,
        completion_tokens: 50,
        total_tokens: 150,
        prompt_tokens_details: { cached_tokens: 40, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 30 },
      },
    }),
    { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150, cached_tokens: 40, reasoning_tokens: 30 },
  );
  assert.deepEqual(extractUsage({ usage: { prompt_tokens: 7 } }), {
    prompt_tokens: 7,
    completion_tokens: 0,
    total_tokens: 7,
    cached_tokens: 0,
    reasoning_tokens: 0,
  });
  // garbage: strings, negatives, floats, cached > prompt
  assert.deepEqual(
    extractUsage({
      usage: {
        prompt_tokens: 10,
        completion_tokens: '5',
        total_tokens: -1,
        prompt_tokens_details: { cached_tokens: 99 },
        completion_tokens_details: 'x',
      },
    }),
    { prompt_tokens: 10, completion_tokens: 0, total_tokens: 10, cached_tokens: 10, reasoning_tokens: 0 },
  );
  // Responses API shape
  assert.deepEqual(
    extractUsage({
      usage: {
        input_tokens: 10,
        output_tokens: 4,
        total_tokens: 14,
        input_tokens_details: { cached_tokens: 2 },
        output_tokens_details: { reasoning_tokens: 1 },
      },
    }),
    { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14, cached_tokens: 2, reasoning_tokens: 1 },
  );
  for (const bad of [
    undefined,
    null,
    'x',
    5,
    {},
    { usage: null },
    { usage: 'x' },
    { usage: { prompt_tokens: 'a' } },
    { usage: [] },
  ]) {
    assert.equal(extractUsage(bad), undefined);
  }
});

async function withServer(body: string, fn: (baseURL: string) => Promise<void>): Promise<void> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await fn(`http://127.0.0.1:${port}/v1`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const usage = {
  prompt_tokens: 12,
  completion_tokens: 9,
  total_tokens: 21,
  cached_tokens: 4,
  reasoning_tokens: 0,
};
const CONTENT = 'Hello! 👋🏽 Ça va? 你好。'.repeat(5);

test('buildSseReplay: the official openai SDK parses the replay (content, finish reason, usage)', async () => {
  const completion = buildChatCompletion({
    model: 'gpt-4o-mini',
    content: CONTENT,
    usage,
    id: 'chatcmpl-test',
    created: 1700000000,
  });
  const sse = buildSseReplay(completion, { includeUsage: true, chunkChars: 7 });
  assert.ok(sse.endsWith('data: [DONE]\n\n'));
  await withServer(sse, async (baseURL) => {
    const client = new OpenAI({ apiKey: 'test', baseURL, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let gotUsage: unknown;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      assert.equal(chunk.id, 'chatcmpl-test');
      for (const c of chunk.choices) {
        text += c.delta.content ?? '';
        if (c.finish_reason) finish = c.finish_reason;
      }
      if (chunk.usage) gotUsage = chunk.usage;
    }
    assert.equal(text, CONTENT);
    assert.equal(finish, 'stop');
    assert.ok(chunks > 5);
    assert.deepEqual(gotUsage, {
      prompt_tokens: 12,
      completion_tokens: 9,
      total_tokens: 21,
      prompt_tokens_details: { cached_tokens: 4 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });

    // The SDK's stream helper accumulates a final ChatCompletion.
    const runner = client.chat.completions.stream({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    const final = await runner.finalChatCompletion();
    assert.equal(final.choices[0]!.message.content, CONTENT);
    assert.equal(final.choices[0]!.finish_reason, 'stop');
  });
});

test('buildSseReplay: tool calls round-trip through the SDK stream helper; no usage chunk unless asked', async () => {
  const completion = buildChatCompletion({
    model: 'gpt-4o',
    content: null,
    tool_calls: [
      { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ],
  });
  assert.equal(completion.choices[0]!.finish_reason, 'tool_calls');
  const sse = buildSseReplay(completion);
  assert.ok(!sse.includes('"usage"'));
  await withServer(sse, async (baseURL) => {
    const client = new OpenAI({ apiKey: 'test', baseURL, maxRetries: 0 });
    const runner = client.chat.completions.stream({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });
    const final = await runner.finalChatCompletion();
    const tc = final.choices[0]!.message.tool_calls![0]!;
    assert.equal(tc.id, 'call_1');
    assert.equal(tc.type, 'function');
    if (tc.type === 'function') {
      assert.equal(tc.function.name, 'get_weather');
      assert.equal(tc.function.arguments, '{"city":"Paris"}');
    }
    assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
  });
});

test('buildSseReplay never splits a surrogate pair', () => {
  const c = buildChatCompletion({ model: 'm', content: '🎉'.repeat(10) });
  const sse = buildSseReplay(c, { chunkChars: 1 });
  const pieces = sse
    .split('\n\n')
    .filter((l) => l.startsWith('data: {'))
    .map((l) => JSON.parse(l.slice(6)) as { choices: { delta: { content?: string } }[] })
    .flatMap((ch) =>
      ch.choices
        .map((x) => x.delta.content)
        .filter((x): x is string => typeof x === 'string' && x.length > 0),
    );
  assert.deepEqual(pieces, Array(10).fill('🎉'));
});
