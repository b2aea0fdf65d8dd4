import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withDefaults } from '../../../lib/schema/kong-schema';
import { Schema, type SemanticCacheConfig } from '../../../plugins/llm-semantic-cache/schema';
import {
  buildKey,
  canonical,
  parseCacheControl,
  partitionOf,
  KEY_RE,
} from '../../../plugins/llm-semantic-cache/key';
import type { ChatRequest } from '../../../lib/openai';

const config = (p: Record<string, unknown> = {}) => withDefaults<SemanticCacheConfig>(Schema, p);
const base: ChatRequest = {
  model: 'fast',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'What is the capital of France?' },
  ],
};
const key = (req: Partial<ChatRequest>, c = config(), partition = 'consumer:a', route = 'r1') =>
  buildKey({ ...base, ...req } as ChatRequest, c, partition, route);

describe('llm-semantic-cache keys and partitions', () => {
  it('partitions per consumer by default; groups, route and global on request; missing identity → undefined', () => {
    const id = {
      consumer: { id: 'c1', username: 'alice' },
      groups: ['gold', 'beta'],
      route: { id: 'r', name: 'chat' },
    };
    assert.equal(partitionOf('consumer', id), 'consumer:c1');
    assert.equal(partitionOf('consumer_group', id), 'consumer_group:beta,gold');
    assert.equal(partitionOf('route', id), 'route:chat');
    assert.equal(partitionOf('global', {}), 'global');
    assert.equal(partitionOf('consumer', { route: id.route }), undefined);
    assert.equal(partitionOf('consumer_group', { consumer: id.consumer, groups: [] }), undefined);
  });

  it('is stable and well-formed; the field order of the body does not matter', () => {
    const a = key({ temperature: 0.2, top_p: 0.9 });
    const b = key({ top_p: 0.9, temperature: 0.2 });
    assert.equal(a.key, b.key);
    assert.match(a.key, KEY_RE);
    assert.equal(a.text, 'What is the capital of France?');
    assert.equal(canonical({ b: 1, a: [1, { d: 2, c: 3 }] }), '{"a":[1,{"c":3,"d":2}],"b":1}');
  });

  it('different partitions never share keys or index partitions', () => {
    const a = key({}, config(), 'consumer:a');
    const b = key({}, config(), 'consumer:b');
    assert.notEqual(a.key, b.key);
    assert.notEqual(a.ip, b.ip);
    assert.equal(a.ctx, b.ctx);
  });

  it('every parameter that changes the answer changes the context', () => {
    const ref = key({}).ctx;
    const variants: Partial<ChatRequest>[] = [
      { model: 'smart' },
      { temperature: 1 },
      { top_p: 0.5 },
      { seed: 7 },
      { n: 2 },
      { tools: [{ type: 'function', function: { name: 'f' } }] },
      { tool_choice: 'required' },
      { response_format: { type: 'json_object' } },
      { stop: ['x'] },
      { presence_penalty: 1 },
      { logit_bias: { '1': 2 } } as Partial<ChatRequest>,
      { reasoning_effort: 'high' } as Partial<ChatRequest>,
      { messages: [{ role: 'system', content: 'You are verbose.' }, base.messages[1]!] },
    ];
    for (const v of variants) assert.notEqual(key(v).ctx, ref, JSON.stringify(v));
    assert.notEqual(key({}, config(), 'consumer:a', 'r2').ctx, ref, 'route');
  });

  it('stream, stream_options, user, metadata and max_tokens do not change the key', () => {
    const ref = key({}).key;
    for (const v of [
      { stream: true },
      { stream_options: { include_usage: true } },
      { user: 'u' },
      { max_tokens: 10 },
      { max_completion_tokens: 5 },
      { metadata: { a: 1 } },
    ]) {
      assert.equal(key(v as Partial<ChatRequest>).key, ref, JSON.stringify(v));
    }
  });

  it('ignore_system_prompts drops system and developer messages from the key', () => {
    const c = config({ ignore_system_prompts: true });
    const other = { messages: [{ role: 'developer' as const, content: 'Other.' }, base.messages[1]!] };
    assert.equal(key({}, c).key, key(other, c).key);
    assert.notEqual(key({}).key, key(other).key);
  });

  it('message_countback: the window is compared, earlier history must match exactly', () => {
    const turns = (first: string, last: string): Partial<ChatRequest> => ({
      messages: [
        { role: 'user', content: first },
        { role: 'assistant', content: 'Answer one.' },
        { role: 'user', content: last },
      ],
    });
    const a = key(turns('Tell me about Paris.', 'And its population?'));
    const b = key(turns('Tell me about Rome.', 'And its population?'));
    assert.notEqual(a.ctx, b.ctx, 'different history, different context');
    assert.equal(a.text, 'And its population?');
    const c2 = config({ message_countback: 3 });
    const w = key(turns('Tell me about Paris.', 'And its population?'), c2);
    assert.equal(w.text, 'Tell me about Paris.\nAnswer one.\nAnd its population?');
    const noAsst = config({ message_countback: 3, ignore_assistant_prompts: true });
    assert.equal(
      key(turns('Tell me about Paris.', 'And its population?'), noAsst).text,
      'Tell me about Paris.\nAnd its population?',
    );
  });

  it('ignore_tool_prompts drops tool results', () => {
    const withTool: Partial<ChatRequest> = {
      messages: [base.messages[1]!, { role: 'tool', tool_call_id: 't1', content: '{"temp": 20}' }],
    };
    const c = config({ ignore_tool_prompts: true, message_countback: 2 });
    assert.equal(key(withTool, c).key, key({ messages: [base.messages[1]!] }, c).key);
  });

  it('non-text parts (images) are part of the context, not the compared text', () => {
    const img = (url: string): Partial<ChatRequest> => ({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this image?' },
            { type: 'image_url', image_url: { url } },
          ],
        },
      ],
    });
    const a = key(img('https://x/a.png'));
    const b = key(img('https://x/b.png'));
    assert.equal(a.text, b.text);
    assert.notEqual(a.ctx, b.ctx);
  });

  it('parses request Cache-Control', () => {
    assert.deepEqual(parseCacheControl('no-store'), { noStore: true, noCache: false });
    assert.deepEqual(parseCacheControl('No-Cache, max-age=60'), {
      noStore: false,
      noCache: true,
      maxAge: 60,
    });
    assert.deepEqual(parseCacheControl('s-maxage=5, max-age=60'), {
      noStore: false,
      noCache: false,
      maxAge: 5,
    });
    assert.deepEqual(parseCacheControl(undefined), { noStore: false, noCache: false });
  });
});
