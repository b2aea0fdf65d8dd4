import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import { parseChatRequest } from '../../../lib/openai';
import {
  countChatPrompt,
  countCompletionPrompt,
  countEmbeddingsInput,
  countText,
  countWithEncoding,
  encodingForModel,
  estimateMaxOutput,
  imageSizeFromDataUrl,
  imageTokens,
  renderFunctionDefinitions,
} from '../../../lib/tokens';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const o200k = new Tiktoken(require('js-tiktoken/ranks/o200k_base') as TiktokenBPE);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cl100k = new Tiktoken(require('js-tiktoken/ranks/cl100k_base') as TiktokenBPE);

// OpenAI cookbook "How to count tokens with tiktoken": documented prompt_tokens for this example.
const COOKBOOK = [
  {
    role: 'system',
    content:
      'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.',
  },
  { role: 'system', name: 'example_user', content: 'New synergies will help drive top-line growth.' },
  {
    role: 'system',
    name: 'example_assistant',
    content: 'Things working well together will increase revenue.',
  },
  {
    role: 'system',
    name: 'example_user',
    content:
      "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
  },
  {
    role: 'system',
    name: 'example_assistant',
    content: "Let's talk later when we're less busy about how to do better.",
  },
  {
    role: 'user',
    content: "This late pivot means we don't have time to boil the ocean for the client deliverable.",
  },
];

test('cookbook example: 129 tokens on gpt-3.5-turbo/gpt-4 (cl100k), 124 on gpt-4o/gpt-4o-mini (o200k)', () => {
  for (const [model, want] of [
    ['gpt-3.5-turbo', 129],
    ['gpt-4-0613', 129],
    ['gpt-4', 129],
    ['gpt-4o', 124],
    ['gpt-4o-mini', 124],
  ] as const) {
    const got = countChatPrompt(parseChatRequest({ model, messages: COOKBOOK }));
    assert.equal(got.tokens, want, model);
    assert.equal(got.approximate, false);
  }
});

test('accounting formula: 3 per message + role + content, +1 per name (+ name tokens), +3 priming', () => {
  const one = countChatPrompt(
    parseChatRequest({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] }),
  );
  assert.equal(one.tokens, 3 + 3 + 1 + 1); // priming + per-message + "user" + "hello"
  const named = countChatPrompt(
    parseChatRequest({ model: 'gpt-4o', messages: [{ role: 'user', name: 'bob', content: 'hello' }] }),
  );
  assert.equal(named.tokens, one.tokens + 1 + countText('bob', 'gpt-4o'));
  const parts = countChatPrompt(
    parseChatRequest({
      model: 'gpt-4o',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hello' },
            { type: 'text', text: 'world' },
          ],
        },
      ],
    }),
  );
  assert.equal(parts.tokens, 3 + 3 + 1 + countText('hello', 'gpt-4o') + countText('world', 'gpt-4o'));
});

test('encoding by model family; non-OpenAI models are o200k approximations', () => {
  for (const m of [
    'gpt-4o',
    'gpt-4o-2024-08-06',
    'gpt-4.1-mini',
    'o1',
    'o3-mini',
    'o4-mini',
    'gpt-5',
    'openai/gpt-4o',
    'GPT-4O',
  ]) {
    assert.deepEqual(encodingForModel(m), { encoding: 'o200k_base', approximate: false }, m);
  }
  for (const m of [
    'gpt-4',
    'gpt-4-turbo',
    'gpt-3.5-turbo-0125',
    'text-embedding-3-small',
    'azure/gpt-35-turbo',
  ]) {
    assert.deepEqual(encodingForModel(m), { encoding: 'cl100k_base', approximate: false }, m);
  }
  for (const m of [
    'claude-3-5-sonnet-20241022',
    'gemini-2.5-pro',
    'llama-3.3-70b-versatile',
    'mistral-large-latest',
    '',
    undefined,
  ]) {
    assert.deepEqual(encodingForModel(m), { encoding: 'o200k_base', approximate: true }, String(m));
  }
  const c = countChatPrompt(
    parseChatRequest({ model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'hi' }] }),
  );
  assert.equal(c.approximate, true);
});

test('special-token strings in user text count as ordinary text (never throw)', () => {
  for (const t of ['<|endoftext|>', 'a <|im_start|> b <|im_end|>', '<|fim_prefix|>']) {
    assert.equal(countWithEncoding(t, 'o200k_base'), o200k.encode(t, [], []).length);
    assert.equal(countWithEncoding(t, 'cl100k_base'), cl100k.encode(t, [], []).length);
  }
});

test('edge case: trailing "" + space strings match tiktoken exactly', () => {
  for (const t of ['""', '"" ', '""  ', 'say "" ', 'x ""  ', ' "" \n', '"" "" ', '""\t ']) {
    assert.equal(countWithEncoding(t, 'o200k_base'), o200k.encode(t, [], []).length, JSON.stringify(t));
    assert.equal(countWithEncoding(t, 'cl100k_base'), cl100k.encode(t, [], []).length, JSON.stringify(t));
  }
});

test('known edge case: a BOM (U+FEFF) inside text is overcounted by gpt-tokenizer 4.0.0 and flagged approximate', () => {
  for (const t of ['\uFEFF', 'a\uFEFFb', '\uFEFFhello', 'hello\uFEFF', '\uFEFF\uFEFF\uFEFF', '中\uFEFF文']) {
    const bom = t.split('\uFEFF').length - 1;
    const diff = countWithEncoding(t, 'o200k_base') - o200k.encode(t, [], []).length;
    assert.ok(diff >= 1 && diff <= 2 * bom, `${JSON.stringify(t)}: diff ${diff}`);
  }
  const r = countChatPrompt(
    parseChatRequest({ model: 'gpt-4o', messages: [{ role: 'user', content: 'a\uFEFFb' }] }),
  );
  assert.equal(r.approximate, true);
});

test('image tokens: OpenAI documented examples', () => {
  assert.equal(imageTokens('gpt-4o', 1024, 1024, 'high'), 765);
  assert.equal(imageTokens('gpt-4o', 2048, 4096, 'high'), 1105);
  assert.equal(imageTokens('gpt-4o', 4096, 8192, 'low'), 85);
  assert.equal(imageTokens('gpt-4o', 512, 512, 'high'), 255);
  assert.equal(imageTokens('gpt-4o', undefined, undefined, 'auto'), 765); // unknown size → 1024×1024
  assert.equal(imageTokens('gpt-4o-mini', 1024, 1024, 'high'), 2833 + 4 * 5667);
  // patch models: 1024×1024 → 1024 patches; 1800×2400 → 1452 patches (docs), times the multiplier
  assert.equal(imageTokens('gpt-4.1-mini', 1024, 1024), Math.ceil(1024 * 1.62));
  assert.equal(imageTokens('gpt-4.1-mini', 1800, 2400), Math.ceil(1452 * 1.62));
});

function png(w: number, h: number): string {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(w, 16);
  b.writeUInt32BE(h, 20);
  return `data:image/png;base64,${b.toString('base64')}`;
}
function jpeg(w: number, h: number): string {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, ...Buffer.from('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const sof = Buffer.alloc(19);
  sof.writeUInt16BE(0xffc0, 0);
  sof.writeUInt16BE(17, 2);
  sof[4] = 8;
  sof.writeUInt16BE(h, 5);
  sof.writeUInt16BE(w, 7);
  return `data:image/jpeg;base64,${Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof]).toString('base64')}`;
}
function gif(w: number, h: number): string {
  const b = Buffer.alloc(13);
  b.write('GIF89a', 0, 'latin1');
  b.writeUInt16LE(w, 6);
  b.writeUInt16LE(h, 8);
  return `data:image/gif;base64,${b.toString('base64')}`;
}

test('image size from data URLs (PNG, JPEG, GIF); sized images are not approximate', () => {
  assert.deepEqual(imageSizeFromDataUrl(png(2048, 4096)), { width: 2048, height: 4096 });
  assert.deepEqual(imageSizeFromDataUrl(jpeg(640, 480)), { width: 640, height: 480 });
  assert.deepEqual(imageSizeFromDataUrl(gif(10, 20)), { width: 10, height: 20 });
  assert.equal(imageSizeFromDataUrl('https://example.com/cat.png'), undefined);
  assert.equal(imageSizeFromDataUrl('data:image/png;base64,!!!!'), undefined);
  const req = (url: string) =>
    parseChatRequest({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url, detail: 'high' } }] }],
    });
  const sized = countChatPrompt(req(png(2048, 4096)));
  assert.equal(sized.tokens, 3 + 3 + 1 + 1105);
  assert.equal(sized.approximate, false);
  const remote = countChatPrompt(req('https://example.com/cat.png'));
  assert.equal(remote.tokens, 3 + 3 + 1 + 765);
  assert.equal(remote.approximate, true);
});

test('tool definitions: rendered namespace + 9 framing, -4 with a system message; flagged approximate', () => {
  const tools = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Get the current weather',
        parameters: {
          type: 'object',
          properties: {
            location: { type: 'string', description: 'City and country' },
            unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
          },
          required: ['location'],
        },
      },
    },
  ];
  const rendered = renderFunctionDefinitions([tools[0]!.function]);
  assert.equal(
    rendered,
    'namespace functions {\n\n// Get the current weather\ntype get_weather = (_: {\n// City and country\nlocation: string,\nunit?: "celsius" | "fahrenheit",\n}) => any;\n\n} // namespace functions',
  );
  const base = countChatPrompt(
    parseChatRequest({ model: 'gpt-4o', messages: [{ role: 'user', content: 'weather?' }] }),
  );
  const withTools = countChatPrompt(
    parseChatRequest({ model: 'gpt-4o', messages: [{ role: 'user', content: 'weather?' }], tools }),
  );
  assert.equal(withTools.tokens, base.tokens + countText(rendered, 'gpt-4o') + 9);
  assert.equal(withTools.approximate, true);
  const sys = [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'weather?' },
  ];
  const baseSys = countChatPrompt(parseChatRequest({ model: 'gpt-4o', messages: sys }));
  const withSys = countChatPrompt(parseChatRequest({ model: 'gpt-4o', messages: sys, tools }));
  assert.equal(withSys.tokens, baseSys.tokens + countText(rendered, 'gpt-4o') + 9 - 4);
});

test('assistant tool calls, audio and file parts are counted (estimates)', () => {
  const r = countChatPrompt(
    parseChatRequest({
      model: 'gpt-4o',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'input_audio', input_audio: { data: 'A'.repeat(64_000), format: 'wav' } },
            { type: 'file', file: { file_id: 'f1' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      ],
    }),
  );
  assert.equal(r.approximate, true);
  assert.ok(r.tokens > 1000);
});

test('completions and embeddings inputs', () => {
  assert.equal(
    countCompletionPrompt({ model: 'gpt-3.5-turbo-instruct', prompt: ['hello', 'world'] }).tokens,
    2,
  );
  assert.equal(countCompletionPrompt({ model: 'gpt-3.5-turbo-instruct', prompt: [1, 2, 3] }).tokens, 3);
  assert.equal(countEmbeddingsInput({ model: 'text-embedding-3-small', input: 'hello world' }).tokens, 2);
  assert.equal(countEmbeddingsInput({ model: 'text-embedding-3-small', input: [[1, 2], [3]] }).tokens, 3);
});

test('estimateMaxOutput: max_completion_tokens ?? max_tokens ?? catalog max, times n, capped by the model', () => {
  assert.equal(estimateMaxOutput({ max_completion_tokens: 100, max_tokens: 50 }), 100);
  assert.equal(estimateMaxOutput({ max_tokens: 50 }), 50);
  assert.equal(estimateMaxOutput({}, { max_output: 16_384 }), 16_384);
  assert.equal(estimateMaxOutput({}), 4096);
  assert.equal(estimateMaxOutput({ max_tokens: 100, n: 3 }), 300);
  assert.equal(estimateMaxOutput({ max_tokens: 1_000_000 }, { max_output: 16_384 }), 16_384);
  assert.equal(estimateMaxOutput({ max_tokens: null, max_completion_tokens: null }, { max_output: 10 }), 10);
});
