import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { withDefaults } from '../../../lib/schema/kong-schema';
import { registry } from '../../../lib/metrics';
import { PiiRedaction, type Deps } from '../../../plugins/llm-pii-redaction/handler';
import { Schema, type PiiRedactionConfig } from '../../../plugins/llm-pii-redaction/schema';
import { fakeKong, type FakeRequest } from '../../helpers/fake-kong';

const EMAIL = 'jane.doe@example.com';
const PHONE = '+1 415 555 0132';
const CARD = '4111 1111 1111 1111';
const SSN = '123-45-6789';
const SECRETS = [EMAIL, PHONE, CARD, SSN];

function capture() {
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
  return { log, lines };
}

function make(partial: Record<string, unknown> = {}, deps: Deps = {}) {
  const { log, lines } = capture();
  const plugin = new PiiRedaction(withDefaults<PiiRedactionConfig>(Schema, partial), { log, ...deps });
  const run = async (req: FakeRequest) => {
    const k = fakeKong({
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      ...req,
    });
    await plugin.access(k.pdk);
    return k;
  };
  return { plugin, run, lines };
}

const conversation = () => ({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: `Support agent. Escalations go to ${EMAIL}.` },
    { role: 'user', content: [{ type: 'text', text: `I am Jane, mail ${EMAIL}, phone ${PHONE}.` }] },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          id: 'call_1',
          type: 'function',
          function: { name: 'lookup', arguments: JSON.stringify({ email: EMAIL, card: CARD, n: 3 }) },
        },
      ],
    },
    { role: 'tool', tool_call_id: 'call_1', content: `Customer ${EMAIL} has SSN ${SSN}` },
    { role: 'user', content: `Please confirm my email ${EMAIL}.` },
  ],
});

const sent = (k: ReturnType<typeof fakeKong>) =>
  JSON.parse(k.upstream.body!) as ReturnType<typeof conversation>;
const count = (k: ReturnType<typeof fakeKong>, name: string) =>
  k.callNames().filter((n) => n === name).length;

describe('llm-pii-redaction access: redaction', () => {
  it('redacts every role, content parts, tool arguments and tool results with stable placeholders', async () => {
    const { run } = make({ anonymize: ['email', 'phone', 'creditcard', 'ssn'] });
    const k = await run({ body: conversation() });
    assert.equal(k.exited, undefined);
    assert.equal(count(k, 'service.request.setRawBody'), 1, 'the body is rewritten exactly once');
    const raw = k.upstream.body!;
    for (const v of SECRETS) assert.ok(!raw.includes(v), `${v} was forwarded`);
    const b = sent(k);
    const m = b.messages;
    assert.equal(m[0]!.content, 'Support agent. Escalations go to <EMAIL_1>.');
    assert.deepEqual(m[1]!.content, [
      { type: 'text', text: 'I am Jane, mail <EMAIL_1>, phone <PHONE_NUMBER_1>.' },
    ]);
    assert.deepEqual(JSON.parse((m[2] as any).tool_calls[0].function.arguments), {
      email: '<EMAIL_1>',
      card: '<CREDIT_CARD_1>',
      n: 3,
    });
    assert.equal(m[3]!.content, 'Customer <EMAIL_1> has SSN <SSN_1>');
    assert.equal(m[4]!.content, 'Please confirm my email <EMAIL_1>.');
    assert.deepEqual(k.shared['llm.pii_restore'], {
      '<EMAIL_1>': EMAIL,
      '<PHONE_NUMBER_1>': PHONE,
      '<CREDIT_CARD_1>': CARD,
      '<SSN_1>': SSN,
    });
    const counts = { email: 5, phone: 1, creditcard: 1, ssn: 1 };
    assert.deepEqual(k.shared['llm.pii'], { counts, action: 'redact', restore_entries: 4 });
    assert.deepEqual(
      k.calls.filter((c) => c[0] === 'log.setSerializeValue').map((c) => c[1]),
      [['ai.pii.counts', counts]],
    );
    // unrelated fields survive
    assert.equal(b.model, 'gpt-4o-mini');
    assert.equal((m[3] as any).tool_call_id, 'call_1');
  });

  it('numbers different values separately and keeps one placeholder per value across messages', async () => {
    const { run } = make({ anonymize: ['email'] });
    const k = await run({
      body: {
        model: 'm',
        messages: [
          { role: 'user', content: 'a@example.com and b@example.org' },
          { role: 'assistant', content: 'Noted b@example.org' },
          { role: 'user', content: 'and a@example.com again' },
        ],
      },
    });
    const m = sent(k).messages;
    assert.deepEqual(
      m.map((x) => x.content),
      ['<EMAIL_1> and <EMAIL_2>', 'Noted <EMAIL_2>', 'and <EMAIL_1> again'],
    );
  });

  it('leaves a request without PII untouched (no body rewrite, no restore map)', async () => {
    const { run } = make();
    const k = await run({
      body: { model: 'm', messages: [{ role: 'user', content: 'What is the capital of France?' }] },
    });
    assert.equal(k.exited, undefined);
    assert.equal(count(k, 'service.request.setRawBody'), 0);
    assert.equal(k.shared['llm.pii_restore'], undefined);
    assert.deepEqual(k.shared['llm.pii'], { counts: {}, action: 'none' });
  });

  it('covers the legacy prompt and embeddings input', async () => {
    const { run } = make({ anonymize: ['email'] });
    const k1 = await run({ path: '/v1/completions', body: { model: 'm', prompt: ['x', `to ${EMAIL}`] } });
    assert.deepEqual(JSON.parse(k1.upstream.body!).prompt, ['x', 'to <EMAIL_1>']);
    const k2 = await run({ path: '/v1/embeddings', body: { model: 'e', input: `from ${EMAIL}` } });
    assert.equal(JSON.parse(k2.upstream.body!).input, 'from <EMAIL_1>');
  });

  it('does not put a restore map in kong.ctx.shared when recover_redacted is off', async () => {
    const { run } = make({ anonymize: ['email'], recover_redacted: false });
    const k = await run({ body: conversation() });
    assert.ok(!k.upstream.body!.includes(EMAIL));
    assert.equal(k.shared['llm.pii_restore'], undefined);
  });

  it('applies per-category actions; only placeholders are restorable', async () => {
    const { run } = make({
      anonymize: ['email', 'creditcard', 'ssn', 'phone'],
      actions: { creditcard: 'mask', ssn: 'synthetic', phone: 'hash' },
      hash_secret: 'hash-secret-0123456789',
    });
    const k = await run({ body: conversation() });
    const raw = k.upstream.body!;
    for (const v of SECRETS) assert.ok(!raw.includes(v), `${v} was forwarded`);
    assert.ok(raw.includes('**** **** **** 1111'));
    assert.match(raw, /<PHONE_NUMBER_[0-9a-f]{16}>/);
    assert.match(sent(k).messages[3]!.content as string, /^Customer <EMAIL_1> has SSN \d{3}-\d{2}-\d{4}$/);
    assert.deepEqual(k.shared['llm.pii_restore'], { '<EMAIL_1>': EMAIL });
  });

  it('scans only the configured roles and locations', async () => {
    const { run } = make({ anonymize: ['email', 'creditcard'], roles: ['user'], locations: ['messages'] });
    const k = await run({ body: conversation() });
    const m = sent(k).messages;
    assert.ok((m[0]!.content as string).includes(EMAIL), 'system not scanned');
    assert.ok((m[2] as any).tool_calls[0].function.arguments.includes(CARD), 'tool arguments not scanned');
    assert.ok((m[3]!.content as string).includes(SSN), 'tool result not scanned');
    assert.equal(m[4]!.content, 'Please confirm my email <EMAIL_1>.');
  });

  it('detects custom patterns with their own label', async () => {
    const { run } = make({
      anonymize: ['custom'],
      custom_patterns: [{ name: 'employee_id', regex: 'EMP-\\d{6}' }],
    });
    const k = await run({ body: { model: 'm', messages: [{ role: 'user', content: 'I am EMP-123456' }] } });
    assert.equal(sent(k).messages[0]!.content, 'I am <EMPLOYEE_ID_1>');
    assert.deepEqual(k.shared['llm.pii'], { counts: { custom: 1 }, action: 'redact', restore_entries: 1 });
  });
});

describe('llm-pii-redaction access: block', () => {
  it('answers 400 PII_BLOCKED with categories and counts, never values, and forwards nothing', async () => {
    const { run, lines } = make({ anonymize: ['email', 'ssn'], actions: { ssn: 'block' } });
    const k = await run({ body: conversation() });
    assert.equal(k.exited?.status, 400);
    const body = k.exited!.body as { error: { code: string; categories: unknown; message: string } };
    assert.equal(body.error.code, 'PII_BLOCKED');
    assert.deepEqual(body.error.categories, { ssn: 1 });
    assert.match(body.error.message, /ssn/);
    const text = JSON.stringify(k.exited);
    for (const v of SECRETS) assert.ok(!text.includes(v));
    assert.equal(count(k, 'service.request.setRawBody'), 0);
    assert.equal(k.shared['llm.pii_restore'], undefined);
    assert.deepEqual(k.shared['llm.pii'], { counts: { email: 5, ssn: 1 }, action: 'block' });
    for (const v of SECRETS) assert.ok(!lines.join('').includes(v));
  });

  it('block_if_detected blocks on any category and lists them all', async () => {
    const { run } = make({ anonymize: ['email', 'phone'], block_if_detected: true });
    const k = await run({ body: conversation() });
    assert.equal(k.exited?.status, 400);
    assert.deepEqual((k.exited!.body as any).error.categories, { email: 5, phone: 1 });
    const ok = await run({ body: { model: 'm', messages: [{ role: 'user', content: 'hello' }] } });
    assert.equal(ok.exited, undefined);
  });
});

describe('llm-pii-redaction access: bad input and pass-through', () => {
  it('answers a non-JSON body on an LLM path with 400 BODY_NOT_JSON', async () => {
    const { run } = make();
    const k = await run({ body: `{"model":"m","messages":[{"role":"user","content":"${EMAIL}"` });
    assert.equal(k.exited?.status, 400);
    assert.equal((k.exited!.body as any).error.code, 'BODY_NOT_JSON');
    assert.ok(!JSON.stringify(k.exited).includes(EMAIL));
    assert.equal(count(k, 'service.request.setRawBody'), 0);
  });

  it('answers a wrong shape with 400 BODY_SHAPE', async () => {
    const { run } = make();
    const k = await run({ body: { model: 'm', messages: 'hi there' } });
    assert.equal(k.exited?.status, 400);
    assert.equal((k.exited!.body as any).error.code, 'BODY_SHAPE');
  });

  it('passes non-LLM requests through by default, rejects them with pass_through_other false', async () => {
    const a = make();
    const k = await a.run({ method: 'GET', path: '/v1/models', headers: {} });
    assert.equal(k.exited, undefined);
    assert.equal(count(k, 'service.request.setRawBody'), 0);
    const b = make({ pass_through_other: false });
    const k2 = await b.run({ method: 'GET', path: '/v1/models', headers: {} });
    assert.equal(k2.exited?.status, 400);
    assert.equal((k2.exited!.body as any).error.code, 'BODY_SHAPE');
  });
});

describe('llm-pii-redaction access: failure policy', () => {
  const throwing: Deps['detector'] = {
    detect: () => {
      throw new Error(`detector exploded on ${EMAIL}`);
    },
  };

  it('fails closed: an internal error answers 500 PII_FAILURE and forwards nothing', async () => {
    const { run, lines } = make({}, { detector: throwing });
    const k = await run({ body: conversation() });
    assert.equal(k.exited?.status, 500);
    assert.equal((k.exited!.body as any).error.code, 'PII_FAILURE');
    assert.ok(!JSON.stringify(k.exited).includes('exploded'), 'internals are not exposed');
    assert.equal(count(k, 'service.request.setRawBody'), 0);
    assert.equal(k.shared['llm.pii_restore'], undefined);
    assert.ok(lines.some((l) => l.includes('phase failed')));
    assert.ok(!lines.join('').includes(EMAIL), 'a foreign error message is not logged (it may quote input)');
  });

  it('redacts deeply nested tool-call arguments as text (no library failure)', async () => {
    const { run } = make({ anonymize: ['email'] });
    const depth = 20_000;
    const args = `{"email":"${EMAIL}","x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const body = conversation();
    (body.messages[2] as any).tool_calls[0].function.arguments = args;
    const k = await run({ body });
    assert.equal(k.exited, undefined);
    assert.equal(count(k, 'service.request.setRawBody'), 1);
    assert.ok(!k.upstream.body!.includes(EMAIL));
  });

  it('fails open only when fault_tolerant is set, and counts it', async () => {
    const { run, lines } = make({ fault_tolerant: true }, { detector: throwing });
    const before =
      (await registry.getSingleMetric('ai_llm_fail_open_total')!.get()).values.find(
        (v) => v.labels['plugin'] === 'llm-pii-redaction',
      )?.value ?? 0;
    const k = await run({ body: conversation() });
    assert.equal(k.exited, undefined);
    assert.equal(count(k, 'service.request.setRawBody'), 0);
    const after = (await registry.getSingleMetric('ai_llm_fail_open_total')!.get()).values.find(
      (v) => v.labels['plugin'] === 'llm-pii-redaction',
    )?.value;
    assert.equal(after, before + 1);
    assert.ok(lines.some((l) => l.includes('UNREDACTED')));
    assert.ok(!lines.join('').includes(EMAIL), 'the error message with a value is not logged verbatim');
  });

  it('never throws from the constructor; an invalid config answers 500 CONFIG_INVALID (fail closed)', async () => {
    const { run } = make({ custom_patterns: [{ name: 'bad', regex: '(a+)+b' }] });
    const k = await run({ body: conversation() });
    assert.equal(k.exited?.status, 500);
    assert.equal((k.exited!.body as any).error.code, 'CONFIG_INVALID');
    assert.equal(count(k, 'service.request.setRawBody'), 0);
    const h = make({ redact_type: 'hash' });
    assert.equal((await h.run({ body: conversation() })).exited?.status, 500);
  });
});

describe('llm-pii-redaction: observability', () => {
  it('counts detections by category and action in ai_llm_pii_detections_total', async () => {
    const { run } = make({ anonymize: ['email', 'creditcard'], actions: { creditcard: 'mask' } });
    const get = async (category: string, action: string) =>
      (await registry.getSingleMetric('ai_llm_pii_detections_total')!.get()).values.find(
        (v) =>
          v.labels['route'] === 'r1' && v.labels['category'] === category && v.labels['action'] === action,
      )?.value ?? 0;
    const [e0, c0] = [await get('email', 'placeholder'), await get('creditcard', 'mask')];
    await run({ body: conversation(), route: { id: 'rid', name: 'r1' } });
    assert.equal(await get('email', 'placeholder'), e0 + 5);
    assert.equal(await get('creditcard', 'mask'), c0 + 1);
  });

  it('logs counts only, never values', async () => {
    const { run, lines } = make({ anonymize: ['email', 'phone', 'creditcard', 'ssn'] });
    await run({ body: conversation() });
    assert.ok(lines.some((l) => l.includes('"counts"')));
    for (const v of SECRETS) assert.ok(!lines.join('').includes(v));
  });
});
