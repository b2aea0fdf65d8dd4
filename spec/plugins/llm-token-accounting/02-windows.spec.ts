import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { calendarWindow, rollingWindow } from '../../../plugins/llm-token-accounting/windows';

const at = (iso: string) => Date.parse(iso);

describe('llm-token-accounting: windows', () => {
  it('aligns rolling windows to the epoch so every node agrees', () => {
    const w = rollingWindow(at('2026-11-26T10:17:30Z'), 3600, false);
    assert.equal(w.startMs, at('2026-11-26T10:00:00Z'));
    assert.equal(w.endMs, at('2026-11-26T11:00:00Z'));
    assert.equal(w.prevWeight, 0);
    assert.equal(Number(w.id) - Number(w.prevId), 3600);
  });

  it('weights the previous window by the part still inside a sliding window', () => {
    const w = rollingWindow(at('2026-11-26T10:15:00Z'), 3600, true);
    assert.equal(w.prevWeight, 0.75);
  });

  it('finds calendar days in a time zone, across daylight-saving changes', () => {
    // Europe/Berlin switches to summer time on 2026-03-29: that day has 23 hours.
    const d = calendarWindow(at('2026-03-29T12:00:00Z'), 'day', 'Europe/Berlin');
    assert.equal(d.startMs, at('2026-03-28T23:00:00Z'));
    assert.equal(d.endMs, at('2026-03-29T22:00:00Z'));
    assert.equal(d.id, '2026-03-29');
    assert.equal(d.prevId, '2026-03-28');
    // 00:30 local on the 29th is still the 29th, though it is the 28th in UTC
    assert.equal(calendarWindow(at('2026-03-28T23:30:00Z'), 'day', 'Europe/Berlin').id, '2026-03-29');
  });

  it('finds calendar months and weeks (ISO weeks start on Monday)', () => {
    const feb = calendarWindow(at('2026-02-15T00:00:00Z'), 'month', 'UTC');
    assert.equal(feb.startMs, at('2026-02-01T00:00:00Z'));
    assert.equal(feb.endMs, at('2026-03-01T00:00:00Z'));
    assert.equal(feb.prevId, '2026-01');
    const ny = calendarWindow(at('2026-01-01T03:00:00Z'), 'month', 'America/New_York');
    assert.equal(ny.id, '2025-12', 'still December in New York');
    const week = calendarWindow(at('2026-11-26T12:00:00Z'), 'week', 'UTC'); // a Thursday
    assert.equal(week.startMs, at('2026-11-23T00:00:00Z'));
    assert.equal(week.endMs, at('2026-11-30T00:00:00Z'));
  });

  it('finds minutes and hours in zones with non-hour offsets', () => {
    const h = calendarWindow(at('2026-11-26T10:50:00Z'), 'hour', 'Asia/Kolkata'); // UTC+5:30
    assert.equal(h.startMs, at('2026-11-26T10:30:00Z'));
    assert.equal(h.endMs, at('2026-11-26T11:30:00Z'));
    const m = calendarWindow(at('2026-11-26T10:50:42Z'), 'minute', 'UTC');
    assert.equal(m.endMs - m.startMs, 60_000);
  });
});
