/**
 * Encoded-payload candidates: base64 (standard and URL-safe), hex (plain, \x-escaped, 0x-prefixed) and rot13.
 * Decoding is bounded: a fixed number of candidates, each capped in length, and decoded text must be mostly
 * printable to be rescanned.
 */

const MAX_CANDIDATES = 12;
const MAX_CANDIDATE_CHARS = 8192;

export interface DecodedCandidate {
  kind: 'base64' | 'hex';
  text: string;
}

const B64 = /[A-Za-z0-9+/_-]{20,}={0,2}/g;
const HEX = /(?:(?:\\x|0x)?[0-9a-fA-F]{2}[\s:,]?){12,}/g;

/** Printable-text check: >= 90% printable characters, at least some letters and a space or punctuation. */
export function looksLikeText(s: string): boolean {
  if (s.length < 8) return false;
  let printable = 0;
  let letters = 0;
  let spaces = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0xfffd) continue;
    if ((c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x0d || c === 0x09 || c >= 0xa0) printable++;
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) letters++;
    if (c === 0x20) spaces++;
  }
  return printable / s.length >= 0.9 && letters / s.length >= 0.5 && spaces >= 1;
}

function decodeBase64(s: string): string {
  const clean = s.slice(0, MAX_CANDIDATE_CHARS).replace(/-/g, '+').replace(/_/g, '/');
  return Buffer.from(clean, 'base64').toString('utf8');
}

function decodeHex(s: string): string {
  const digits = s.slice(0, MAX_CANDIDATE_CHARS * 2).replace(/\\x|0x|[\s:,]/g, '');
  const even = digits.length - (digits.length % 2);
  return Buffer.from(digits.slice(0, even), 'hex').toString('utf8');
}

/** Extract and decode base64/hex candidates that decode to readable text. */
export function decodeCandidates(text: string): DecodedCandidate[] {
  const out: DecodedCandidate[] = [];
  let tried = 0;
  B64.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = B64.exec(text)) !== null && tried < MAX_CANDIDATES) {
    const cand = m[0];
    // Identifiers/words rarely mix cases and digits like base64 does; still try: decoding is cheap and gated.
    if (/^[a-z]+$/.test(cand) || /^[A-Z]+$/.test(cand)) continue;
    tried++;
    const dec = decodeBase64(cand);
    if (looksLikeText(dec)) out.push({ kind: 'base64', text: dec });
  }
  HEX.lastIndex = 0;
  tried = 0;
  while ((m = HEX.exec(text)) !== null && tried < MAX_CANDIDATES) {
    tried++;
    const dec = decodeHex(m[0]);
    if (looksLikeText(dec)) out.push({ kind: 'hex', text: dec });
  }
  return out;
}

/** ROT13 of ASCII letters. */
export function rot13(s: string): string {
  return s.replace(/[a-zA-Z]/g, (ch) => {
    const c = ch.charCodeAt(0);
    const base = c >= 0x61 ? 0x61 : 0x41;
    return String.fromCharCode(((c - base + 13) % 26) + base);
  });
}
