/**
 * PII redaction engine: per-request sessions that apply a per-category action to every detection.
 * Pure (no Kong, no I/O). Placeholders are stable within a session: the same original value gets the same
 * `<LABEL_n>` in every message of the request, and `restoreMap()` maps placeholders back to originals.
 */
import { createHmac, randomInt } from 'node:crypto';
import { PluginError } from '../../lib/errors';
import type { Detection, Detector, PiiCategory } from './detectors/types';
import { luhnCheckDigit, ibanCheckDigits } from './detectors/util';

export type { Detection, Detector, DetectorConfig, PiiCategory } from './detectors/types';
export { ALL_CATEGORIES, LABELS } from './detectors/types';
export { compileDetectors } from './detectors/compile';

export type Action = 'placeholder' | 'mask' | 'synthetic' | 'hash' | 'block';

export interface RedactSession {
  /**
   * Applies the per-category actions to `text`; placeholders are stable across calls of the session.
   * `detections` (from detector.detectAsync on the same text) skips the synchronous scan.
   */
  redact(text: string, detections?: Detection[]): string;
  /** placeholder → original (only for the 'placeholder' action). */
  restoreMap(): Record<string, string>;
  /** Detections per category over all redact() calls. */
  counts(): Partial<Record<PiiCategory, number>>;
  /** Categories whose action is 'block' and that were found. */
  blocked(): PiiCategory[];
}

export interface SessionOptions {
  /** HMAC key for the 'hash' action (required when any action is 'hash'). */
  hashSecret?: string;
  /** Characters kept at the end by 'mask' for numeric identifiers (cards, IBAN, phone, …); default 4. */
  maskKeep?: number;
}

const ACTIONS: ReadonlySet<string> = new Set(['placeholder', 'mask', 'synthetic', 'hash', 'block']);
/** Categories whose trailing characters 'mask' may keep (like the last 4 digits of a card). */
const KEEP_TAIL: ReadonlySet<PiiCategory> = new Set([
  'credit_card',
  'iban',
  'phone',
  'ssn',
  'passport',
  'driver_license',
  'national_id',
]);

export function createSession(
  detector: Detector,
  actions: Partial<Record<PiiCategory, Action>> & { default: Action },
  opts: SessionOptions = {},
): RedactSession {
  for (const [k, a] of Object.entries(actions)) {
    if (!ACTIONS.has(String(a)))
      throw new PluginError('CONFIG_INVALID', `unknown PII action for "${k}"`, 400, true);
  }
  const usesHash = Object.values(actions).includes('hash');
  if (usesHash && (typeof opts.hashSecret !== 'string' || opts.hashSecret.length < 16)) {
    throw new PluginError(
      'CONFIG_INVALID',
      "the 'hash' action needs a hashSecret of at least 16 characters",
      400,
      true,
    );
  }
  const maskKeep = Math.max(0, Math.min(8, Math.floor(opts.maskKeep ?? 4)));
  const byOriginal = new Map<string, string>(); // `${label}\u0000${original}` → replacement
  const restore: Record<string, string> = {};
  const counters = new Map<string, number>();
  const counts: Partial<Record<PiiCategory, number>> = {};
  const blocked = new Set<PiiCategory>();
  const synthUsed = new Set<string>();

  const actionFor = (c: PiiCategory): Action => actions[c] ?? actions.default;

  const replacement = (d: Detection, original: string): string => {
    const action = actionFor(d.category);
    if (action === 'block') {
      blocked.add(d.category);
      return `[${d.label}]`;
    }
    if (action === 'mask') return mask(original, KEEP_TAIL.has(d.category) ? maskKeep : 0);
    const key = `${action}\u0000${d.label}\u0000${original}`;
    const prior = byOriginal.get(key);
    if (prior !== undefined) return prior;
    let out: string;
    if (action === 'placeholder') {
      const n = (counters.get(d.label) ?? 0) + 1;
      counters.set(d.label, n);
      out = `<${d.label}_${n}>`;
      restore[out] = original;
    } else if (action === 'hash') {
      const h = createHmac('sha256', opts.hashSecret ?? '')
        .update(`${d.label}\u0000${original}`)
        .digest('hex')
        .slice(0, 16);
      out = `<${d.label}_${h}>`;
    } else {
      out = synthetic(d.category, original, synthUsed);
    }
    byOriginal.set(key, out);
    return out;
  };

  return {
    redact(text: string, detections?: Detection[]): string {
      if (typeof text !== 'string' || text.length === 0) return text;
      const dets = detections ?? detector.detect(text);
      if (dets.length === 0) return text;
      let out = '';
      let pos = 0;
      for (const d of dets) {
        if (d.start < pos) continue;
        const original = text.slice(d.start, d.end);
        counts[d.category] = (counts[d.category] ?? 0) + 1;
        out += text.slice(pos, d.start) + replacement(d, original);
        pos = d.end;
      }
      return out + text.slice(pos);
    },
    restoreMap: () => ({ ...restore }),
    counts: () => ({ ...counts }),
    blocked: () => [...blocked],
  };
}

/** Replaces letters and digits with '*', keeping separators and the last `keep` letters/digits. */
export function mask(original: string, keep: number): string {
  let alnum = 0;
  for (const ch of original) if (/[\p{L}\p{N}]/u.test(ch)) alnum++;
  const keepFrom = keep > 0 && alnum > keep * 2 ? alnum - keep : Infinity;
  let seen = 0;
  let out = '';
  for (const ch of original) {
    if (/[\p{L}\p{N}]/u.test(ch)) {
      out += seen >= keepFrom ? ch : '*';
      seen++;
    } else out += ch;
  }
  return out;
}

const DIGITS = '0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const HEX = '0123456789abcdef';
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function pick(alphabet: string): string {
  return alphabet[randomInt(alphabet.length)] ?? 'x';
}

/** Same shape: digits → random digits, letters → random letters of the same case, other chars kept. */
function reshape(original: string): string {
  let out = '';
  for (const ch of original) {
    if (ch >= '0' && ch <= '9') out += pick(DIGITS);
    else if (ch >= 'A' && ch <= 'Z') out += pick(UPPER);
    else if (ch >= 'a' && ch <= 'z') out += pick(LOWER);
    else if (/\p{L}/u.test(ch)) out += ch === ch.toUpperCase() ? pick(UPPER) : pick(LOWER);
    else out += ch;
  }
  return out;
}

/** Writes `digits` into the digit positions of `template` (keeps separators). */
function fillDigits(template: string, digits: string): string {
  let k = 0;
  let out = '';
  for (const ch of template) {
    if (ch >= '0' && ch <= '9') out += digits[k++] ?? '0';
    else out += ch;
  }
  return out;
}

const FAKE_FIRST = [
  'Alex',
  'Jordan',
  'Taylor',
  'Morgan',
  'Casey',
  'Riley',
  'Jamie',
  'Avery',
  'Quinn',
  'Parker',
];
const FAKE_LAST = ['Smith', 'Lee', 'Brown', 'Garcia', 'Miller', 'Davis', 'Moore', 'Clark', 'Lewis', 'Walker'];
const FAKE_STREET = ['Main Street', 'Oak Avenue', 'Maple Road', 'Cedar Lane', 'Pine Drive', 'Elm Court'];

function syntheticOnce(cat: PiiCategory, original: string): string {
  const digitCount = original.replace(/\D/g, '').length;
  switch (cat) {
    case 'email':
      return `user${randomInt(100000, 999999)}@example.com`;
    case 'credit_card': {
      const n = Math.max(13, Math.min(19, digitCount));
      let body = '4';
      while (body.length < n - 1) body += pick(DIGITS);
      return fillDigits(original, body + luhnCheckDigit(body));
    }
    case 'iban': {
      const compact = original.replace(/\s/g, '').toUpperCase();
      const country = /^[A-Z]{2}/.test(compact) ? compact.slice(0, 2) : 'DE';
      let bban = '';
      for (let i = 4; i < compact.length; i++)
        bban += /[A-Z]/.test(compact[i] ?? '') ? pick(UPPER) : pick(DIGITS);
      const iban = country + ibanCheckDigits(country, bban) + bban;
      // keep the original's spacing
      let k = 0;
      let out = '';
      for (const ch of original) out += ch === ' ' ? ' ' : (iban[k++] ?? '0');
      return out;
    }
    case 'ssn': {
      const area = String(randomInt(1, 666)).padStart(3, '0');
      const group = String(randomInt(1, 100)).padStart(2, '0');
      const serial = String(randomInt(1, 10000)).padStart(4, '0');
      return fillDigits(original, area + group + serial);
    }
    case 'phone': {
      // keep a leading + and country code shape; NANP-like numbers get the fictional 555-01xx range
      if (digitCount === 10 || (digitCount === 11 && /^\+?1/.test(original))) {
        const d =
          (digitCount === 11 ? '1' : '') +
          `${randomInt(200, 999)}55501${randomInt(0, 100).toString().padStart(2, '0')}`;
        return fillDigits(original, d);
      }
      return reshape(original);
    }
    case 'ip':
      return original.includes(':')
        ? `2001:db8::${randomInt(1, 0xffff).toString(16)}`
        : `192.0.2.${randomInt(1, 255)}`;
    case 'url':
      return `https://example.com/${randomInt(100000, 999999)}`;
    case 'domain':
      return `site${randomInt(1000, 9999)}.example`;
    case 'crypto':
      if (/^0x/i.test(original)) {
        let h = '0x';
        for (let i = 0; i < 40; i++) h += pick(HEX);
        return h;
      }
      return reshapeFrom(original, B58);
    case 'person': {
      const parts = original.trim().split(/\s+/).length;
      const first = FAKE_FIRST[randomInt(FAKE_FIRST.length)] ?? 'Alex';
      const last = FAKE_LAST[randomInt(FAKE_LAST.length)] ?? 'Smith';
      return parts >= 2 ? `${first} ${last}` : first;
    }
    case 'address':
      return `${randomInt(10, 9999)} ${FAKE_STREET[randomInt(FAKE_STREET.length)] ?? 'Main Street'}`;
    case 'credential':
      return '#'.repeat(Math.max(8, Math.min(original.length, 64)));
    default:
      return reshape(original);
  }
}

function reshapeFrom(original: string, alphabet: string): string {
  let out = '';
  for (let i = 0; i < original.length; i++) out += i === 0 ? (original[0] ?? '1') : pick(alphabet);
  return out;
}

/** A fake value of the same kind, never equal to the original and not reused for another original. */
function synthetic(cat: PiiCategory, original: string, used: Set<string>): string {
  for (let attempt = 0; attempt < 20; attempt++) {
    const v = syntheticOnce(cat, original);
    if (v !== original && !used.has(v)) {
      used.add(v);
      return v;
    }
  }
  const v = `${syntheticOnce(cat, original)}_${used.size}`;
  used.add(v);
  return v;
}
