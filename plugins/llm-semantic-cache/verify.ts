/**
 * Second-stage verification of a semantic-cache candidate: the ANN search says "these prompts look alike",
 * this says "and nothing that changes the answer differs". Cheap, deterministic, no model:
 *   - length:   word-count ratio within `lengthRatio`,
 *   - quoted:   quoted strings / code spans must be the same set,
 *   - numbers:  numbers (digits, written numbers, ordinals, units, months/weekdays) must agree,
 *   - negation: negation parity (not, no, never, without, n't, …) and polar opposites (enable/disable, …),
 *   - entities: names, acronyms, code identifiers (camelCase, snake_case, dotted, paths) must agree,
 *   - order:    (optional) when both texts use nearly the same content words, they must be in the same order
 *               up to one rotation ("you can X by Y" = "by Y, you can X"); catches role swaps such as
 *               "A is a tributary of B" vs "B is a tributary of A", which no bag-of-words embedding sees.
 *   - focus:    (optional) what is asked about must be the same: the content words (stemmed) that only one
 *               text has may be at most `focusBudget` of the larger text's content words, rounded down, and
 *               questions must ask the same kind of thing (why / when / where / who / how many / yes-no /
 *               what-how). Catches "reset my password" vs "delete my account" on the same settings page and
 *               "why do I get depressed" vs "… in the evening", which share a topic and embed close together.
 * Never logs or returns any text.
 */
import stem from 'wink-porter2-stemmer';
import { loadWordVectors, type WordVectors } from '../../lib/embeddings/wordvectors';

export type VerifyFailure = 'numbers' | 'negation' | 'entities' | 'quoted' | 'length' | 'order' | 'focus';

export interface VerifyOptions {
  numbers: boolean;
  negation: boolean;
  entities: boolean;
  quoted: boolean;
  /** Max ratio of word counts (longer / shorter), e.g. 2.5; 0 or Infinity disables. */
  lengthRatio: number;
  /** Role-swap check (see module doc). Default true when omitted. */
  order?: boolean;
  /** Content-word overlap at and above which the order check applies (default 0.8). */
  orderOverlap?: number;
  /** Same-question check (see module doc). Default true when omitted. */
  focus?: boolean;
  /**
   * Content words that may differ per text: `focusBudget × (n − focusFreeWords)`, rounded down, n = the larger
   * content-word count. Short requests must name the same things; long ones may reword a few.
   */
  focusBudget?: number;
  focusFreeWords?: number;
}

export interface VerifyResult {
  ok: boolean;
  failed?: VerifyFailure;
}

/** Content-word overlap (share of the larger set) at and above which the order check applies. */
export const ORDER_OVERLAP = 0.8;
/** Defaults of the focus check (see `focusBudget`): tuned on duplicate-question and paraphrase pairs. */
export const FOCUS_BUDGET = 1;
export const FOCUS_FREE_WORDS = 4;

export const DEFAULT_VERIFY: Required<VerifyOptions> = {
  numbers: true,
  negation: true,
  entities: true,
  quoted: true,
  lengthRatio: 2.5,
  order: true,
  orderOverlap: ORDER_OVERLAP,
  focus: true,
  focusBudget: FOCUS_BUDGET,
  focusFreeWords: FOCUS_FREE_WORDS,
};

// ---------------------------------------------------------------------------------------------- tokens

interface Tok {
  /** Original text. */
  raw: string;
  /** Lower case. */
  low: string;
  /** True when it is the first word of a sentence/line/list item. */
  start: boolean;
}

const WORD_RE = /[\p{L}\p{N}_$@#]+(?:(?:['’]|[./\\:-]+)[\p{L}\p{N}_$@#]+)*|[.!?;:\n]|[([{"“”«»`]/gu;

function words(text: string): Tok[] {
  const out: Tok[] = [];
  let start = true;
  for (const m of text.normalize('NFKC').matchAll(WORD_RE)) {
    const raw = m[0];
    if (/^[.!?;:\n]$/.test(raw)) {
      start = true;
      continue;
    }
    if (/^[([{"“”«»`]$/.test(raw)) continue; // an opening bracket/quote keeps the sentence-start state
    const clean = raw.replace(/’/g, "'");
    out.push({ raw: clean, low: clean.toLowerCase(), start });
    start = false;
  }
  return out;
}

const STOP = new Set(
  (
    'a an the of to in on at for from by with and or but is are was were be been being it its this that these ' +
    'those as into than then there their they he she his her we you i my our your me him them us do does did ' +
    'has have had can could will would should may might must so if about also only just very such which who ' +
    'whom what when where why how all any some more most other each both few many much own same too again ' +
    'further once here over under up down out off above below between through during before after while ' +
    'until because nor not no never'
  ).split(' '),
);

// --------------------------------------------------------------------------------------------- numbers

const SMALL: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
  dozen: 12,
  half: 0.5,
  twice: 2,
  double: 2,
  triple: 3,
};
const SCALE: Record<string, number> = {
  hundred: 100,
  thousand: 1e3,
  million: 1e6,
  billion: 1e9,
  trillion: 1e12,
  k: 1e3,
};
const ORDINAL: Record<string, number> = {
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  fifth: 5,
  sixth: 6,
  seventh: 7,
  eighth: 8,
  ninth: 9,
  tenth: 10,
};
/** Number words that are also everyday words: compared only when the other side has numbers too. */
const WEAK = new Set(['one', 'first', 'second', 'half', 'double', 'k']);
const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const MONTH_ABBR = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const UNITS: Record<string, string> = {
  '%': '%',
  percent: '%',
  pct: '%',
  ms: 'ms',
  millisecond: 'ms',
  milliseconds: 'ms',
  s: 's',
  sec: 's',
  secs: 's',
  second: 's',
  seconds: 's',
  min: 'min',
  mins: 'min',
  minute: 'min',
  minutes: 'min',
  h: 'h',
  hr: 'h',
  hrs: 'h',
  hour: 'h',
  hours: 'h',
  day: 'd',
  days: 'd',
  week: 'wk',
  weeks: 'wk',
  month: 'mo',
  months: 'mo',
  year: 'y',
  years: 'y',
  mm: 'mm',
  cm: 'cm',
  m: 'm',
  meter: 'm',
  meters: 'm',
  metre: 'm',
  metres: 'm',
  km: 'km',
  kilometers: 'km',
  mi: 'mi',
  mile: 'mi',
  miles: 'mi',
  ft: 'ft',
  feet: 'ft',
  foot: 'ft',
  inch: 'in',
  inches: 'in',
  g: 'g',
  gram: 'g',
  grams: 'g',
  kg: 'kg',
  kilo: 'kg',
  kilos: 'kg',
  kilograms: 'kg',
  lb: 'lb',
  lbs: 'lb',
  pound: 'lb',
  pounds: 'lb',
  oz: 'oz',
  l: 'l',
  liter: 'l',
  liters: 'l',
  litre: 'l',
  litres: 'l',
  ml: 'ml',
  b: 'B',
  byte: 'B',
  bytes: 'B',
  kb: 'KB',
  mb: 'MB',
  gb: 'GB',
  tb: 'TB',
  kib: 'KiB',
  mib: 'MiB',
  gib: 'GiB',
  usd: '$',
  dollar: '$',
  dollars: '$',
  $: '$',
  eur: '€',
  euro: '€',
  euros: '€',
  '€': '€',
  gbp: '£',
  '£': '£',
  c: '°C',
  celsius: '°C',
  f: '°F',
  fahrenheit: '°F',
  degrees: '°',
  degree: '°',
  x: 'x',
  times: 'x',
  px: 'px',
  k: 'k',
};

interface NumInfo {
  /** value → units seen with it. */
  values: Map<string, Set<string>>;
  weak: Set<string>;
}

function canonNumber(s: string): string {
  let t = s.replace(/_/g, '');
  if (/^\d{1,3}(,\d{3})+(\.\d+)?$/.test(t)) t = t.replace(/,/g, '');
  if (/^\d+(\.\d+)?$/.test(t)) return String(Number(t));
  return t; // versions, dates like 2024-01-02, 1,5 …
}

function numbers(text: string): NumInfo {
  const values = new Map<string, Set<string>>();
  const weak = new Set<string>();
  const add = (v: string, unit: string | undefined, isWeak = false): void => {
    let s = values.get(v);
    if (!s) values.set(v, (s = new Set()));
    if (unit) s.add(unit);
    if (isWeak) weak.add(v);
    else weak.delete(v);
  };
  // Currency symbols before digits, % and units glued to digits.
  const norm = text
    .normalize('NFKC')
    .replace(/([$€£])\s?(\d)/g, '$2 $1 ')
    .replace(/(\d)(%|[a-zA-Z]{1,3}\b)/g, '$1 $2');
  const toks = words(norm.replace(/%/g, ' percent '));
  const strongSeen = (v: string): boolean => values.has(v) && !weak.has(v);
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const next = toks[i + 1]?.low;
    const unit = next !== undefined ? UNITS[next] : undefined;
    if (/^v\d+(\.\d+)+$/.test(t.low)) {
      add(canonNumber(t.low.slice(1)), undefined);
      continue;
    }
    if (/^\d/.test(t.low)) {
      const ord = /^(\d+)(st|nd|rd|th)$/.exec(t.low);
      const scale = next !== undefined ? SCALE[next] : undefined;
      if (scale !== undefined && /^\d+(\.\d+)?$/.test(t.low)) {
        // "3 million", "5k", "2.5 billion"
        add(String(Number(t.low) * scale), UNITS[toks[i + 2]?.low ?? '']);
        i++;
        continue;
      }
      add(ord ? ord[1]! : canonNumber(t.low), unit);
      continue;
    }
    // "thousands", "millions": an order of magnitude, not a number.
    if (/^(hundreds|thousands|millions|billions|dozens)$/.test(t.low)) {
      add(t.low.slice(0, -1), undefined, true);
      continue;
    }
    // Written numbers: "twenty five", "two hundred", "3 million" (digits handled above, scale after digits below).
    if (SMALL[t.low] !== undefined || (SCALE[t.low] !== undefined && t.low !== 'k')) {
      let total = 0;
      let cur = 0;
      let j = i;
      let isWeak = true;
      let parts = 0;
      let isWeakScale = false;
      for (; j < toks.length; j++) {
        const w = toks[j]!.low.split('-');
        let consumed = false;
        for (const p of w) {
          if (SMALL[p] !== undefined) {
            cur += SMALL[p]!;
            consumed = true;
          } else if (SCALE[p] !== undefined && p !== 'k') {
            if (parts === 0) isWeakScale = true;
            cur = (cur || 1) * SCALE[p]!;
            if (SCALE[p]! >= 1000) {
              total += cur;
              cur = 0;
            }
            consumed = true;
          } else {
            consumed = false;
            break;
          }
          parts++;
          if (!WEAK.has(p) && !(isWeakScale && parts === 1)) isWeak = false;
        }
        if (!consumed) break;
        if (toks[j + 1]?.low === 'and' && SMALL[toks[j + 2]?.low ?? ''] !== undefined) j++;
      }
      const u = UNITS[toks[j]?.low ?? ''];
      // "a thousand"/"several thousand" (a bare scale word) is as vague as "thousands".
      add(
        isWeakScale && parts === 1 ? t.low : String(total + cur),
        u,
        (isWeak && parts === 1) || (isWeakScale && parts === 1),
      );
      i = j - 1;
      continue;
    }
    if (ORDINAL[t.low] !== undefined) {
      add(String(ORDINAL[t.low]!), undefined, WEAK.has(t.low) && !strongSeen(String(ORDINAL[t.low]!)));
      continue;
    }
    const mi = MONTHS.indexOf(t.low) >= 0 ? MONTHS.indexOf(t.low) : MONTH_ABBR.indexOf(t.low);
    if (mi >= 0) {
      // "may" is a month only when capitalised mid-sentence or next to a digit.
      const nearDigit = /^\d/.test(toks[i - 1]?.low ?? '') || /^\d/.test(next ?? '');
      const isMonth =
        t.low === 'may' || MONTH_ABBR.includes(t.low)
          ? nearDigit || (/^[A-Z]/.test(t.raw) && !t.start)
          : true;
      if (isMonth && (t.low.length > 3 || nearDigit || t.low === 'may')) add(`month:${mi + 1}`, undefined);
      continue;
    }
    const di = DAYS.indexOf(t.low);
    if (di >= 0) add(`day:${di + 1}`, undefined);
  }
  return { values, weak };
}

function numbersAgree(a: NumInfo, b: NumInfo): boolean {
  const strongA = [...a.values.keys()].filter((v) => !a.weak.has(v));
  const strongB = [...b.values.keys()].filter((v) => !b.weak.has(v));
  const useWeak = strongA.length > 0 && strongB.length > 0;
  const setA = new Set(useWeak ? a.values.keys() : strongA);
  const setB = new Set(useWeak ? b.values.keys() : strongB);
  if (setA.size !== setB.size) return false;
  for (const v of setA) {
    if (!setB.has(v)) return false;
    const ua = a.values.get(v);
    const ub = b.values.get(v);
    if (ua && ub && ua.size > 0 && ub.size > 0 && ![...ua].some((u) => ub.has(u))) return false;
  }
  return true;
}

// -------------------------------------------------------------------------------------------- negation

const NEGATORS = new Set([
  'not',
  'no',
  'never',
  'none',
  'nobody',
  'nothing',
  'nowhere',
  'neither',
  'nor',
  'without',
  'cannot',
  'cant',
  'dont',
  'doesnt',
  'didnt',
  'isnt',
  'arent',
  'wasnt',
  'werent',
  'wont',
  'shouldnt',
  'couldnt',
  'wouldnt',
  'hasnt',
  'havent',
  'hadnt',
  'lack',
  'lacks',
  'lacking',
  'unable',
  'fail',
  'fails',
  'failed',
]);

/** Polar opposites: one text using only one side and the other only the other side = different question. */
const OPPOSITES: [string[], string[]][] = [
  [
    ['enable', 'enabled', 'enables', 'enabling', 'activate', 'activated', 'activating', 'turn on'],
    ['disable', 'disabled', 'disables', 'disabling', 'deactivate', 'deactivated', 'deactivating', 'turn off'],
  ],
  [
    ['allow', 'allowed', 'allows', 'allowing', 'permit', 'permitted', 'whitelist', 'allowlist'],
    [
      'deny',
      'denied',
      'denies',
      'denying',
      'block',
      'blocked',
      'blocks',
      'forbid',
      'forbidden',
      'disallow',
      'disallowed',
      'blacklist',
      'denylist',
      'blocklist',
    ],
  ],
  [
    ['include', 'included', 'includes', 'including'],
    ['exclude', 'excluded', 'excludes', 'excluding'],
  ],
  [
    ['increase', 'increased', 'increases', 'increasing', 'raise', 'raised'],
    ['decrease', 'decreased', 'decreases', 'decreasing', 'reduce', 'reduced', 'reduces', 'lower', 'lowered'],
  ],
  [
    ['add', 'added', 'adds', 'adding', 'insert', 'inserted'],
    ['remove', 'removed', 'removes', 'removing', 'delete', 'deleted', 'deletes', 'deleting'],
  ],
  [
    ['install', 'installed', 'installing'],
    ['uninstall', 'uninstalled', 'uninstalling'],
  ],
  [
    ['encrypt', 'encrypted', 'encryption', 'encode', 'encoded', 'encoding'],
    ['decrypt', 'decrypted', 'decryption', 'decode', 'decoded', 'decoding'],
  ],
  [
    ['upload', 'uploaded', 'uploading'],
    ['download', 'downloaded', 'downloading'],
  ],
  [
    ['import', 'imported', 'importing'],
    ['export', 'exported', 'exporting'],
  ],
  [
    ['lock', 'locked', 'locking'],
    ['unlock', 'unlocked', 'unlocking'],
  ],
  [
    ['start', 'started', 'starting', 'begin'],
    ['stop', 'stopped', 'stopping', 'end'],
  ],
  [
    ['open', 'opened', 'opening'],
    ['close', 'closed', 'closing'],
  ],
  [
    ['buy', 'bought', 'buying', 'purchase'],
    ['sell', 'sold', 'selling'],
  ],
  [['true'], ['false']],
  [['before'], ['after']],
  [
    ['min', 'minimum', 'smallest', 'lowest', 'least'],
    ['max', 'maximum', 'largest', 'highest', 'most'],
  ],
  [
    ['best', 'better'],
    ['worst', 'worse'],
  ],
  [
    ['advantages', 'advantage', 'pros', 'benefits'],
    ['disadvantages', 'disadvantage', 'cons', 'drawbacks'],
  ],
  [
    ['safe', 'safer', 'safely'],
    ['unsafe', 'dangerous', 'harmful'],
  ],
  [['legal'], ['illegal']],
  [['possible'], ['impossible']],
  [['valid'], ['invalid']],
  [
    ['success', 'successful', 'succeed'],
    ['failure', 'unsuccessful'],
  ],
  [['push'], ['pull']],
  [
    ['input', 'inputs'],
    ['output', 'outputs'],
  ],
  [
    ['client', 'clients'],
    ['server', 'servers'],
  ],
  [
    ['sync', 'synchronous', 'synchronously'],
    ['async', 'asynchronous', 'asynchronously'],
  ],
  [
    ['upper', 'uppercase'],
    ['lower', 'lowercase'],
  ],
  [['ascending'], ['descending']],
  [
    ['male', 'men', 'man'],
    ['female', 'women', 'woman'],
  ],
  [['cheap', 'cheaper', 'cheapest'], ['expensive']],
  [
    ['fast', 'faster', 'fastest'],
    ['slow', 'slower', 'slowest'],
  ],
  [
    ['hot', 'warm'],
    ['cold', 'cool'],
  ],
];

function negationCount(text: string): number {
  // "No, …" / "Yes, …" answer particles carry no polarity of the statement itself.
  const cleaned = text
    .replace(/(^|[.!?\n]\s*)(no|yes|nope)\s*[,.!:;]/gi, '$1 ')
    .replace(/\bnot only\b/gi, ' ') // "not only … but also" is not a negation
    .replace(/\bno longer\b/gi, ' not ')
    .replace(/\bin the absence of\b/gi, ' without ');
  let n = 0;
  for (const t of words(cleaned)) {
    if (NEGATORS.has(t.low) || t.low.endsWith("n't") || /^non-\p{L}/u.test(t.low)) n++;
  }
  return n;
}

function hasPhrase(lowText: string, toks: Set<string>, w: string): boolean {
  return w.includes(' ') ? new RegExp(`\\b${w}\\b`).test(lowText) : toks.has(w);
}

function polarityAgrees(a: Tok[], b: Tok[], aText: string, bText: string): boolean {
  if (negationCount(aText) % 2 !== negationCount(bText) % 2) return false;
  const sa = new Set(a.map((t) => t.low));
  const sb = new Set(b.map((t) => t.low));
  const la = aText.toLowerCase();
  const lb = bText.toLowerCase();
  for (const [pos, neg] of OPPOSITES) {
    const aPos = pos.some((w) => hasPhrase(la, sa, w));
    const aNeg = neg.some((w) => hasPhrase(la, sa, w));
    const bPos = pos.some((w) => hasPhrase(lb, sb, w));
    const bNeg = neg.some((w) => hasPhrase(lb, sb, w));
    if ((aPos && !aNeg && bNeg && !bPos) || (aNeg && !aPos && bPos && !bNeg)) return false;
  }
  return true;
}

// -------------------------------------------------------------------------------------------- entities

const NOT_ENTITY = new Set(['i', "i'm", "i've", "i'd", "i'll", 'ok', 'okay']);

function isEntity(t: Tok): boolean {
  const r = t.raw;
  if (NOT_ENTITY.has(t.low)) return false;
  if (/^v?\d+([.,]\d+)*$/i.test(r)) return false; // plain numbers and versions: the numbers check
  if (/[_/\\]/.test(r) && /[\p{L}]/u.test(r)) return true; // snake_case, paths
  if (/[\p{L}\p{N}]\.[\p{L}]/u.test(r)) return true; // dotted identifiers, file names, domains
  if (/\p{Ll}\p{Lu}/u.test(r)) return true; // camelCase, PyTorch, iPhone
  if (/\p{L}/u.test(r) && /\p{N}/u.test(r)) return true; // gpt4, S3, v2, 3D
  if (/^\p{Lu}{2,}$/u.test(r.replace(/[-']/g, ''))) return true; // acronyms
  if (/^\p{Lu}/u.test(r) && !t.start) return true; // Capitalised mid-sentence
  return false;
}

function entityForms(toks: Tok[]): Set<string> {
  const out = new Set<string>();
  for (const t of toks) if (isEntity(t)) out.add(t.low.replace(/['’]s$/, ''));
  return out;
}

/** Each entity of one text must occur (as a word sequence, any case) in the other. */
function entitiesAgree(a: Tok[], b: Tok[]): boolean {
  const flat = (toks: Tok[]): string => ` ${toks.map((t) => t.low.replace(/['’]s$/, '')).join(' ')} `;
  const fa = flat(a);
  const fb = flat(b);
  const loose = (s: string): string => s.replace(/[-_./\\:]+/g, ' ').replace(/\s+/g, ' ');
  const la = loose(fa);
  const lb = loose(fb);
  for (const e of entityForms(a))
    if (!fb.includes(` ${e} `) && !lb.includes(` ${loose(e).trim()} `)) return false;
  for (const e of entityForms(b))
    if (!fa.includes(` ${e} `) && !la.includes(` ${loose(e).trim()} `)) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------- quoted

const QUOTE_RES = [
  /```[\s\S]*?```/g,
  /`([^`\n]+)`/g,
  /``\s*([^`'\n]+?)\s*''/g,
  /"([^"\n]{1,300})"/g,
  /“([^”\n]{1,300})”/g,
  /«([^»\n]{1,300})»/g,
  /(?:^|[\s([])'([^'\n]{1,300})'(?=[\s.,;:!?)\]]|$)/g,
];

function quoted(text: string): Set<string> {
  const out = new Set<string>();
  let rest = text.normalize('NFKC');
  for (const re of QUOTE_RES) {
    rest = rest.replace(re, (m: string, g1?: string) => {
      const body = (typeof g1 === 'string' ? g1 : m.replace(/^```\w*|```$/g, '')).replace(/\s+/g, ' ').trim();
      if (body) out.add(body);
      return ' ';
    });
  }
  return out;
}

function setsEqual(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

// ----------------------------------------------------------------------------------------------- order

/** Number of contiguous blocks the shared content words of `a` form in `b` (1 = same order, 2 = one rotation). */
function orderBlocks(a: string[], b: string[]): number {
  const sa = new Set(a);
  const sb = new Set(b);
  const fa = a.filter((t) => sb.has(t));
  const fb = b.filter((t) => sa.has(t));
  const used = new Array<boolean>(fb.length).fill(false);
  let prev = -2;
  let blocks = 0;
  for (const t of fa) {
    let p = -1;
    if (prev + 1 < fb.length && !used[prev + 1] && fb[prev + 1] === t) p = prev + 1;
    else {
      for (let j = 0; j < fb.length; j++) {
        if (!used[j] && fb[j] === t) {
          p = j;
          break;
        }
      }
    }
    if (p < 0) continue;
    used[p] = true;
    if (p !== prev + 1) blocks++;
    prev = p;
  }
  return blocks;
}

const MONTH_RE = `(${MONTHS.join('|')}|${MONTH_ABBR.join('|')})`;
const DATE_DM = new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+(?:of\\s+)?${MONTH_RE}\\b`, 'gi');
const DATE_MD = new RegExp(`\\b${MONTH_RE}\\s+(\\d{1,2})(?:st|nd|rd|th)?\\b`, 'gi');

function orderWords(text: string): string[] {
  let rest = text.normalize('NFKC');
  for (const re of QUOTE_RES) rest = rest.replace(re, ' ');
  // "1 August" = "August 1": one token, so date formats do not count as reordering.
  rest = rest
    .replace(DATE_DM, (_m, d: string, mo: string) => ` date${d}${mo.slice(0, 3).toLowerCase()} `)
    .replace(DATE_MD, (_m, mo: string, d: string) => ` date${d}${mo.slice(0, 3).toLowerCase()} `);
  const seen = new Map<string, number>();
  const out: string[] = [];
  for (const t of words(rest)) {
    if (STOP.has(t.low)) continue;
    // Repeated words are told apart by occurrence: "santa#1", "santa#2".
    const k = (seen.get(t.low) ?? 0) + 1;
    seen.set(t.low, k);
    out.push(k === 1 ? t.low : `${t.low}#${k}`);
  }
  return out;
}

/** Shared content words (share of the larger set) and how many blocks they form (diagnostics, tests). */
export function orderStats(
  aText: string,
  bText: string,
): { shared: number; overlap: number; blocks: number } {
  const ca = orderWords(aText);
  const cb = orderWords(bText);
  const sa = new Set(ca);
  const sb = new Set(cb);
  let shared = 0;
  for (const w of sa) if (sb.has(w)) shared++;
  return { shared, overlap: shared / Math.max(1, sa.size, sb.size), blocks: orderBlocks(ca, cb) };
}

function orderAgrees(aText: string, bText: string, overlap: number): boolean {
  const st = orderStats(aText, bText);
  if (st.shared < 3) return true;
  // Nearly the same words: at most one rotation. Largely the same words: at most one more moved block.
  if (st.overlap >= overlap) return st.blocks <= 2;
  if (st.overlap >= overlap - 0.1) return st.blocks <= 3;
  return true;
}

// ----------------------------------------------------------------------------------------------- focus

/** Words that frame a request rather than name what it is about ("how can I", "please tell me", "best way"). */
const FRAME = new Set(
  (
    "what's whats who's where's how's there's it's i'm im let's please tell know show explain give " +
    'get gets getting got one ones thing things way ways someone something anyone anything somebody ' +
    'really actually ever even still also best good better great kind sort type yes version like ' +
    'among within across along around behind beyond per via upon onto toward towards against near inside ' +
    'outside despite throughout file function command library package module'
  ).split(' '),
);

/**
 * Generic predicates and nouns that rewordings swap freely ("provides" / "offers", "use" / "utilize"): one class
 * each, so that a reworded request keeps its focus words. Only words that do not change what is asked; verbs
 * that name an action on something (reset, delete, install, cancel…) are deliberately absent.
 */
const GENERIC_CLASSES: string[] = [
  'use uses used using utilize utilizes utilized utilizing utilise utilises utilization employ employs employed employing usage',
  'provide provides provided providing offer offers offered offering furnish furnishes furnished supply supplies give gives giving',
  'allow allows allowed allowing enable enables enabled enabling let lets permit permits facilitate facilitates facilitated',
  'create creates created creating generate generates generated generating make makes made making build builds built building construct constructs constructed produce produces produced',
  'include includes included including contain contains contained containing comprise comprises incorporate incorporates incorporated',
  'need needs needed require requires required requiring necessary',
  'specify specifies specified define defines defined indicate indicates indicated state states',
  'information info data details detail',
  'find finds found locate locates located discover discovers',
  'obtain obtains obtained retrieve retrieves retrieved acquire acquires acquired fetch fetches fetched',
  'start starts started begin begins began initiate initiates launch launches launched',
  'quick quickly fast faster rapid rapidly swift swiftly speedy',
  'method methods approach approaches technique techniques means manner',
  'purpose purposes goal goals objective objectives aim aims',
  'example examples instance instances sample samples',
  'various several multiple numerous different many',
  'guide guides guidance instruction instructions directions tutorial',
  'help helps helped assist assists assisted support supports supported',
  'run runs running execute executes executed executing',
  'able capable possible',
  'exist exists existed available present',
  'store stores stored save saves saved keep keeps kept',
  'change changes changed modify modifies modified alter alters altered edit edits edited update updates updated',
  'feature features capability capabilities functionality',
  'simple simply easy easily straightforward',
];
const GENERIC = new Map<string, string>();
for (const line of GENERIC_CLASSES) {
  const ws = line.split(' ');
  for (const w of ws) GENERIC.set(stem(w), `=${ws[0]!}`);
}

/** Porter2 stems, memoised (bounded): the stemmer is the costly part of the focus check. */
const stemMemo = new Map<string, string>();
function stemOf(w: string): string {
  let s = stemMemo.get(w);
  if (s === undefined) {
    if (stemMemo.size >= 20_000) stemMemo.clear();
    s = stem(w);
    stemMemo.set(w, s);
  }
  return s;
}

/** "you've", "i'd", "we'll", "they're": a pronoun and an auxiliary, no content. */
const PRONOUN_CONTRACTION = /^(?:i|you|we|they|he|she|it|that|there|who|what)'(?:ve|d|ll|re|m|s)$/;

const isNumberWord = (w: string): boolean =>
  /^v?\d/.test(w) || SMALL[w] !== undefined || SCALE[w] !== undefined || ORDINAL[w] !== undefined;

/**
 * Stemmed content words → one surface form (for word vectors). No stop, framing or negation words, no numbers
 * (the numbers check owns them); generic predicates folded to one class.
 */
function focusWords(toks: Tok[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of toks) {
    const low = t.low.replace(/'s$/, '');
    // "memory-safe" = "memory safe"; identifiers with digits or other marks stay whole.
    for (const w of /^\p{Ll}+(?:-\p{Ll}+)+$/u.test(low) ? low.split('-') : [low]) {
      if (w.length === 0 || STOP.has(w) || FRAME.has(w) || NEGATORS.has(w) || w.endsWith("n't")) continue;
      if (PRONOUN_CONTRACTION.test(w)) continue;
      if (isNumberWord(w)) continue;
      const s = /^\p{Ll}+$/u.test(w) ? stemOf(w) : w;
      const key = GENERIC.get(s) ?? s;
      if (!out.has(key)) out.set(key, w);
    }
  }
  return out;
}

/** Content words per text, memoised (bounded): a query is verified against up to k candidates, and popular
 * cached prompts recur across queries. */
const focusMemo = new Map<string, Map<string, string>>();
const FOCUS_MEMO_MAX = 256;

function focusWordsOf(text: string, toks: Tok[]): Map<string, string> {
  let f = focusMemo.get(text);
  if (!f) {
    if (focusMemo.size >= FOCUS_MEMO_MAX) focusMemo.clear();
    f = focusWords(toks);
    focusMemo.set(text, f);
  }
  return f;
}

/** Unit word vectors, memoised (bounded: cleared when full) so the hot path does not rebuild them. */
// 5,000 words x 100 float32 = 2 MB at most.
const unitMemo = new Map<string, Float32Array | null>();
const UNIT_MEMO_MAX = 5_000;

function unitVector(wv: WordVectors, w: string): Float32Array | null {
  const hit = unitMemo.get(w);
  if (hit !== undefined) return hit;
  const r = wv.rank(w);
  let v: Float32Array | null = null;
  if (r !== undefined) {
    const acc = new Float64Array(wv.dims);
    wv.addScaled(r, 1, acc);
    let n = 0;
    for (let i = 0; i < acc.length; i++) n += acc[i]! * acc[i]!;
    n = Math.sqrt(n);
    if (n > 0) v = Float32Array.from(acc, (x) => x / n);
  }
  if (unitMemo.size >= UNIT_MEMO_MAX) unitMemo.clear();
  unitMemo.set(w, v);
  return v;
}

/** Word-vector cosine of two surface words (0 when either is unknown). */
function wordCos(wv: WordVectors, a: string, b: string): number {
  const va = unitVector(wv, a);
  const vb = unitVector(wv, b);
  if (!va || !vb) return 0;
  let ab = 0;
  for (let i = 0; i < va.length; i++) ab += va[i]! * vb[i]!;
  return ab;
}

/** Cosine at and above which a word only one text adds is taken as elaboration of a word both have. */
const ELABORATION_COS = 0.7;

let vectors: WordVectors | null | undefined;
function focusVectors(): WordVectors | null {
  if (vectors === undefined) {
    try {
      vectors = loadWordVectors();
    } catch {
      vectors = null; // no table: extra words are never forgiven (stricter, never looser)
    }
  }
  return vectors;
}

type AskKind = 'why' | 'when' | 'where' | 'who' | 'quantity' | 'yesno' | 'open' | 'none';
const AUX = new Set(
  'is are was were am do does did can could will would should shall may might must has have had'.split(' '),
);

/** What kind of answer a question asks for, from its first word(s); 'none' for requests and statements. */
function askKind(toks: Tok[], text: string): AskKind {
  const first = toks[0]?.low ?? '';
  const second = toks[1]?.low ?? '';
  if (first === 'why') return 'why';
  if (first === 'when') return 'when';
  if (first === 'where') return 'where';
  if (first === 'who' || first === 'whom' || first === 'whose') return 'who';
  if (first === 'how' && (second === 'many' || second === 'much' || second === 'long' || second === 'old'))
    return 'quantity';
  if (first === 'what' || first === 'which' || first === 'how') return 'open';
  if (AUX.has(first) && /\?\s*$/.test(text)) return 'yesno';
  return 'none';
}

function askCompatible(a: AskKind, b: AskKind): boolean {
  // A request ("tell me why…", "explain…") may be phrased as any question; only two real questions must agree.
  return a === b || a === 'none' || b === 'none';
}

function focusAgrees(
  a: Tok[],
  b: Tok[],
  aText: string,
  bText: string,
  budget: number,
  free: number,
): boolean {
  if (!askCompatible(askKind(a, aText), askKind(b, bText))) return false;
  const fa = focusWordsOf(aText, a);
  const fb = focusWordsOf(bText, b);
  const onlyA = [...fa.keys()].filter((w) => !fb.has(w));
  const onlyB = [...fb.keys()].filter((w) => !fa.has(w));
  const allowed = Math.floor(budget * Math.max(0, Math.max(fa.size, fb.size) - free));
  if (onlyA.length <= allowed && onlyB.length <= allowed) return true;
  // One text only adds words ("capital city" for "capital"): forgiven when each added word is close to a word
  // of the other text. A substitution (words on both sides) never is: "cats" vs "dogs" embed close together.
  if (onlyA.length > 0 && onlyB.length > 0) return false;
  const [extra, longer, other] = onlyA.length > 0 ? [onlyA, fa, fb] : [onlyB, fb, fa];
  const wv = focusVectors();
  if (!wv) return false;
  let unexplained = 0;
  for (const k of extra) {
    const w = longer.get(k)!;
    let best = 0;
    for (const o of other.values()) best = Math.max(best, wordCos(wv, w, o));
    if (best < ELABORATION_COS) unexplained++;
  }
  return unexplained <= allowed;
}

/** Diagnostics of the focus check (tests, tuning): content-word counts and, per differing word, its best
 * word-vector cosine to the other text's content words (-1 = no vector) and its frequency rank. Never text. */
export function focusStats(
  aText: string,
  bText: string,
): {
  nA: number;
  nB: number;
  askA: string;
  askB: string;
  diffA: { cos: number; rank: number }[];
  diffB: { cos: number; rank: number }[];
} {
  const a = words(aText);
  const b = words(bText);
  const fa = focusWords(a);
  const fb = focusWords(b);
  const wv = focusVectors();
  const diff = (mine: Map<string, string>, other: Map<string, string>): { cos: number; rank: number }[] =>
    [...mine.entries()]
      .filter(([k]) => !other.has(k))
      .map(([, w]) => {
        const rank = wv?.rank(w);
        if (!wv || rank === undefined) return { cos: -1, rank: -1 };
        let best = 0;
        for (const o of other.values()) best = Math.max(best, wordCos(wv, w, o));
        return { cos: best, rank };
      });
  return {
    nA: fa.size,
    nB: fb.size,
    askA: askKind(a, aText),
    askB: askKind(b, bText),
    diffA: diff(fa, fb),
    diffB: diff(fb, fa),
  };
}

// ------------------------------------------------------------------------------------------------ main

/**
 * Whether a cached `candidate` prompt may answer `query`. Pure and deterministic; `failed` names the first
 * check that failed (never the text).
 */
export function verifyCandidate(
  query: string,
  candidate: string,
  opts: VerifyOptions = DEFAULT_VERIFY,
): VerifyResult {
  if (query === candidate) return { ok: true };
  const a = words(query);
  const b = words(candidate);
  if (opts.lengthRatio > 0 && Number.isFinite(opts.lengthRatio)) {
    const la = Math.max(1, a.length);
    const lb = Math.max(1, b.length);
    if (Math.max(la, lb) / Math.min(la, lb) > opts.lengthRatio) return { ok: false, failed: 'length' };
  }
  if (opts.quoted && !setsEqual(quoted(query), quoted(candidate))) return { ok: false, failed: 'quoted' };
  if (opts.numbers && !numbersAgree(numbers(query), numbers(candidate)))
    return { ok: false, failed: 'numbers' };
  if (opts.negation && !polarityAgrees(a, b, query, candidate)) return { ok: false, failed: 'negation' };
  if (opts.entities && !entitiesAgree(a, b)) return { ok: false, failed: 'entities' };
  if ((opts.order ?? true) && !orderAgrees(query, candidate, opts.orderOverlap ?? ORDER_OVERLAP))
    return { ok: false, failed: 'order' };
  if (
    (opts.focus ?? true) &&
    !focusAgrees(
      a,
      b,
      query,
      candidate,
      opts.focusBudget ?? FOCUS_BUDGET,
      opts.focusFreeWords ?? FOCUS_FREE_WORDS,
    )
  )
    return { ok: false, failed: 'focus' };
  return { ok: true };
}
