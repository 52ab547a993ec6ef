import { describe, expect, it } from 'vitest';
import { DateResolver, ROLLOVER_WINDOW_US, WEEK_ROLLOVER_US, correctWeekRollover } from '../../src/nmea/dates.js';

const us = (iso: string): number => Date.parse(iso) * 1000;
const HOUR_US = 3600e6;

describe('DateResolver', () => {
  it('knows no date until a full date arrives', () => {
    const r = new DateResolver(null);
    expect(r.fromTimeOfDay(12 * HOUR_US)).toBeNull();
    expect(r.fromDate({ year: 2010, month: 7, day: 8 }, 12 * HOUR_US).tUs).toBe(us('2010-07-08T12:00:00Z'));
    expect(r.fromTimeOfDay(12 * HOUR_US + 1e6)).toBe(us('2010-07-08T12:00:01Z'));
  });

  it('moves to the next day when the time of day wraps past midnight, repeatedly', () => {
    const r = new DateResolver(null);
    r.fromDate({ year: 2010, month: 12, day: 31 }, 23 * HOUR_US + 59 * 60e6 + 58e6);
    expect(r.fromTimeOfDay(23 * HOUR_US + 59 * 60e6 + 59e6)).toBe(us('2010-12-31T23:59:59Z'));
    expect(r.fromTimeOfDay(0)).toBe(us('2011-01-01T00:00:00Z'));
    expect(r.fromTimeOfDay(2e6)).toBe(us('2011-01-01T00:00:02Z'));
    // a GGA-only stream (steps under 12 h): the day keeps advancing
    expect(r.fromTimeOfDay(11 * HOUR_US)).toBe(us('2011-01-01T11:00:00Z'));
    expect(r.fromTimeOfDay(22 * HOUR_US)).toBe(us('2011-01-01T22:00:00Z'));
    expect(r.fromTimeOfDay(1e6)).toBe(us('2011-01-02T00:00:01Z'));
  });

  it('puts a late 23:59:59 after a new-day date on the previous day', () => {
    const r = new DateResolver(null);
    r.fromDate({ year: 2011, month: 1, day: 1 }, 0);
    expect(r.fromTimeOfDay(24 * HOUR_US - 1e6)).toBe(us('2010-12-31T23:59:59Z'));
  });

  it('lets time go back a little within a day (spliced logs) without changing the date', () => {
    const r = new DateResolver(null);
    r.fromDate({ year: 2009, month: 12, day: 9 }, 15 * HOUR_US);
    expect(r.fromTimeOfDay(14 * HOUR_US)).toBe(us('2009-12-09T14:00:00Z'));
  });
});

describe('week rollover', () => {
  const ref = us('2024-06-01T00:00:00Z');

  it('corrects a date 1024 weeks back, and 2048 weeks back', () => {
    const t = us('2024-05-20T10:00:00Z');
    expect(correctWeekRollover(t - WEEK_ROLLOVER_US, ref)).toEqual({ tUs: t, corrected: true });
    expect(correctWeekRollover(t - 2 * WEEK_ROLLOVER_US, ref)).toEqual({ tUs: t, corrected: true });
  });

  it('leaves recent dates and dates that no multiple of 1024 weeks explains', () => {
    const t = us('2024-05-20T10:00:00Z');
    expect(correctWeekRollover(t, ref).corrected).toBe(false);
    expect(correctWeekRollover(ref - ROLLOVER_WINDOW_US + 1, ref).corrected).toBe(false);
    expect(correctWeekRollover(us('2014-04-16T00:00:00Z'), ref).corrected).toBe(false);
  });

  it('is applied by the resolver only when a reference is set', () => {
    // 2004-10-05 + 1024 weeks = 2024-05-21 (1024·7 = 7168 days)
    const date = { year: 2004, month: 10, day: 5 };
    expect(new DateResolver(null).fromDate(date, 0)).toEqual({ tUs: us('2004-10-05T00:00:00Z'), weekRollover: false });
    const r = new DateResolver(ref);
    expect(r.fromDate(date, 0)).toEqual({ tUs: us('2024-05-21T00:00:00Z'), weekRollover: true });
    // and the corrected date is the one later times of day are placed on
    expect(r.fromTimeOfDay(HOUR_US)).toBe(us('2024-05-21T01:00:00Z'));
  });
});
