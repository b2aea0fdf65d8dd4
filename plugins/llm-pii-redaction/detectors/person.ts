/**
 * Person names without a network model: hand-written given-name and surname lexicons, surname morphology,
 * titles, and context cues ("my name is", "Dr.", "said", dialogue speakers, lists of names), applied to
 * runs of capitalised tokens. Linear in the input: one tokenising pass, then constant work per token.
 */
import type { Detection } from './types';
import { LABELS } from './types';
import {
  COMMON,
  CUE_AFTER,
  CUE_BEFORE,
  GIVEN,
  PARTICLES,
  PLACE,
  SURNAME,
  TITLE,
  fold,
} from './lexicon/index-sets';

interface Tok {
  raw: string;
  norm: string;
  start: number;
  end: number;
  cap: boolean;
  upper: boolean;
  initial: boolean;
  given: boolean;
  sur: boolean;
  common: boolean;
  place: boolean;
  nonAscii: boolean;
}

/** Cue words before a single unknown capitalised token that are strong enough on their own. */
const MEDIUM_CUES: ReadonlySet<string> = new Set(
  'said says told asked tell ask named called meet met married marry visit visited wife husband son daughter kid child boyfriend girlfriend fiance fiancee partner friend guardian contact producer director songwriter singer actor actress author writer commenter player founder features featuring starring commenter mr mrs ms miss dr sir'.split(
    ' ',
  ),
);
/** Verbs right after a sentence-initial capitalised token that mark it as a person. */
const PERSON_VERBS: ReadonlySet<string> = new Set(
  'said says told asked replied explained wrote writes lives lived spent began begins flew smiled laughed shouted cried nodded whispered listed married graduated studied joined'.split(
    ' ',
  ),
);

const NAME_IS_AT =
  /\b(?:my name is|name's|call me|calls me|named)\s([\p{L}][\p{L}\p{M}'’-]{1,30})(?:\s([\p{L}][\p{L}\p{M}'’-]{1,30}))?/iuy;
const NAME_CUES = ['my name is', "name's", 'call me', 'calls me', 'named'];

const SURNAME_SUFFIX =
  /(?:sson|ssen|son|sen|dottir|ova|ovna|ovic|evic|ovich|evich|ov|ev|eva|ski|ska|sky|skaya|skiy|wicz|czyk|czak|enko|chuk|ic|escu|eanu|poulos|akis|idis|ides|iadis|oglu|yan|ian|shvili|dze|nen|lainen|berg|strom|qvist|quist|gren|holm|lund|gaard|mann|inen|ez|ini|elli|etti|ucci|otti|ieri|ello|aki|ishi|moto|mura|yama|kawa|uchi|zawa|hashi|ko)$/;

/** Endings of English derived words (adverbs, abstract nouns, participles) that are rarely names. */
const ENGLISH_SUFFIX =
  /(?:ly|ment|ments|tion|tions|sion|ness|ity|ities|ing|ings|ed|ful|less|able|ible|ive|ous|ism|ist|ists|ship|ance|ence|ology|ics|ware)$/;

function isUpper(ch: string): boolean {
  return ch !== ch.toLowerCase() && ch === ch.toUpperCase();
}

const LETTER_OR_MARK = /[\p{L}\p{M}]/u;
const LETTER = /\p{L}/u;

/**
 * One pass over the text with character codes (no regex per token). Lower-case tokens only get their
 * normalised form: the lexicon flags matter only for capitalised tokens, unless the whole text is
 * lower case.
 */
function tokenize(text: string, lowerMode: boolean): Tok[] {
  const toks: Tok[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    const ascii = c < 128;
    if (ascii ? !((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) : !LETTER.test(text[i] ?? '')) {
      i++;
      continue;
    }
    const s = i;
    let allAscii = ascii;
    let quote = false;
    i++;
    while (i < n && i - s < 40) {
      const d = text.charCodeAt(i);
      if (d < 128) {
        if ((d >= 65 && d <= 90) || (d >= 97 && d <= 122)) i++;
        else if (d === 39 || d === 45) {
          quote = true;
          i++;
        } else break;
      } else if (d === 0x2019) {
        quote = true;
        allAscii = false;
        i++;
      } else if (LETTER_OR_MARK.test(text[i] ?? '')) {
        allAscii = false;
        i++;
      } else break;
    }
    let e = i;
    if (quote) {
      // strip a possessive / trailing apostrophe or hyphen
      const l1 = text[e - 1];
      const l2 = text[e - 2];
      if ((l1 === 's' || l1 === 'S') && (l2 === "'" || l2 === '’') && e - 2 > s) e -= 2;
      while (e > s && (text[e - 1] === "'" || text[e - 1] === '’' || text[e - 1] === '-')) e--;
      if (e === s) continue;
    }
    const raw = text.slice(s, e);
    let firstUp: boolean;
    let restUp = false;
    let restLow = false;
    if (allAscii) {
      const f = raw.charCodeAt(0);
      firstUp = f >= 65 && f <= 90;
      for (let k = 1; k < raw.length; k++) {
        const d = raw.charCodeAt(k);
        if (d >= 65 && d <= 90) restUp = true;
        else if (d >= 97 && d <= 122) restLow = true;
      }
    } else {
      const first = raw[0] ?? '';
      firstUp = isUpper(first);
      const rest = raw.slice(1);
      restUp = rest !== rest.toLowerCase();
      restLow = /\p{Ll}/u.test(rest);
    }
    const upper =
      raw.length > 1 &&
      (allAscii ? firstUp && !restLow : raw === raw.toUpperCase() && raw !== raw.toLowerCase());
    const capLike = firstUp && (!restUp || restLow);
    const norm = allAscii && !quote ? (firstUp || restUp ? raw.toLowerCase() : raw) : fold(raw);
    const initial = raw.length === 1 && firstUp;
    if (!capLike && !initial && !lowerMode && !upper) {
      toks.push({
        raw,
        norm,
        start: s,
        end: e,
        cap: false,
        upper: false,
        initial: false,
        given: false,
        sur: false,
        common: COMMON.has(norm),
        place: false,
        nonAscii: !allAscii,
      });
      continue;
    }
    const common =
      COMMON.has(norm) ||
      (!GIVEN.has(norm) && !SURNAME.has(norm) && norm.length > 5 && ENGLISH_SUFFIX.test(norm));
    const given = GIVEN.has(norm);
    const lexSur = SURNAME.has(norm);
    const morph = norm.length >= 5 && !common && SURNAME_SUFFIX.test(norm);
    toks.push({
      raw,
      norm,
      start: s,
      end: e,
      cap: capLike || (lowerMode && (given || lexSur) && !common),
      upper,
      initial,
      given,
      sur: lexSur || morph,
      common,
      place: PLACE.has(norm),
      nonAscii: !allAscii,
    });
  }
  return toks;
}

/** Text between two tokens that may sit inside one name: a space, or ". " after an initial. */
function joinable(text: string, a: Tok, b: Tok): boolean {
  const gap = text.slice(a.end, b.start);
  if (gap === ' ') return true;
  if (a.initial && (gap === '. ' || gap === '.')) return true;
  return false;
}

function sentenceInitial(text: string, t: Tok): boolean {
  let i = t.start - 1;
  while (
    i >= 0 &&
    (text[i] === ' ' ||
      text[i] === '\t' ||
      text[i] === '"' ||
      text[i] === '“' ||
      text[i] === '(' ||
      text[i] === '>' ||
      text[i] === '?')
  ) {
    if (text[i] === '?') break;
    i--;
  }
  if (i < 0) return true;
  const c = text[i] ?? '';
  return c === '.' || c === '!' || c === '?' || c === '\n' || c === ':' || c === ';';
}

function prevWord(toks: Tok[], i: number, text: string): Tok | undefined {
  const p = toks[i - 1];
  if (!p) return undefined;
  const gap = text.slice(p.end, toks[i]?.start ?? p.end);
  return /^[\s,.:'’"“]*$/.test(gap) && gap.length <= 4 ? p : undefined;
}

export function detectPerson(text: string, out: Detection[]): void {
  const lowerMode = !/\p{Lu}/u.test(text);
  const toks = tokenize(text, lowerMode);
  const n = toks.length;
  const isNameish = (t: Tok): boolean =>
    (t.cap || t.initial) &&
    (!t.place || t.given || SURNAME.has(t.norm)) &&
    (!t.common || t.given || SURNAME.has(t.norm)) &&
    !TITLE.has(t.norm);
  const accepted: { s: number; e: number }[] = []; // token index ranges
  let i = 0;
  while (i < n) {
    const t = toks[i];
    if (!t) break;
    if (!isNameish(t) || t.initial) {
      i++;
      continue;
    }
    // grow a chunk: name-ish tokens joined by single spaces; particles and initials inside
    let j = i;
    while (j + 1 < n && j - i < 4) {
      const a = toks[j];
      const b = toks[j + 1];
      if (!a || !b || !joinable(text, a, b)) break;
      if (isNameish(b)) {
        j++;
        continue;
      }
      const c = toks[j + 2];
      if (PARTICLES.has(b.norm) && !b.cap && c && joinable(text, b, c) && isNameish(c) && !c.initial) {
        j += 2;
        continue;
      }
      break;
    }
    // do not end on an initial
    while (j > i && toks[j]?.initial) j--;
    const chunk = toks.slice(i, j + 1);
    const words = chunk.filter((c) => !c.initial && !PARTICLES.has(c.norm));
    const len = words.length;
    const prev = prevWord(toks, i, text);
    const prev2 = prev ? prevWord(toks, i - 1, text) : undefined;
    const last = toks[j];
    const next = toks[j + 1];
    const afterText = text.slice(last?.end ?? 0, (last?.end ?? 0) + 3);
    const titled = prev !== undefined && TITLE.has(prev.norm) && (prev.cap || prev.upper || lowerMode);
    const strongCue =
      titled ||
      (prev !== undefined &&
        ['named', 'called', 'dear', 'hi', 'hello', 'hey', 'thanks'].includes(prev.norm)) ||
      (prev !== undefined && prev.norm === 'is' && prev2?.norm === 'name') ||
      (prev !== undefined && prev.norm === 'me' && prev2?.norm === 'call') ||
      /name\s*(?:is|:)\s*$|name(?: on the \w+)?\?\s*(?:\w{2,10}:\s*)?$|\bcalls? me\s*$|\b(?:under|partner'?s name|ms\.?|mr\.?|mrs\.?)\s*$/i.test(
        text.slice(Math.max(0, (chunk[0]?.start ?? 0) - 40), chunk[0]?.start ?? 0),
      );
    const mediumCue = prev !== undefined && MEDIUM_CUES.has(prev.norm);
    const nextWord = next && /^ $/.test(text.slice(last?.end ?? 0, next.start)) ? next.norm : '';
    const next2 = toks[j + 2];
    const verbAfter =
      PERSON_VERBS.has(nextWord) ||
      (nextWord === 'is' && next2 !== undefined && ['from', 'very'].includes(next2.norm)) ||
      (nextWord === 'had' && next2 !== undefined && next2.norm === 'given');
    const vocative = /^, (?:can|could|would|will|please|i|we|do|did|are|is|have|you)\b/i.test(
      text.slice(last?.end ?? 0, (last?.end ?? 0) + 10),
    );
    const hasInitial = chunk.some((c) => c.initial) && len >= 2;
    const cueBefore = strongCue || (prev !== undefined && CUE_BEFORE.has(prev.norm));
    const lineStart =
      sentenceInitial(text, chunk[0] ?? t) &&
      /(?:^|\n)[\s>?•*-]*$/.test(text.slice(Math.max(0, (chunk[0]?.start ?? 0) - 8), chunk[0]?.start ?? 0));
    const dialog = lineStart && /^:\s/.test(afterText);
    const possessive = /^['’]s\b/.test(text.slice(last?.end ?? 0, (last?.end ?? 0) + 3));
    const cueAfter =
      dialog ||
      possessive ||
      (next !== undefined &&
        CUE_AFTER.has(next.norm) &&
        /^ $/.test(text.slice(last?.end ?? 0, next.start))) ||
      /^,\s/.test(afterText);
    const lexGiven = words.some((w) => w.given && !w.common);
    const lexSur = words.some((w) => w.sur && !w.common);
    const anyLex =
      words.some((w) => (w.given || SURNAME.has(w.norm)) && !w.common) || (lexGiven && words.length > 1);
    const foreign = words.some((w) => w.nonAscii && !w.common);
    const allCommon = words.every((w) => w.common);
    const wholeLine =
      /(?:^|\n)[\s>?•*-]*$/.test(text.slice(Math.max(0, (chunk[0]?.start ?? 0) - 8), chunk[0]?.start ?? 0)) &&
      /^\s*(?:\n|$)/.test(text.slice(last?.end ?? 0, (last?.end ?? 0) + 4));
    const allUpper = words.every((w) => w.upper);
    let conf = 0;
    if (allUpper && !titled)
      conf = 0; // ALL-CAPS runs are usually places or headings
    else if (allCommon && !strongCue) conf = 0;
    else if (len >= 2) {
      if (lexGiven || (lexSur && anyLex)) conf = 0.72;
      else if (strongCue) conf = 0.7;
      else if (hasInitial) conf = 0.66;
      else if (lexSur || anyLex) conf = cueBefore || cueAfter || wholeLine ? 0.66 : 0.6;
      else if (cueBefore || cueAfter || wholeLine) conf = foreign || cueBefore ? 0.6 : 0.5;
      else if (foreign) conf = 0.5;
    } else if (len === 1) {
      const w = words[0];
      if (w) {
        const init = sentenceInitial(text, w);
        if (strongCue) conf = 0.7;
        else if (w.given && !w.common) conf = init && !(cueAfter || cueBefore) && next?.cap ? 0 : 0.62;
        else if (w.given && w.common) conf = cueBefore || dialog || possessive ? 0.58 : 0;
        else if (w.place && !w.given) conf = 0;
        else if (w.sur && (cueBefore || cueAfter) && !init) conf = 0.56;
        else if (w.sur && (dialog || possessive || cueAfter)) conf = 0.55;
        else if (dialog) conf = 0.55;
        else if (!w.common && (verbAfter || vocative) && init) conf = 0.52;
        else if (!w.common && !init && (mediumCue || verbAfter)) conf = 0.52;
      }
    }
    if (conf > 0) {
      const s = chunk[0]?.start ?? t.start;
      const e = last?.end ?? t.end;
      out.push({ category: 'person', start: s, end: e, label: LABELS.person, confidence: conf });
      accepted.push({ s: i, e: j });
    }
    i = j + 1;
  }
  // lists and pairs: "A, B and C", "X and Y were" — name-ish single tokens linked to a name
  const acc = new Set<number>();
  for (const r of accepted) for (let k = r.s; k <= r.e; k++) acc.add(k);
  const LINK = /^(?:, ?| and | & | or |, and )$/;
  const neighbour = (k: number, dir: 1 | -1): number => {
    const a = toks[k + dir];
    if (!a) return -1;
    if (a.norm === 'and' || a.norm === 'or') {
      const b = toks[k + 2 * dir];
      if (!b) return -1;
      const [l, r] = dir === 1 ? [toks[k], b] : [b, toks[k]];
      return l && r && LINK.test(text.slice(l.end, r.start)) ? k + 2 * dir : -1;
    }
    const [l, r] = dir === 1 ? [toks[k], a] : [a, toks[k]];
    return l && r && LINK.test(text.slice(l.end, r.start)) ? k + dir : -1;
  };
  for (let pass = 0; pass < 3; pass++) {
    for (let k = 0; k < n; k++) {
      const t = toks[k];
      if (!t || acc.has(k) || !isNameish(t) || t.initial || t.upper) continue;
      const l = neighbour(k, -1);
      const r = neighbour(k, 1);
      const ok = (l >= 0 && acc.has(l)) || (r >= 0 && acc.has(r));
      // a pair of lexicon names ("Park and Mann were …")
      const pair =
        r >= 0 &&
        toks[k + 1]?.norm === 'and' &&
        (t.sur || t.given) &&
        (toks[r]?.sur || toks[r]?.given) &&
        isNameish(toks[r] as Tok) &&
        ['were', 'are', 'have', 'had'].includes(toks[r + 1]?.norm ?? '');
      if ((ok && (t.sur || t.given || !t.common)) || pair) {
        out.push({ category: 'person', start: t.start, end: t.end, label: LABELS.person, confidence: 0.55 });
        acc.add(k);
        if (pair && r >= 0 && !acc.has(r)) {
          const u = toks[r];
          if (u)
            out.push({
              category: 'person',
              start: u.start,
              end: u.end,
              label: LABELS.person,
              confidence: 0.55,
            });
          acc.add(r);
        }
      }
    }
  }
  // "my name is borna jerković", "call me višeslav": also lower-case names after explicit cues
  // the cue regex runs only where a cue phrase starts
  const low = text.toLowerCase();
  const starts: number[] = [];
  if (low.length === text.length) {
    for (const cue of NAME_CUES) {
      for (let p = low.indexOf(cue); p >= 0; p = low.indexOf(cue, p + 1)) starts.push(p);
    }
  } else {
    // lower-casing changed the length (e.g. "İ"): find the cues on the text itself
    for (const m of text.matchAll(/my name is|name's|calls? me|named/giu)) starts.push(m.index);
  }
  starts.sort((a, b) => a - b);
  let done = 0;
  for (const p of starts) {
    if (p < done) continue;
    NAME_IS_AT.lastIndex = p;
    const m = NAME_IS_AT.exec(text);
    if (!m) continue;
    done = m.index + m[0].length;
    const w1 = m[1] ?? '';
    const w2 = m[2] ?? '';
    if (COMMON.has(fold(w1))) continue;
    const s0 = m.index + m[0].length - (w2 ? w1.length + 1 + w2.length : w1.length);
    const useTwo = w2 !== '' && !COMMON.has(fold(w2));
    const e0 = s0 + w1.length + (useTwo ? 1 + w2.length : 0);
    out.push({ category: 'person', start: s0, end: e0, label: LABELS.person, confidence: 0.6 });
  }
}
