/** Builds the folded look-up sets from the hand-written lexicon strings (once, at module load). */
import { GIVEN_NAMES } from './given-names';
import { SURNAMES } from './surnames';
import { PLACES } from './places';
import {
  COMMON_WORDS,
  NAME_PARTICLES,
  PERSON_AFTER_CUES,
  PERSON_CUES,
  STREET_PREFIXES,
  STREET_SUFFIXES,
  STREET_TYPES,
  TITLES,
} from './words';

/** Lower-case and strip diacritics (é → e, ø → o, ß → ss, æ → ae, þ → th, ð → d, ł → l). */
const FOLD_CACHE = new Map<string, string>();

export function fold(s: string): string {
  if (/^[a-z]*$/.test(s)) return s;
  const hit = FOLD_CACHE.get(s);
  if (hit !== undefined) return hit;
  const v = foldUncached(s);
  if (FOLD_CACHE.size > 20000) FOLD_CACHE.clear();
  if (s.length <= 40) FOLD_CACHE.set(s, v);
  return v;
}

function foldUncached(s: string): string {
  return s
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/æ/g, 'ae')
    .replace(/ø/g, 'o')
    .replace(/þ/g, 'th')
    .replace(/ð/g, 'd')
    .replace(/ł/g, 'l')
    .replace(/đ/g, 'd')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/['’]/g, '');
}

function set(src: string, minLen = 1): ReadonlySet<string> {
  const out = new Set<string>();
  for (const w of src.split(/\s+/)) if (w.length >= minLen) out.add(fold(w));
  return out;
}

export const PARTICLES = set(NAME_PARTICLES);
export const GIVEN = set(GIVEN_NAMES, 2);
export const SURNAME: ReadonlySet<string> = (() => {
  const s = new Set<string>();
  for (const w of SURNAMES.split(/\s+/)) {
    const f = fold(w);
    if (f.length >= 2 && !PARTICLES.has(f)) s.add(f);
  }
  return s;
})();
export const COMMON = set(`${COMMON_WORDS} ${PERSON_CUES}`);
export const PLACE = set(PLACES, 3);
export const TITLE = set(TITLES);
export const CUE_BEFORE = set(PERSON_CUES);
export const CUE_AFTER = set(PERSON_AFTER_CUES);
export const STREET_TYPE = set(STREET_TYPES);
export const STREET_PREFIX = set(STREET_PREFIXES.replace(/\./g, ''));
export const STREET_SUFFIX: readonly string[] = [...set(STREET_SUFFIXES)].filter((s) => s.length >= 3);
