import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileDetectors } from '../../../plugins/llm-pii-redaction/redact';
import type { PiiCategory } from '../../../plugins/llm-pii-redaction/redact';
import { ALL_CATEGORIES } from '../../../plugins/llm-pii-redaction/redact';

// Every built-in category (custom patterns are configured separately).
const ALL: PiiCategory[] = ALL_CATEGORIES.filter((c) => c !== 'custom');
const detector = compileDetectors({ categories: ALL });

/** The detected substrings of `text` with the given category. */
function found(text: string, cat: PiiCategory): string[] {
  return detector
    .detect(text)
    .filter((d) => d.category === cat)
    .map((d) => text.slice(d.start, d.end));
}

type Case = [text: string, expected: string | null];

const TABLE: Record<string, { cat: PiiCategory; cases: Case[] }> = {
  email: {
    cat: 'email',
    cases: [
      ['write to jane.doe+news@mail.example.co.uk today', 'jane.doe+news@mail.example.co.uk'],
      ['Contact: J_Smith@Company.io.', 'J_Smith@Company.io'],
      ['not an email: user@localhost', null],
      ['handle @jane on social', null],
      ['version foo@1.2.3', null],
    ],
  },
  phone: {
    cat: 'phone',
    cases: [
      ['Call me at +1 (415) 555-0132 tomorrow', '+1 (415) 555-0132'],
      ['office 212-555-0199 x204', '212-555-0199 x204'],
      ['Fax: 345.899.3560', '345.899.3560'],
      ['+44 20 7946 0958', '+44 20 7946 0958'],
      ['Mobile: 0490 75 40 81', '0490 75 40 81'],
      ['+46 (0)8 928 571 38', '+46 (0)8 928 571 38'],
      ['Phone:\n467 3395', '467 3395'],
      ['Can someone call me on 9472 7916?', '9472 7916'],
      ['released on 2023-11-05 at noon', null],
      ['dated 12/03/2024', null],
      ['it costs $1234567 in total', null],
      ['upgrade to version 10.2.3.4', null],
      ['server 192.168.10.20 is down', null],
      ['between 1990-2000 prices rose', null],
      ['order number 12345678 shipped', null],
      ['invoice 4455 7788', null],
    ],
  },
  credit_card: {
    cat: 'credit_card',
    cases: [
      ['card 4111 1111 1111 1111 expires', '4111 1111 1111 1111'],
      ['pay with 5500-0000-0000-0004', '5500-0000-0000-0004'],
      ['amex 378282246310005', '378282246310005'],
      ['my card 630427373398 is lost', '630427373398'],
      ['card 4111 1111 1111 1112 (Luhn invalid)', null],
      ['tracking 1234567812345678', null],
      ['0000000000000000', null],
    ],
  },
  iban: {
    cat: 'iban',
    cases: [
      ['IBAN GB82 WEST 1234 5698 7654 32 please', 'GB82 WEST 1234 5698 7654 32'],
      ['to DE89370400440532013000 today', 'DE89370400440532013000'],
      ['my iban is gb82west12345698765432', 'gb82west12345698765432'],
      ['IBAN GB83 WEST 1234 5698 7654 32 (bad checksum)', null],
      ['DE89370400440532013001', null],
    ],
  },
  ssn: {
    cat: 'ssn',
    cases: [
      ['SSN: 123-45-6789', '123-45-6789'],
      ["Here's my social security number 078 05 1120", '078 05 1120'],
      ['ssn 219099999', '219099999'],
      ['000-12-3456', null],
      ['666-12-3456', null],
      ['912-34-5678', null],
      ['123-00-4567', null],
      ['123-45-0000', null],
      ['part 123456789 in stock', null],
    ],
  },
  ip: {
    cat: 'ip',
    cases: [
      ['from 203.0.113.42 yesterday', '203.0.113.42'],
      ['|106.31.73.20|', '106.31.73.20'],
      ['v6 2001:db8:85a3::8a2e:370:7334 ok', '2001:db8:85a3::8a2e:370:7334'],
      ['version 1.2.3.4 released', null],
      ['256.1.1.1', null],
      ['1.2.3.4.5', null],
      ['meet at 12:30:45', null],
    ],
  },
  url: {
    cat: 'url',
    cases: [
      ['see https://www.example.se/path?q=1.', 'https://www.example.se/path?q=1'],
      ['(http://example.org/a_(b))', 'http://example.org/a_(b)'],
      ['visit www.example.com/docs today', 'www.example.com/docs'],
      ['no url here: http:/broken', null],
    ],
  },
  domain: {
    cat: 'domain',
    cases: [
      ['hosted on shop.example.de now', 'shop.example.de'],
      ['go to example.com', 'example.com'],
      ['open README.md and main.py', null],
      ['e.g. this', null],
      ['end.It was', null],
    ],
  },
  crypto: {
    cat: 'crypto',
    cases: [
      ['send to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa now', '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa'],
      ['bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq', 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq'],
      ['eth 0x52908400098527886E0F7030069857D2E4169EE7', '0x52908400098527886E0F7030069857D2E4169EE7'],
      ['1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb', null],
    ],
  },
  date_of_birth: {
    cat: 'date_of_birth',
    cases: [
      ['She was born on 7/5/1981. Her name', '7/5/1981'],
      ['DOB: 1990-02-14', '1990-02-14'],
      ['date of birth is March 3, 1975', 'March 3, 1975'],
      ['the meeting is on 7/5/1981', null],
    ],
  },
  driver_license: {
    cat: 'driver_license',
    cases: [
      ["my driver's license number is 2270-66-1551", '2270-66-1551'],
      ['Driving licence: U62928788557186', 'U62928788557186'],
      ["driver's license is valid", null],
    ],
  },
  passport: {
    cat: 'passport',
    cases: [
      ['passport number: X1234567', 'X1234567'],
      ['my passport expired', null],
    ],
  },
  national_id: {
    cat: 'national_id',
    cases: [
      ['NINO AB123456C', 'AB123456C'],
      ['national ID number 8001015009087', '8001015009087'],
      ['fin 2023 results', null],
    ],
  },
  credential: {
    cat: 'credential',
    cases: [
      ['key AKIAIOSFODNN7EXAMPLE in config', 'AKIAIOSFODNN7EXAMPLE'],
      ['token ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8', 'ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'],
      ['OPENAI_API_KEY=sk-proj-Abc123Def456Ghi789Jkl012Mno345', 'sk-proj-Abc123Def456Ghi789Jkl012Mno345'],
      ['AIzaSyA1234567890abcdefghijklmnopqrstuv', 'AIzaSyA1234567890abcdefghijklmnopqrstuv'],
      ['xoxb-123456789012-abcdefghijkl', 'xoxb-123456789012-abcdefghijkl'],
      ['sk_live_' + '4eC39HqLyjWDarjtT1zdp7dc', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'],
      ['postgres://admin:s3cr3t@db.internal:5432/app', 'postgres://admin:s3cr3t@db.internal:5432/app'],
      ['Authorization: Bearer abcdefghijklmnop1234567890', 'Bearer abcdefghijklmnop1234567890'],
      ['password: hunter22!', 'hunter22!'],
      ['client_secret = "q8Zk2Lp9Vx7Rt4Nw1Yb6"', 'q8Zk2Lp9Vx7Rt4Nw1Yb6'],
      ['password is required', null],
      ['the token is invalid', null],
    ],
  },
  person: {
    cat: 'person',
    cases: [
      ['My name is Vanessa P. Hertzog but everyone calls me Nessa', 'Vanessa P. Hertzog'],
      ['could you please correct it to Mr. James Marín?', 'James Marín'],
      ['Follow up with Matheus Araujo in a couple of months', 'Matheus Araujo'],
      ['Ask Dr. Okonkwo about it', 'Okonkwo'],
      ['The quick brown fox jumps over the lazy dog.', null],
      ['Please Summarise The Following Article', null],
    ],
  },
  address: {
    cat: 'address',
    cases: [
      ['I live at 221 Baker Street now', '221 Baker Street'],
      ['send it to PSC 1234, Box 5678\nAPO AE 09876', 'PSC 1234, Box 5678\nAPO AE 09876'],
      ['lives at 12 Rue de la Paix, Paris', '12 Rue de la Paix, Paris'],
      ['Address: Hauptstraße 5', 'Hauptstraße 5'],
      ['P.O. Box 104', 'P.O. Box 104'],
      ['I have 3 apples and 2 oranges', null],
    ],
  },
};

describe('detectors: table-driven positives and negatives', () => {
  for (const [name, { cat, cases }] of Object.entries(TABLE)) {
    describe(name, () => {
      for (const [text, expected] of cases) {
        it(`${expected === null ? 'ignores' : 'finds'}: ${JSON.stringify(text)}`, () => {
          const got = found(text, cat);
          if (expected === null) assert.deepEqual(got, []);
          else
            assert.ok(
              got.includes(expected),
              `expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`,
            );
        });
      }
    });
  }
});

describe('detect(): shape of results', () => {
  it('returns non-overlapping detections sorted by start with UTF-16 offsets', () => {
    const text = 'Ünïcødé 😀 mail a@example.com, card 4111 1111 1111 1111, ip 10.0.0.1, Mr. John Smith';
    const dets = detector.detect(text);
    assert.ok(dets.length >= 4);
    for (let i = 1; i < dets.length; i++) {
      const a = dets[i - 1];
      const b = dets[i];
      assert.ok(a && b && a.end <= b.start);
    }
    const email = dets.find((d) => d.category === 'email');
    assert.equal(email && text.slice(email.start, email.end), 'a@example.com');
    assert.equal(email?.label, 'EMAIL');
  });

  it('scans long inputs in windows and still finds values at the end', () => {
    const text = 'lorem ipsum '.repeat(5000) + 'mail me at tail@example.org';
    const dets = detector.detect(text).filter((d) => d.category === 'email');
    assert.equal(dets.length, 1);
    assert.equal(text.slice(dets[0]?.start, dets[0]?.end), 'tail@example.org');
  });

  it('only reports enabled categories', () => {
    const only = compileDetectors({ categories: ['email'] });
    const dets = only.detect('a@b.co 4111 1111 1111 1111 +1 415 555 0132');
    assert.deepEqual(
      dets.map((d) => d.category),
      ['email'],
    );
  });

  it('rejects unknown categories with CONFIG_INVALID', () => {
    assert.throws(() => compileDetectors({ categories: ['nope' as PiiCategory] }), {
      code: 'CONFIG_INVALID',
    });
  });
});
