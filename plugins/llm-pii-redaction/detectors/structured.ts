/**
 * Detectors for structured identifiers: e-mail, payment card, IBAN, US SSN, IP, URL/domain, crypto
 * wallet. Every regex is bounded (no unbounded quantifier after a start that can retry on every position,
 * no nested quantifiers over overlapping classes) so the work per input is linear.
 */
import { isIPv6 } from 'node:net';
import type { Detection } from './types';
import { LABELS } from './types';
import { FILE_EXT_TLDS, TLDS } from './lexicon/tlds';
import {
  IBAN_LENGTHS,
  base58CheckValid,
  bech32Valid,
  before,
  digitsOf,
  eachMatch,
  ibanValid,
  luhnValid,
} from './util';

// ---------------------------------------------------------------- e-mail

const LOCAL = '[A-Za-z0-9!#$%&*+=?^_~-]';
const EMAIL_RE = new RegExp(
  `(?<![\\w.+-])${LOCAL}{1,64}(?:\\.${LOCAL}{1,64}){0,8}@(?:[A-Za-z0-9-]{1,63}\\.){1,8}[A-Za-z]{2,24}(?![\\w-])`,
  'g',
);

/** The longest local part the regex accepts (64 + 8 × 65), so a search may start this far before an '@'. */
const LOCAL_MAX = 64 + 8 * 65;

export function detectEmail(text: string, out: Detection[]): void {
  // search only near each '@' instead of trying a local part at every position of the text
  let at = text.indexOf('@');
  let from = 0;
  while (at >= 0) {
    EMAIL_RE.lastIndex = Math.max(from, at - LOCAL_MAX);
    const m = EMAIL_RE.exec(text);
    if (!m) break;
    const v = m[0];
    if (v.length <= 254)
      out.push({
        category: 'email',
        start: m.index,
        end: m.index + v.length,
        label: LABELS.email,
        confidence: 0.97,
      });
    from = m.index + v.length;
    at = text.indexOf('@', Math.max(from, at + 1));
  }
}

// ---------------------------------------------------------------- payment card

const CARD_RE = /(?<![\w.+\-/])\d(?:[ -]?\d){11,18}(?![\w]|[.,\-/]\d)/g;
const CARD_CONTEXT =
  /(?:card|cc\b|ccn|visa|master ?card|amex|american express|discover|diners|jcb|maestro|credit|debit|payment|\bpan\b|cvv|expir)/;

function knownIin(d: string): boolean {
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  if (d[0] === '4') return true; // Visa
  if (p2 >= 51 && p2 <= 55) return true; // Mastercard
  if (p4 >= 2221 && p4 <= 2720) return true; // Mastercard 2-series
  if (p2 === 34 || p2 === 37) return true; // Amex
  if (p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65) return true; // Discover
  if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) return true; // Diners
  if (p4 >= 3528 && p4 <= 3589) return true; // JCB
  if (p4 === 1800 || p4 === 2131) return true; // JCB (15 digits)
  if (p2 === 50 || (p2 >= 56 && p2 <= 69)) return true; // Maestro, UnionPay (62), etc.
  if (p4 >= 2200 && p4 <= 2204) return true; // Mir
  return false;
}

export function detectCard(text: string, out: Detection[]): void {
  eachMatch(CARD_RE, text, (m) => {
    const v = m[0];
    const d = digitsOf(v);
    if (d.length < 12 || d.length > 19) return;
    if (/^(\d)\1+$/.test(d) || !luhnValid(d)) return;
    if (/[ -]/.test(v)) {
      const groups = v.split(/[ -]/);
      if (groups.length < 3) return;
      for (let i = 0; i < groups.length - 1; i++) {
        const g = groups[i] ?? '';
        if (g.length < 3 || g.length > 6) return;
      }
    }
    const ctx = CARD_CONTEXT.test(before(m.input, m.index, 48));
    const iin = knownIin(d);
    if (!ctx && !(iin && d.length >= 13)) return;
    out.push({
      category: 'credit_card',
      start: m.index,
      end: m.index + v.length,
      label: LABELS.credit_card,
      confidence: ctx ? 0.96 : 0.9,
    });
  });
}

// ---------------------------------------------------------------- IBAN

const IBAN_RE = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){10,32}/g;

export function detectIban(text: string, out: Detection[]): void {
  // The regex is greedy over spaces and letters, so one match can swallow "DE.. to DE..": after a
  // validated IBAN (or a rejected start) the scan resumes right after it, never after the whole match.
  IBAN_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = IBAN_RE.exec(text)) !== null) {
    const resume = ibanAt(text, m, out);
    IBAN_RE.lastIndex = resume;
  }
}

/** Validates the IBAN starting at m.index; returns where the scan resumes. */
function ibanAt(text: string, m: RegExpExecArray, out: Detection[]): number {
  {
    const v = m[0];
    const upper = v.toUpperCase();
    // a mixed-case country code ("Gb") is not an IBAN
    if (v.slice(0, 2) !== upper.slice(0, 2) && v.slice(0, 2) !== v.slice(0, 2).toLowerCase())
      return m.index + 2;
    const country = upper.slice(0, 2);
    // compact chars and their end offsets in v
    const ends: number[] = [];
    let compact = '';
    for (let i = 0; i < upper.length; i++) {
      const ch = upper[i] ?? '';
      if (ch === ' ') continue;
      compact += ch;
      ends.push(i + 1);
    }
    const known = IBAN_LENGTHS[country];
    const lengths = known !== undefined ? [known] : [];
    if (known === undefined) for (let l = Math.min(34, compact.length); l >= 15; l--) lengths.push(l);
    for (const len of lengths) {
      if (len > compact.length) continue;
      const endInV = ends[len - 1] ?? 0;
      const next = text[m.index + endInV];
      if (next !== undefined && /[A-Za-z0-9]/.test(next)) continue;
      // the chosen length must end at a token boundary of the match (not split a word)
      if (!ibanValid(compact.slice(0, len))) continue;
      out.push({
        category: 'iban',
        start: m.index,
        end: m.index + endInV,
        label: LABELS.iban,
        confidence: 0.97,
      });
      return m.index + endInV;
    }
    return m.index + 2;
  }
}

// ---------------------------------------------------------------- US SSN

const SSN_RE = /(?<![\w\-/.])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\w]|[-/.]\d)/g;
const SSN_CONTEXT = /(?:ssn|social security|social sec|soc\.? ?sec|\bss#|\bss no)/;

export function ssnValidParts(area: string, group: string, serial: string): boolean {
  if (area === '000' || area === '666' || area[0] === '9') return false;
  if (group === '00' || serial === '0000') return false;
  return true;
}

export function detectSsn(text: string, out: Detection[]): void {
  eachMatch(SSN_RE, text, (m) => {
    const [v, area = '', sep = '', group = '', serial = ''] = m;
    if (!ssnValidParts(area, group, serial)) return;
    const ctx = SSN_CONTEXT.test(before(m.input, m.index, 40));
    if (sep !== '-' && !ctx) return;
    out.push({
      category: 'ssn',
      start: m.index,
      end: m.index + v.length,
      label: LABELS.ssn,
      confidence: ctx ? 0.98 : 0.9,
    });
  });
}

// ---------------------------------------------------------------- IP

const OCT = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4_RE = new RegExp(`(?<![\\w.])${OCT}(?:\\.${OCT}){3}(?![\\w]|\\.\\d)`, 'g');
const IPV6_RE =
  /(?<![\w:.])(?:[0-9A-Fa-f]{1,4}|:)?(?::[0-9A-Fa-f]{0,4}){2,7}(?:(?<=:)(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])/g;
const VERSION_CTX = /(?:version|\bver\.?|release|\bv)\s*$/;

export function detectIp(text: string, out: Detection[]): void {
  eachMatch(IPV4_RE, text, (m) => {
    if (VERSION_CTX.test(before(m.input, m.index, 12))) return;
    out.push({
      category: 'ip',
      start: m.index,
      end: m.index + m[0].length,
      label: LABELS.ip,
      confidence: 0.95,
    });
  });
  if (!/[0-9A-Fa-f]:[0-9A-Fa-f:]|::/.test(text)) return;
  eachMatch(IPV6_RE, text, (m) => {
    const v = m[0];
    if (!isIPv6(v)) return;
    const groups = v.split(':').filter((g) => g.length > 0).length;
    if (groups < 3 && !(v.includes('::') && groups >= 2 && /[a-f]/i.test(v))) return;
    out.push({ category: 'ip', start: m.index, end: m.index + v.length, label: LABELS.ip, confidence: 0.93 });
  });
}

// ---------------------------------------------------------------- URL and domain

const URL_RE =
  /\b(?:https?|ftps?|wss?|sftp):\/\/[^\s<>"'`{}|\\^[\]]{1,2048}|(?<![\w@.\-/])www\.[^\s<>"'`{}|\\^[\]]{3,2048}/gi;

function trimUrl(v: string): string {
  let s = v;
  for (;;) {
    const last = s[s.length - 1];
    if (last === undefined) return s;
    if ('.,;:!?\'"*'.includes(last)) {
      s = s.slice(0, -1);
      continue;
    }
    if (last === ')' || last === ']') {
      const open = last === ')' ? '(' : '[';
      const opens = s.split(open).length - 1;
      const closes = s.split(last).length - 1;
      if (closes > opens) {
        s = s.slice(0, -1);
        continue;
      }
    }
    return s;
  }
}

export function detectUrl(text: string, out: Detection[]): void {
  eachMatch(URL_RE, text, (m) => {
    const v = trimUrl(m[0]);
    if (v.length < 8) return;
    if (
      /^www\./i.test(v) &&
      !/^www\.[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,6}\.[a-z]{2,24}(?:[/:?#]|$)/i.test(v)
    )
      return;
    out.push({
      category: 'url',
      start: m.index,
      end: m.index + v.length,
      label: LABELS.url,
      confidence: 0.9,
    });
  });
}

const DOMAIN_RE =
  /(?<![\w@.\-/:])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,6}([A-Za-z]{2,24})(?![\w-]|\.[A-Za-z0-9]|@)/g;

const DOMAIN_AT = new RegExp(DOMAIN_RE.source, 'y');
const isNameCode = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46;

export function detectDomain(text: string, out: Detection[]): void {
  // a domain has a "x.y" (letter after the dot): try the regex only from the start of such tokens
  let done = 0;
  for (let dot = text.indexOf('.'); dot >= 0; dot = text.indexOf('.', dot + 1)) {
    const nx = text.charCodeAt(dot + 1);
    if (!((nx >= 65 && nx <= 90) || (nx >= 97 && nx <= 122))) continue;
    let st = dot;
    while (st > done && dot - st < 260 && isNameCode(text.charCodeAt(st - 1))) st--;
    if (st < done || st === dot) continue;
    DOMAIN_AT.lastIndex = st;
    const m = DOMAIN_AT.exec(text);
    if (!m) continue;
    done = m.index + m[0].length;
    dot = Math.max(dot, done - 1);
    domainMatch(m, out);
  }
}

function domainMatch(m: RegExpExecArray, out: Detection[]): void {
  const v = m[0];
  const tld = m[1] ?? '';
  // the TLD must be lower case unless the whole name is upper case
  if (tld !== tld.toLowerCase() && v !== v.toUpperCase()) return;
  if (!TLDS.has(tld.toLowerCase())) return;
  const labels = v.split('.');
  if (labels.length === 2) {
    const first = labels[0] ?? '';
    if (FILE_EXT_TLDS.has(tld.toLowerCase())) return;
    if (/^\d+$/.test(first)) return; // "3.com"-like numbers
    if (first.length < 2) return; // "e.g"-like abbreviations
  }
  if (labels.some((l) => /^\d+$/.test(l)) && /^[\d.]+$/.test(v.slice(0, -tld.length - 1))) return;
  out.push({
    category: 'domain',
    start: m.index,
    end: m.index + v.length,
    label: LABELS.domain,
    confidence: 0.8,
  });
}

// ---------------------------------------------------------------- crypto wallets

const BTC_LEGACY_RE = /(?<![\w])[13LM][1-9A-HJ-NP-Za-km-z]{25,34}(?![\w])/g;
const BECH32_RE = /(?<![\w])(?:bc1|tb1|ltc1)[02-9ac-hj-np-z]{11,71}(?![\w])/gi;
const ETH_RE = /(?<![\w])0x[0-9a-fA-F]{40}(?![\w])/g;

export function detectCrypto(text: string, out: Detection[]): void {
  const push = (s: number, e: number, c: number): void => {
    out.push({ category: 'crypto', start: s, end: e, label: LABELS.crypto, confidence: c });
  };
  eachMatch(BTC_LEGACY_RE, text, (m) => {
    if (base58CheckValid(m[0])) push(m.index, m.index + m[0].length, 0.95);
  });
  eachMatch(BECH32_RE, text, (m) => {
    const v = m[0];
    if (v !== v.toLowerCase() && v !== v.toUpperCase()) return;
    if (bech32Valid(v)) push(m.index, m.index + v.length, 0.95);
  });
  eachMatch(ETH_RE, text, (m) => push(m.index, m.index + m[0].length, 0.9));
}
