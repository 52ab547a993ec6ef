// When each line of a replay is written: pure arithmetic on the times found in the log.

import { US_PER_DAY } from './nmea-time.js';

/** How a replay is paced. */
export type Pacing =
  /** By the times inside the log, `speed` times faster than recorded (1 = real time). */
  | { mode: 'log-time'; speed: number }
  /** A fixed number of lines per second, ignoring the log's times. */
  | { mode: 'rate'; hz: number }
  /** As fast as the reader takes it. */
  | { mode: 'fast' };

/** Which clock the line times are on. */
export type LineClock =
  /** NMEA time of day (µs since midnight UTC): wraps at midnight. */
  | 'time-of-day'
  /** A monotonic µs counter (the agent's raw log monoUs). */
  | 'monotonic';

/**
 * A gap in the log longer than this (a trimmed recording, a receiver off for minutes) is replayed
 * as this long: the replay is for feeding an agent, not for waiting.
 */
export const MAX_GAP_US = 10 * 1_000_000;
/**
 * A time this much earlier than the latest one is a splice of two recordings (e.g. bt451.log):
 * the replay goes on from there without waiting. Smaller steps back (one sentence type a second
 * behind the others, as in garmin48.log) are ignored.
 */
export const SPLICE_BACKWARD_US = 5 * 1_000_000;

/**
 * Elapsed log time (µs) at each line: timed lines advance it by their time's step (capped at
 * MAX_GAP_US, never backwards), untimed lines go with the previous timed line. Counted from
 * `originUs` when given (the earliest first time of several logs on the same clock, so that they
 * stay aligned: a log whose first time is 2 s after the origin starts 2 s in), else from the
 * log's own first time. Untimed lines before the log's first timed line go with that line.
 */
export function logElapsedUs(times: ReadonlyArray<number | null>, clock: LineClock, originUs?: number | null): number[] {
  const out: number[] = [];
  let cursor = 0;
  let last: number | null = originUs ?? null;
  let leadingUntimed = 0;
  let hasTimed = false;
  for (const t of times) {
    if (t !== null) {
      if (last === null) {
        last = t;
      } else {
        let delta = t - last;
        if (clock === 'time-of-day' && delta < -US_PER_DAY / 2) delta += US_PER_DAY;
        if (delta > 0) {
          cursor += Math.min(delta, MAX_GAP_US);
          last = t;
        } else if (delta <= -SPLICE_BACKWARD_US) {
          last = t;
        }
      }
      if (!hasTimed) {
        hasTimed = true;
        for (let i = out.length - leadingUntimed; i < out.length; i++) out[i] = cursor;
      }
    } else if (!hasTimed) {
      leadingUntimed += 1;
    }
    out.push(cursor);
  }
  return out;
}

/** From `fromUs` to `toUs` on `clock` (time of day: the short way round midnight). */
function stepUs(fromUs: number, toUs: number, clock: LineClock): number {
  let delta = toUs - fromUs;
  if (clock === 'time-of-day') {
    if (delta < -US_PER_DAY / 2) delta += US_PER_DAY;
    else if (delta > US_PER_DAY / 2) delta -= US_PER_DAY;
  }
  return delta;
}

/**
 * The common origin of several logs on the same clock: the earliest of their first times (time
 * of day: earliest the short way round midnight). Null when none of them has a time.
 */
export function commonOriginUs(firstTimes: ReadonlyArray<number | null>, clock: LineClock): number | null {
  let origin: number | null = null;
  for (const t of firstTimes) {
    if (t === null) continue;
    if (origin === null || stepUs(origin, t, clock) < 0) origin = t;
  }
  return origin;
}

/**
 * Wall-clock offset (µs from the start of the replay) of each line. With log-time pacing, lines
 * are counted from `originUs` (see logElapsedUs) when given.
 */
export function scheduleUs(times: ReadonlyArray<number | null>, clock: LineClock, pacing: Pacing, originUs?: number | null): number[] {
  switch (pacing.mode) {
    case 'fast':
      return times.map(() => 0);
    case 'rate':
      return times.map((_, i) => Math.round((i * 1_000_000) / pacing.hz));
    case 'log-time':
      return logElapsedUs(times, clock, originUs).map((us) => Math.round(us / pacing.speed));
  }
}

/** The time a log's lines are counted from: its first timed line's, or null. */
export function firstTimeUs(times: ReadonlyArray<number | null>): number | null {
  for (const t of times) if (t !== null) return t;
  return null;
}

/** Wall time between the last line of one pass and the first of the next, with --loop. */
export function loopGapUs(pacing: Pacing): number {
  switch (pacing.mode) {
    case 'fast':
      return 0;
    case 'rate':
      return Math.round(1_000_000 / pacing.hz);
    case 'log-time':
      return Math.round(1_000_000 / pacing.speed);
  }
}
