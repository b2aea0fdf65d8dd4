import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { compileDetectors, createSession } from '../../../plugins/llm-pii-redaction/redact';
import { ibanValid, luhnValid } from '../../../plugins/llm-pii-redaction/detectors/util';

const detector = compileDetectors({
  categories: ['email', 'phone', 'credit_card', 'iban', 'ssn', 'ip', 'person'],
});
const SECRET = 'test-secret-0123456789';

describe('RedactSession: placeholder', () => {
  it('keeps placeholders stable across calls and restores originals', () => {
    const s = createSession(detector, { default: 'placeholder' });
    const a = s.redact('Mail jane@example.com or bob@example.org');
    const b = s.redact('Again: jane@example.com, and call +1 415 555 0132');
    assert.equal(a, 'Mail <EMAIL_1> or <EMAIL_2>');
    assert.equal(b, 'Again: <EMAIL_1>, and call <PHONE_NUMBER_1>');
    assert.deepEqual(s.restoreMap(), {
      '<EMAIL_1>': 'jane@example.com',
      '<EMAIL_2>': 'bob@example.org',
      '<PHONE_NUMBER_1>': '+1 415 555 0132',
    });
    assert.deepEqual(s.counts(), { email: 3, phone: 1 });
    assert.deepEqual(s.blocked(), []);
  });

  it('separate sessions number independently', () => {
    const s1 = createSession(detector, { default: 'placeholder' });
    const s2 = createSession(detector, { default: 'placeholder' });
    s1.redact('x@example.com');
    assert.equal(s2.redact('y@example.com'), '<EMAIL_1>');
  });

  it('leaves text without PII untouched', () => {
    const s = createSession(detector, { default: 'placeholder' });
    assert.equal(s.redact('nothing to see here'), 'nothing to see here');
    assert.equal(s.redact(''), '');
  });
});

describe('RedactSession: mask', () => {
  it('keeps only the last 4 digits of a card and the separators', () => {
    const s = createSession(detector, { default: 'placeholder', credit_card: 'mask' });
    assert.equal(s.redact('card 4111 1111 1111 1234'.replace('1234', '1111')), 'card **** **** **** 1111');
    assert.deepEqual(s.restoreMap(), {});
  });

  it('honours maskKeep and masks names fully', () => {
    const s = createSession(detector, { default: 'mask' }, { maskKeep: 2 });
    assert.equal(s.redact('SSN 123-45-6789'), 'SSN ***-**-**89');
    assert.equal(s.redact('Dr. Smith'), 'Dr. *****');
  });
});

describe('RedactSession: synthetic', () => {
  it('produces format-valid fakes that never equal the original, stable per original', () => {
    const s = createSession(detector, { default: 'synthetic' });
    const card = '4111 1111 1111 1111';
    const out1 = s.redact(`card ${card} mail jane@corp.io iban GB82 WEST 1234 5698 7654 32`);
    const out2 = s.redact(`again ${card}`);
    const fakeCard = /card (\d{4} \d{4} \d{4} \d{4})/.exec(out1)?.[1] ?? '';
    assert.notEqual(fakeCard, card);
    assert.ok(luhnValid(fakeCard.replace(/\s/g, '')), 'fake card passes Luhn');
    assert.equal(out2, `again ${fakeCard}`);
    const fakeMail = /mail (\S+)/.exec(out1)?.[1] ?? '';
    assert.match(fakeMail, /^[a-z0-9]+@example\.com$/);
    const fakeIban = /iban (.+)$/.exec(out1)?.[1] ?? '';
    assert.notEqual(fakeIban, 'GB82 WEST 1234 5698 7654 32');
    assert.ok(ibanValid(fakeIban.replace(/\s/g, '')), 'fake IBAN passes mod-97');
    assert.deepEqual(s.restoreMap(), {});
  });

  it('gives different originals different fakes', () => {
    const s = createSession(detector, { default: 'synthetic' });
    const out = s.redact('a@x.io b@x.io');
    const [f1, f2] = out.split(' ');
    assert.notEqual(f1, f2);
  });
});

describe('RedactSession: hash', () => {
  it('is an HMAC keyed by the secret', () => {
    const s1 = createSession(detector, { default: 'hash' }, { hashSecret: SECRET });
    const s2 = createSession(detector, { default: 'hash' }, { hashSecret: SECRET + 'x' });
    const a = s1.redact('jane@example.com');
    const b = s2.redact('jane@example.com');
    const expected = createHmac('sha256', SECRET)
      .update('EMAIL\u0000jane@example.com')
      .digest('hex')
      .slice(0, 16);
    assert.equal(a, `<EMAIL_${expected}>`);
    assert.notEqual(a, b);
    assert.equal(s1.redact('jane@example.com'), a);
  });

  it('requires a secret', () => {
    assert.throws(() => createSession(detector, { default: 'hash' }), { code: 'CONFIG_INVALID' });
    assert.throws(() => createSession(detector, { default: 'hash' }, { hashSecret: 'short' }), {
      code: 'CONFIG_INVALID',
    });
  });
});

describe('RedactSession: block', () => {
  it('reports blocked categories and still removes the value', () => {
    const s = createSession(detector, { default: 'placeholder', ssn: 'block' });
    const out = s.redact('SSN 123-45-6789 and a@b.io');
    assert.equal(out, 'SSN [SSN] and <EMAIL_1>');
    assert.deepEqual(s.blocked(), ['ssn']);
  });

  it('rejects unknown actions', () => {
    assert.throws(() => createSession(detector, { default: 'explode' as 'block' }), {
      code: 'CONFIG_INVALID',
    });
  });
});
