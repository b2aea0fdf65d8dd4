/**
 * Operator-supplied regex patterns. They are validated at config time: bounded length, no backreferences,
 * no nested quantifiers (the classic catastrophic-backtracking shape, e.g. `(a+)+`), and a timed probe
 * against adversarial inputs. At run time each pattern scans at most MAX_CUSTOM_SCAN characters per window.
 */
import { PluginError } from '../../../lib/errors';
import type { Detection } from './types';

export const MAX_PATTERN_LENGTH = 512;
const PROBE_BUDGET_MS = 25;

function invalid(message: string): PluginError {
  return new PluginError('CONFIG_INVALID', message, 400, true);
}

/** Static check of a pattern's shape. Returns a reason string when the pattern is unsafe, else null. */
export function unsafeReason(src: string): string | null {
  if (src.length === 0) return 'is empty';
  if (src.length > MAX_PATTERN_LENGTH) return `is longer than ${MAX_PATTERN_LENGTH} characters`;
  // group stack: does the group (so far) contain a quantifier / an alternation?
  const stack: { quant: boolean; alt: boolean }[] = [{ quant: false, alt: false }];
  let lastClosed: { quant: boolean; alt: boolean } | null = null;
  let i = 0;
  const quantAt = (k: number): { len: number; unbounded: boolean; many: boolean } | null => {
    const c = src[k];
    if (c === '*' || c === '+') return { len: 1, unbounded: true, many: true };
    if (c === '?') return { len: 1, unbounded: false, many: false };
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(k, k + 24));
      if (!m) return null;
      const hi = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
      return { len: m[0].length, unbounded: hi === Infinity, many: hi > 1 };
    }
    return null;
  };
  while (i < src.length) {
    const c = src[i];
    const top = stack[stack.length - 1];
    if (top === undefined) return 'has unbalanced parentheses';
    if (c === '\\') {
      const n = src[i + 1] ?? '';
      if (/[1-9]/.test(n) || n === 'k') return 'uses a backreference';
      lastClosed = null;
      i += 2;
    } else if (c === '[') {
      let j = i + 1;
      if (src[j] === '^') j++;
      if (src[j] === ']') j++;
      while (j < src.length && src[j] !== ']') j += src[j] === '\\' ? 2 : 1;
      lastClosed = null;
      i = j + 1;
    } else if (c === '(') {
      stack.push({ quant: false, alt: false });
      lastClosed = null;
      i++;
      if (src[i] === '?') {
        // (?:  (?=  (?!  (?<=  (?<!  (?<name>
        const m = /^\?(?::|=|!|<=|<!|<[A-Za-z_][A-Za-z0-9_]*>)/.exec(src.slice(i, i + 40));
        if (!m) return 'has an unsupported group syntax';
        i += m[0].length;
      }
    } else if (c === ')') {
      const g = stack.pop();
      if (g === undefined || stack.length === 0) return 'has unbalanced parentheses';
      const parent = stack[stack.length - 1];
      if (parent) {
        parent.quant ||= g.quant;
      }
      lastClosed = g;
      i++;
    } else if (c === '|') {
      top.alt = true;
      lastClosed = null;
      i++;
    } else {
      const q = quantAt(i);
      if (q) {
        if (lastClosed && q.many && (lastClosed.quant || (lastClosed.alt && q.unbounded))) {
          return lastClosed.quant
            ? 'has a nested quantifier (a quantified group containing a quantifier, e.g. (a+)+), which can backtrack catastrophically'
            : 'repeats an alternation without bound (e.g. (a|ab)*), which can backtrack catastrophically';
        }
        top.quant = true;
        lastClosed = null;
        i += q.len;
        if (src[i] === '?') i++; // lazy
        continue;
      }
      lastClosed = null;
      i++;
    }
  }
  if (stack.length !== 1) return 'has unbalanced parentheses';
  return null;
}

const PROBES: string[] = (() => {
  const out: string[] = [];
  for (const ch of ['a', '1', ' ', '@', '.', '-', 'a1', 'a.', '1 ', 'aA', '_', '/'])
    out.push(ch.repeat(Math.ceil(3000 / ch.length)) + '!');
  return out;
})();

export interface CompiledCustom {
  name: string;
  label: string;
  re: RegExp;
}

export function compileCustom(patterns: { name: string; regex: string }[]): CompiledCustom[] {
  const seen = new Set<string>();
  const out: CompiledCustom[] = [];
  for (const p of patterns) {
    if (typeof p?.name !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]{0,47}$/.test(p.name)) {
      throw invalid(
        'custom pattern name must be 1-48 characters: a letter, then letters, digits, "_" or "-"',
      );
    }
    const label = p.name.toUpperCase().replace(/-/g, '_');
    if (seen.has(label)) throw invalid(`custom pattern name "${p.name}" is not unique`);
    seen.add(label);
    if (typeof p.regex !== 'string') throw invalid(`custom pattern "${p.name}": regex must be a string`);
    const reason = unsafeReason(p.regex);
    if (reason) throw invalid(`custom pattern "${p.name}": regex ${reason}`);
    let re: RegExp;
    try {
      re = new RegExp(p.regex, 'g');
    } catch {
      throw invalid(`custom pattern "${p.name}": regex does not compile`);
    }
    if (re.test('')) throw invalid(`custom pattern "${p.name}": regex matches the empty string`);
    const t0 = performance.now();
    for (const probe of PROBES) {
      re.lastIndex = 0;
      let n = 0;
      while (re.exec(probe) !== null && n++ < 2000) {
        if (performance.now() - t0 > PROBE_BUDGET_MS) break;
      }
      if (performance.now() - t0 > PROBE_BUDGET_MS) {
        throw invalid(
          `custom pattern "${p.name}": regex is too slow on adversarial input (possible catastrophic backtracking)`,
        );
      }
    }
    out.push({ name: p.name, label, re });
  }
  return out;
}

/** Maximum characters of one input a custom pattern scans (the rest of the input is scanned in further windows). */
export const MAX_CUSTOM_MATCHES = 10000;

export function detectCustom(text: string, out: Detection[], pats: CompiledCustom[]): void {
  for (const p of pats) {
    p.re.lastIndex = 0;
    let m: RegExpExecArray | null;
    let n = 0;
    while ((m = p.re.exec(text)) !== null && n++ < MAX_CUSTOM_MATCHES) {
      if (m[0].length === 0) {
        p.re.lastIndex++;
        continue;
      }
      out.push({
        category: 'custom',
        start: m.index,
        end: m.index + m[0].length,
        label: p.label,
        confidence: 0.99,
      });
    }
  }
}
