/**
 * Phone numbers: one linear scan over runs of digits and phone separators, then rules per run. Country
 * numbering plans (lengths, trunk prefixes, mobile ranges) come from libphonenumber-js, asked only for
 * runs that the cheap rules cannot decide; its answers are memoised per digit string. A run that holds
 * several numbers ("030 1234567 / 0170 1234567") is split at its gaps, so every number is reported.
 */
import parsePhoneNumberFromString, { type CountryCode } from 'libphonenumber-js/max';
import metadata from 'libphonenumber-js/metadata.max.json';
import type { Detection } from './types';
import { LABELS } from './types';
import { after, before } from './util';

const PHONE_CTX =
  /(?:phone|\btel\b|\btel\.|telephone|mobile|\bmob\b|cell|fax|desk|office|\bhome\b|\bwork\b|\bcall|\bring\b|\bdial|\btext|\bsms|whatsapp|signal|telegram|viber|contact|reach|message|answering|registered|hotline|landline|helpline|switchboard|extension|\bph\b|\bnumber|\btlf|\btelf|\btelefon|t[ée]l[ée]phone|portable|handy|movil|móvil|celular|cellulare|telefone|\bgsm\b)/g;
const PHONE_NEG_CTX =
  /(?:account|order|invoice|\bref|tracking|ticket|serial|policy|routing|iban|swift|passport|licen|ssn|social security|zip|postal|post ?code|price|total|amount|card|isbn|version|build|commit|\bid\b|\bsku|\$|€|£|¥)/g;
const PHONE_AFTER_CTX = /^\s?[([]?(?:office|fax|mobile|cell|home|work|phone|tel|ext|landline|direct)\b/;
const AMOUNT_AFTER =
  /^\s?(?:%|eur|euros?|usd|dollars?|pounds?|gbp|yen|jpy|inr|rupees?|units?|people|users|rows|items|records|bytes|kb|mb|gb|tokens|km|kg|miles|times|years|votes)\b/i;
const NANP_RE =
  /^(?:(?:\+?1|001)[ .-]?)?(?:\(\d{3}\)\s?|\d{3}[.-])\d{3}[.-]\d{4}(?:\s?(?:x|ext\.?|extension)\s?\d{1,6})?$/;
const EXT_RE = /\s?(?:x|ext\.?|extension)\s?\d{1,6}$/i;

/** Countries whose national format starts with a trunk prefix 0 (tried for numbers written with one). */
const TRUNK_COUNTRIES: CountryCode[] = [
  'GB',
  'DE',
  'FR',
  'NL',
  'BE',
  'AT',
  'CH',
  'IE',
  'SE',
  'FI',
  'JP',
  'KR',
  'CN',
  'TW',
  'NG',
  'GH',
  'KE',
  'ZA',
  'EG',
  'IN',
  'PK',
  'BD',
  'TH',
  'VN',
  'PH',
  'ID',
  'MY',
  'AU',
  'NZ',
  'TR',
  'IL',
  'SA',
  'AE',
  'UA',
  'BR',
  'AR',
  'CO',
  'PE',
];
/** Countries whose national numbers carry no trunk prefix (tried for grouped numbers without one). */
const PLAIN_COUNTRIES: CountryCode[] = ['US', 'IN', 'ES', 'IT', 'PT', 'PL', 'CN', 'MX', 'GR', 'CZ'];

/**
 * A cheap pre-check per country from libphonenumber's own metadata (general national-number pattern and
 * national prefix), so the full parse runs only for countries whose plan can hold the digits. If the
 * metadata layout ever changes, the pre-check lets everything through and only speed is lost.
 */
function planFilter(c: CountryCode): (digits: string) => boolean {
  const plan = (metadata.countries as Record<string, unknown[] | undefined>)[c];
  const pattern = plan?.[2];
  const prefix = plan?.[5];
  if (typeof pattern !== 'string') return () => true;
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${pattern})$`);
  } catch {
    return () => true;
  }
  const np = typeof prefix === 'string' ? prefix : '';
  return (d) => re.test(d) || (np !== '' && d.startsWith(np) && re.test(d.slice(np.length)));
}
const FILTERS = new Map<CountryCode, (d: string) => boolean>(
  [...TRUNK_COUNTRIES, ...PLAIN_COUNTRIES].map((c) => [c, planFilter(c)]),
);

type Plan = 'none' | 'mobile' | 'other';
const planCache = new Map<string, Plan>();

/** The best numbering-plan verdict for national digits over the candidate countries (memoised). */
function nationalPlan(digits: string): Plan {
  const hit = planCache.get(digits);
  if (hit !== undefined) return hit;
  const countries = digits.startsWith('0') ? TRUNK_COUNTRIES : PLAIN_COUNTRIES;
  let best: Plan = 'none';
  for (const c of countries) {
    if (FILTERS.get(c)?.(digits) === false) continue;
    const p = parsePhoneNumberFromString(digits, c);
    if (!p || !p.isValid()) continue;
    const t = p.getType();
    if (t === 'MOBILE' || t === 'FIXED_LINE_OR_MOBILE') {
      best = 'mobile';
      break;
    }
    best = 'other';
  }
  if (planCache.size >= 4096) planCache.clear();
  planCache.set(digits, best);
  return best;
}

const intlCache = new Map<string, boolean>();

/** A +CC number of a possible length for its country (memoised). */
function intlPossible(core: string): boolean {
  const hit = intlCache.get(core);
  if (hit !== undefined) return hit;
  const p = parsePhoneNumberFromString(core);
  const ok = p !== undefined && p.isPossible();
  if (intlCache.size >= 4096) intlCache.clear();
  intlCache.set(core, ok);
  return ok;
}

function lastIndexOfRe(re: RegExp, s: string): number {
  re.lastIndex = 0;
  let last = -1;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    last = m.index;
    if (m[0].length === 0) re.lastIndex++;
  }
  return last;
}

/** 1: a phone cue word is closest before (or a label right after); -1: another kind of number is; 0: none. */
function cueBefore(text: string, start: number, end: number): number {
  const b = before(text, start, 48);
  const pos = lastIndexOfRe(PHONE_CTX, b);
  const neg = lastIndexOfRe(PHONE_NEG_CTX, b);
  if (pos >= 0) {
    // a bare "number" only counts when no other kind of number was named just before it
    const bare =
      b.startsWith('number', pos) && lastIndexOfRe(PHONE_NEG_CTX, b.slice(Math.max(0, pos - 24), pos)) >= 0;
    if (neg <= pos && !bare) return 1;
  }
  if (PHONE_AFTER_CTX.test(after(text, end, 16))) return 1;
  return neg >= 0 ? -1 : 0;
}

function looksLikeDate(groups: string[], seps: string): boolean {
  if (groups.length !== 3) return false;
  if (!/^[./-]+$/.test(seps)) return false;
  const [a = '', b = '', c = ''] = groups;
  const n = (s: string): number => Number(s);
  if (a.length === 4 && n(b) >= 1 && n(b) <= 12 && n(c) >= 1 && n(c) <= 31 && c.length <= 2) return true;
  if (c.length === 4 || c.length === 2) {
    if (a.length <= 2 && b.length <= 2 && n(a) >= 1 && n(a) <= 31 && n(b) >= 1 && n(b) <= 31) return true;
  }
  return false;
}

type Verdict = 'strong' | 'plan' | 'weak' | 'no';

function classify(v: string, text: string, start: number): Verdict {
  const ext = EXT_RE.exec(v);
  const core = ext ? v.slice(0, ext.index) : v;
  const groups = core.split(/\D+/).filter((g) => g.length > 0);
  const seps = core.replace(/[\d\s()+]/g, '');
  const d = groups.join('');
  if (d.length < 7 || d.length > 15) return 'no';
  if (/\s\/|\/\s/.test(core)) return 'no'; // " / " separates list items
  if (/^(\d)\1+$/.test(d)) return 'no';
  if (looksLikeDate(groups, seps)) return 'no';
  if (
    groups.length === 4 &&
    /^\.+$/.test(seps) &&
    groups.every((g) => g.length <= 3) &&
    !core.startsWith('0')
  )
    return 'no'; // IPv4-like
  if (groups.length === 2 && groups.every((g) => /^(?:19|20)\d\d$/.test(g))) return 'no'; // year range
  if (/^\d+[.,]\d{1,2}$/.test(core)) return 'no'; // decimal
  if (/[$€£¥₹]\s?$/.test(before(text, start, 3))) return 'no';
  if (core.startsWith('+')) return d.length >= 8 && intlPossible(core) ? 'strong' : 'no';
  if (NANP_RE.test(v)) return 'strong';
  if (ext && d.length >= 10) return 'strong';
  if (core.startsWith('00') && d.length >= 10 && groups.length >= 2) return 'strong';
  const trunk = /^\(?0/.test(core);
  if (trunk && groups.length >= 2 && d.length >= 9) {
    const first = groups[0] ?? '';
    if (first.length >= 2 && first.length <= 5) return 'strong';
  }
  const last = groups[groups.length - 1] ?? '';
  // national numbers of a known plan: written with the trunk 0, or grouped (not one bare digit string)
  if (
    ((trunk && d.length >= 8) || (groups.length >= 2 && d.length >= 9)) &&
    !/^0+$/.test(last) &&
    !/[./]/.test(seps)
  ) {
    const plan = nationalPlan(d);
    if (plan !== 'none') {
      // "250 000 000"-like thousands groups are amounts unless the plan says mobile
      const thousands =
        groups.length >= 3 && (groups[0] ?? '').length <= 3 && groups.slice(1).every((g) => g.length === 3);
      if (!(thousands && (plan !== 'mobile' || AMOUNT_AFTER.test(text.slice(start + v.length)))))
        return 'plan';
    }
  }
  // a bare 10/11-digit value that fills a whole CSV / table field ("Ana,2015550123,ana@…")
  if (
    groups.length === 1 &&
    (d.length === 10 || d.length === 11) &&
    wholeField(text, start, start + v.length)
  ) {
    if (nationalPlan(d) !== 'none') return 'plan';
  }
  if (d.length <= 12) return 'weak';
  return 'no';
}

function wholeField(text: string, s: number, e: number): boolean {
  const l = s === 0 ? '\n' : text[s - 1];
  const r = e >= text.length ? '\n' : text[e];
  const delim = (c: string | undefined): boolean =>
    c === ',' || c === ';' || c === '|' || c === '\t' || c === '\n';
  const ls = l === ' ' ? text[s - 2] : l;
  const rs = r === ' ' ? text[e + 1] : r;
  return delim(ls) && delim(rs) && (ls !== '\n' || rs !== '\n');
}

function isSep(c: number): boolean {
  // space, nbsp, - . / ( ) and the en dash
  return c === 32 || c === 160 || c === 45 || c === 46 || c === 47 || c === 40 || c === 41 || c === 8211;
}

function isWordCode(c: number): boolean {
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95) return true;
  return c > 127 && /[\p{L}\p{N}]/u.test(String.fromCharCode(c));
}

/** Finds maximal runs of digits/phone separators (linear scan), then classifies each run. */
export function detectPhone(text: string, out: Detection[]): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    const digit = c >= 48 && c <= 57;
    if (!digit) {
      if (!((c === 43 || c === 40) && i + 1 < n)) {
        i++;
        continue;
      }
      const nc = text.charCodeAt(i + 1);
      if (!((nc >= 48 && nc <= 57) || nc === 40 || nc === 43)) {
        i++;
        continue;
      }
    }
    const p = i > 0 ? text.charCodeAt(i - 1) : 32;
    // inside a token (a word, a version, an amount "1,234", a time "12:30"): skip to the token's end
    const pp = i > 1 ? text.charCodeAt(i - 2) : 32;
    const glued =
      isWordCode(p) ||
      p === 46 ||
      p === 45 ||
      p === 47 ||
      p === 43 ||
      p === 35 ||
      ((p === 44 || p === 58) && pp >= 48 && pp <= 57);
    if (glued) {
      i++;
      while (i < n && /[\w.\-/+,:]/.test(text[i] ?? '')) i++;
      continue;
    }
    let j = i;
    let lastDigitEnd = i;
    let sepRun = 0;
    let digitCount = 0;
    while (j < n && j - i < 64) {
      const ch = text.charCodeAt(j);
      if (ch >= 48 && ch <= 57) {
        sepRun = 0;
        j++;
        lastDigitEnd = j;
        digitCount++;
        continue;
      }
      if (isSep(ch) || (ch === 43 && j === i)) {
        sepRun++;
        if (sepRun > 3) break;
        j++;
        continue;
      }
      if (ch === 120 || ch === 101 || ch === 88 || ch === 69) {
        const em = /^(?:x|ext\.?|extension)\s?\d{1,6}/i.exec(text.slice(j, j + 16));
        if (em && lastDigitEnd >= j - 1) {
          j += em[0].length;
          lastDigitEnd = j;
        }
      }
      break;
    }
    const scanEnd = Math.max(j, i + 1);
    const end = lastDigitEnd;
    const nextCh = text.charCodeAt(end);
    if (end < n && (isWordCode(nextCh) || (nextCh === 46 && /\d/.test(text[end + 1] ?? '')))) {
      i = scanEnd;
      continue;
    }
    if (digitCount < 7) {
      i = scanEnd; // too few digits for any phone number
      continue;
    }
    let s = i;
    if (text[s] === '(' && !text.slice(s, end).includes(')')) s++;
    emitRun(text, s, end, out);
    i = scanEnd;
  }
}

function accept(text: string, st: number, en: number): Verdict {
  const v = text.slice(st, en);
  const verdict = classify(v, text, st);
  if (verdict === 'no' || verdict === 'strong') return verdict;
  const cue = cueBefore(text, st, en);
  if (verdict === 'plan') return cue >= 0 ? 'strong' : 'no';
  return cue > 0 ? 'weak' : 'no';
}

function push(out: Detection[], st: number, en: number, v: Verdict): void {
  out.push({
    category: 'phone',
    start: st,
    end: en,
    label: LABELS.phone,
    confidence: v === 'strong' ? 0.85 : 0.75,
  });
}

/** Classifies one run; when the whole run is not one number, splits it into numbers at its gaps. */
function emitRun(text: string, s: number, e: number, out: Detection[]): void {
  const whole = accept(text, s, e);
  if (whole !== 'no') {
    push(out, s, e, whole);
    return;
  }
  // digit groups of the run, and whether a number may start/end at each gap (space or slash gaps only)
  const starts: number[] = [];
  const ends: number[] = [];
  for (let k = s; k < e;) {
    if (text.charCodeAt(k) >= 48 && text.charCodeAt(k) <= 57) {
      let q = k;
      while (q < e && text.charCodeAt(q) >= 48 && text.charCodeAt(q) <= 57) q++;
      starts.push(k);
      ends.push(q);
      k = q;
    } else k++;
  }
  const g = starts.length;
  if (g < 2 || g > 16) return;
  const openGap = (a: number): boolean => {
    // a new number begins after a slash or a wide gap, or at a "+", "(" or trunk "0" after a space;
    // never inside one long digit sequence (a card or account number split by single spaces)
    const gap = text.slice(ends[a - 1] ?? s, starts[a] ?? e);
    if (gap.includes('/') || /\s\s/.test(gap)) return true;
    return /\s/.test(gap) && (/[+(]$/.test(gap) || text[starts[a] ?? e] === '0');
  };
  let a = 0;
  while (a < g) {
    if (a > 0 && !openGap(a)) {
      a++;
      continue;
    }
    let done = false;
    for (let b = g - 1; b >= a; b--) {
      if (b < g - 1 && !openGap(b + 1)) continue;
      if (a === 0 && b === g - 1) continue;
      let st = starts[a] ?? s;
      const prev = text[st - 1];
      if (prev === '+' || prev === '(') st--;
      const en = ends[b] ?? e;
      const v = accept(text, st, en);
      if (v !== 'no') {
        push(out, st, en, v);
        a = b + 1;
        done = true;
        break;
      }
    }
    if (!done) a++;
  }
}
