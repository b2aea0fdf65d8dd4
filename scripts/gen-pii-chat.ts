/**
 * Generates chat-style prompts with labelled PII, secrets and decoys, in the presidio-research span format
 * used by scripts/eval-pii.ts: [{full_text, spans:[{entity_type, entity_value, start_position,
 * end_position}]}] (secrets as API_KEY).
 *
 *   npx tsx scripts/gen-pii-chat.ts --split dev  [--n 800] [--out data/pii/gen-dev.json]
 *   npx tsx scripts/gen-pii-chat.ts --split test [--n 800] [--out data/pii/gen-test.json]
 *
 * The two splits share no template, use disjoint halves of every value pool (names, streets, cities,
 * words), different seeds, and partly different countries and layouts (the test split has phone plans
 * and address layouts the dev split never shows), so tuning on dev does not see test.
 * Phone numbers are drawn from libphonenumber-js's example numbers with randomised tails and kept only
 * when valid for their country; IBANs and cards carry correct check digits.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { format, resolveConfig } from 'prettier';
import parsePhoneNumberFromString, { type CountryCode } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/examples.mobile.json';
import { ibanCheckDigits, luhnCheckDigit } from '../plugins/llm-pii-redaction/detectors/util';

type Split = 'dev' | 'test';
interface Span {
  entity_type: string;
  entity_value: string;
  start_position: number;
  end_position: number;
}
interface Row {
  full_text: string;
  spans: Span[];
  template_id: string;
}

// ------------------------------------------------------------------ randomness

class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = Math.imul(this.s ^ (this.s >>> 15), 1 | this.s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.next() * a.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(0, 9));
    return s;
  }
  chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(0, alphabet.length - 1)];
    return s;
  }
}

/** Even-indexed entries for dev, odd-indexed for test: the splits never share a pool value. */
function half<T>(split: Split, xs: readonly T[]): T[] {
  return xs.filter((_, i) => i % 2 === (split === 'dev' ? 0 : 1));
}

// ------------------------------------------------------------------ text builder

class B {
  text = '';
  spans: Span[] = [];
  t(s: string): this {
    this.text += s;
    return this;
  }
  e(type: string, value: string): this {
    const start = this.text.length;
    this.text += value;
    this.spans.push({
      entity_type: type,
      entity_value: value,
      start_position: start,
      end_position: start + value.length,
    });
    return this;
  }
}

// ------------------------------------------------------------------ value pools

const GIVEN = `James Olivia Mateo Sofia Liam Amara Chen Aiko Hiroshi Yuki Ngozi Chinedu Oluwaseun Fatima Aisha
Mehmet Elif Ayşe Emre Priya Arjun Ananya Rohan Ji-woo Min-jun Seo-yeon Hye-jin Lucas Camille Léa Hugo
Javier Lucía Carmen Diego Giulia Marco Francesca Lorenzo João Beatriz Inês Tiago Daan Sanne Bram Femke
Kasia Piotr Magdalena Tomasz Ingrid Lars Freya Nils Zanele Thabo Kwame Abena Rafael Valentina Santiago
Camila Omar Layla Yusuf Noor Dmitri Anastasia Sven Astrid Niamh Ciarán Siobhan Eoin Hannah Noah Emma Felix
Mia Leon Clara Jonas Amelie Ravi Deepa Sunil Kavya Tuan Linh Minh Anh Somchai Malee Siti Budi Putri Agus
Wei Jing Hao Xiu Kofi Ama Tendai Chipo Alejandro Paula Andrés Gabriela Martina Matteo Chiara Alessandro`
  .split(/\s+/)
  .filter(Boolean);
const FAMILY =
  `Smith Okafor Adeyemi Nakamura Tanaka Sato Kim Park Lee Choi Yılmaz Kaya Demir Şahin Sharma Patel
Iyer Reddy Dubois Lefèvre Moreau Girard García Fernández López Martínez Rossi Bianchi Esposito Ferrari
Silva Santos Oliveira Pereira de Vries Jansen Bakker Visser Kowalski Nowak Wiśniewska Wójcik Johansson
Andersen Nilsen Eriksson Dlamini Nkosi Mensah Asante González Rodríguez Hernández Haddad Khalil Rahman
Hussain Ivanov Petrova Novak Murphy O'Brien Kelly Byrne Schmidt Müller Weber Fischer Nguyen Tran Pham Le
Wongsa Chaiyaporn Santoso Wijaya Wang Zhang Liu Chen Boateng Owusu Moyo Ncube Castillo Vargas Romero Ricci
Marino Greco Costa Ribeiro Almeida Hoffmann Becker Kovač Horvat Popescu Ionescu Papadopoulos Nikolaidis`
    .split(/\s+/)
    .filter(Boolean);
const STREET_NAMES =
  `Victor Hugo|la République|Bellecour|Gambetta|Mayor|Alcalá|Gracia|Castellana|Garibaldi|Roma|Dante|
Mazzini|Liberdade|Augusta|Flores|Almirante Reis|Keizers|Prinsen|Linden|Beethoven|Goethe|Schiller|Mickiewicza|
Marszałkowska|Piękna|Długa|İstiklal|Bağdat|Atatürk|Cumhuriyet|Gandhi|Nehru|MG|Brigade|Haeundae|Teheran|
Gangnam|Sejong|Omotesando|Meiji|Insurgentes|Reforma|Corrientes|Santa Fe|Paulista|Oscar Freire|Providencia|
Independencia|Oak|Maple|Elm|Highland|Church|Mill|Station|Victoria|King|Queen|Park|Baker|Cedar|Willow`
    .split('|')
    .map((s) => s.trim())
    .filter(Boolean);
const CITIES: Record<string, string[]> = {
  FR: ['Lyon', 'Paris', 'Marseille', 'Toulouse', 'Nantes', 'Bordeaux', 'Lille', 'Strasbourg'],
  ES: ['Barcelona', 'Madrid', 'Valencia', 'Sevilla', 'Bilbao', 'Málaga', 'Zaragoza', 'Granada'],
  IT: ['Milano', 'Roma', 'Torino', 'Firenze', 'Bologna', 'Napoli', 'Verona', 'Genova'],
  PT: ['Lisboa', 'Porto', 'Coimbra', 'Braga', 'Faro', 'Aveiro', 'Setúbal', 'Évora'],
  NL: ['Amsterdam', 'Utrecht', 'Rotterdam', 'Den Haag', 'Eindhoven', 'Groningen', 'Leiden', 'Delft'],
  DE: ['Berlin', 'München', 'Hamburg', 'Köln', 'Leipzig', 'Dresden', 'Stuttgart', 'Bremen'],
  PL: ['Warszawa', 'Kraków', 'Gdańsk', 'Wrocław', 'Poznań', 'Łódź', 'Lublin', 'Katowice'],
  TR: ['İstanbul', 'Ankara', 'İzmir', 'Bursa', 'Antalya', 'Eskişehir', 'Konya', 'Adana'],
  IN: ['Mumbai', 'Bengaluru', 'Chennai', 'Hyderabad', 'Pune', 'Kolkata', 'New Delhi', 'Jaipur'],
  KR: ['Seoul', 'Busan', 'Incheon', 'Daegu', 'Daejeon', 'Gwangju', 'Suwon', 'Ulsan'],
  JP: ['Tokyo', 'Osaka', 'Kyoto', 'Yokohama', 'Sapporo', 'Fukuoka', 'Nagoya', 'Kobe'],
  MX: ['Ciudad de México', 'Guadalajara', 'Monterrey', 'Puebla', 'Mérida', 'Querétaro', 'León', 'Oaxaca'],
  AR: ['Buenos Aires', 'Córdoba', 'Rosario', 'Mendoza', 'La Plata', 'Salta', 'Mar del Plata', 'Tucumán'],
  BR: ['São Paulo', 'Rio de Janeiro', 'Curitiba', 'Belo Horizonte', 'Recife', 'Salvador', 'Manaus', 'Natal'],
  CO: ['Bogotá', 'Medellín', 'Cali', 'Barranquilla', 'Cartagena', 'Bucaramanga', 'Pereira', 'Manizales'],
  US: ['Springfield', 'Austin', 'Denver', 'Portland', 'Columbus', 'Raleigh', 'Madison', 'Tucson'],
  GB: ['London', 'Leeds', 'Bristol', 'Manchester', 'Glasgow', 'Cardiff', 'York', 'Brighton'],
};
const DISTRICTS =
  `Beyoğlu Kadıköy Beşiktaş Üsküdar Çankaya Karşıyaka Haeundae Gangnam Jongno Mapo Suyeong Seocho
Shibuya Minato Chiyoda Shinjuku Naka Chuo Koramangala Indiranagar Andheri Bandra Banjara Salt-Lake Colaba
Jayanagar Polanco Condesa Palermo Recoleta Pinheiros Moema Chapinero Laureles Consolação Savassi`
    .split(/\s+/)
    .filter(Boolean);
const WORDS = `report invoice meeting budget draft schedule release migration summary review backlog roadmap
dashboard contract renewal onboarding workshop proposal forecast quarterly incident outage audit survey`
  .split(/\s+/)
  .filter(Boolean);

// ------------------------------------------------------------------ value generators

function person(r: Rng, split: Split): string {
  const g = r.pick(half(split, GIVEN));
  const f = r.pick(half(split, FAMILY));
  const k = r.int(0, 9);
  if (k === 0) return g;
  if (k === 1) return `${g} ${r.pick('ABCDEFGHJKLMNPRST'.split(''))}. ${f}`;
  return `${g} ${f}`;
}

const PHONE_COUNTRIES: Record<Split, CountryCode[]> = {
  dev: ['GB', 'DE', 'JP', 'NG', 'US', 'FR', 'ES', 'IN', 'CA'],
  test: ['IT', 'NL', 'BR', 'KR', 'AU', 'MX', 'PL', 'ZA', 'PH', 'TR', 'GB', 'US', 'IE', 'SE', 'KE'],
};

function phone(r: Rng, split: Split): string {
  for (let attempt = 0; attempt < 50; attempt++) {
    const c = r.pick(PHONE_COUNTRIES[split]);
    const ex = (examples as Record<string, string>)[c];
    if (!ex) continue;
    const keep = Math.max(2, ex.length - 5);
    const p = parsePhoneNumberFromString(ex.slice(0, keep) + r.digits(ex.length - keep), c);
    if (!p || !p.isValid()) continue;
    const nat = p.formatNational();
    const intl = p.formatInternational();
    const style = r.int(0, split === 'dev' ? 5 : 6);
    if (style === 0) return nat;
    if (style === 1) return intl;
    if (style === 2) return p.number; // E.164
    if (style === 3) return nat.replace(/[()]/g, '').trim().replace(/\s+/g, '-');
    if (style === 4) return nat.replace(/\D/g, '');
    if (style === 5)
      return intl
        .replace(' ', '\u0020')
        .replace(/^(\+\d+) /, '$1 ')
        .replace(/ /g, '.');
    return `00${intl.slice(1)}`;
  }
  return '+44 20 7946 0018';
}

function email(r: Rng, split: Split): string {
  const g = r.pick(half(split, GIVEN)).normalize('NFD').replace(/[^\w]/g, '').toLowerCase();
  const f = r.pick(half(split, FAMILY)).normalize('NFD').replace(/[^\w]/g, '').toLowerCase();
  const dom = r.pick(
    split === 'dev'
      ? ['example.com', 'mail.example.org', 'corp.example.net', 'uni.example.edu']
      : ['example.co.uk', 'example.de', 'post.example.jp', 'example.com.br'],
  );
  return r.pick([`${g}.${f}@${dom}`, `${g[0]}${f}${r.int(1, 99)}@${dom}`, `${f}_${g}@${dom}`]);
}

const IBAN_SHAPES: Record<Split, [string, string][]> = {
  dev: [
    ['DE', '18n'],
    ['FR', '10n11c2n'],
    ['GB', '4a14n'],
    ['ES', '20n'],
  ],
  test: [
    ['NL', '4a10n'],
    ['IT', '1a10n12c'],
    ['PL', '24n'],
    ['BE', '12n'],
    ['CH', '5n12c'],
  ],
};

function iban(r: Rng, split: Split): string {
  const [cc, shape] = r.pick(IBAN_SHAPES[split]);
  let bban = '';
  for (const m of shape.matchAll(/(\d+)([nac])/g)) {
    const n = Number(m[1]);
    const k = m[2];
    bban +=
      k === 'n' ? r.digits(n) : r.chars(k === 'a' ? 'ABCDEFGHIJKLMNOPQRSTUVWXYZ' : '0123456789ABCDEFGHJK', n);
  }
  const compact = cc + ibanCheckDigits(cc, bban) + bban;
  return r.chance(0.6) ? compact.replace(/(.{4})/g, '$1 ').trim() : compact;
}

function card(r: Rng): string {
  const prefix = r.pick(['4', '51', '53', '37', '6011', '35']);
  const len = prefix === '37' ? 15 : 16;
  let body = prefix;
  while (body.length < len - 1) body += r.digits(1);
  const d = body + luhnCheckDigit(body);
  if (r.chance(0.3)) return d;
  const sep = r.pick([' ', '-']);
  return len === 15
    ? `${d.slice(0, 4)}${sep}${d.slice(4, 10)}${sep}${d.slice(10)}`
    : d.replace(/(\d{4})(?=\d)/g, `$1${sep}`);
}

function ip(r: Rng): string {
  if (r.chance(0.2)) return `2001:db8:${r.int(1, 65535).toString(16)}::${r.int(1, 65535).toString(16)}`;
  return `${r.pick([10, 172, 192, 203, 198, 84, 91])}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`;
}

function ssn(r: Rng): string {
  return `${r.int(100, 665)}-${String(r.int(1, 99)).padStart(2, '0')}-${String(r.int(1, 9999)).padStart(4, '0')}`;
}

// addresses: layouts per country; dev and test use different countries for most layouts
type Addr = (r: Rng, split: Split) => string;
const st = (r: Rng, split: Split): string => r.pick(half(split, STREET_NAMES));
const city = (r: Rng, c: string): string => r.pick(CITIES[c] ?? ['Springfield']);
const ADDRESSES: Record<Split, Addr[]> = {
  dev: [
    (r, s) =>
      `${r.int(1, 180)}${r.chance(0.3) ? ' bis' : ''} ${r.pick(['rue', 'place', 'avenue', 'boulevard', 'impasse'])} ${r.pick(['de ', 'du ', ''])}${st(r, s)}, ${r.int(10, 95)}00${r.int(1, 9)} ${city(r, 'FR')}`,
    (r, s) =>
      `${r.pick(['Calle', 'Paseo de', 'Avenida de', 'Plaza'])} ${st(r, s)} ${r.int(1, 150)}, ${r.int(1, 9)}º ${r.pick(['A', 'B', 'C', 'izq.', 'dcha.'])}, ${String(r.int(1, 52)).padStart(2, '0')}0${r.int(10, 99)} ${city(r, 'ES')}`,
    (r, s) =>
      `${st(r, s)} ${r.pick(['Caddesi', 'Sokak', 'Bulvarı'])} No: ${r.int(1, 250)} D: ${r.int(1, 30)}, ${r.pick(DISTRICTS.slice(0, 6))}/${city(r, 'TR')}`,
    (r, s) =>
      `${r.int(1, 400)} ${st(r, s).split(' ')[0]}-ro, ${r.pick(DISTRICTS.slice(6, 12))}-gu, ${city(r, 'KR')} ${r.int(10000, 63999)}`,
    (r, s) =>
      `Flat ${r.int(1, 40)}${r.pick(['A', 'B', ''])}, ${st(r, s)} Apartments, ${r.int(1, 99)} ${st(r, s)} Road, ${r.pick(DISTRICTS.slice(18, 24))}, ${city(r, 'IN')} ${r.int(400001, 600099)}`,
    (r, s) =>
      `${st(r, s)}straße ${r.int(1, 120)}${r.pick(['', 'a', 'b'])}, ${r.int(10115, 99999)} ${city(r, 'DE')}`,
    (r, s) =>
      `Rua ${r.pick(['da ', 'do ', 'de ', ''])}${st(r, s)}, ${r.int(1, 400)}, ${r.int(1, 9)}º ${r.pick(['Esq.', 'Dto.'])}, ${r.int(1000, 4999)}-${r.int(100, 999)} ${city(r, 'PT')}`,
    (r, s) =>
      `${r.int(10, 9999)} ${st(r, s)} ${r.pick(['Street', 'Avenue', 'Road', 'Drive'])}, ${city(r, 'US')}, ${r.pick(['TX', 'CO', 'OR', 'OH', 'NC'])} ${r.int(10000, 99999)}`,
    (r, s) =>
      `${r.pick(['Av.', 'Avenida'])} ${st(r, s)} ${r.int(100, 3999)}, Col. ${r.pick(DISTRICTS.slice(24, 26))}, ${r.int(10000, 99999)} ${city(r, 'MX')}`,
  ],
  test: [
    (r, s) =>
      `${r.pick(['Via', 'Viale', 'Corso', 'Piazza'])} ${st(r, s)} ${r.int(1, 200)}, ${r.int(10, 98)}1${r.int(10, 99)} ${city(r, 'IT')}${r.chance(0.5) ? ` (${r.pick(['MI', 'RM', 'TO', 'FI'])})` : ''}`,
    (r, s) =>
      `${st(r, s)}${r.pick(['straat', 'gracht', 'laan', 'weg'])} ${r.int(1, 300)}${r.pick(['', 'A', '-2'])}, ${r.int(1000, 9999)} ${r.chars('ABCDEFGHJKLMNPRSTVWXZ', 2)} ${city(r, 'NL')}`,
    (r, s) =>
      `ul. ${st(r, s)} ${r.int(1, 150)}${r.chance(0.5) ? `/${r.int(1, 80)}` : ''}, ${r.int(10, 99)}-${r.int(100, 999)} ${city(r, 'PL')}`,
    (r) =>
      `${r.int(1, 9)}-${r.int(1, 30)}-${r.int(1, 20)} ${r.pick(['Jingumae', 'Roppongi', 'Ginza', 'Umeda', 'Sakae'])}, ${r.pick(DISTRICTS.slice(12, 18))}-ku, ${city(r, 'JP')} ${r.int(100, 999)}-${r.int(1000, 9999)}`,
    (r, s) =>
      `Rua ${st(r, s)}, ${r.int(10, 2500)}, apto ${r.int(11, 150)} - ${r.pick(DISTRICTS.slice(28, 34))}, ${city(r, 'BR')} - ${r.pick(['SP', 'RJ', 'MG', 'PR'])}, ${r.int(10000, 99999)}-${r.int(100, 999)}`,
    (r, s) =>
      `Av. ${st(r, s)} ${r.int(100, 5000)}, piso ${r.int(1, 20)}, C${r.int(1000, 1499)} ${city(r, 'AR')}`,
    (r) => `Calle ${r.int(10, 150)} # ${r.int(1, 99)}-${r.int(1, 99)}, ${city(r, 'CO')}`,
    (r, s) =>
      `${r.int(1, 250)} ${st(r, s)} ${r.pick(['Road', 'Lane', 'Close', 'Gardens'])}, ${city(r, 'GB')} ${r.pick(['SW1A', 'LS6', 'BS8', 'M14', 'G12'])} ${r.int(1, 9)}${r.chars('ABDEFGHJLNPQRSTUWXYZ', 2)}`,
    (r, s) =>
      `H.No. ${r.int(1, 20)}-${r.int(1, 9)}-${r.int(10, 400)}, ${st(r, s)} Nagar, ${city(r, 'IN')} ${r.int(500001, 500099)}`,
    (r, s) =>
      `${st(r, s)} Mah. ${st(r, s)} Cad. No:${r.int(1, 120)} Daire ${r.int(1, 40)}, ${r.pick(DISTRICTS.slice(0, 6))}/${city(r, 'TR')}`,
  ],
};

// secrets; the value is the span
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';

function b64url(r: Rng, n: number): string {
  return r.chars(`${ALNUM}-_`, n);
}
function jwt(r: Rng): string {
  const head = Buffer.from(JSON.stringify({ alg: r.pick(['HS256', 'RS256']), typ: 'JWT' })).toString(
    'base64url',
  );
  const body = Buffer.from(
    JSON.stringify({
      sub: r.digits(8),
      iat: 1700000000 + r.int(0, 9999999),
      role: r.pick(['admin', 'user']),
    }),
  ).toString('base64url');
  return `${head}.${body}.${b64url(r, 43)}`;
}
function pem(r: Rng): string {
  const kind = r.pick(['RSA PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY']);
  const lines: string[] = [];
  for (let i = 0; i < r.int(3, 6); i++) lines.push(r.chars(B64, 64));
  return `-----BEGIN ${kind}-----\n${lines.join('\n')}\n-----END ${kind}-----`;
}

// ------------------------------------------------------------------ decoys (never labelled)

function decoy(r: Rng): string {
  switch (r.int(0, 11)) {
    case 0:
      return `order #${r.int(100000, 99999999)}`;
    case 1:
      return `v${r.int(1, 20)}.${r.int(0, 30)}.${r.int(0, 99)}`;
    case 2:
      return `2024-${String(r.int(1, 12)).padStart(2, '0')}-${String(r.int(1, 28)).padStart(2, '0')}T${String(r.int(0, 23)).padStart(2, '0')}:${String(r.int(0, 59)).padStart(2, '0')}:00Z`;
    case 3:
      return `commit ${r.chars(HEX, 40)}`;
    case 4:
      return `request id ${r.chars(HEX, 8)}-${r.chars(HEX, 4)}-4${r.chars(HEX, 3)}-a${r.chars(HEX, 3)}-${r.chars(HEX, 12)}`;
    case 5:
      return `ticket ${r.pick(['INC', 'JIRA', 'OPS'])}-${r.int(1000, 99999)}`;
    case 6:
      return `sha256 ${r.chars(HEX, 64)}`;
    case 7:
      return `${r.int(2, 999)} ${r.pick(['units', 'users', 'rows'])}`;
    case 8:
      return `€${r.int(1, 99)},${r.int(100, 999)}.${r.int(10, 99)}`;
    case 9:
      return `build ${r.int(1000, 99999)}.${r.int(1, 9)}`;
    case 10:
      return `tracking ${r.chars('ABCDEFGHJKLMNPQRSTUVWXYZ', 2)}${r.digits(9)}${r.pick(['GB', 'DE', 'US'])}`;
    default:
      return `at ${String(r.int(0, 23)).padStart(2, '0')}:${String(r.int(0, 59)).padStart(2, '0')}`;
  }
}

// ------------------------------------------------------------------ templates

type Tpl = (r: Rng, b: B, s: Split) => void;

const DEV: Tpl[] = [
  (r, b, s) =>
    b
      .t('Hi, I need to move money from ')
      .e('IBAN_CODE', iban(r, s))
      .t(' to ')
      .e('IBAN_CODE', iban(r, s))
      .t(`, ${decoy(r)}. Thanks, `)
      .e('PERSON', person(r, s)),
  (r, b, s) =>
    b
      .t('Please update my profile. New address: ')
      .e('STREET_ADDRESS', ADDRESSES[s][r.int(0, ADDRESSES[s].length - 1)]!(r, s))
      .t('. Mobile ')
      .e('PHONE_NUMBER', phone(r, s))
      .t('.'),
  (r, b, s) =>
    b
      .t('name,phone,email\n')
      .e('PERSON', person(r, s))
      .t(',')
      .e('PHONE_NUMBER', phone(r, s))
      .t(',')
      .e('EMAIL_ADDRESS', email(r, s))
      .t('\n')
      .e('PERSON', person(r, s))
      .t(',')
      .e('PHONE_NUMBER', phone(r, s))
      .t(',')
      .e('EMAIL_ADDRESS', email(r, s)),
  (r, b) =>
    b
      .t('Can you fix this terraform? It fails on ')
      .t(decoy(r))
      .t('\n\nprovider "aws" {\n  region     = "eu-west-1"\n  access_key = "')
      .e('API_KEY', `AKIA${r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`)
      .t('"\n  secret_key = "')
      .e('API_KEY', r.chars(B64, 40))
      .t('"\n}'),
  (r, b, s) =>
    b
      .t('Best regards,\n')
      .e('PERSON', person(r, s))
      .t('\n')
      .e('STREET_ADDRESS', ADDRESSES[s][r.int(0, ADDRESSES[s].length - 1)]!(r, s))
      .t('\n')
      .e('PHONE_NUMBER', phone(r, s))
      .t(' | ')
      .e('EMAIL_ADDRESS', email(r, s)),
  (r, b) =>
    b
      .t('Why does my app crash? .env:\nNODE_ENV=production\nDATABASE_URL=')
      .e('API_KEY', `postgres://app:${r.chars(ALNUM, 14)}@db.internal:5432/shop`)
      .t('\nSTRIPE_SECRET_KEY=')
      .e('API_KEY', `sk_live_${r.chars(ALNUM, 24)}`)
      .t(`\nPORT=8080\n# ${decoy(r)}`),
  (r, b, s) =>
    b
      .t('Card ')
      .e('CREDIT_CARD', card(r))
      .t(` was charged twice (${decoy(r)}). Call me back on `)
      .e('PHONE_NUMBER', phone(r, s))
      .t(' or ')
      .e('PHONE_NUMBER', phone(r, s))
      .t('.'),
  (r, b) =>
    b
      .t('The server ')
      .e('IP_ADDRESS', ip(r))
      .t(' rejects my token ')
      .e('API_KEY', jwt(r))
      .t(` since ${decoy(r)}.`),
  (r, b, s) =>
    b
      .t('Contact: ')
      .e('PERSON', person(r, s))
      .t(' | ')
      .e('PHONE_NUMBER', phone(r, s))
      .t(' | ')
      .e('PHONE_NUMBER', phone(r, s))
      .t(` | ${r.pick(WORDS)} ${decoy(r)}`),
  (r, b, s) =>
    b
      .t(`Summarise the ${r.pick(WORDS)} for `)
      .e('PERSON', person(r, s))
      .t(` (SSN `)
      .e('US_SSN', ssn(r))
      .t(`), ${decoy(r)}, and ${decoy(r)}.`),
  (r, b) =>
    b
      .t('Here is the key file, is it valid?\n')
      .e('API_KEY', pem(r))
      .t(`\nGenerated ${decoy(r)}.`),
  (r, b, s) =>
    b
      .t('config.yaml:\n  github_token: ')
      .e('API_KEY', `ghp_${r.chars(ALNUM, 36)}`)
      .t('\n  slack_webhook_secret: ')
      .e('API_KEY', r.chars(ALNUM, 32))
      .t(`\n  owner: ${s === 'dev' ? 'ops' : 'sre'}\n  version: ${decoy(r)}`),
  (r, b, s) =>
    b
      .t('Ship it to ')
      .e('STREET_ADDRESS', ADDRESSES[s][r.int(0, ADDRESSES[s].length - 1)]!(r, s))
      .t(', attention ')
      .e('PERSON', person(r, s))
      .t(`. Refund to `)
      .e('IBAN_CODE', iban(r, s))
      .t(` instead of `)
      .e('IBAN_CODE', iban(r, s))
      .t('.'),
  (r, b, s) =>
    b
      .t(`${decoy(r)} - ${decoy(r)} - ${decoy(r)}: deploy notes from `)
      .e('EMAIL_ADDRESS', email(r, s))
      .t('.'),
];

const TEST: Tpl[] = [
  (r, b, s) =>
    b
      .t('Transfer request\nDebit: ')
      .e('IBAN_CODE', iban(r, s))
      .t('\nCredit: ')
      .e('IBAN_CODE', iban(r, s))
      .t('\nAlso credit ')
      .e('IBAN_CODE', iban(r, s))
      .t(`\nRef: ${decoy(r)}`),
  (r, b, s) =>
    b
      .t('| ')
      .e('PERSON', person(r, s))
      .t(' | ')
      .e('PHONE_NUMBER', phone(r, s))
      .t(' | ')
      .e('STREET_ADDRESS', ADDRESSES[s][r.int(0, ADDRESSES[s].length - 1)]!(r, s))
      .t(' |'),
  (r, b) =>
    b
      .t('resource "google_service_account_key" "k" {}\nvariable "db" {\n  default = "')
      .e('API_KEY', `mysql://root:${r.chars(ALNUM, 16)}@10.1.2.3:3306/prod`)
      .t(`"\n}\n# ${decoy(r)}\nazure_storage_key = "`)
      .e('API_KEY', `${r.chars(B64, 86)}==`)
      .t('"'),
  (r, b, s) =>
    b
      .t(`I'm `)
      .e('PERSON', person(r, s))
      .t(', you can text me at ')
      .e('PHONE_NUMBER', phone(r, s))
      .t(` after ${decoy(r)}, or write to `)
      .e('EMAIL_ADDRESS', email(r, s))
      .t('.'),
  (r, b, s) =>
    b
      .t('export AWS_ACCESS_KEY_ID=')
      .e('API_KEY', `AKIA${r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`)
      .t('\nexport AWS_SECRET_ACCESS_KEY=')
      .e('API_KEY', r.chars(B64, 40))
      .t(`\nexport APP_VERSION=${decoy(r).replace(/\s/g, '_')}`)
      .t(`\n# owner `)
      .e('PERSON', person(r, s)),
  (r, b, s) =>
    b
      .t('Deliver to: ')
      .e('STREET_ADDRESS', ADDRESSES[s][r.int(0, ADDRESSES[s].length - 1)]!(r, s))
      .t('\nRecipient: ')
      .e('PERSON', person(r, s))
      .t('\nTel. ')
      .e('PHONE_NUMBER', phone(r, s))
      .t(`\n${decoy(r)}`),
  (r, b) =>
    b
      .t('{"user": "svc", "api_key": "')
      .e('API_KEY', r.chars(ALNUM, 40))
      .t('", "client_secret": "')
      .e('API_KEY', b64url(r, 32))
      .t(`", "request": "${decoy(r)}"}`),
  (r, b, s) =>
    b
      .t('Two cards on file: ')
      .e('CREDIT_CARD', card(r))
      .t(' and ')
      .e('CREDIT_CARD', card(r))
      .t(`; ${decoy(r)}; holder `)
      .e('PERSON', person(r, s)),
  (r, b) =>
    b
      .t('curl -H "Authorization: Bearer ')
      .e('API_KEY', jwt(r))
      .t('" https://')
      .e('IP_ADDRESS', ip(r))
      .t(`/v1/items  # ${decoy(r)}`),
  (r, b, s) =>
    b
      .t('Meeting with ')
      .e('PERSON', person(r, s))
      .t(' and ')
      .e('PERSON', person(r, s))
      .t(` about the ${r.pick(WORDS)} (${decoy(r)}). Office: `)
      .e('STREET_ADDRESS', ADDRESSES[s][r.int(0, ADDRESSES[s].length - 1)]!(r, s)),
  (r, b, s) =>
    b
      .t('phones: ')
      .e('PHONE_NUMBER', phone(r, s))
      .t(', ')
      .e('PHONE_NUMBER', phone(r, s))
      .t(', ')
      .e('PHONE_NUMBER', phone(r, s))
      .t(`; ${decoy(r)}`),
  (r, b) =>
    b
      .t('settings.py\nSECRET_KEY = "')
      .e('API_KEY', r.chars(`${ALNUM}!@#%^&*(-_=+)`, 50))
      .t(`"\nDEBUG = False\nBUILD = "${decoy(r)}"\nHF_TOKEN = "`)
      .e('API_KEY', `hf_${r.chars(ALNUM, 34)}`)
      .t('"'),
];

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (k: string): string | undefined => {
    const i = args.indexOf(k);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const split = (arg('--split') ?? 'dev') as Split;
  if (split !== 'dev' && split !== 'test') throw new Error('--split dev|test');
  const n = Number(arg('--n') ?? 800);
  const out = arg('--out') ?? `data/pii/gen-${split}.json`;
  const r = new Rng(split === 'dev' ? 20261202 : 771155);
  const tpls = split === 'dev' ? DEV : TEST;
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % tpls.length;
    const b = new B();
    tpls[k]!(r, b, split);
    rows.push({ full_text: b.text, spans: b.spans, template_id: `${split}-${k}` });
  }
  mkdirSync(dirname(out), { recursive: true });
  // written in the repository's Prettier style, so `prettier --check .` passes on the committed files
  const style = (await resolveConfig(out)) ?? {};
  writeFileSync(out, await format(JSON.stringify(rows), { ...style, parser: 'json' }));
  process.stdout.write(
    `${out}: ${rows.length} rows, ${rows.reduce((a, x) => a + x.spans.length, 0)} spans\n`,
  );
}

void main();
