/**
 * Evaluates the llm-pii-redaction engine against a labelled span file (presidio-research format:
 * [{full_text, spans:[{entity_type, start_position, end_position}]}]) and, side by side, redact-pii@3.4.0.
 *
 *   npx tsx scripts/eval-pii.ts ../shared/eval/pii/presidio-synth-dev.json [--doc docs/pii.md] [--debug TYPE]
 *
 * Prints ONE JSON line. Metrics (see docs/pii.md):
 *  - recall(T): share of gold spans of type T with >= 50% of their characters redacted (by any detector);
 *  - char precision(C): characters redacted by detector category C that lie inside ANY gold span, divided by
 *    all characters redacted by C.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { SyncRedactor } from 'redact-pii';
import type { ISyncRedactor } from 'redact-pii';
import * as builtins from 'redact-pii/lib/built-ins/simple-regexp-patterns';
import { NameRedactor } from 'redact-pii/lib/built-ins/NameRedactor';
import { SimpleRegexpRedactor } from 'redact-pii/lib/built-ins/SimpleRegexpRedactor';
import { compileDetectors, ALL_CATEGORIES } from '../plugins/llm-pii-redaction/redact';
import type { PiiCategory } from '../plugins/llm-pii-redaction/redact';

interface Span {
  entity_type: string;
  start_position: number;
  end_position: number;
}
interface Row {
  full_text: string;
  spans: Span[];
}

const TARGET: Record<string, PiiCategory[]> = {
  EMAIL_ADDRESS: ['email'],
  PHONE_NUMBER: ['phone'],
  CREDIT_CARD: ['credit_card'],
  IBAN_CODE: ['iban'],
  US_SSN: ['ssn'],
  IP_ADDRESS: ['ip'],
  DOMAIN_NAME: ['domain', 'url'],
  PERSON: ['person'],
  STREET_ADDRESS: ['address'],
  US_DRIVER_LICENSE: ['driver_license'],
  API_KEY: ['credential'],
};
const STRUCTURED = [
  'EMAIL_ADDRESS',
  'PHONE_NUMBER',
  'CREDIT_CARD',
  'IBAN_CODE',
  'US_SSN',
  'IP_ADDRESS',
  'DOMAIN_NAME',
];

// redact-pii built-in redactors → our categories (for its per-category precision)
const REF_REDACTORS: [string, PiiCategory | 'digits'][] = [
  ['creditCardNumber', 'credit_card'],
  ['streetAddress', 'address'],
  ['zipcode', 'address'],
  ['phoneNumber', 'phone'],
  ['ipAddress', 'ip'],
  ['usSocialSecurityNumber', 'ssn'],
  ['emailAddress', 'email'],
  ['username', 'credential'],
  ['password', 'credential'],
  ['credentials', 'credential'],
  ['digits', 'digits'],
  ['url', 'url'],
  ['names', 'person'],
];
const REF_CATS: (PiiCategory | 'digits')[] = REF_REDACTORS.map((r) => r[1]);
const MARK0 = 0xe000;

/**
 * redact-pii with its default chain (the same built-in regexps in the same order, then the name redactor),
 * rebuilt from its exported pieces so that each built-in writes a distinct one-character marker: per-built-in
 * `replaceWith` is ignored by SyncRedactor, only `globalReplaceWith` is honoured.
 */
function refRedactor(): SyncRedactor {
  const off: Record<string, { enabled: boolean }> = {};
  for (const [name] of REF_REDACTORS) off[name] = { enabled: false };
  const before: ISyncRedactor[] = [];
  REF_REDACTORS.forEach(([name], i) => {
    const marker = String.fromCharCode(MARK0 + i);
    if (name === 'names') before.push(new NameRedactor(marker));
    else {
      const re = (builtins as Record<string, RegExp>)[name];
      if (!re) throw new Error(`redact-pii has no built-in ${name}`);
      before.push(new SimpleRegexpRedactor({ regexpPattern: re, replaceWith: marker }));
    }
  });
  return new SyncRedactor({ builtInRedactors: off, customRedactors: { before } } as ConstructorParameters<
    typeof SyncRedactor
  >[0]);
}

/** The stock redact-pii SyncRedactor with one global marker: used to check the rebuilt chain is equivalent. */
function stockRedactor(): SyncRedactor {
  return new SyncRedactor({ globalReplaceWith: '\ue0ff' });
}

/** Maps redact-pii output (original with segments replaced by one marker char) back to a per-char label array. */
function alignRef(text: string, redacted: string): Int16Array {
  const lab = new Int16Array(text.length).fill(-1);
  const tokens: ({ lit: string } | { mark: number })[] = [];
  let lit = '';
  for (const ch of redacted) {
    const c = ch.charCodeAt(0);
    if (c >= MARK0 && c < MARK0 + REF_REDACTORS.length) {
      if (lit) tokens.push({ lit });
      lit = '';
      tokens.push({ mark: c - MARK0 });
    } else lit += ch;
  }
  if (lit) tokens.push({ lit });
  let pos = 0;
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t];
    if (tok === undefined || 'lit' in tok) {
      if (tok) pos += tok.lit.length;
      continue;
    }
    const next = tokens[t + 1];
    let end: number;
    if (next === undefined) end = text.length;
    else if ('lit' in next) {
      const isLast = t + 1 === tokens.length - 1;
      const at =
        isLast && text.endsWith(next.lit) ? text.length - next.lit.length : text.indexOf(next.lit, pos + 1);
      end = at < 0 ? text.length : at;
    } else end = pos + 1; // two markers in a row: unknown split, attribute one char
    for (let i = pos; i < end; i++) lab[i] = tok.mark;
    pos = end;
  }
  return lab;
}

interface Acc {
  spans: number;
  caught: number;
  refCaught: number;
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    process.stderr.write('usage: tsx scripts/eval-pii.ts <spans.json> [--doc docs/pii.md] [--debug TYPE]\n');
    process.exit(2);
  }
  const docIdx = args.indexOf('--doc');
  const doc = docIdx >= 0 ? args[docIdx + 1] : undefined;
  const dbgIdx = args.indexOf('--debug');
  const debug = dbgIdx >= 0 ? args[dbgIdx + 1] : undefined;
  const rows = JSON.parse(readFileSync(file, 'utf8')) as Row[];
  const detector = compileDetectors({ categories: ALL_CATEGORIES.filter((c) => c !== 'custom') });
  const ref = refRedactor();
  const stock = stockRedactor();
  let mismatches = 0;

  const byType = new Map<string, Acc>();
  const oursCat = new Map<string, { red: number; inGold: number }>();
  const refCat = new Map<string, { red: number; inGold: number }>();
  let oursMs = 0;
  let refMs = 0;
  const catIndex = new Map<PiiCategory, number>(ALL_CATEGORIES.map((c, i) => [c, i]));

  for (const row of rows) {
    const text = row.full_text;
    const gold = new Uint8Array(text.length);
    for (const s of row.spans) gold.fill(1, s.start_position, s.end_position);

    let t0 = performance.now();
    const dets = detector.detect(text);
    oursMs += performance.now() - t0;
    const ours = new Int16Array(text.length).fill(-1);
    for (const d of dets) ours.fill(catIndex.get(d.category) ?? 0, d.start, d.end);

    t0 = performance.now();
    const refOut = ref.redact(text);
    refMs += performance.now() - t0;
    const refLab = alignRef(text, refOut);
    const stockOut = stock.redact(text);
    if (stockOut.replace(/\ue0ff/g, '') !== refOut.replace(/[\ue000-\ue0fe]/g, '')) mismatches++;

    for (let i = 0; i < text.length; i++) {
      const o = ours[i] ?? -1;
      if (o >= 0) {
        const k = ALL_CATEGORIES[o] ?? 'custom';
        const a = oursCat.get(k) ?? { red: 0, inGold: 0 };
        a.red++;
        if (gold[i]) a.inGold++;
        oursCat.set(k, a);
      }
      const r = refLab[i] ?? -1;
      if (r >= 0) {
        const k = REF_CATS[r] ?? 'digits';
        const a = refCat.get(k) ?? { red: 0, inGold: 0 };
        a.red++;
        if (gold[i]) a.inGold++;
        refCat.set(k, a);
      }
    }
    for (const s of row.spans) {
      const len = s.end_position - s.start_position;
      let o = 0;
      let r = 0;
      for (let i = s.start_position; i < s.end_position; i++) {
        if ((ours[i] ?? -1) >= 0) o++;
        if ((refLab[i] ?? -1) >= 0) r++;
      }
      const acc = byType.get(s.entity_type) ?? { spans: 0, caught: 0, refCaught: 0 };
      acc.spans++;
      if (len > 0 && o * 2 >= len) acc.caught++;
      if (len > 0 && r * 2 >= len) acc.refCaught++;
      byType.set(s.entity_type, acc);
      if (debug === s.entity_type && !(len > 0 && o * 2 >= len)) {
        process.stderr.write(
          `MISS ${s.entity_type} ${JSON.stringify(text.slice(s.start_position, s.end_position))} in ${JSON.stringify(text.slice(Math.max(0, s.start_position - 60), s.end_position + 40))}\n`,
        );
      }
    }
    if (debug && debug.startsWith('fp:')) {
      const want = debug.slice(3);
      for (const d of dets) {
        if (d.category !== want) continue;
        let out = 0;
        for (let i = d.start; i < d.end; i++) if (!gold[i]) out++;
        if (out > 0) {
          process.stderr.write(
            `FP ${d.category} ${JSON.stringify(text.slice(d.start, d.end))} (${out} chars outside gold) in ${JSON.stringify(text.slice(Math.max(0, d.start - 50), d.end + 30))}\n`,
          );
        }
      }
    }
  }

  const r3 = (x: number): number => Math.round(x * 1000) / 1000;
  const prec = (m: Map<string, { red: number; inGold: number }>, cats: string[]): number | null => {
    let red = 0;
    let inGold = 0;
    for (const c of cats) {
      const a = m.get(c);
      if (a) {
        red += a.red;
        inGold += a.inGold;
      }
    }
    return red === 0 ? null : r3(inGold / red);
  };
  const types: Record<string, unknown> = {};
  const sorted = [...byType.entries()].sort((a, b) => b[1].spans - a[1].spans);
  for (const [t, acc] of sorted) {
    const target = TARGET[t];
    types[t] = {
      spans: acc.spans,
      targeted: target !== undefined,
      ours: { recall: r3(acc.caught / acc.spans), char_precision: target ? prec(oursCat, target) : null },
      redact_pii: {
        recall: r3(acc.refCaught / acc.spans),
        char_precision: target ? prec(refCat, target) : null,
      },
    };
  }
  const agg = (names: string[], key: 'caught' | 'refCaught'): number => {
    let n = 0;
    let c = 0;
    for (const t of names) {
      const a = byType.get(t);
      if (a) {
        n += a.spans;
        c += a[key];
      }
    }
    return n === 0 ? 0 : r3(c / n);
  };
  const structCats = STRUCTURED.flatMap((t) => TARGET[t] ?? []);
  const refStructCats = ['email', 'phone', 'credit_card', 'ssn', 'ip', 'url'];
  const result = {
    dataset: file,
    rows: rows.length,
    redact_pii_chain_mismatches: mismatches,
    structured: {
      ours: { recall: agg(STRUCTURED, 'caught'), char_precision: prec(oursCat, structCats) },
      redact_pii: { recall: agg(STRUCTURED, 'refCaught'), char_precision: prec(refCat, refStructCats) },
    },
    secrets: byType.has('API_KEY')
      ? {
          ours: { recall: agg(['API_KEY'], 'caught'), char_precision: prec(oursCat, ['credential']) },
          redact_pii: { recall: agg(['API_KEY'], 'refCaught'), char_precision: prec(refCat, ['credential']) },
        }
      : null,
    overall: {
      ours: {
        recall_targeted: agg(Object.keys(TARGET), 'caught'),
        char_precision: prec(oursCat, [...oursCat.keys()]),
        ms_per_row: r3(oursMs / rows.length),
      },
      redact_pii: {
        recall_targeted: agg(Object.keys(TARGET), 'refCaught'),
        char_precision: prec(refCat, [...refCat.keys()]),
        ms_per_row: r3(refMs / rows.length),
      },
    },
    types,
    ours_by_category: Object.fromEntries(
      [...oursCat.entries()].map(([k, a]) => [k, { chars: a.red, char_precision: r3(a.inGold / a.red) }]),
    ),
  };
  const line = JSON.stringify(result);
  process.stdout.write(line + '\n');
  if (doc)
    writeDoc(
      doc,
      result,
      sorted.map(([t]) => t),
    );
}

function writeDoc(
  path: string,
  res: { types: Record<string, unknown> } & Record<string, unknown>,
  order: string[],
): void {
  const f = (v: unknown): string => (typeof v === 'number' ? v.toFixed(3) : '–');
  const lines: string[] = [];
  lines.push(`Dataset: \`${String(res.dataset)}\` (${String(res.rows)} rows).`, '');
  lines.push(
    '| Entity type | Spans | Targeted | Recall (ours) | Recall (redact-pii) | Char precision (ours) | Char precision (redact-pii) |',
  );
  lines.push('|---|---:|---|---:|---:|---:|---:|');
  for (const t of order) {
    const r = res.types[t] as {
      spans: number;
      targeted: boolean;
      ours: { recall: number; char_precision: number | null };
      redact_pii: { recall: number; char_precision: number | null };
    };
    lines.push(
      `| ${t} | ${r.spans} | ${r.targeted ? 'yes' : 'not targeted'} | ${f(r.ours.recall)} | ${f(r.redact_pii.recall)} | ${f(r.ours.char_precision)} | ${f(r.redact_pii.char_precision)} |`,
    );
  }
  const s = res.structured as {
    ours: { recall: number; char_precision: number };
    redact_pii: { recall: number; char_precision: number };
  };
  const o = res.overall as {
    ours: { recall_targeted: number; char_precision: number; ms_per_row: number };
    redact_pii: { recall_targeted: number; char_precision: number; ms_per_row: number };
  };
  lines.push(
    '',
    `Structured (email, phone, card, IBAN, SSN, IP, domain) together: recall ${f(s.ours.recall)} at char precision ${f(s.ours.char_precision)} (redact-pii: ${f(s.redact_pii.recall)} at ${f(s.redact_pii.char_precision)}).`,
    `All targeted types: recall ${f(o.ours.recall_targeted)}; char precision over everything redacted ${f(o.ours.char_precision)} (redact-pii: ${f(o.redact_pii.recall_targeted)}, ${f(o.redact_pii.char_precision)}). Time per row: ${f(o.ours.ms_per_row)} ms (redact-pii ${f(o.redact_pii.ms_per_row)} ms).`,
  );
  const doc = readFileSync(path, 'utf8');
  const begin = '<!-- eval:begin -->';
  const end = '<!-- eval:end -->';
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${path} lacks ${begin} … ${end} markers`);
  writeFileSync(path, doc.slice(0, a + begin.length) + '\n' + lines.join('\n') + '\n' + doc.slice(b));
}

main();
