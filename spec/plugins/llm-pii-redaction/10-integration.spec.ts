/**
 * llm-pii-redaction end to end: a real Kong (spec/support/real-kong.ts) + the real plugin server serving
 * dist/plugins + the Lua llm-response-tap (restore) + the mock LLM (records what it received), driven by
 * the official OpenAI SDK. Run `npm run build` first.
 */
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startKong, type KongHandle } from '../../support/real-kong';
import { startMockLlm, type MockLlm } from '../../support/mock-llm';
import { countChatPrompt } from '../../../lib/tokens';
import type { ChatRequest } from '../../../lib/openai';

const EMAIL = 'jane.doe@example.com';
const EMAIL2 = 'bob.stone@example.org';
const PHONE = '+1 415 555 0132';
const CARD = '4111 1111 1111 1111';
const SSN = '123-45-6789';
const IBAN = 'GB82 WEST 1234 5698 7654 32';
const SEEDED = [EMAIL, EMAIL2, PHONE, CARD, SSN, IBAN];

describe('llm-pii-redaction: (integration)', () => {
  let gw: KongHandle;
  let mock: MockLlm;
  const LIMIT = 1_000_000;

  const route = (name: string, pii: Record<string, unknown>, more: unknown[] = []) => ({
    name,
    paths: [`/${name}/v1`],
    strip_path: true,
    response_buffering: false,
    plugins: [{ name: 'llm-pii-redaction', config: pii }, ...more, { name: 'llm-response-tap' }],
  });

  const config = () => ({
    _format_version: '3.0',
    services: [
      {
        name: 'llm',
        url: `${mock.url}/v1`,
        routes: [
          route('pii', {}),
          route('strict', { actions: { ssn: 'block' } }),
          route('norestore', { recover_redacted: false }),
          route('acct', { anonymize: ['email', 'phone', 'creditcard', 'ssn', 'bank'] }, [
            {
              name: 'llm-token-accounting',
              config: {
                strategy: 'memory',
                policies: [
                  {
                    name: 'p',
                    limits: [{ limit: LIMIT, window_size: 3600, tokens_count_strategy: 'prompt_tokens' }],
                  },
                ],
              },
            },
          ]),
        ],
      },
    ],
  });

  const client = (r = 'pii') =>
    new OpenAI({ apiKey: 'unused', baseURL: `${gw.proxyUrl}/${r}/v1`, maxRetries: 0 });

  /** Everything the upstream received (bodies and headers) as one string. */
  const upstreamSaw = () =>
    mock.requests.map((r) => JSON.stringify(r.headers) + '\n' + r.rawBody.toString('utf8')).join('\n');

  const assertNothingLeaked = () => {
    const saw = upstreamSaw();
    for (const v of SEEDED) assert.ok(!saw.includes(v), `upstream received ${JSON.stringify(v)}`);
  };

  before(async () => {
    mock = await startMockLlm();
    gw = await startKong({
      config: config(),
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.stop();
  });
  beforeEach(async () => {
    await gw.waitForLogs();
    mock.reset();
  });

  it('non-stream: the upstream never sees the values, the client gets the originals back', async () => {
    const question = `[[echo]] Hi, I am reachable at ${EMAIL} or ${PHONE}; my IBAN is ${IBAN}.`;
    const res = await client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: question }],
    });
    assert.equal(mock.requests.length, 1);
    assertNothingLeaked();
    const sent = mock.requests[0]!.body as ChatRequest;
    const redacted = sent.messages[0]!.content as string;
    assert.match(redacted, /<EMAIL_1>/);
    assert.match(redacted, /<PHONE_NUMBER_1>/);
    assert.match(redacted, /<IBAN_1>/);
    assert.equal(res.choices[0]!.message.content, question, 'the tap restored every placeholder');
  });

  it('stream: placeholders split across SSE chunks are restored for the client', async () => {
    const question = `[[echo]] Card ${CARD}, mail ${EMAIL}, again ${EMAIL}.`;
    const stream = await client().chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: question }],
    });
    let text = '';
    let chunks = 0;
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      chunks++;
    }
    assert.ok(chunks > 5, 'the answer arrived in many chunks');
    assertNothingLeaked();
    const redacted = (mock.requests[0]!.body as ChatRequest).messages[0]!.content as string;
    assert.equal(redacted, '[[echo]] Card <CREDIT_CARD_1>, mail <EMAIL_1>, again <EMAIL_1>.');
    assert.equal(text, question);
  });

  it('multi-turn with tool calls: every role, tool arguments and tool results redacted, placeholders consistent', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: `You help customers. Escalate to ${EMAIL2}.` },
      { role: 'user', content: [{ type: 'text', text: `My email is ${EMAIL}, card ${CARD}.` }] },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'lookup_customer', arguments: JSON.stringify({ email: EMAIL, card: CARD }) },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: `Found ${EMAIL}: SSN ${SSN}, phone ${PHONE}` },
      { role: 'assistant', content: `I found your account ${EMAIL}.` },
      { role: 'user', content: `[[echo]] Send it to ${EMAIL} and copy ${EMAIL2}.` },
    ];
    const res = await client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      tools: [
        {
          type: 'function',
          function: {
            name: 'lookup_customer',
            parameters: {
              type: 'object',
              properties: { email: { type: 'string' }, card: { type: 'string' } },
            },
          },
        },
      ],
    });
    assertNothingLeaked();
    const sent = (mock.requests[0]!.body as ChatRequest).messages as any[];
    assert.equal(sent[0].content, 'You help customers. Escalate to <EMAIL_1>.');
    assert.equal(sent[1].content[0].text, 'My email is <EMAIL_2>, card <CREDIT_CARD_1>.');
    assert.deepEqual(JSON.parse(sent[2].tool_calls[0].function.arguments), {
      email: '<EMAIL_2>',
      card: '<CREDIT_CARD_1>',
    });
    assert.equal(sent[3].content, 'Found <EMAIL_2>: SSN <SSN_1>, phone <PHONE_NUMBER_1>');
    assert.equal(sent[4].content, 'I found your account <EMAIL_2>.');
    assert.equal(sent[5].content, '[[echo]] Send it to <EMAIL_2> and copy <EMAIL_1>.');
    assert.equal(res.choices[0]!.message.content, `[[echo]] Send it to ${EMAIL} and copy ${EMAIL2}.`);
  });

  it('restores placeholders the model invents from the request (forced answer text)', async () => {
    const res = await client().chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Write to ${EMAIL} please` }] },
      { headers: { 'x-mock-content': 'Done: I wrote to <EMAIL_1>.' } },
    );
    assertNothingLeaked();
    assert.equal(res.choices[0]!.message.content, `Done: I wrote to ${EMAIL}.`);
  });

  it('recover_redacted false: the client sees the placeholders', async () => {
    const res = await client('norestore').chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: `[[echo]] mail ${EMAIL}` }],
    });
    assertNothingLeaked();
    assert.equal(res.choices[0]!.message.content, '[[echo]] mail <EMAIL_1>');
  });

  it('block: 400 PII_BLOCKED with categories and counts, no values, nothing sent upstream', async () => {
    let err: InstanceType<typeof OpenAI.BadRequestError> | undefined;
    try {
      await client('strict').chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: `My SSN is ${SSN} and my email ${EMAIL}` }],
      });
    } catch (e) {
      if (e instanceof OpenAI.BadRequestError) err = e;
      else throw e;
    }
    assert.ok(err, 'the request was rejected with 400');
    const body = err.error as { code?: string; categories?: Record<string, number> };
    assert.equal(body.code, 'PII_BLOCKED');
    assert.deepEqual(body.categories, { ssn: 1 });
    const text = JSON.stringify(err.error) + err.message;
    for (const v of SEEDED) assert.ok(!text.includes(v));
    assert.equal(mock.requests.length, 0);
    // a request without the blocked category passes, redacted
    await client('strict').chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: `only ${EMAIL}` }],
    });
    assert.equal(mock.requests.length, 1);
    assertNothingLeaked();
  });

  it('redacts deeply nested tool-call arguments as text instead of failing (fail-closed paths are unit-tested)', async () => {
    // Nesting deeper than MAX_ARGUMENT_DEPTH inside an arguments string is handled as plain text:
    // the value is still redacted and the walker never re-serialises (and overflows on) the structure.
    const depth = 20_000;
    const args = `{"email":"${EMAIL}","x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const res = await fetch(`${gw.proxyUrl}/pii/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: args } }],
          },
          { role: 'user', content: `hi ${EMAIL}` },
        ],
      }),
    });
    assert.equal(res.status, 200);
    await res.text();
    assert.equal(mock.requests.length, 1);
    assert.ok(
      !mock.requests[0]!.rawBody.toString('utf8').includes(EMAIL),
      'the upstream never sees the value',
    );
  });

  it('bad input: a non-JSON body answers 400 BODY_NOT_JSON and is not forwarded', async () => {
    const res = await fetch(`${gw.proxyUrl}/pii/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"${EMAIL}"`,
    });
    assert.equal(res.status, 400);
    const text = await res.text();
    assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'BODY_NOT_JSON');
    assert.ok(!text.includes(EMAIL));
    assert.equal(mock.requests.length, 0);
  });

  it('llm-token-accounting on the same route counts the REDACTED prompt (pii 870 runs before accounting 860)', async () => {
    const original = {
      model: 'gpt-4o-mini',
      messages: [
        {
          role: 'user' as const,
          content: `Cards ${CARD} and 5500 0000 0000 0004, IBAN ${IBAN}, SSN ${SSN}, ${PHONE}.`,
        },
      ],
    };
    // A stream without provider usage: accounting settles its OWN prompt count (usage_source estimate),
    // so the committed prompt tokens are what it counted on the body it read.
    const stream = await client('acct').chat.completions.create(
      { ...original, stream: true },
      { headers: { 'x-mock-fault': 'no-usage' } },
    );
    for await (const _ of stream) void _;
    await gw.waitForLogs();
    assertNothingLeaked();
    const received = mock.requests[0]!.body as ChatRequest;
    const redactedCount = countChatPrompt(received, { model: 'gpt-4o-mini' }).tokens;
    const originalCount = countChatPrompt(original as unknown as ChatRequest, {
      model: 'gpt-4o-mini',
    }).tokens;
    assert.notEqual(redactedCount, originalCount, 'the redaction changes the token count');
    // the next request's headers show what is committed in the window (its own reservation excluded)
    const { response } = await client('acct')
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    const remaining = Number(response.headers.get('x-ai-ratelimit-remaining-3600-p'));
    assert.equal(LIMIT - remaining, redactedCount, 'accounting counted the redacted prompt');
  });

  it('no seeded PII value appears anywhere in the plugin-server or gateway logs of this run', async () => {
    await gw.waitForLogs();
    const log = gw.pluginServerLog().join('\n');
    assert.ok(log.length > 0, 'the log was captured');
    assert.match(log, /pii detected/, 'our own log lines are part of the scanned output');
    for (const v of SEEDED) assert.ok(!log.includes(v), `log contains ${JSON.stringify(v)}`);
  });
});
