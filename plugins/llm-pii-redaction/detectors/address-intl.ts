/**
 * Street-address layouts outside the English "number + name + type" order: French/Italian/Spanish/
 * Portuguese/Polish prefix types with particles ("12 bis place Bellecour", "Rua do Ouro, 152",
 * "ul. Długa 5/7"), Turkish "X Caddesi No: 12 D: 3", Korean "-ro/-gil/-dong", Japanese block numbers
 * with "-ku/-shi", Indian "Flat 3, …" / "H.No. 12-3-45", Colombian "Calle 93 # 11-26". The tail of an
 * address (floor/door units, postcodes of many shapes, districts, "District/City", provinces) is taken
 * by `extendIntl`. All regexes are bounded and anchored to word starts, so the pass is linear.
 */

/** "word" → "[Ww]ord": case-insensitive first letter without the `i` flag (which would relax \p{Lu}). */
function cap1(words: string[]): string {
  return words
    .map((w) => {
      const f = w[0] ?? '';
      const rest = w.slice(1).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      const fl = f.toLowerCase();
      const fu = f.toUpperCase();
      return fl === fu ? `\\${f}${rest}` : `[${fu}${fl}]${rest}`;
    })
    .join('|');
}

const PREFIX_WORDS =
  `rue avenue boulevard impasse allée allee place quai chemin cours route square passage voie via viale corso
piazza piazzale largo vicolo strada calle avenida avda. av. paseo plaza carrer camino carretera ronda rambla
travesía travessa rua praça praca estrada alameda rodovia ul. ulica al. aleja pl. plac os. osiedle jalan jl.
carrera cra. cl. diagonal transversal bulevar ulitsa prospekt straße strasse`.split(/\s+/);
const PREFIX_TYPES = cap1(PREFIX_WORDS);
const PART =
  "(?:d[eiaou]|de[ls]|della|delle|dello|dei|degli|dos|das|du|des|la|le|les|l[’']|d[’']|van|der|den|von|y|e)";
const NW = "[\\p{Lu}][\\p{L}\\p{M}'’.-]{0,30}";
const NUMW = '\\d{1,3}(?:º|°|ª|st|nd|rd|th)?';
const NAMES = `(?:${PART}\\s){0,2}(?:${NW}|${NUMW})(?:\\s(?:${PART}\\s){0,2}${NW}){0,3}`;
const HOUSE = '\\d{1,5}[A-Za-z]?(?:\\s?(?:bis|ter|quater))?(?:[/-]\\d{1,4}[A-Za-z]?)?';

const LAYOUTS: RegExp[] = [
  // number first: "12 bis place Bellecour", "5, rue de la Paix", "221 Avenida Paulista"
  new RegExp(`(?<![\\p{L}\\p{N}])${HOUSE},?\\s(?:${PREFIX_TYPES})\\s${NAMES}`, 'gu'),
  // type first, number after: "Via Roma 12", "Rua do Ouro, 152", "Paseo de Gracia 15", "ul. Długa 5/7"
  new RegExp(
    `(?<![\\p{L}\\p{N}])(?:\\d{1,6}\\s)?(?:${PREFIX_TYPES})\\s${NAMES},?\\s(?:(?:n[º°o]\\.?|No\\.?|nr\\.?|Nº)\\s?)?${HOUSE}(?![\\p{L}\\d])`,
    'gu',
  ),
  // Colombian / Latin American grid: "Calle 93 # 11-26", "Carrera 7 No. 71-21"
  new RegExp(
    `(?<![\\p{L}])(?:${cap1(['calle', 'carrera', 'cra.', 'cl.', 'diagonal', 'transversal', 'avenida', 'av.'])})\\s\\d{1,3}[A-Z]?(?:\\s?bis)?\\s?(?:#|No\\.?|N[º°])\\s?\\d{1,3}[A-Z]?\\s?-\\s?\\d{1,3}`,
    'gu',
  ),
  // Turkish: "İstiklal Caddesi No: 12 D: 3", "Bağdat Cad. No:5", "Atatürk Mah. Cumhuriyet Sok. No: 4/2"
  new RegExp(
    `(?<![\\p{L}])${NW}(?:\\s${NW}){0,2}\\s(?:Caddesi|Cad\\.|Cd\\.|Sokak|Sokağı|Sok\\.|Sk\\.|Bulvarı|Blv\\.|Mahallesi|Mah\\.|Mh\\.)(?:\\s${NW}(?:\\s${NW})?\\s(?:Caddesi|Cad\\.|Cd\\.|Sokak|Sokağı|Sok\\.|Sk\\.|Bulvarı|Blv\\.))?,?\\s(?:No|Nu|Numara)\\s?[:.]?\\s?\\d{1,4}[A-Za-z]?(?:/\\d{1,3})?`,
    'gu',
  ),
  // Korean romanised: "39 Haeundae-ro", "12-3 Sinsa-dong", "Teheran-ro 152"
  new RegExp(
    `(?<![\\p{L}\\p{N}])\\d{1,4}(?:-\\d{1,4})?,?\\s[\\p{Lu}][\\p{L}]{1,20}(?:-\\d{1,2})?-(?:ro|gil|daero|dong|ri)(?:\\s\\d{1,3}(?:beon-?)?-?gil)?(?![\\p{L}])|(?<![\\p{L}])[\\p{Lu}][\\p{L}]{1,20}-(?:ro|gil|daero)\\s\\d{1,4}(?:-\\d{1,4})?(?![\\p{L}\\d])`,
    'gu',
  ),
  // Japanese block numbers next to a ward/city: "1-2-3 Jingumae, Shibuya-ku", "Jingumae 1-2-3, Shibuya-ku"
  new RegExp(
    `(?<![\\p{L}\\p{N}-])(?:\\d{1,2}-\\d{1,3}(?:-\\d{1,3})?\\s[\\p{Lu}][\\p{L}]{2,20}|[\\p{Lu}][\\p{L}]{2,20}\\s\\d{1,2}-\\d{1,3}(?:-\\d{1,3})?)(?=,\\s[\\p{Lu}][\\p{L}]{1,20}-(?:ku|shi|cho|machi|gun))`,
    'gu',
  ),
  // Indian and flat-first layouts: "Flat 3B, …", "H.No. 12-3-45, …", "#45, 2nd Cross", "Plot No. 7, …"
  new RegExp(
    `(?<![\\p{L}])(?:(?:Flat|House|Plot|Door|Shop|Villa|Bungalow|Apartment|Apt\\.?|Unit)\\s(?:No\\.?\\s?)?[A-Z]?-?\\d{1,4}[A-Z]?|H\\.\\s?No\\.?\\s?\\d{1,4}(?:[/-]\\d{1,4}){0,3}|D\\.\\s?No\\.?\\s?\\d{1,4}(?:[/-]\\d{1,4}){0,3}|#\\s?\\d{1,4}(?:/\\d{1,4})?)(?=,\\s[\\p{Lu}\\d])`,
    'gu',
  ),
];

const POSTCODE =
  '(?:\\d{4}-\\d{3}|\\d{5}-\\d{3}|\\d{2}-\\d{3}|\\d{3}-\\d{4}|\\d{4} ?[A-Z]{2}(?![\\p{L}])|[A-Z]\\d{4}(?:[A-Z]{3})?|[A-Z]{1,2}\\d[A-Z\\d]? \\d[A-Z]{2}|\\d{4,6})';
const CITY = `[\\p{Lu}][\\p{L}\\p{M}'’-]{1,30}(?: (?:${PART} )?[\\p{Lu}][\\p{L}\\p{M}'’-]{1,30}){0,2}`;
const PROVINCE = '(?: \\([A-Z]{2,3}\\)| ?[-–] [A-Z]{2}(?![\\p{L}])|, [A-Z]{2,4}(?![\\p{L}]))';

const TAILS: RegExp[] = [
  // floors, doors, flats: ", 3º B", ", 4º dcha.", ", piso 5", ", apto 42", " D: 3", ", Daire 4", ", 2nd Floor"
  new RegExp(
    `^,?[ ]?(?:\\d{1,2}[ ]?[º°ª]\\.?(?:[ ]?(?:[A-Z]{1,2}(?![\\p{L}])|izq(?:da|\\.)?|dcha\\.?|der\\.?|esq\\.?|dto\\.?|dta\\.?|drt?\\.?|fte\\.?|centro))?|(?:[Pp]iso|[Pp]lanta|[Pp]uerta|[Pp]ta\\.|[Ee]sc\\.|[Aa]pto\\.?|[Aa]p\\.|[Dd]epto\\.?|[Dd]pto\\.?|[Bb]loco|[Bb]loque|[Bb]l\\.|[Tt]orre|[Ii]nt\\.|[Ll]ocal|[Oo]f\\.|[Ss]ala|[Kk]at|[Dd]aire|D|[Nn]o|[Nn]r|[Mm]\\.|[Ll]ok\\.|[Aa]pp\\.|[Ss]cala|[Ss]c\\.|[Éé]tage|[Bb]ât\\.|[Ff]lat|[Ff]loor|[Uu]nit|[Ss]uite|[Ss]te\\.|[Rr]oom|#)[ ]?[:.]?[ ]?\\d{1,4}[A-Za-z]?|\\d{1,2}(?:st|nd|rd|th)[ ](?:[Ff]loor|[Cc]ross|[Mm]ain|[Bb]lock|[Ss]tage|[Pp]hase))(?![\\p{L}\\d])`,
    'iu',
  ),
  // postcode, optional city and province: ", 69002 Lyon", ", 1250-146 Lisboa", " 00-697 Warszawa", ", 1015 CJ Amsterdam (NH)"
  new RegExp(`^,?[ ]?(?:[-–][ ])?${POSTCODE}(?:[ ]${CITY})?${PROVINCE}?(?![\\p{L}\\d])`, 'u'),
  // city then postcode / province: ", Busan 48099", ", Lyon", ", São Paulo - SP, 01304-001", ", Tokyo 150-0001"
  new RegExp(`^,[ ]?${CITY}${PROVINCE}?(?:,?[ ](?:[-–][ ])?${POSTCODE})?(?![\\p{L}\\d])`, 'u'),
  // district/city and romanised admin units: ", Beyoğlu/İstanbul", ", Haeundae-gu", ", Col. Roma Norte", " - Consolação"
  new RegExp(
    `^(?:,[ ]?|[ ][-–][ ])(?:(?:Col\\.|Colonia|Bairro|Barrio|Quartier|Sector|Distrito)[ ])?[\\p{Lu}][\\p{L}\\p{M}'’.-]{1,30}(?:-(?:gu|ku|shi|si|do|dong|cho|machi|gun|eup|myeon))?(?:[ ][\\p{Lu}][\\p{L}\\p{M}'’.-]{1,30}){0,2}(?:/[\\p{Lu}][\\p{L}\\p{M}'’.-]{1,30})?(?![\\p{L}\\d])`,
    'u',
  ),
];

/** A city right after a postcode the other tails already took ("…, 69002 Lyon"), or "/City" after a district. */
const CITY_AFTER_CODE = new RegExp(`^ ${CITY}${PROVINCE}?(?![\\p{L}\\d])`, 'u');
const SLASH_CITY = /^\/[\p{Lu}][\p{L}\p{M}'’-]{1,30}(?![\p{L}\d])/u;

/** Words that end an address even when capitalised ("…, Thanks", "…, Please"). */
const STOP =
  /^(?:,\s?|\s[-–]\s)(?:Thanks|Thank|Please|Regards|Best|Cheers|Kind|Attention|Attn|Dear|Hi|Hello|And|But|Or|So|The|I|We|You|He|She|It|They|My|Our|Your|Tel|Phone|Mobile|Email|Fax|Call)\b/;

/** Extends an address over floor/door units, postcodes, cities, districts and provinces on the same line. */
export function extendIntl(text: string, end: number, isCommon: (w: string) => boolean): number {
  let e = end;
  for (let step = 0; step < 8; step++) {
    const rest = text.slice(e, e + 100);
    if (STOP.test(rest)) break;
    let moved = false;
    const prev = text.charCodeAt(e - 1);
    const extra = prev >= 48 && prev <= 57 ? CITY_AFTER_CODE : SLASH_CITY;
    for (const re of [...TAILS, extra]) {
      const m = re.exec(rest);
      if (!m || m[0].length === 0) continue;
      const words = m[0].match(/\p{L}[\p{L}\p{M}'’.-]*/gu) ?? [];
      if (words.length > 0 && words.every((w) => isCommon(w))) continue;
      e += m[0].length;
      moved = true;
      break;
    }
    if (!moved) break;
  }
  return e;
}

const PREFIX_SET: ReadonlySet<string> = new Set(
  PREFIX_WORDS.map((w) => w.replace(/\.$/, '').normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()),
);
const GRID_SET: ReadonlySet<string> = new Set([
  'calle',
  'carrera',
  'cra',
  'cl',
  'diagonal',
  'transversal',
  'avenida',
  'av',
]);
const sticky = (re: RegExp): RegExp => new RegExp(re.source, re.flags.replace('g', '') + 'y');
const NUM_FIRST = sticky(LAYOUTS[0] as RegExp);
const TYPE_FIRST = sticky(LAYOUTS[1] as RegExp);
const GRID = sticky(LAYOUTS[2] as RegExp);
const [, , , TURKISH, KOREAN, JAPANESE, FLAT_FIRST] = LAYOUTS as [
  RegExp,
  RegExp,
  RegExp,
  RegExp,
  RegExp,
  RegExp,
  RegExp,
];
const BIS: ReadonlySet<string> = new Set(['bis', 'ter', 'quater']);

export interface AddrTok {
  norm: string;
  start: number;
  num: boolean;
}

function at(re: RegExp, text: string, pos: number): number {
  re.lastIndex = pos;
  const m = re.exec(text);
  return m && m[0].length > 0 ? pos + m[0].length : -1;
}

function all(re: RegExp, text: string, push: (s: number, e: number, c: number) => void): void {
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    push(m.index, m.index + m[0].length, 0.8);
  }
}

/**
 * Core spans of the layouts above; the caller extends and reports them. The number-first, type-first and
 * grid layouts are tried only where a token can start them; the others only when their suffix words occur.
 */
export function intlAddressCores(
  text: string,
  toks: readonly AddrTok[],
  push: (s: number, e: number, c: number) => void,
): void {
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k];
    if (!t) continue;
    const next = toks[k + 1];
    if (t.num) {
      const typeTok = next && BIS.has(next.norm) ? toks[k + 2] : next;
      if (typeTok && PREFIX_SET.has(typeTok.norm)) {
        const e1 = at(NUM_FIRST, text, t.start);
        const e2 = at(TYPE_FIRST, text, t.start);
        const e = Math.max(e1, e2);
        if (e > 0) push(t.start, e, 0.8);
      }
    } else if (PREFIX_SET.has(t.norm)) {
      const e = at(TYPE_FIRST, text, t.start);
      if (e > 0) push(t.start, e, 0.8);
      if (GRID_SET.has(t.norm)) {
        const g = at(GRID, text, t.start);
        if (g > 0) push(t.start, g, 0.8);
      }
    }
  }
  if (/Cad|Cd\.|Sok|Sk\.|Bulv|Blv|Mah|Mh\./.test(text)) all(TURKISH, text, push);
  if (/-(?:ro|gil|daero|dong|ri)\b/.test(text)) all(KOREAN, text, push);
  if (/-(?:ku|shi|cho|machi|gun)\b/.test(text)) all(JAPANESE, text, push);
  if (/Flat|House|Plot|Door|Shop|Villa|Bungalow|Apartment|Apt|Unit|H\.|D\.|#/.test(text))
    all(FLAT_FIRST, text, push);
}
