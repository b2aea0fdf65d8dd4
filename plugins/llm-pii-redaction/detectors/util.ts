/** Checksums and small text helpers for the detectors. All functions are linear in their input. */
import { createHash } from 'node:crypto';

export function digitsOf(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) out += s[i];
  }
  return out;
}

/** Luhn (mod 10) check over a string of digits. */
export function luhnValid(digits: string): boolean {
  if (digits.length < 2) return false;
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

/** Computes the Luhn check digit for a digit string (the digit to append). */
export function luhnCheckDigit(partial: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(partial + String(d))) return String(d);
  return '0';
}

/** ISO 13616 IBAN check (mod 97 == 1) on a compact upper-case IBAN. */
export function ibanValid(compact: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(compact)) return false;
  const r = compact.slice(4) + compact.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < r.length; i++) {
    const c = r.charCodeAt(i);
    const v = c >= 65 ? String(c - 55) : String(c - 48);
    for (let j = 0; j < v.length; j++) rem = (rem * 10 + (v.charCodeAt(j) - 48)) % 97;
  }
  return rem === 1;
}

/** Computes the two IBAN check digits for country + BBAN. */
export function ibanCheckDigits(country: string, bban: string): string {
  const r = bban + country + '00';
  let rem = 0;
  for (let i = 0; i < r.length; i++) {
    const c = r.charCodeAt(i);
    const v = c >= 65 ? String(c - 55) : String(c - 48);
    for (let j = 0; j < v.length; j++) rem = (rem * 10 + (v.charCodeAt(j) - 48)) % 97;
  }
  return String(98 - rem).padStart(2, '0');
}

/** Expected IBAN lengths per country (ISO 13616 registry, common subset). */
export const IBAN_LENGTHS: Record<string, number> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BR: 29,
  BY: 28,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LC: 32,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MR: 27,
  MT: 31,
  MU: 30,
  NL: 18,
  NO: 15,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  SA: 24,
  SC: 31,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  ST: 25,
  SV: 28,
  TL: 23,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
};

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** Base58Check (Bitcoin legacy / P2SH addresses): decodes and verifies the 4-byte double-SHA256 checksum. */
export function base58CheckValid(s: string): boolean {
  if (s.length < 25 || s.length > 35) return false;
  const bytes: number[] = [0];
  for (let i = 0; i < s.length; i++) {
    const v = B58.indexOf(s[i] ?? '');
    if (v < 0) return false;
    let carry = v;
    for (let j = 0; j < bytes.length; j++) {
      carry += (bytes[j] ?? 0) * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  for (let i = 0; i < s.length && s[i] === '1'; i++) bytes.push(0);
  const buf = Buffer.from(bytes.reverse());
  if (buf.length !== 25) return false;
  const payload = buf.subarray(0, 21);
  const check = buf.subarray(21);
  const h = createHash('sha256').update(createHash('sha256').update(payload).digest()).digest();
  return h.subarray(0, 4).equals(check);
}

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

function bech32Polymod(values: number[]): number {
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const b = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((b >>> i) & 1) chk ^= GEN[i] ?? 0;
  }
  return chk >>> 0;
}

/** Bech32 / Bech32m checksum (BIP-173 / BIP-350) for a lower-case address such as bc1q…. */
export function bech32Valid(addr: string): boolean {
  const s = addr.toLowerCase();
  const pos = s.lastIndexOf('1');
  if (pos < 1 || pos + 7 > s.length || s.length > 90) return false;
  const hrp = s.slice(0, pos);
  const data: number[] = [];
  for (let i = pos + 1; i < s.length; i++) {
    const v = BECH32.indexOf(s[i] ?? '');
    if (v < 0) return false;
    data.push(v);
  }
  const hv: number[] = [];
  for (let i = 0; i < hrp.length; i++) hv.push(hrp.charCodeAt(i) >> 5);
  hv.push(0);
  for (let i = 0; i < hrp.length; i++) hv.push(hrp.charCodeAt(i) & 31);
  const pm = bech32Polymod([...hv, ...data]);
  return pm === 1 || pm === 0x2bc830a3;
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  if (s.length === 0) return 0;
  const m = new Map<string, number>();
  for (const ch of s) m.set(ch, (m.get(ch) ?? 0) + 1);
  let e = 0;
  for (const n of m.values()) {
    const p = n / s.length;
    e -= p * Math.log2(p);
  }
  return e;
}

export function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Letter or digit in any script (plus underscore). */
export function isWordChar(ch: string | undefined): boolean {
  return ch !== undefined && /[\p{L}\p{N}_]/u.test(ch);
}

/** The `n` characters before `pos`, lower-cased. */
export function before(text: string, pos: number, n: number): string {
  return text.slice(Math.max(0, pos - n), pos).toLowerCase();
}

/** The `n` characters after `end`, lower-cased. */
export function after(text: string, end: number, n: number): string {
  return text.slice(end, end + n).toLowerCase();
}

/** Runs a global regex over text, calling fn for each match; guards against zero-length loops. */
export function eachMatch(re: RegExp, text: string, fn: (m: RegExpExecArray) => void): void {
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    fn(m);
  }
}
