/**
 * Street addresses: house number + street name + street type (English and international forms), street
 * words that carry the type as a prefix (Rue/Via/Calle/ul.) or suffix (-straße/-gade/-katu/-vej…),
 * "number Name number" layouts, PO boxes, military addresses, unit numbers, "City, ST 12345", and
 * continuation lines (unit, city, region, postcode). Regexes are bounded; the token pass is linear.
 */
import type { Detection } from './types';
import { LABELS } from './types';
import { COMMON, STREET_PREFIX, STREET_SUFFIX, STREET_TYPE, fold } from './lexicon/index-sets';
import { eachMatch } from './util';
import { extendIntl, intlAddressCores } from './address-intl';

interface Tok {
  text: string;
  norm: string;
  start: number;
  end: number;
  num: boolean;
  cap: boolean;
}

const LETTER = /\p{L}/u;
const LETTER_OR_MARK = /[\p{L}\p{M}]/u;

/** Numbers (1-6 digits, optional letter: "12", "3b") and words (optional trailing dot), by character codes. */
function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      const s = i;
      while (i < n && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
      if (i - s > 6) continue; // not a house number
      let e = i;
      const l = text.charCodeAt(i);
      if (
        ((l >= 65 && l <= 90) || (l >= 97 && l <= 122)) &&
        !(text.charCodeAt(i + 1) >= 48 && text.charCodeAt(i + 1) <= 57)
      ) {
        e = i + 1;
        i = e;
      }
      const t = text.slice(s, e);
      out.push({ text: t, norm: t.toLowerCase(), start: s, end: e, num: true, cap: false });
      continue;
    }
    const ascii = c < 128;
    if (ascii ? !((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) : !LETTER.test(text[i] ?? '')) {
      i++;
      continue;
    }
    const s = i;
    let plain = ascii;
    i++;
    while (i < n && i - s < 40) {
      const d = text.charCodeAt(i);
      if (d < 128) {
        if ((d >= 65 && d <= 90) || (d >= 97 && d <= 122)) i++;
        else if (d === 39 || d === 45) {
          plain = false;
          i++;
        } else break;
      } else if (d === 0x2019 || LETTER_OR_MARK.test(text[i] ?? '')) {
        plain = false;
        i++;
      } else break;
    }
    const word = text.slice(s, i);
    let e = i;
    if (text.charCodeAt(i) === 46) {
      e = i + 1;
      i = e;
    }
    const first = word[0] ?? '';
    out.push({
      text: text.slice(s, e),
      norm: plain ? word.toLowerCase() : fold(word),
      start: s,
      end: e,
      num: false,
      cap: first !== first.toLowerCase(),
    });
  }
  return out;
}

function spaceJoined(text: string, a: Tok, b: Tok): boolean {
  const gap = text.slice(a.end, b.start);
  return gap === ' ' || gap === ', ' || (gap === '' && a.text.endsWith('.'));
}

const SUFFIXES = new Set(STREET_SUFFIX);
const SUFFIX_LENGTHS = [...new Set(STREET_SUFFIX.map((x) => x.length))];

/** The last three letters of every suffix: one look-up rejects most words before the full check. */
const SUFFIX_TAILS = new Set(STREET_SUFFIX.map((x) => x.slice(-3)));

function hasStreetSuffix(norm: string): boolean {
  if (norm.length < 5 || !SUFFIX_TAILS.has(norm.slice(-3))) return false;
  for (const l of SUFFIX_LENGTHS) if (norm.length >= l + 2 && SUFFIXES.has(norm.slice(-l))) return true;
  return false;
}

/** Abbreviations whose dot belongs to the address ("Baker St.", "ul."); other words end a sentence. */
const ABBREVIATIONS: ReadonlySet<string> = new Set(
  'st str rd ave av avda blvd bvd dr ln ct pl sq ter terr pkwy hwy cir cres aly trl tpke byp rte xing pt plz expy ul al os jl cra cl no nr apt ste fl bis cad sok sk blv mah mh col dto esq izq dcha'.split(
    ' ',
  ),
);

const ADDRESS_CUE =
  /(?:\b(?:lives?|living|located|situated|based|meet(?: me| you)?|drops? (?:you )?off|enter|stay(?:ing)?|resides?|residing|is|are|arrived|moved)\s+(?:at|on|in|to)|address(?:es)?(?:\s+(?:is|was|are))?\s*[:-]?|(?:sent|send|ship|shipped|deliver(?:ed)?|mail(?:ed)?|post(?:ed)?|forward(?:ed)?)\s+(?:it\s+|them\s+)?to|it'?s\s+in|\bat|\bon|\bto|here they are:|following\?)\s*$/i;

const UNIT =
  /^[ ,]*(?:\n[ \t>?•]*)?(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Fl\.|Floor)\s?#?\d{1,5}[A-Za-z]?(?![\w])/i;
const ZIP_TAIL = /^[ ,]*\d{4,6}(?:-\d{4})?(?![\w])/;
const CONT_LINE =
  /^[ \t]*\n(?:[ \t>?•]*\n)?[ \t>?•]*((?:[\p{Lu}(][\p{L}\p{M}'’.()-]{0,30}|nan|[A-Z]{2})(?:[ ,]{1,3}(?:[\p{Lu}(][\p{L}\p{M}'’.()-]{0,30}|[\p{Ll}]{1,4}|nan|[A-Z]{2}))*(?:[ ,]{1,3}\d{4,6}(?:-\d{4})?)?|[ ,]*\d{4,6}(?:-\d{4})?)[ \t.,]*(?=\n|$)/u;
const COMMA_CONT =
  /^,[ ]?((?:[\p{Lu}][\p{L}\p{M}'’.-]{0,30})(?: [\p{Lu}(][\p{L}\p{M}'’.()-]{0,30}){0,3})(?:[ ,]{1,2}[A-Z]{2})?(?:[ ,]{1,2}\d{4,6}(?:-\d{4})?)?(?=[.,?!;]?(?:\s|$))/u;

/** Extends an address span over unit numbers, postcodes and city/region/country continuation lines. */
function extend(text: string, end: number): number {
  let e = end;
  for (let step = 0; step < 6; step++) {
    const rest = text.slice(e, e + 120);
    const u = UNIT.exec(rest) ?? ZIP_TAIL.exec(rest);
    if (u) {
      e += u[0].length;
      continue;
    }
    const c = COMMA_CONT.exec(rest);
    if (c && !/^,\s*(?:and|but|or|so|which|who|the|I|we|you|he|she|it|they)\b/i.test(rest)) {
      const words = (c[1] ?? '').split(' ');
      if (!words.every((w) => COMMON.has(fold(w)))) {
        e += c[0].length;
        continue;
      }
    }
    const l = CONT_LINE.exec(rest);
    if (
      l &&
      !/[@:]/.test(l[0]) &&
      (l[1] ?? '').split(/[ ,]+/).filter((w) => w && COMMON.has(fold(w))).length === 0
    ) {
      e += l[0].length;
      continue;
    }
    break;
  }
  return e;
}

function nameWord(t: Tok | undefined): boolean {
  return (
    t !== undefined &&
    !t.num &&
    (t.cap || t.norm.length <= 4 || STREET_PREFIX.has(t.norm)) &&
    !/^(?:and|or|the|for|at|in|on|to|is|was|it|we|you|he|she|they|my|your|his|her|our|their)$/.test(t.norm)
  );
}

export function detectAddress(text: string, out: Detection[]): void {
  const isCommon = (w: string): boolean => COMMON.has(fold(w.replace(/\.$/, '')));
  const push = (s: number, e0: number, c: number): void => {
    // a sentence full stop after a full street word ("Baker Street.") is not part of the address
    let e = e0;
    if (text[e - 1] === '.') {
      const w = /[\p{L}]+\.$/u.exec(text.slice(Math.max(s, e - 12), e))?.[0] ?? '';
      if (w.length > 2 && !ABBREVIATIONS.has(w.slice(0, -1).toLowerCase())) e--;
    }
    const end = extend(text, extendIntl(text, extend(text, e), isCommon));
    out.push({ category: 'address', start: s, end, label: LABELS.address, confidence: c });
  };
  const toks = tokenize(text);
  const n = toks.length;
  for (let k = 0; k < n; k++) {
    const t = toks[k];
    if (!t) break;
    if (t.num) {
      // "975 3968 Bay Street": a leading number before the house number stays with the address
      const t2 = toks[k + 1];
      let base = k;
      if (
        t2 &&
        t2.num &&
        text.slice(t.end, t2.start) === ' ' &&
        !/\d$/.test(text.slice(0, t.start).trimEnd())
      )
        base = k + 1;
      const startTok = t;
      const kk = base;
      // A: number + 1-4 name words + street type ("138 Consul Place")
      let j = kk + 1;
      let words = 0;
      let typeAt = -1;
      while (j < n && j - kk <= 6) {
        const a = toks[j - 1];
        const b = toks[j];
        if (!a || !b || !spaceJoined(text, a, b) || text.slice(a.end, b.start).includes(',')) break;
        if (b.num) break;
        if (STREET_TYPE.has(b.norm) && words >= 1 && (b.cap || b.text === b.text.toUpperCase())) {
          typeAt = j;
          // prefer the longest run ending on a type word
        }
        if (!nameWord(b)) break;
        words++;
        j++;
      }
      if (typeAt > 0) {
        const last = toks[typeAt];
        if (last) {
          push(startTok.start, last.end, 0.8);
          k = typeAt;
          continue;
        }
      }
      // B: number + 1-4 name words + number ("28245 Puruntie 82", "10252 Μεγάλη Άμμος 184")
      j = kk + 1;
      words = 0;
      while (j < n && j - kk <= 5) {
        const a = toks[j - 1];
        const b = toks[j];
        if (!a || !b || !spaceJoined(text, a, b) || text.slice(a.end, b.start).includes(',')) break;
        if (b.num) {
          if (words >= 1) {
            push(startTok.start, b.end, 0.74);
            k = j;
          }
          break;
        }
        if (!nameWord(b) || (COMMON.has(b.norm) && !STREET_PREFIX.has(b.norm) && !STREET_TYPE.has(b.norm)))
          break;
        words++;
        j++;
      }
      continue;
    }
    // C: street prefix word (Rue, Via, Calle, ul., Avenue) + name words [+ number]
    if (STREET_PREFIX.has(t.norm) && (t.cap || /^(?:rue|ul\.?|rua|via|calle|avenida|av\.?)$/.test(t.text))) {
      let j = k + 1;
      let words = 0;
      let numEnd = -1;
      while (j < n && j - k <= 6) {
        const a = toks[j - 1];
        const b = toks[j];
        if (!a || !b || !spaceJoined(text, a, b) || text.slice(a.end, b.start).includes(',')) break;
        if (b.num) {
          if (words >= 1) numEnd = j;
          break;
        }
        if (!nameWord(b)) break;
        words++;
        j++;
      }
      const prev = toks[k - 1];
      const numBefore =
        prev !== undefined &&
        prev.num &&
        spaceJoined(text, prev, t) &&
        !text.slice(prev.end, t.start).includes(',');
      const cue = ADDRESS_CUE.test(text.slice(Math.max(0, t.start - 40), t.start));
      if (words >= 1 && (numEnd > 0 || numBefore || cue)) {
        const endTok = numEnd > 0 ? toks[numEnd] : toks[k + words];
        const s = numBefore && prev ? prev.start : t.start;
        if (endTok) push(s, endTok.end, numEnd > 0 || numBefore ? 0.78 : 0.7);
        k = numEnd > 0 ? numEnd : k + words;
      }
      continue;
    }
    // D: compound street word (-straße, -gade, -katu, -vej, utca…) or cue + name words, then a number
    const next = toks[k + 1];
    if ((t.cap && !COMMON.has(t.norm)) || hasStreetSuffix(t.norm)) {
      // collect up to 4 name words then a number
      let j = k;
      let words = 0;
      let suffix = false;
      while (j < n && j - k < 4) {
        const b = toks[j];
        if (!b || b.num || !nameWord(b)) break;
        if (j > k) {
          const a = toks[j - 1];
          if (!a || !spaceJoined(text, a, b) || text.slice(a.end, b.start).includes(',')) break;
        }
        if (
          hasStreetSuffix(b.norm) ||
          /^(?:utca|u\.|rkp\.|ut|út|tér|ter|gade|vej|katu|tie|gata|gatan|veien)$/.test(b.text.toLowerCase())
        )
          suffix = true;
        words++;
        j++;
      }
      const numTok = toks[j];
      const lastWord = toks[j - 1];
      if (
        words >= 1 &&
        numTok &&
        numTok.num &&
        lastWord &&
        spaceJoined(text, lastWord, numTok) &&
        !text.slice(lastWord.end, numTok.start).includes(',')
      ) {
        const cue = ADDRESS_CUE.test(text.slice(Math.max(0, t.start - 40), t.start));
        const allCommon = toks.slice(k, j).every((w) => COMMON.has(w.norm));
        if ((suffix || cue) && !allCommon) {
          const prev = toks[k - 1];
          const numBefore = prev !== undefined && prev.num && spaceJoined(text, prev, t);
          push(numBefore && prev ? prev.start : t.start, numTok.end, suffix ? 0.76 : 0.68);
          k = j;
          continue;
        }
      }
      void next;
    }
  }

  // international layouts (prefix types with particles, Turkish, Korean, Japanese, Indian, grid)
  intlAddressCores(text, toks, push);
  // E: PO boxes, military addresses, "City, ST 12345", corners, units: each regex only runs when its
  // literal anchor occurs in the text
  if (/box|postfach|apartado/i.test(text)) {
    eachMatch(/\b(?:P\.?\s?O\.?\s?Box|Post\s+Office\s+Box|Postfach|Apartado)\s#?\d{1,7}/gi, text, (m) =>
      push(m.index, m.index + m[0].length, 0.8),
    );
    eachMatch(
      /\b(?:PSC|Unit|CMR)\s\d{1,5},?\sBox\s\d{1,5}(?:[ \t]*\n?[ \t]*[ADF]PO\s(?:AA|AE|AP)\s\d{5})?/gi,
      text,
      (m) => push(m.index, m.index + m[0].length, 0.82),
    );
  }
  if (/po /i.test(text)) {
    eachMatch(
      /\b(?:USNS|USNV|USS|USCGC)\s[\p{L}][\p{L}'’-]{1,30}(?:\s[\p{L}][\p{L}'’-]{1,30})?[ \t]*\n?[ \t]*FPO\s(?:AA|AE|AP)\s\d{5}/giu,
      text,
      (m) => push(m.index, m.index + m[0].length, 0.82),
    );
    eachMatch(/\b[ADF]PO\s(?:AA|AE|AP)\s\d{5}\b/g, text, (m) => push(m.index, m.index + m[0].length, 0.78));
  }
  if (/,\s?[A-Z]{2}\s\d{5}/.test(text)) {
    eachMatch(
      /(?<![\p{L}])[\p{Lu}][\p{L}'’.-]{1,30}(?: [\p{Lu}][\p{L}'’.-]{1,30}){0,2},\s?[A-Z]{2}\s\d{5}(?:-\d{4})?(?!\d)/gu,
      text,
      (m) => push(m.index, m.index + m[0].length, 0.75),
    );
  }
  if (/corner/i.test(text)) {
    eachMatch(
      /\b(?:the\s)?corner\sof\s[\p{L}\d][\p{L}\d'’.-]{0,30}(?:\s[\p{L}\d][\p{L}\d'’.-]{0,30}){0,5}?\s(?:and|&)\s[\p{L}\d][\p{L}\d'’-]{0,30}(?:\s[\p{Lu}\d][\p{L}\d'’-]{0,30}){0,4}/giu,
      text,
      (m) => push(m.index, m.index + m[0].length, 0.8),
    );
  }
  if (/Apt|Apartment|Suite|Ste\./.test(text)) {
    eachMatch(/\b(?:Apt\.?|Apartment|Suite|Ste\.)\s?#?\d{1,5}[A-Za-z]?(?![\w])/g, text, (m) =>
      push(m.index, m.index + m[0].length, 0.7),
    );
  }
}
