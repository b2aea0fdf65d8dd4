/**
 * Context-anchored identifiers: date of birth, passport, driver licence and national ID numbers. A keyword
 * must precede the value closely; only the value is reported.
 */
import type { Detection, PiiCategory } from './types';
import { LABELS } from './types';
import { eachMatch } from './util';

const MONTH =
  '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\\.?';
const DATE_SRC =
  `(?:\\d{4}[-/.]\\d{1,2}[-/.]\\d{1,2}` +
  `|\\d{1,2}[-/.]\\d{1,2}[-/.](?:\\d{4}|\\d{2})` +
  `|${MONTH}\\s\\d{1,2}(?:st|nd|rd|th)?,?\\s\\d{4}` +
  `|\\d{1,2}(?:st|nd|rd|th)?\\s(?:of\\s)?${MONTH},?\\s\\d{4})(?![\\w])`;
const DATE_AT = new RegExp(DATE_SRC, 'iy');

const DOB_KEY =
  /\b(?:born(?:\s+on)?|d\.?o\.?b\.?|date\s+of\s+birth|birth\s*date|birthdate|birthday|fecha\s+de\s+nacimiento|geburtsdatum|date\s+de\s+naissance)(?:\s+(?:is|was|:))?[\s:,\-–=]{0,4}(?:on\s+|is\s+|the\s+)?/gi;

function pushDateAfter(text: string, pos: number, cat: PiiCategory, out: Detection[]): void {
  DATE_AT.lastIndex = pos;
  const m = DATE_AT.exec(text);
  if (!m) return;
  out.push({
    category: cat,
    start: pos,
    end: pos + m[0].length,
    label: LABELS.date_of_birth,
    confidence: 0.9,
  });
}

export function detectDob(text: string, out: Detection[]): void {
  eachMatch(DOB_KEY, text, (m) => pushDateAfter(text, m.index + m[0].length, 'date_of_birth', out));
}

const ID_TAIL = '(?:\\s+(?:no\\.?|nr\\.?|num(?:ber)?|#|id|code))?(?:\\s+(?:is|was))?[\\s:#.=\\-]{0,4}';
const ID_VALUE = /[A-Za-z0-9](?:[A-Za-z0-9]|[- ](?=[A-Za-z0-9])){3,23}/y;

const KEYS: { cat: 'passport' | 'driver_license' | 'national_id'; re: RegExp }[] = [
  { cat: 'passport', re: new RegExp(`\\b(?:passport|passeport|reisepass|pasaporte)${ID_TAIL}`, 'gi') },
  {
    cat: 'driver_license',
    re: new RegExp(
      `\\b(?:driver'?s?|drivers'|driving|driver\\s+licen[cs]e|operator'?s?)\\s+(?:licen[cs]e|permit)${ID_TAIL}|\\bDL${ID_TAIL}|\\bDLN${ID_TAIL}`,
      'gi',
    ),
  },
  {
    cat: 'national_id',
    re: new RegExp(
      `\\b(?:national\\s+(?:id(?:entity)?|identification|insurance)(?:\\s+card)?|identity\\s+card|id\\s+card|citizen\\s+id|personal\\s+id(?:entification)?|tax\\s+id|taxpayer\\s+id|nino|nin|nhs|aadhaa?r|pesel|personnummer|henkil[öo]tunnus|bsn|codice\\s+fiscale|dni|nie|cpf|curp|rfc|tfn|sin|social\\s+insurance|steuer-?id|cnp|jmbg|ppsn?|nric|fin|hkid|mykad|emirates\\s+id|tckn|tc\\s+kimlik)${ID_TAIL}`,
      'gi',
    ),
  },
];

function idValueOk(v: string): boolean {
  const digits = v.replace(/\D/g, '').length;
  if (digits < 4) return false;
  if (v.replace(/[- ]/g, '').length < 5) return false;
  return true;
}

export function detectIdNumbers(text: string, out: Detection[], cats: ReadonlySet<PiiCategory>): void {
  for (const { cat, re } of KEYS) {
    if (!cats.has(cat)) continue;
    eachMatch(re, text, (m) => {
      const word = /^[\p{L}]+/u.exec(m[0])?.[0] ?? '';
      if (word.length <= 4 && word !== word.toUpperCase() && cat === 'national_id') return;
      const pos = m.index + m[0].length;
      ID_VALUE.lastIndex = pos;
      const v = ID_VALUE.exec(text);
      if (!v) return;
      let val = v[0];
      // do not swallow a following plain word ("123456 and ...")
      const parts = val.split(' ');
      let keep = 1;
      while (keep < parts.length && /\d/.test(parts[keep] ?? '')) keep++;
      val = parts.slice(0, keep).join(' ');
      if (/[A-Za-z]/.test(text[pos + val.length] ?? '')) return;
      if (!idValueOk(val)) return;
      out.push({ category: cat, start: pos, end: pos + val.length, label: LABELS[cat], confidence: 0.88 });
    });
  }
  if (cats.has('national_id')) {
    // UK National Insurance number: two letters, six digits, suffix A-D (with optional spaces)
    eachMatch(
      /(?<![\w])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![\w])/g,
      text,
      (m) => {
        out.push({
          category: 'national_id',
          start: m.index,
          end: m.index + m[0].length,
          label: LABELS.national_id,
          confidence: 0.8,
        });
      },
    );
  }
}
