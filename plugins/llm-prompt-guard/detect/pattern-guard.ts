/**
 * Kong OSS `ai-prompt-guard` compatible allow/deny regex guard.
 *
 * Semantics (kong/plugins/ai-prompt-guard/filters/guard-prompt.lua):
 * - Messages are walked newest first. A message is collected when its role is `user`, or any role when
 *   `match_all_roles` is true. With `allow_all_conversation_history` only the newest collected message is
 *   checked; otherwise all collected messages are joined with a single space (newest first).
 * - Deny patterns are checked first (first match denies); then, if allow patterns exist, at least one must match.
 *   No allow patterns means allowed. With no collected message the patterns run against the empty string.
 * - Schema checks: at least one of allow/deny patterns; at most 10 patterns of 1..500 characters each;
 *   `match_all_roles` requires `allow_all_conversation_history` = false.
 *
 * Differences, by design: patterns are JavaScript regular expressions (a leading PCRE inline-flag group such as
 * `(?i)` is translated to flags); patterns prone to catastrophic backtracking are rejected at config time; the
 * collected text is bounded (`max_scan_chars`, default 8 KiB; larger prompts are refused with BODY_TOO_LARGE, never skipped).
 */
import { badRequest, PluginError } from '../../../lib/errors';

export interface PatternGuardConfig {
  allow_patterns: string[];
  deny_patterns: string[];
  allow_all_conversation_history: boolean;
  match_all_roles: boolean;
  /** Maximum characters of collected prompt text; longer prompts are refused (BODY_TOO_LARGE). Default 8192. */
  max_scan_chars?: number;
}

export interface PatternGuardResult {
  allowed: boolean;
  reason?: 'deny_match' | 'no_allow_match';
  /** Index in deny_patterns of the pattern that matched (deny_match only). */
  pattern_index?: number;
}

export interface PatternGuard {
  check(messages: { role: string; content: string }[]): PatternGuardResult;
}

/**
 * Default bound on the collected prompt (Kong OSS inspects at most `max_request_body_size` = 8 KiB by default).
 * Linear-looking patterns are still polynomial on adversarial input in a backtracking engine (`a+b` or
 * `ignore.*instructions` is quadratic, `x.*y.*z` cubic), so the bound is what caps the worst case.
 */
export const DEFAULT_PATTERN_MAX_SCAN_CHARS = 8192;
const MAX_PATTERNS = 10;
const MAX_PATTERN_LEN = 500;

function invalid(msg: string): PluginError {
  return new PluginError('CONFIG_INVALID', msg, 500, false);
}

/**
 * Reject patterns whose matching time can blow up: a quantified group that itself contains an unbounded
 * quantifier or an alternation whose branches can overlap ("(a+)+", "(\w+\s?)*", "(a|aa)*", "(.*a){20}"), and
 * backreferences. Returns a reason, or null when the pattern is accepted.
 */
export function unsafePatternReason(src: string): string | null {
  interface Group {
    innerUnbounded: boolean;
    innerQuantified: boolean;
    alternatives: string[];
    current: string;
    simple: boolean;
  }
  const stack: Group[] = [
    { innerUnbounded: false, innerQuantified: false, alternatives: [], current: '', simple: true },
  ];
  let lastClosed: Group | null = null;
  let inClass = false;
  let classStart = 0;
  // Unbounded quantifiers on wildcard-like atoms ('.', \S, \W, \D, negated or [\s\S] classes). Two of them make
  // matching cubic on adversarial input ("a.*b.*c" takes tens of seconds on 8 KiB), so at most one is allowed.
  let lastAtomWide = false;
  let wideUnbounded = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as string;
    const top = stack[stack.length - 1] as Group;
    if (c === '\\') {
      const n = src[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(n) || n === 'k')) return 'backreferences are not allowed';
      if (!inClass) {
        top.current += c + n;
        if (/[dDwWsSbB]/.test(n)) top.simple = false;
        lastAtomWide = /[SWD]/.test(n);
      }
      i++;
      lastClosed = null;
      continue;
    }
    if (inClass) {
      if (c === ']' && i > classStart + 1) {
        inClass = false;
        const body = src.slice(classStart + 1, i);
        lastAtomWide =
          body.startsWith('^') ||
          (/\\s/.test(body) && /\\S/.test(body)) ||
          (/\\w/.test(body) && /\\W/.test(body));
      }
      continue;
    }
    if (c === '[') {
      inClass = true;
      classStart = src[i + 1] === '^' ? i : i;
      top.simple = false;
      top.current += '[]';
      lastClosed = null;
      continue;
    }
    if (c === '(') {
      stack.push({
        innerUnbounded: false,
        innerQuantified: false,
        alternatives: [],
        current: '',
        simple: true,
      });
      // skip group prefixes like ?: ?= ?! ?<= ?<! ?<name>
      if (src[i + 1] === '?') {
        const m = /^\?(?::|=|!|<=|<!|<[A-Za-z_]\w*>|[imsx-]+:|[imsx-]+\))/.exec(src.slice(i + 1));
        if (m) i += m[0].length;
      }
      lastClosed = null;
      continue;
    }
    if (c === ')') {
      if (stack.length === 1) return 'unbalanced parenthesis';
      const g = stack.pop() as Group;
      g.alternatives.push(g.current);
      const parent = stack[stack.length - 1] as Group;
      parent.innerUnbounded ||= g.innerUnbounded;
      parent.innerQuantified ||= g.innerQuantified;
      parent.simple &&= g.simple;
      parent.current += '(g)';
      lastClosed = g;
      continue;
    }
    if (c === '|') {
      top.alternatives.push(top.current);
      top.current = '';
      lastClosed = null;
      continue;
    }
    const q = /^(?:[*+?]|\{\d+(?:,\d*)?\})/.exec(src.slice(i));
    if (q) {
      const quant = q[0];
      const unbounded = quant === '*' || quant === '+' || /^\{\d+,\}$/.test(quant);
      const repeats =
        unbounded ||
        (/^\{(\d+)(?:,(\d+))?\}$/.exec(quant) !== null && Number(/(\d+)\}$/.exec(quant)?.[1] ?? '1') > 1);
      if (lastClosed && repeats && quant !== '?') {
        if (lastClosed.innerUnbounded || lastClosed.innerQuantified) {
          return 'nested quantifiers (a quantified group containing a quantifier) can backtrack catastrophically';
        }
        const alts = lastClosed.alternatives;
        if (alts.length > 1) {
          const overlap =
            !lastClosed.simple ||
            alts.some((a, ai) => a === '' || alts.some((b, bi) => ai !== bi && b.startsWith(a)));
          if (overlap)
            return 'a repeated alternation whose branches can match the same text can backtrack catastrophically';
        }
      }
      if (unbounded) top.innerUnbounded = true;
      if (unbounded && lastAtomWide && !lastClosed) {
        wideUnbounded++;
        if (wideUnbounded >= 2) {
          return 'more than one unbounded wildcard (e.g. "a.*b.*c") is polynomial-time on adversarial input; use a bounded gap such as ".{0,200}"';
        }
      }
      if (repeats || quant === '?') top.innerQuantified = top.innerQuantified || repeats;
      i += quant.length - 1;
      // lazy/possessive suffix
      if (src[i + 1] === '?' || src[i + 1] === '+') i++;
      lastClosed = null;
      continue;
    }
    top.current += c;
    if (c === '.') top.simple = false;
    lastAtomWide = c === '.';
    lastClosed = null;
  }
  if (stack.length !== 1) return 'unbalanced parenthesis';
  return null;
}

/** Translate a leading PCRE inline-flag group (`(?i)`, `(?is)`) into JavaScript flags. */
function toRegExp(pattern: string, where: string): RegExp {
  let src = pattern;
  let flags = '';
  const m = /^\(\?([imsx]+)\)/.exec(src);
  if (m) {
    const f = m[1] as string;
    if (f.includes('x')) throw invalid(`${where}: the PCRE 'x' flag is not supported`);
    flags = [...new Set(f)].join('');
    src = src.slice(m[0].length);
  }
  const reason = unsafePatternReason(src);
  if (reason) throw invalid(`${where} rejected: ${reason}`);
  try {
    return new RegExp(src, flags);
  } catch (err) {
    throw invalid(`${where} is not a valid regular expression: ${(err as Error).message}`);
  }
}

function compileList(list: unknown, name: string): RegExp[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw invalid(`${name} must be an array of strings`);
  if (list.length > MAX_PATTERNS) throw invalid(`${name} accepts at most ${MAX_PATTERNS} patterns`);
  return list.map((p, i) => {
    if (typeof p !== 'string' || p.length < 1 || p.length > MAX_PATTERN_LEN) {
      throw invalid(`${name}[${i}] must be a string of 1 to ${MAX_PATTERN_LEN} characters`);
    }
    return toRegExp(p, `${name}[${i}]`);
  });
}

export function compilePatternGuard(cfg: PatternGuardConfig): PatternGuard {
  const deny = compileList(cfg.deny_patterns, 'deny_patterns');
  const allow = compileList(cfg.allow_patterns, 'allow_patterns');
  if (deny.length === 0 && allow.length === 0) {
    throw invalid('at least one of allow_patterns or deny_patterns is required');
  }
  const latestOnly = cfg.allow_all_conversation_history === true;
  const allRoles = cfg.match_all_roles === true;
  if (allRoles && latestOnly) {
    throw invalid('match_all_roles requires allow_all_conversation_history to be false');
  }
  const maxScan = cfg.max_scan_chars ?? DEFAULT_PATTERN_MAX_SCAN_CHARS;
  if (!Number.isInteger(maxScan) || maxScan < 1) throw invalid('max_scan_chars must be a positive integer');

  return {
    check(messages) {
      if (!Array.isArray(messages)) throw badRequest('BODY_SHAPE', 'messages must be an array');
      const parts: string[] = [];
      let size = 0;
      for (let i = messages.length - 1; i >= 0; i--) {
        const m = messages[i];
        if (!m || typeof m.role !== 'string')
          throw badRequest('BODY_SHAPE', 'every message needs a string role');
        if (m.role !== 'user' && !allRoles) continue;
        if (typeof m.content !== 'string') throw badRequest('BODY_SHAPE', 'message content must be a string');
        parts.push(m.content);
        size += m.content.length + 1;
        if (size > maxScan + 1) throw badRequest('BODY_TOO_LARGE', 'prompt too large to be checked');
        if (latestOnly) break;
      }
      // Kong appends a space after every collected message unless only the latest is taken.
      const text = latestOnly ? (parts[0] ?? '') : parts.map((p) => `${p} `).join('');
      for (let i = 0; i < deny.length; i++) {
        if ((deny[i] as RegExp).test(text)) return { allowed: false, reason: 'deny_match', pattern_index: i };
      }
      if (allow.length === 0) return { allowed: true };
      for (const re of allow) if (re.test(text)) return { allowed: true };
      return { allowed: false, reason: 'no_allow_match' };
    },
  };
}
