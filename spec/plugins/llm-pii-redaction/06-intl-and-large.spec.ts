import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { withDefaults } from '../../../lib/schema/kong-schema';
import { PiiRedaction, type Deps } from '../../../plugins/llm-pii-redaction/handler';
import { Schema, type PiiRedactionConfig } from '../../../plugins/llm-pii-redaction/schema';
import {
  compileDetectors,
  ALL_CATEGORIES,
  type PiiCategory,
} from '../../../plugins/llm-pii-redaction/redact';
import { fakeKong } from '../../helpers/fake-kong';

const detector = compileDetectors({ categories: ALL_CATEGORIES.filter((c) => c !== 'custom') });
const found = (text: string, cat: PiiCategory): string[] =>
  detector
    .detect(text)
    .filter((d) => d.category === cat)
    .map((d) => text.slice(d.start, d.end));

describe('international phone numbers without a cue word', () => {
  const cases: [string, string][] = [
    ['Jane Roe | 07700 900 123 | London', '07700 900 123'],
    ['Ana,+447700 900123,Leeds', '+447700 900123'],
    ['Grüße\nK. Weber\n0152-12345678', '0152-12345678'],
    ['山田さん 090-1234-5678 まで', '090-1234-5678'],
    ['Chidi, 08031234567, Lagos', '08031234567'],
    ['Sales | 415 555 0199 | Support', '415 555 0199'],
    ['Marco Rossi — 347 123 4567', '347 123 4567'],
    ['Priya: 98765 43210', '98765 43210'],
  ];
  for (const [text, phone] of cases) {
    it(`finds ${phone}`, () => assert.deepEqual(found(text, 'phone'), [phone]));
  }
});

describe('street addresses in other layouts', () => {
  const cases: [string, string][] = [
    ['Send it to 12 bis place Bellecour, 69002 Lyon please', '12 bis place Bellecour, 69002 Lyon'],
    ['Dirección: Paseo de Gracia 15, 3º B, 08007 Barcelona.', 'Paseo de Gracia 15, 3º B, 08007 Barcelona'],
    [
      'Adres: İstiklal Caddesi No: 12 D: 3, Beyoğlu/İstanbul',
      'İstiklal Caddesi No: 12 D: 3, Beyoğlu/İstanbul',
    ],
    ['Office: 39 Haeundae-ro, Haeundae-gu, Busan 48099', '39 Haeundae-ro, Haeundae-gu, Busan 48099'],
    ['Moved to Rua do Ouro, 152, 2º Esq., 1100-061 Lisboa', 'Rua do Ouro, 152, 2º Esq., 1100-061 Lisboa'],
    ['ul. Długa 5/7, 00-238 Warszawa', 'ul. Długa 5/7, 00-238 Warszawa'],
    ['Via Roma 12, 20121 Milano (MI)', 'Via Roma 12, 20121 Milano (MI)'],
  ];
  for (const [text, addr] of cases) {
    it(`finds ${addr}`, () => assert.deepEqual(found(text, 'address'), [addr]));
  }
});

describe('secrets in code and config', () => {
  it('finds an AWS secret access key next to its access key id in HCL', () => {
    const key = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY0';
    const text = `provider "aws" {\n  access_key = "AKIAIOSFODNN7EXAMPL3"\n  secret_key = "${key}"\n}`;
    assert.ok(found(text, 'credential').includes(key));
  });
  it('finds database URLs with credentials and .env secrets, not placeholders', () => {
    const text =
      'DATABASE_URL=postgres://app:S3cr3tPassw0rd@db:5432/shop\nAPI_TOKEN=${API_TOKEN}\nSIGNING_KEY=Zx8vQ2mN5pL7rT9wK3yB';
    assert.deepEqual(found(text, 'credential'), [
      'postgres://app:S3cr3tPassw0rd@db:5432/shop',
      'Zx8vQ2mN5pL7rT9wK3yB',
    ]);
  });
});

describe('decoys are not redacted', () => {
  for (const text of [
    'Order #20240511 shipped, build 1.24.3, commit 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b.',
    'Request id 123e4567-e89b-42d3-a456-426614174000 at 2024-05-11T10:22:33Z took 1,250 ms.',
    'sha256: 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824, version v3.11.2',
    'The budget is 250 000 000 euros for 2024-2025, ticket INC-44821.',
  ]) {
    it(`leaves ${JSON.stringify(text.slice(0, 30))}… alone`, () =>
      assert.deepEqual(detector.detect(text), []));
  }
});

describe('large bodies', () => {
  const make = (deps: Deps = {}) => {
    const log = pino({ level: 'silent' });
    const plugin = new PiiRedaction(
      withDefaults<PiiRedactionConfig>(Schema, { anonymize: ['email', 'phone', 'creditcard'] }),
      { log, ...deps },
    );
    return async (body: object) => {
      const k = fakeKong({
        path: '/v1/chat/completions',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await plugin.access(k.pdk);
      return k;
    };
  };
  const filler = 'The quarterly report covers revenue, churn and the hiring plan. '.repeat(40);
  const big = Array.from({ length: 30 }, (_, i) => `${filler} Mail user${i}@example.com now. `).join('\n');

  it('redacts every value of a body scanned window by window', async () => {
    const run = make();
    const k = await run({ model: 'm', messages: [{ role: 'user', content: big }] });
    assert.equal(k.exited, undefined);
    const sent = k.upstream.body ?? '';
    assert.ok(big.length > 64_000);
    for (let i = 0; i < 30; i++) assert.ok(!sent.includes(`user${i}@example.com`), `user${i} leaked`);
    assert.equal((sent.match(/<EMAIL_\d+>/g) ?? []).length, 30);
  });

  it('fails closed when the asynchronous scan fails', async () => {
    const real = compileDetectors({ categories: ['email'] });
    const run = make({
      detector: {
        detect: (t) => real.detect(t),
        detectAsync: () => Promise.reject(new Error('scan failed')),
      },
    });
    const k = await run({ model: 'm', messages: [{ role: 'user', content: big }] });
    assert.equal(k.exited?.status, 500);
    assert.equal(k.upstream.body, undefined);
  });
});
