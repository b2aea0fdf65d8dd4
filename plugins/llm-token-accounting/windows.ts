/**
 * Window arithmetic: rolling windows of N seconds (aligned to the epoch, so every node agrees) and
 * calendar periods (minute … month) in an IANA time zone, DST-correct.
 */
import type { CalendarPeriod } from './schema';

export interface WindowSpan {
  /** Stable id of this window (part of the counter key). */
  id: string;
  /** Id of the previous window (sliding windows read it). */
  prevId: string;
  startMs: number;
  endMs: number;
  /** Share of the previous window still counted (sliding only; 0 for fixed). */
  prevWeight: number;
  /** Header/label name of the window: the calendar period or the size in seconds. */
  name: string;
}

/** A rolling window of `sizeSec` seconds. */
export function rollingWindow(nowMs: number, sizeSec: number, sliding: boolean): WindowSpan {
  const size = sizeSec * 1000;
  const start = Math.floor(nowMs / size) * size;
  return {
    id: String(start / 1000),
    prevId: String((start - size) / 1000),
    startMs: start,
    endMs: start + size,
    prevWeight: sliding ? Math.max(0, 1 - (nowMs - start) / size) : 0,
    name: String(sizeSec),
  };
}

const fmtCache = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = fmtCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    fmtCache.set(tz, f);
  }
  return f;
}

interface Local {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
  wd: number; // 0 = Monday
}

const WEEKDAYS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

function local(ms: number, tz: string): Local {
  const p: Record<string, string> = {};
  for (const part of formatter(tz).formatToParts(new Date(ms))) p[part.type] = part.value;
  return {
    y: Number(p.year),
    mo: Number(p.month),
    d: Number(p.day),
    h: Number(p.hour),
    mi: Number(p.minute),
    s: Number(p.second),
    wd: WEEKDAYS[p.weekday ?? 'Mon'] ?? 0,
  };
}

/** The UTC instant of a local wall-clock time in `tz` (the earlier one when DST repeats an hour). */
function instantOf(y: number, mo: number, d: number, h: number, mi: number, tz: string): number {
  const guess = Date.UTC(y, mo - 1, d, h, mi);
  let t = guess;
  for (let i = 0; i < 3; i++) {
    const l = local(t, tz);
    const asUtc = Date.UTC(l.y, l.mo - 1, l.d, l.h, l.mi, l.s);
    const offset = asUtc - t;
    const next = guess - offset;
    if (next === t) break;
    t = next;
  }
  return t;
}

function periodStart(ms: number, period: CalendarPeriod, tz: string): { start: number; key: string } {
  const l = local(ms, tz);
  const pad = (n: number) => String(n).padStart(2, '0');
  switch (period) {
    case 'minute':
      return {
        start: instantOf(l.y, l.mo, l.d, l.h, l.mi, tz),
        key: `${l.y}-${pad(l.mo)}-${pad(l.d)}T${pad(l.h)}:${pad(l.mi)}`,
      };
    case 'hour':
      return {
        start: instantOf(l.y, l.mo, l.d, l.h, 0, tz),
        key: `${l.y}-${pad(l.mo)}-${pad(l.d)}T${pad(l.h)}`,
      };
    case 'day':
      return { start: instantOf(l.y, l.mo, l.d, 0, 0, tz), key: `${l.y}-${pad(l.mo)}-${pad(l.d)}` };
    case 'week': {
      const monday = new Date(Date.UTC(l.y, l.mo - 1, l.d - l.wd));
      const [y, mo, d] = [monday.getUTCFullYear(), monday.getUTCMonth() + 1, monday.getUTCDate()];
      return { start: instantOf(y, mo, d, 0, 0, tz), key: `${y}-${pad(mo)}-${pad(d)}W` };
    }
    case 'month':
      return { start: instantOf(l.y, l.mo, 1, 0, 0, tz), key: `${l.y}-${pad(l.mo)}` };
  }
}

/** The calendar period containing `nowMs` in `tz`. */
export function calendarWindow(nowMs: number, period: CalendarPeriod, tz: string): WindowSpan {
  const cur = periodStart(nowMs, period, tz);
  // The next period starts after the longest possible length of this one; find it by probing.
  const probe: Record<CalendarPeriod, number> = {
    minute: 61_000,
    hour: 3_601_000,
    day: 26 * 3_600_000,
    week: 7 * 86_400_000 + 3_601_000,
    month: 32 * 86_400_000,
  };
  let next = periodStart(cur.start + probe[period], period, tz);
  if (next.start <= cur.start) next = periodStart(cur.start + 2 * probe[period], period, tz);
  // A probe can overshoot by one period for short months/DST days: step back while still after cur.
  let back = periodStart(next.start - 1, period, tz);
  while (back.start > cur.start) {
    next = back;
    back = periodStart(next.start - 1, period, tz);
  }
  const prev = periodStart(cur.start - 1, period, tz);
  return {
    id: cur.key,
    prevId: prev.key,
    startMs: cur.start,
    endMs: next.start,
    prevWeight: 0,
    name: period,
  };
}
