import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  compilePatternGuard,
  unsafePatternReason,
  type PatternGuardConfig,
} from '../../../plugins/llm-prompt-guard/detect/pattern-guard';

const base: PatternGuardConfig = {
  allow_patterns: [],
  deny_patterns: [],
  allow_all_conversation_history: false,
  match_all_roles: false,
};
const g = (over: Partial<PatternGuardConfig>) => compilePatternGuard({ ...base, ...over });
const chat = [
  { role: 'system', content: 'You are a cat bot' },
  { role: 'user', content: 'tell me about dogs' },
  { role: 'assistant', content: 'dogs bark' },
  { role: 'user', content: 'now about cats' },
];

describe('Kong ai-prompt-guard semantics', () => {
  it('deny matches anywhere in user history by default', () => {
    assert.deepEqual(g({ deny_patterns: ['dogs'] }).check(chat), {
      allowed: false,
      reason: 'deny_match',
      pattern_index: 0,
    });
  });
  it('allow_all_conversation_history checks only the latest user message', () => {
    assert.deepEqual(g({ deny_patterns: ['dogs'], allow_all_conversation_history: true }).check(chat), {
      allowed: true,
    });
  });
  it('non-user roles are ignored unless match_all_roles', () => {
    assert.deepEqual(g({ deny_patterns: ['cat bot'] }).check(chat), { allowed: true });
    assert.equal(g({ deny_patterns: ['cat bot'], match_all_roles: true }).check(chat).allowed, false);
    assert.equal(g({ deny_patterns: ['bark'], match_all_roles: true }).check(chat).allowed, false);
  });
  it('deny is checked before allow', () => {
    const r = g({ allow_patterns: ['cats'], deny_patterns: ['dogs'] }).check(chat);
    assert.deepEqual(r, { allowed: false, reason: 'deny_match', pattern_index: 0 });
  });
  it('with allow patterns at least one must match', () => {
    assert.deepEqual(g({ allow_patterns: ['^weather'] }).check(chat), {
      allowed: false,
      reason: 'no_allow_match',
    });
    assert.deepEqual(g({ allow_patterns: ['weather', 'cats'] }).check(chat), { allowed: true });
  });
  it('history is joined newest first with a space after each message', () => {
    assert.equal(g({ deny_patterns: ['^now about cats tell me'] }).check(chat).allowed, false);
    assert.equal(g({ deny_patterns: ['dogs $'] }).check(chat).allowed, false);
  });
  it('patterns are case-sensitive like ngx.re.find "jo"; (?i) is honoured', () => {
    assert.equal(g({ deny_patterns: ['DOGS'] }).check(chat).allowed, true);
    assert.equal(g({ deny_patterns: ['(?i)DOGS'] }).check(chat).allowed, false);
  });
  it('pattern_index points at the matching deny pattern', () => {
    assert.equal(g({ deny_patterns: ['zebra', 'cats'] }).check(chat).pattern_index, 1);
  });
  it('no user message: patterns run on the empty string', () => {
    assert.deepEqual(g({ allow_patterns: ['x'] }).check([{ role: 'system', content: 'x' }]), {
      allowed: false,
      reason: 'no_allow_match',
    });
    assert.deepEqual(g({ deny_patterns: ['x'] }).check([]), { allowed: true });
  });
  it('bad message shapes are refused', () => {
    assert.throws(
      () => g({ deny_patterns: ['x'] }).check([{ role: 'user', content: 1 as unknown as string }]),
      { code: 'BODY_SHAPE' },
    );
    assert.throws(() => g({ deny_patterns: ['x'] }).check([{ role: 2 as unknown as string, content: 'a' }]), {
      code: 'BODY_SHAPE',
    });
  });
  it('input length is bounded', () => {
    const guard = g({ deny_patterns: ['x'], max_scan_chars: 100 });
    assert.throws(() => guard.check([{ role: 'user', content: 'a'.repeat(200) }]), {
      code: 'BODY_TOO_LARGE',
    });
  });
});

describe('config validation', () => {
  it('needs at least one pattern list', () => assert.throws(() => g({}), { code: 'CONFIG_INVALID' }));
  it('match_all_roles excludes allow_all_conversation_history', () => {
    assert.throws(
      () => g({ deny_patterns: ['x'], match_all_roles: true, allow_all_conversation_history: true }),
      { code: 'CONFIG_INVALID' },
    );
  });
  it('limits count and length like Kong', () => {
    assert.throws(() => g({ deny_patterns: Array.from({ length: 11 }, () => 'x') }), {
      code: 'CONFIG_INVALID',
    });
    assert.throws(() => g({ deny_patterns: ['x'.repeat(501)] }), { code: 'CONFIG_INVALID' });
    assert.throws(() => g({ deny_patterns: [''] }), { code: 'CONFIG_INVALID' });
  });
  it('invalid regex', () => assert.throws(() => g({ deny_patterns: ['(abc'] }), { code: 'CONFIG_INVALID' }));
  for (const p of [
    '(a+)+$',
    '(a*)*b',
    '(\\w+\\s?)*$',
    '(a|aa)+$',
    '(.*a){20}',
    '(x+x+)+y',
    '([a-z]+)*=',
    '(a|a?)+',
    '(\\d|\\d\\d)+!',
    '(a)\\1',
    'x.*y.*z',
    'ignore.*previous.*instructions',
    '[^a]+b\\S+c',
  ]) {
    it(`rejects unsafe ${p}`, () => {
      assert.throws(
        () => g({ deny_patterns: [p] }),
        (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID' && /rejected/.test(e.message),
      );
    });
  }
  for (const p of [
    'ignore (all )?previous instructions',
    '(?i)system prompt',
    '(foo|bar)+',
    '^[a-z]+@[a-z]+\\.com$',
    'a{2,5}b',
    '(?:https?://)?example\\.com',
    '\\d{3}-\\d{4}',
    '(ab)+c',
    'ignore.{0,100}previous.{0,100}instructions',
    '[a-z]+@[a-z]+',
  ]) {
    it(`accepts ${p}`, () => assert.equal(unsafePatternReason(p.replace(/^\(\?i\)/, '')), null));
  }
  it('accepted patterns grow at most polynomially on adversarial input (no timed limit)', () => {
    const guard = g({ deny_patterns: ['(foo|bar)+baz', '^\\w+@\\w+\\.com$', 'ignore.*instructions'] });
    const minTime = (fn: () => void): number => {
      let best = Infinity;
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        fn();
        best = Math.min(best, performance.now() - t0);
      }
      return best;
    };
    const run = (n: number) => () => {
      guard.check([{ role: 'user', content: 'foobar'.repeat(Math.floor(n / 6)) }]);
      guard.check([{ role: 'user', content: 'a'.repeat(n) }]);
      guard.check([{ role: 'user', content: 'ignore '.repeat(Math.floor(n / 7)) }]);
    };
    // Four times the input: a quadratic pattern costs ~16x, catastrophic backtracking far more. The minimum of
    // five runs drops stalls of a shared machine; the floor keeps sub-millisecond noise out.
    const small = minTime(run(2000));
    const large = minTime(run(8000));
    assert.ok(large <= 64 * small + 20, `8000 chars: ${large} ms, 2000 chars: ${small} ms`);
  });
});
