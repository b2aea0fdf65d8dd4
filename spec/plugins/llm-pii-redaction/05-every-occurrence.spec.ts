import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileDetectors, type PiiCategory } from '../../../plugins/llm-pii-redaction/redact';
import { ibanCheckDigits, luhnCheckDigit } from '../../../plugins/llm-pii-redaction/detectors/util';

// N values of one kind in one text → N detections of that kind, each exactly on its value, for every
// detector (the multiple-occurrence fault: a greedy match or shared regex state that loses the second one).

const digits = (n: number): fc.Arbitrary<string> =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((a) => a.join(''));
const upper = (n: number): fc.Arbitrary<string> =>
  fc
    .array(fc.constantFrom(...'ABCDEFGHJKLMNPQRSTUVWXYZ'.split('')), { minLength: n, maxLength: n })
    .map((a) => a.join(''));
const alnum = (n: number): fc.Arbitrary<string> =>
  fc
    .array(fc.constantFrom(...'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789'.split('')), {
      minLength: n,
      maxLength: n,
    })
    .map((a) => a.join(''));

const iban = fc
  .tuple(
    fc.constantFrom(['DE', 18], ['FR', 23], ['GB', 18], ['ES', 20], ['NL', 14], ['IT', 23]),
    fc.boolean(),
  )
  .chain(([[cc, len], spaced]) =>
    digits(len as number).map((bban) => {
      const body = cc === 'GB' ? 'NWBK' + bban.slice(4) : cc === 'NL' ? 'ABNA' + bban.slice(4) : bban;
      const v = `${cc}${ibanCheckDigits(cc as string, body)}${body}`;
      return spaced ? v.replace(/(.{4})/g, '$1 ').trim() : v;
    }),
  );
const card = fc.tuple(fc.constantFrom('4', '51', '37', '6011'), digits(16)).map(([p, d]) => {
  const len = p === '37' ? 15 : 16;
  const body = (p + d).slice(0, len - 1);
  const n = body + luhnCheckDigit(body);
  return len === 16 ? n.replace(/(\d{4})(?=\d)/g, '$1 ') : n;
});
const phone = fc.oneof(
  digits(3).map((d) => `+44 20 7946 0${d}`),
  digits(2).map((d) => `(415) 555-01${d}`),
  digits(4).map((d) => `0152-1234${d}`),
  digits(4).map((d) => `090-1234-${d}`),
  digits(3).map((d) => `+49 30 1234${d}`),
  digits(2).map((d) => `415 555 01${d}`),
);
const ssn = fc
  .tuple(
    fc.integer({ min: 100, max: 665 }),
    fc.integer({ min: 10, max: 99 }),
    fc.integer({ min: 1000, max: 9999 }),
  )
  .map(([a, g, s]) => `${a}-${g}-${s}`);
const email = fc
  .tuple(alnum(6), alnum(4))
  .map(([a, b]) => `${a.toLowerCase()}.${b.toLowerCase()}@example.com`);
const ipv4 = fc
  .tuple(fc.integer({ min: 11, max: 223 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 }))
  .map((o) => o.join('.'));
const url = alnum(8).map((p) => `https://example.org/a/${p}`);
const domain = alnum(7).map((p) => `${p.toLowerCase()}-shop.com`);
const eth = fc
  .array(fc.constantFrom(...'0123456789abcdef'.split('')), { minLength: 40, maxLength: 40 })
  .map((a) => `0x${a.join('')}`);
const secret = fc.oneof(
  alnum(16).map((s) => `AKIA${s.toUpperCase().replace(/[^A-Z0-9]/g, 'Q')}`),
  alnum(36).map((s) => `ghp_${s}`),
  alnum(24).map((s) => `sk_live_${s}`),
);
const person = fc.constantFrom('Dr. Maria Gonzalez', 'Mr. John Smith', 'Ms. Aiko Tanaka', 'Dr. Ngozi Okafor');
const address = fc
  .tuple(fc.integer({ min: 2, max: 9999 }), fc.constantFrom('Baker Street', 'Oak Avenue', 'Mill Road'))
  .map(([n, s]) => `${n} ${s}`);
const passport = fc.tuple(upper(1), digits(8)).map(([l, d]) => `passport no. ${l}${d}`);

const dob = fc
  .tuple(
    fc.integer({ min: 1940, max: 2010 }),
    fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 1, max: 28 }),
  )
  .map(([y, m, d]) => `born on ${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
const licence = fc.tuple(upper(1), digits(7)).map(([l, d]) => `driver's license number ${l}${d}`);
const nino = fc
  .tuple(fc.constantFrom('AB', 'CE', 'JG', 'PR', 'WT'), digits(6), fc.constantFrom('A', 'B', 'C', 'D'))
  .map(([p, d, s]) => `${p}${d}${s}`);

interface Case {
  cat: PiiCategory;
  value: fc.Arbitrary<string>;
  /** the part of each value the detector reports (contextual ones report only the number) */
  reported?: (v: string) => string;
  joiners: string[];
}

const WORDS = [' and ', ' to ', ' instead of ', ', ', '; ', '\n', ' | ', ' or '];
const CASES: Case[] = [
  { cat: 'iban', value: iban, joiners: [' to ', ' instead of ', ', ', '\n', ' and '] },
  { cat: 'credit_card', value: card, joiners: WORDS },
  { cat: 'phone', value: phone, joiners: [' or ', ', ', '; ', '\n', ' | ', ' / ', ' and '] },
  { cat: 'ssn', value: ssn, joiners: WORDS },
  { cat: 'email', value: email, joiners: WORDS },
  { cat: 'ip', value: ipv4, joiners: WORDS },
  { cat: 'url', value: url, joiners: [' and ', ' ', '\n', ' | '] },
  { cat: 'domain', value: domain, joiners: [' and ', ', ', ' or '] },
  { cat: 'crypto', value: eth, joiners: WORDS },
  { cat: 'credential', value: secret, joiners: WORDS },
  {
    cat: 'person',
    value: person,
    reported: (v) => v.replace(/^(?:Dr|Mr|Ms)\. /, ''),
    joiners: [' and ', ' met ', '; ', '\n'],
  },
  { cat: 'address', value: address, joiners: [' and ', '; ', ' or '] },
  {
    cat: 'date_of_birth',
    value: dob,
    reported: (v) => v.replace('born on ', ''),
    joiners: [' and ', ', ', '; ', '\n'],
  },
  {
    cat: 'driver_license',
    value: licence,
    reported: (v) => v.replace("driver's license number ", ''),
    joiners: [' and ', ', ', '; ', '\n'],
  },
  { cat: 'national_id', value: nino, joiners: [' and ', ', ', '; ', '\n', ' or '] },
  {
    cat: 'passport',
    value: passport,
    reported: (v) => v.replace('passport no. ', ''),
    joiners: [' and ', ', ', '; ', '\n'],
  },
];

describe('every occurrence is reported', () => {
  for (const c of CASES) {
    it(`${c.cat}: N values in one text give N detections`, () => {
      const detector = compileDetectors({ categories: [c.cat] });
      fc.assert(
        fc.property(
          fc.array(c.value, { minLength: 1, maxLength: 6 }),
          fc.constantFrom(...c.joiners),
          fc.constantFrom('Hello. ', 'Note: ', ''),
          (values, joiner, prefix) => {
            const text = `${prefix}${values.join(joiner)}.`;
            const found = detector.detect(text).filter((d) => d.category === c.cat);
            const got = found.map((d) => text.slice(d.start, d.end));
            const want = values.map((v) => (c.reported ? c.reported(v) : v));
            assert.deepEqual(got, want);
          },
        ),
        { numRuns: 150, seed: 18 },
      );
    });
  }

  it('custom patterns report every match', () => {
    const detector = compileDetectors({
      categories: [],
      customPatterns: [{ name: 'emp', regex: 'EMP-\\d{6}' }],
    });
    fc.assert(
      fc.property(fc.array(digits(6), { minLength: 1, maxLength: 8 }), (ds) => {
        const text = ds.map((d) => `EMP-${d}`).join(' and ');
        assert.equal(detector.detect(text).length, ds.length);
      }),
      { numRuns: 100, seed: 18 },
    );
  });

  it('two IBANs in one sentence, spaced or not, are both found (the reported leak)', () => {
    const detector = compileDetectors({ categories: ['iban'] });
    for (const text of [
      'Please move it from DE89 3704 0044 0532 0130 00 to GB29 NWBK 6016 1331 9268 19 today.',
      'from DE89370400440532013000 to GB29NWBK60161331926819',
      'to GB29 NWBK 6016 1331 9268 19 instead of DE89 3704 0044 0532 0130 00',
    ]) {
      assert.equal(detector.detect(text).length, 2, 'both IBANs');
    }
  });
});
