import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachText, parseChatRequest, type TextLocation } from '../../../lib/openai';

test('forEachText visits every text of a chat request with its location and rewrites in place', () => {
  const req = parseChatRequest({
    model: 'gpt-4o',
    messages: [
      { role: 'system', content: 'sys a@b.c' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'part a@b.c' },
          { type: 'image_url', image_url: { url: 'https://a@b.c/x.png' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: '1',
            type: 'function',
            function: {
              name: 'send',
              arguments: '{"to":"a@b.c","n":5,"cc":["a@b.c"],"nested":{"x":"a@b.c"}}',
            },
          },
          { id: '2', type: 'function', function: { name: 'raw', arguments: 'not json a@b.c' } },
        ],
      },
      { role: 'tool', tool_call_id: '1', content: 'sent to a@b.c' },
      { role: 'assistant', content: [{ type: 'refusal', refusal: 'no a@b.c' }] },
    ],
  });
  const seen: [string, TextLocation][] = [];
  const n = forEachText(req, (text, loc) => {
    seen.push([text, loc]);
    return text.includes('a@b.c') ? text.replaceAll('a@b.c', '<EMAIL_1>') : undefined;
  });
  assert.deepEqual(
    seen.map(([t, l]) => [t, l.kind, l.role, l.messageIndex]),
    [
      ['sys a@b.c', 'content', 'system', 0],
      ['part a@b.c', 'part', 'user', 1],
      ['a@b.c', 'tool_arguments', 'assistant', 2],
      ['a@b.c', 'tool_arguments', 'assistant', 2],
      ['a@b.c', 'tool_arguments', 'assistant', 2],
      ['not json a@b.c', 'tool_arguments', 'assistant', 2],
      ['sent to a@b.c', 'tool_result', 'tool', 3],
      ['no a@b.c', 'part', 'assistant', 4],
    ],
  );
  assert.equal(n, 8);
  const m = req.messages;
  assert.equal(m[0]!.content, 'sys <EMAIL_1>');
  assert.deepEqual(JSON.parse(m[2]!.tool_calls![0]!.function!.arguments), {
    to: '<EMAIL_1>',
    n: 5,
    cc: ['<EMAIL_1>'],
    nested: { x: '<EMAIL_1>' },
  });
  assert.equal(m[2]!.tool_calls![1]!.function!.arguments, 'not json <EMAIL_1>');
  assert.equal(m[3]!.content, 'sent to <EMAIL_1>');
  // image URL untouched
  assert.equal(
    (m[1]!.content as { image_url?: { url: string } }[])[1]!.image_url!.url,
    'https://a@b.c/x.png',
  );
});

test('forEachText leaves unchanged arguments byte-identical', () => {
  const args = '{ "a" : "x" }';
  const req = parseChatRequest({
    model: 'm',
    messages: [
      {
        role: 'assistant',
        tool_calls: [{ id: '1', type: 'function', function: { name: 'f', arguments: args } }],
      },
    ],
  });
  assert.equal(
    forEachText(req, () => undefined),
    0,
  );
  assert.equal(req.messages[0]!.tool_calls![0]!.function!.arguments, args);
});

test('forEachText on completions, embeddings and Responses requests', () => {
  const comp = { model: 'm', prompt: ['a', 'b'] };
  forEachText(comp, (t, loc) => (assert.equal(loc.kind, 'prompt'), t.toUpperCase()));
  assert.deepEqual(comp.prompt, ['A', 'B']);
  const emb = { model: 'm', input: 'x' };
  forEachText(emb, (t, loc) => (assert.equal(loc.kind, 'input'), t + '!'));
  assert.equal(emb.input, 'x!');
  const resp = {
    model: 'm',
    instructions: 'inst',
    input: [
      { role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
      { type: 'function_call', call_id: 'c', name: 'f', arguments: '{"q":"s"}' },
      { type: 'function_call_output', call_id: 'c', output: 'out' },
    ],
  };
  const kinds: string[] = [];
  forEachText(resp, (t, loc) => (kinds.push(loc.kind), `[${t}]`));
  assert.deepEqual(kinds, ['content', 'part', 'tool_arguments', 'tool_result']);
  assert.equal(resp.instructions, '[inst]');
  assert.equal(resp.input[1]!['arguments'], '{"q":"[s]"}');
  assert.equal(resp.input[2]!['output'], '[out]');
});
