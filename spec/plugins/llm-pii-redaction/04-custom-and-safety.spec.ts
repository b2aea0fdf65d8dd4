import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileDetectors, ALL_CATEGORIES } from '../../../plugins/llm-pii-redaction/redact';
import { unsafeReason } from '../../../plugins/llm-pii-redaction/detectors/custom';

describe('custom patterns', () => {
  it('detects with the upper-cased name as label', () => {
    const d = compileDetectors({
      categories: ['custom'],
      customPatterns: [{ name: 'employee-id', regex: 'EMP-\\d{6}' }],
    });
    const text = 'ticket for EMP-123456 today';
    const dets = d.detect(text);
    assert.equal(dets.length, 1);
    assert.equal(dets[0]?.label, 'EMPLOYEE_ID');
    assert.equal(dets[0]?.category, 'custom');
    assert.equal(text.slice(dets[0]?.start, dets[0]?.end), 'EMP-123456');
  });

  for (const bad of ['(a+)+', '(a*)*b', '(?:\\d+\\s?)+$', '(x|xy)*z', '(\\w+)\\1']) {
    it(`rejects ${bad} with a clear message`, () => {
      assert.throws(
        () => compileDetectors({ categories: ['custom'], customPatterns: [{ name: 'bad', regex: bad }] }),
        (err: unknown) => {
          const e = err as { code?: string; message?: string };
          assert.equal(e.code, 'CONFIG_INVALID');
          assert.match(e.message ?? '', /nested quantifier|alternation|backreference/);
          return true;
        },
      );
    });
  }

  it('rejects invalid, empty-matching and duplicate patterns', () => {
    const t = (p: { name: string; regex: string }[]): void => {
      compileDetectors({ categories: ['custom'], customPatterns: p });
    };
    assert.throws(() => t([{ name: 'x', regex: '([a-z' }]), { code: 'CONFIG_INVALID' });
    assert.throws(() => t([{ name: 'x', regex: 'a*' }]), { code: 'CONFIG_INVALID' });
    assert.throws(
      () =>
        t([
          { name: 'x', regex: 'a' },
          { name: 'X', regex: 'b' },
        ]),
      { code: 'CONFIG_INVALID' },
    );
    assert.throws(() => t([{ name: '1bad', regex: 'b' }]), { code: 'CONFIG_INVALID' });
  });

  it('accepts ordinary patterns', () => {
    for (const ok of [
      '[A-Z]{2}\\d{6}',
      '(?:foo|bar)-\\d+',
      'ID:\\s?\\w{4,12}',
      '(?<![\\w])\\d{3}(?:-\\d{2})?',
    ]) {
      assert.equal(unsafeReason(ok), null, ok);
    }
  });
});

describe('safety: detect() on arbitrary input', () => {
  const detector = compileDetectors({ categories: ALL_CATEGORIES.filter((c) => c !== 'custom') });
  const ALPHABET = '0123456789 -.()+/@:_aAzZ\n#$xX';

  // Time bounds are measured by scripts/bench-pii.ts, not asserted here (a shared CI machine is no clock).
  it('never throws and returns sorted non-overlapping in-range spans', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ unit: fc.constantFrom(...ALPHABET.split('')), maxLength: 400 }),
          fc.string({ unit: 'grapheme', maxLength: 200 }),
        ),
        (s) => {
          const dets = detector.detect(s);
          let prevEnd = 0;
          for (const d of dets) {
            assert.ok(d.start >= prevEnd && d.end > d.start && d.end <= s.length);
            prevEnd = d.end;
          }
        },
      ),
      { numRuns: 1500, seed: 42 },
    );
  });

  it('scans long adversarial runs (windowed) and keeps spans in range', () => {
    for (const unit of ['1', '1 ', '1-', '@', '.', 'a.', 'A ', '(1', '+1 ', 'Mr. A ']) {
      const s = unit.repeat(Math.ceil(20000 / unit.length));
      let prevEnd = 0;
      for (const d of detector.detect(s)) {
        assert.ok(d.start >= prevEnd && d.end > d.start && d.end <= s.length);
        prevEnd = d.end;
      }
    }
  });
});
