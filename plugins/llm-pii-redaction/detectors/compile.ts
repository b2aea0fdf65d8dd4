/**
 * Builds a Detector from a config: selects the detectors for the enabled categories, validates custom
 * patterns, scans long inputs in bounded overlapping windows, and resolves overlapping candidates
 * (higher confidence wins, then the longer span).
 */
import { PluginError } from '../../../lib/errors';
import type { Detection, Detector, DetectorConfig, PiiCategory } from './types';
import { ALL_CATEGORIES } from './types';
import {
  detectCard,
  detectCrypto,
  detectDomain,
  detectEmail,
  detectIban,
  detectIp,
  detectSsn,
  detectUrl,
} from './structured';
import { detectPhone } from './phone';
import { detectDob, detectIdNumbers } from './contextual';
import { detectSecrets } from './secrets';
import { detectPerson } from './person';
import { detectAddress } from './address';
import { compileCustom, detectCustom } from './custom';

/** Inputs longer than this are scanned in overlapping windows, so the work per window is bounded. */
export const WINDOW = 16384;
export const OVERLAP = 512;
/** detectAsync scans in smaller windows, so each synchronous slice stays far below 10 ms. */
export const ASYNC_WINDOW = 4096;

type Fn = (text: string, out: Detection[]) => void;

export function compileDetectors(cfg: DetectorConfig): Detector {
  if (!cfg || !Array.isArray(cfg.categories)) {
    throw new PluginError('CONFIG_INVALID', 'detector config needs a categories array', 400, true);
  }
  const known = new Set<string>(ALL_CATEGORIES);
  for (const c of cfg.categories) {
    if (!known.has(c))
      throw new PluginError('CONFIG_INVALID', `unknown PII category "${String(c)}"`, 400, true);
  }
  const cats = new Set<PiiCategory>(cfg.categories);
  const fns: Fn[] = [];
  if (cats.has('email')) fns.push(detectEmail);
  if (cats.has('credit_card')) fns.push(detectCard);
  if (cats.has('iban')) fns.push(detectIban);
  if (cats.has('ssn')) fns.push(detectSsn);
  if (cats.has('ip')) fns.push(detectIp);
  if (cats.has('url')) fns.push(detectUrl);
  if (cats.has('domain')) fns.push(detectDomain);
  if (cats.has('crypto')) fns.push(detectCrypto);
  if (cats.has('phone')) fns.push(detectPhone);
  if (cats.has('date_of_birth')) fns.push(detectDob);
  if (cats.has('passport') || cats.has('driver_license') || cats.has('national_id')) {
    fns.push((t, o) => detectIdNumbers(t, o, cats));
  }
  if (cats.has('credential')) fns.push(detectSecrets);
  if (cats.has('address')) fns.push(detectAddress);
  if (cats.has('person')) fns.push(detectPerson);
  const custom = cfg.customPatterns && cfg.customPatterns.length > 0 ? compileCustom(cfg.customPatterns) : [];
  if (custom.length > 0) {
    if (!cats.has('custom')) cats.add('custom');
    fns.push((t, o) => detectCustom(t, o, custom));
  }

  const scan = (text: string, offset: number, out: Detection[]): void => {
    const local: Detection[] = [];
    for (const fn of fns) fn(text, local);
    for (const d of local) {
      if (!cats.has(d.category)) continue;
      if (d.end <= d.start) continue;
      out.push(offset === 0 ? d : { ...d, start: d.start + offset, end: d.end + offset });
    }
  };

  return {
    detect(text: string): Detection[] {
      if (typeof text !== 'string' || text.length === 0) return [];
      const cands: Detection[] = [];
      for (const [start, end] of windows(text)) scan(text.slice(start, end), start, cands);
      return resolveOverlaps(cands, text);
    },
    async detectAsync(text: string): Promise<Detection[]> {
      if (typeof text !== 'string' || text.length === 0) return [];
      // Overlaps are resolved group by group as the scan advances (a group is closed once no later
      // window can add a candidate that touches it), so no single step handles the whole input.
      let pending: Detection[] = [];
      const kept: Detection[] = [];
      const wins = windows(text, ASYNC_WINDOW);
      for (let w = 0; w < wins.length; w++) {
        const [start, end] = wins[w] as [number, number];
        if (w > 0) await yieldToLoop();
        scan(text.slice(start, end), start, pending);
        const nextStart = w + 1 < wins.length ? (wins[w + 1] as [number, number])[0] : Infinity;
        pending.sort((a, b) => a.start - b.start);
        // the last cut at or before nextStart that no pending candidate spans
        let cut = 0;
        let maxEnd = 0;
        for (let i = 0; i < pending.length; i++) {
          const d = pending[i] as Detection;
          if (d.start > nextStart) break;
          if (d.start >= maxEnd) cut = i;
          maxEnd = Math.max(maxEnd, d.end);
          if (i === pending.length - 1 && maxEnd <= nextStart) cut = pending.length;
        }
        if (nextStart === Infinity) cut = pending.length;
        if (cut > 0) {
          const group = pending.slice(0, cut);
          pending = pending.slice(cut);
          for (const d of resolveOverlaps(group, text)) kept.push(d);
        }
      }
      if (pending.length > 0) for (const d of resolveOverlaps(pending, text)) kept.push(d);
      kept.sort((a, b) => a.start - b.start);
      return kept;
    },
  };
}

/** setImmediate, so timers and I/O callbacks run between two windows of one large input. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Overlapping windows of at most WINDOW characters, ending at whitespace when one is near. */
function windows(text: string, size = WINDOW): [number, number][] {
  if (text.length <= size) return [[0, text.length]];
  const out: [number, number][] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + size);
    if (end < text.length) {
      // end the window at whitespace when one is near, so tokens are rarely cut
      const ws = text.lastIndexOf(' ', end);
      if (ws > end - OVERLAP / 2 && ws > start) end = ws;
    }
    out.push([start, end]);
    if (end >= text.length) break;
    start = end - OVERLAP;
  }
  return out;
}

/** The end of a span cut at `e`, without trailing separators. */
function trimmedEnd(text: string, d: Detection, e: number): number {
  let k = e;
  while (k > d.start && /[\s,;:./|-]/.test(text[k - 1] ?? '')) k--;
  return k;
}

/** Greedy selection: confidence desc, then length desc, then start asc; drops candidates that overlap a kept one. */
export function resolveOverlaps(cands: Detection[], text: string): Detection[] {
  if (cands.length <= 1) return cands;
  // only the range the candidates cover is tracked (the async scan resolves small groups of a long text)
  let base = Infinity;
  let top = 0;
  for (const d of cands) {
    base = Math.min(base, d.start);
    top = Math.max(top, d.end);
  }
  cands.sort(
    (a, b) => b.confidence - a.confidence || b.end - b.start - (a.end - a.start) || a.start - b.start,
  );
  const used = new Uint8Array(Math.max(0, top - base));
  const kept: Detection[] = [];
  for (const d of cands) {
    let free = true;
    for (let i = d.start; i < d.end; i++) {
      if (used[i - base]) {
        free = false;
        break;
      }
    }
    if (!free) {
      // an address or person span that ran over a stronger detection keeps its free head (its tail
      // extension went too far), when that head is most of it
      if (d.category !== 'address' && d.category !== 'person') continue;
      let e = d.start;
      while (e < d.end && !used[e - base]) e++;
      const cut = trimmedEnd(text, d, e);
      if (cut - d.start < 4 || (cut - d.start) * 2 < d.end - d.start) continue;
      used.fill(1, d.start - base, cut - base);
      kept.push({ ...d, end: cut });
      continue;
    }
    used.fill(1, d.start - base, d.end - base);
    kept.push(d);
  }
  kept.sort((a, b) => a.start - b.start);
  return kept;
}
