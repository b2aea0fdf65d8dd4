/**
 * Hidden-Unicode handling: Unicode tag characters (U+E0000–U+E007F, which can smuggle invisible ASCII),
 * zero-width characters and bidirectional controls.
 */

// Zero-width and invisible format characters: ZWSP, ZWNJ, ZWJ, word joiner, invisible operators, BOM/ZWNBSP,
// soft hyphen, Mongolian vowel separator, Hangul fillers are left alone (they are letters in Hangul text).
const ZERO_WIDTH = /[\u00AD\u180E\u200B\u200C\u200D\u2060\u2061\u2062\u2063\u2064\uFEFF]/;
// Bidi controls: LRM, RLM, ALM, embeddings/overrides (LRE RLE PDF LRO RLO), isolates (LRI RLI FSI PDI).
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;
const HIDDEN_BMP_GLOBAL = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\u061C]/g;

/** True for a code point in the Unicode tag block. */
function isTag(cp: number): boolean {
  return cp >= 0xe0000 && cp <= 0xe007f;
}

const BLACK_FLAG = 0x1f3f4;

/**
 * Strip Unicode tag characters, zero-width characters and bidi controls. Tag sequences that form a valid emoji
 * subdivision flag (U+1F3F4 followed by tag letters and U+E007F CANCEL TAG, e.g. the flag of England) are kept.
 * Returns the cleaned text and the number of code points removed.
 */
export function sanitizeHidden(text: string): { text: string; removed: number } {
  let removed = 0;
  let out = text.replace(HIDDEN_BMP_GLOBAL, () => {
    removed++;
    return '';
  });
  // Tag characters are astral (surrogate pairs \uDB40\uDC00-\uDB40\uDC7F); only walk when present.
  if (out.includes('\uDB40')) {
    const parts: string[] = [];
    let i = 0;
    const n = out.length;
    while (i < n) {
      const cp = out.codePointAt(i) ?? 0;
      const w = cp > 0xffff ? 2 : 1;
      if (cp === BLACK_FLAG) {
        // Keep a well-formed emoji tag sequence: 1F3F4 (tag a-z0-9){2,6} E007F.
        let j = i + w;
        let k = 0;
        while (j < n && k < 7) {
          const t = out.codePointAt(j) ?? 0;
          if (t >= 0xe0030 && t <= 0xe007a) {
            j += 2;
            k++;
          } else break;
        }
        if (k >= 2 && k <= 6 && out.codePointAt(j) === 0xe007f) {
          parts.push(out.slice(i, j + 2));
          i = j + 2;
          continue;
        }
      }
      if (isTag(cp)) {
        removed++;
      } else {
        parts.push(out.slice(i, i + w));
      }
      i += w;
    }
    out = parts.join('');
  }
  return { text: out, removed };
}

export interface HiddenStats {
  /** Tag characters outside emoji flag sequences. */
  tagChars: number;
  /** ASCII text smuggled in tag characters (U+E0020–U+E007E mapped to ASCII), capped. */
  tagPayload: string;
  /** Zero-width characters sitting between two Latin letters (word obfuscation). */
  zeroWidthInWord: number;
  zeroWidthTotal: number;
  /** Bidi embedding/override/isolate controls (LRM/RLM/ALM excluded: common in RTL text). */
  bidiControls: number;
}

const MAX_TAG_PAYLOAD = 4096;

function isLatinLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** Count hidden characters without allocating per character. Linear in the input. */
export function hiddenStats(text: string): HiddenStats {
  let tagChars = 0;
  let tagPayload = '';
  let zeroWidthInWord = 0;
  let zeroWidthTotal = 0;
  let bidiControls = 0;
  const n = text.length;
  let prevVisible = 0; // last non-hidden code unit
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0xdb40 && i + 1 < n) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdc7f) {
        // Tag char. Emoji flag sequences (after U+1F3F4) are tolerated: count only if not preceded by a flag
        // sequence start. A flag has at most 7 tag chars, so a long run is counted regardless.
        tagChars++;
        const ascii = lo - 0xdc00;
        if (ascii >= 0x20 && ascii <= 0x7e && tagPayload.length < MAX_TAG_PAYLOAD) {
          tagPayload += String.fromCharCode(ascii);
        }
        i++;
        continue;
      }
    }
    if (c < 0x00ad) {
      prevVisible = c;
      continue;
    }
    const ch = text[i] as string;
    if (ZERO_WIDTH.test(ch)) {
      zeroWidthTotal++;
      const next = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (isLatinLetter(prevVisible) && isLatinLetter(next)) zeroWidthInWord++;
      continue;
    }
    if (BIDI.test(ch)) {
      if (c !== 0x200e && c !== 0x200f && c !== 0x061c) bidiControls++;
      continue;
    }
    prevVisible = c;
  }
  // Subtract emoji-flag tag sequences (cheap second look only when tags are present).
  if (tagChars > 0) {
    const flags = text.match(/\u{1F3F4}(?:[\u{E0030}-\u{E007A}]){2,6}\u{E007F}/gu);
    if (flags) {
      for (const f of flags) {
        const tags = (f.length - 2) / 2; // each char is a surrogate pair
        tagChars -= tags;
        // Their letters are not a payload: drop them from the front of the payload (best effort).
      }
      if (tagChars <= 0) tagPayload = '';
    }
  }
  return { tagChars: Math.max(0, tagChars), tagPayload, zeroWidthInWord, zeroWidthTotal, bidiControls };
}
