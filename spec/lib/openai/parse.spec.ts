import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isPluginError, PluginError } from '../../../lib/errors';
import {
  detectOperation,
  parseChatRequest,
  parseCompletionRequest,
  parseEmbeddingsRequest,
  parseJsonBody,
} from '../../../lib/openai';

const LIMITS = { maxBytes: 1_000_000, maxDepth: 64, maxMessages: 1000, maxStringBytes: 500_000 };

function rejects(fn: () => unknown, code: string, status = 400): PluginError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PluginError, `not a PluginError: ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.status, status);
    assert.equal(e.expose, true);
    return e;
  }
  assert.fail(`expected ${code}`);
}

test('parseJsonBody: valid bytes and strings', () => {
  const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'héllo 🎉' }] };
  assert.deepEqual(parseJsonBody(new TextEncoder().encode(JSON.stringify(body)), LIMITS), body);
  assert.deepEqual(parseJsonBody(JSON.stringify(body), LIMITS), body);
  // leading BOM ignored
  assert.deepEqual(
    parseJsonBody(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]), LIMITS),
    { a: 1 },
  );
});

test('parseJsonBody: too large → BODY_TOO_LARGE 413, checked before anything else', () => {
  rejects(() => parseJsonBody(Buffer.alloc(101, 0xff), { ...LIMITS, maxBytes: 100 }), 'BODY_TOO_LARGE', 413);
  rejects(() => parseJsonBody('é'.repeat(60), { ...LIMITS, maxBytes: 100 }), 'BODY_TOO_LARGE', 413); // 120 bytes
  rejects(
    () => parseJsonBody(JSON.stringify({ s: 'x'.repeat(1000) }), { ...LIMITS, maxStringBytes: 100 }),
    'BODY_TOO_LARGE',
    413,
  );
  const many = JSON.stringify({
    model: 'm',
    messages: Array.from({ length: 11 }, () => ({ role: 'user', content: 'x' })),
  });
  rejects(() => parseJsonBody(many, { ...LIMITS, maxMessages: 10 }), 'BODY_TOO_LARGE', 413);
});

test('parseJsonBody: invalid UTF-8 → BODY_INVALID_UTF8', () => {
  for (const bad of [
    [0xff],
    [0xc3, 0x28],
    [0xe2, 0x82],
    [0xed, 0xa0, 0x80] /* surrogate */,
    [0xf8, 0x88, 0x80, 0x80, 0x80],
    [0xc0, 0xaf] /* overlong */,
  ]) {
    const buf = Buffer.concat([Buffer.from('{"a":"'), Buffer.from(bad), Buffer.from('"}')]);
    rejects(() => parseJsonBody(buf, LIMITS), 'BODY_INVALID_UTF8');
  }
  rejects(() => parseJsonBody('{"a":"\uD800"}', LIMITS), 'BODY_INVALID_UTF8');
});

test('parseJsonBody: 10k nesting → BODY_TOO_DEEP without stack overflow; brackets in strings ignored', () => {
  rejects(() => parseJsonBody('['.repeat(10_000) + ']'.repeat(10_000), LIMITS), 'BODY_TOO_DEEP');
  rejects(() => parseJsonBody('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000), LIMITS), 'BODY_TOO_DEEP');
  rejects(() => parseJsonBody('['.repeat(1_000_000), { ...LIMITS, maxBytes: 2_000_000 }), 'BODY_TOO_DEEP');
  assert.deepEqual(
    parseJsonBody(JSON.stringify({ s: '[[[[[[[[[[{{{{{{{{\\"' }), { ...LIMITS, maxDepth: 2 }),
    { s: '[[[[[[[[[[{{{{{{{{\\"' },
  );
  assert.deepEqual(parseJsonBody('[[1]]', { ...LIMITS, maxDepth: 2 }), [[1]]);
  rejects(() => parseJsonBody('[[[1]]]', { ...LIMITS, maxDepth: 2 }), 'BODY_TOO_DEEP');
});

test('parseJsonBody: not JSON → BODY_NOT_JSON, message never echoes input', () => {
  for (const bad of ['', 'secret-token-123', '{"a":', '{"a":1}}', "{'a':1}", 'NaN', '[1,]']) {
    const e = rejects(() => parseJsonBody(bad, LIMITS), 'BODY_NOT_JSON');
    assert.ok(!e.message.includes('secret'), e.message);
    assert.equal(e.cause, undefined);
  }
});

test('parseJsonBody: __proto__ keys are dropped', () => {
  const v = parseJsonBody('{"a":{"__proto__":{"polluted":1}},"\\u005f_proto__":{"x":1}}', LIMITS) as Record<
    string,
    unknown
  >;
  assert.deepEqual(Object.keys(v), ['a']);
  assert.deepEqual(Object.keys(v['a'] as object), []);
  const merged = Object.assign({}, v['a']) as Record<string, unknown>;
  assert.equal(merged['polluted'], undefined);
});

const ok = (
  extra: Record<string, unknown> = {},
  messages: unknown[] = [{ role: 'user', content: 'hi' }],
) => ({ model: 'gpt-4o', messages, ...extra });

test('parseChatRequest: accepts the full surface and keeps unknown fields', () => {
  const body = ok(
    {
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 10,
      max_completion_tokens: 20,
      temperature: 0.7,
      top_p: 1,
      n: 2,
      seed: 42,
      tools: [
        {
          type: 'function',
          function: { name: 'f', description: 'd', parameters: { type: 'object', properties: {} } },
        },
      ],
      tool_choice: { type: 'function', function: { name: 'f' } },
      response_format: { type: 'json_schema', json_schema: { name: 's', schema: {} } },
      functions: [{ name: 'g' }],
      function_call: 'auto',
      user: 'u1',
      provider_specific: { x: 1 },
    },
    [
      { role: 'system', content: 'sys' },
      { role: 'developer', content: [{ type: 'text', text: 'dev' }] },
      {
        role: 'user',
        name: 'bob',
        content: [
          { type: 'text', text: 'hi' },
          { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } },
          { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } },
          { type: 'file', file: { file_id: 'file-1' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'result' },
      { role: 'assistant', content: [{ type: 'refusal', refusal: 'no' }] },
      { role: 'function', name: 'g', content: null },
    ],
  );
  const r = parseChatRequest(body);
  assert.equal(r, body);
  assert.deepEqual(r['provider_specific'], { x: 1 });
});

test('parseChatRequest: wrong shapes → BODY_SHAPE with a precise path', () => {
  const cases: [unknown, string][] = [
    [[], 'request body must be a JSON object'],
    [{ messages: [{ role: 'user', content: 'x' }] }, 'model must be'],
    [ok({ model: 5 }), 'model must be'],
    [ok({}, []), 'messages must be a non-empty array'],
    [{ model: 'm', messages: {} }, 'messages must be a non-empty array'],
    [
      ok({}, [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
        { role: 'user', content: 5 },
      ]),
      'messages[2].content must be a string or an array of content parts',
    ],
    [ok({}, [{ role: 'hacker', content: 'x' }]), 'messages[0].role must be one of'],
    [ok({}, ['x']), 'messages[0] must be an object'],
    [ok({}, [{ role: 'user' }]), 'messages[0].content is required for role user'],
    [
      ok({}, [{ role: 'user', content: [{ type: 'text', text: 1 }] }]),
      'messages[0].content[0].text must be a string',
    ],
    [
      ok({}, [{ role: 'user', content: [{ type: 'weird' }] }]),
      'messages[0].content[0].type is not an allowed',
    ],
    [
      ok({}, [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'x' } }] }]),
      'messages[0].content[0].type is not an allowed',
    ],
    [
      ok({}, [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x', detail: 'ultra' } }] }]),
      'detail must be',
    ],
    [ok({}, [{ role: 'tool', content: 'x' }]), 'messages[0].tool_call_id must be a string'],
    [
      ok({}, [
        {
          role: 'assistant',
          tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: {} } }],
        },
      ]),
      'messages[0].tool_calls[0].function.arguments must be a string',
    ],
    [ok({}, [{ role: 'user', content: 'x', tool_calls: [] }]), 'tool_calls is only allowed on assistant'],
    [ok({ max_tokens: -1 }), 'max_tokens must be a non-negative integer'],
    [ok({ max_tokens: 1.5 }), 'max_tokens must be'],
    [ok({ max_completion_tokens: 1e12 }), 'max_completion_tokens must be'],
    [ok({ max_tokens: '10' }), 'max_tokens must be'],
    [ok({ temperature: 3 }), 'temperature must be'],
    [ok({ top_p: -0.1 }), 'top_p must be'],
    [ok({ n: 0 }), 'n must be'],
    [ok({ stream: 'yes' }), 'stream must be a boolean'],
    [ok({ stream_options: { include_usage: 1 } }), 'stream_options.include_usage must be a boolean'],
    [ok({ tools: {} }), 'tools must be an array'],
    [ok({ tools: [{ type: 'function', function: { description: 'x' } }] }), 'tools[0].function.name must be'],
    [ok({ tool_choice: 'sometimes' }), 'tool_choice must be'],
    [ok({ response_format: { type: 'json_schema' } }), 'response_format.json_schema must be an object'],
    [ok({ functions: [{}] }), 'functions[0].name must be'],
    [ok({ stop: [1] }), 'stop must be'],
  ];
  for (const [body, msg] of cases) {
    const e = rejects(() => parseChatRequest(body), 'BODY_SHAPE');
    assert.ok(
      e.message.includes(msg),
      `${JSON.stringify(body).slice(0, 120)} → "${e.message}", wanted "${msg}"`,
    );
  }
});

test('null optional params are accepted (SDKs send them)', () => {
  parseChatRequest(
    ok({ max_tokens: null, temperature: null, stream: null, stream_options: null, tools: null, seed: null }),
  );
});

test('parseCompletionRequest and parseEmbeddingsRequest', () => {
  parseCompletionRequest({ model: 'm', prompt: 'x' });
  parseCompletionRequest({ model: 'm', prompt: ['x', 'y'] });
  parseCompletionRequest({ model: 'm', prompt: [1, 2] });
  rejects(() => parseCompletionRequest({ model: 'm', prompt: { a: 1 } }), 'BODY_SHAPE');
  rejects(() => parseCompletionRequest({ model: 'm' }), 'BODY_SHAPE');
  parseEmbeddingsRequest({ model: 'm', input: 'x' });
  parseEmbeddingsRequest({ model: 'm', input: ['x'] });
  parseEmbeddingsRequest({ model: 'm', input: [1, 2, 3] });
  parseEmbeddingsRequest({ model: 'm', input: [[1], [2, 3]], encoding_format: 'base64', dimensions: 256 });
  rejects(() => parseEmbeddingsRequest({ model: 'm', input: [] }), 'BODY_SHAPE');
  rejects(() => parseEmbeddingsRequest({ model: 'm', input: [null] }), 'BODY_SHAPE');
  rejects(() => parseEmbeddingsRequest({ model: 'm', input: 'x', encoding_format: 'hex' }), 'BODY_SHAPE');
});

test('detectOperation: by path, then by body', () => {
  assert.equal(detectOperation('/v1/chat/completions', {}), 'chat');
  assert.equal(detectOperation('/openai/deployments/x/chat/completions?api-version=2024', {}), 'chat');
  assert.equal(detectOperation('/v1/completions/', {}), 'completions');
  assert.equal(detectOperation('/v1/embeddings', {}), 'embeddings');
  assert.equal(detectOperation('/v1/responses', {}), 'responses');
  assert.equal(detectOperation('/llm', { messages: [] }), 'chat');
  assert.equal(detectOperation('/llm', { prompt: 'x' }), 'completions');
  assert.equal(detectOperation('/llm', { input: [{ role: 'user', content: 'x' }] }), 'responses');
  assert.equal(detectOperation('/llm', { input: 'x', instructions: 'be nice' }), 'responses');
  assert.equal(detectOperation('/llm', { input: 'x', dimensions: 3 }), 'embeddings');
  assert.equal(detectOperation('/llm', { input: [[1, 2]] }), 'embeddings');
  assert.equal(detectOperation('/llm', { input: 'x' }), undefined);
  assert.equal(detectOperation('/llm', null), undefined);
});

test('property: parseJsonBody + parseChatRequest never throw anything but PluginError', () => {
  const check = (input: Uint8Array | string): void => {
    try {
      parseChatRequest(
        parseJsonBody(input, { maxBytes: 4096, maxDepth: 16, maxMessages: 8, maxStringBytes: 1024 }),
      );
    } catch (e) {
      if (!isPluginError(e)) throw e;
      assert.ok(e.status === 400 || e.status === 413);
    }
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (b) => check(b)),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => check(s)),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 20 }), (v) => check(JSON.stringify(v) ?? 'null')),
    { numRuns: 2000 },
  );
  const msg = fc.record(
    {
      role: fc.oneof(
        fc.constantFrom('system', 'user', 'assistant', 'tool', 'developer', 'function', 'x'),
        fc.anything(),
      ),
      content: fc.oneof(
        fc.string(),
        fc.constant(null),
        fc.array(
          fc.record(
            { type: fc.constantFrom('text', 'image_url', 'refusal', 'file'), text: fc.anything() },
            { requiredKeys: [] },
          ),
        ),
        fc.anything(),
      ),
      name: fc.anything(),
      tool_calls: fc.anything(),
      tool_call_id: fc.anything(),
    },
    { requiredKeys: ['role'] },
  );
  const body = fc.record(
    {
      model: fc.oneof(fc.string(), fc.anything()),
      messages: fc.oneof(fc.array(msg, { maxLength: 10 }), fc.anything()),
      max_tokens: fc.anything(),
      tools: fc.anything(),
      tool_choice: fc.anything(),
      stream_options: fc.anything(),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(body, (v) => check(JSON.stringify(v) ?? 'null')),
    { numRuns: 3000 },
  );
});
