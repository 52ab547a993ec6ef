// Turning NMEA times into µs since the epoch: full dates (RMC, ZDA), times of day resolved against
// the last known date (GGA, GLL, GNS), and the GPS week-rollover correction.

import { US_PER_DAY, dayStartUs, type CivilDate } from './fields.js';

/** 1024 GPS weeks, µs: the span after which a 10-bit week number wraps. */
export const WEEK_ROLLOVER_US = 1024 * 7 * US_PER_DAY;
/** How close (either side) a corrected date must land to the reference: about a year. */
export const ROLLOVER_WINDOW_US = 366 * US_PER_DAY;
const HALF_DAY_US = US_PER_DAY / 2;
/** Most 1024-week periods a receiver can be behind (3 ≈ 59 years). */
const MAX_ROLLOVERS = 3;

/**
 * Correct a time that is 1024 weeks (or a multiple) in the past relative to `referenceUs`
 * (the GPS week-rollover bug). The time is moved only when it is more than ~1 year before the
 * reference and adding k·1024 weeks lands within ~1 year of it; otherwise returned unchanged.
 */
export function correctWeekRollover(tUs: number, referenceUs: number): { tUs: number; corrected: boolean } {
  if (tUs >= referenceUs - ROLLOVER_WINDOW_US) return { tUs, corrected: false };
  for (let k = 1; k <= MAX_ROLLOVERS; k++) {
    const candidate = tUs + k * WEEK_ROLLOVER_US;
    if (Math.abs(candidate - referenceUs) <= ROLLOVER_WINDOW_US) return { tUs: candidate, corrected: true };
  }
  return { tUs, corrected: false };
}

/**
 * The decoder's knowledge of the current UTC date. A full date (RMC, ZDA) sets it; a bare time of
 * day (GGA, GLL, GNS) is placed on the known date. A time of day more than 12 h before the last
 * one means UTC midnight was crossed (23:59:59 → 00:00:01 is the next day); more than 12 h after
 * it means the sentence is from just before a midnight already crossed (the previous day). Each
 * resolved time becomes the new reference, so a stream of GGA alone crosses midnight correctly.
 */
export class DateResolver {
  /** µs since the epoch of the current date's midnight, or null before any date is known. */
  #dayUs: number | null = null;
  /** Time of day of the last resolved time, µs since midnight. */
  #todUs = 0;
  readonly #rolloverReferenceUs: number | null;

  constructor(rolloverReferenceUs: number | null) {
    this.#rolloverReferenceUs = rolloverReferenceUs;
  }

  /** Whether a date is known. */
  get hasDate(): boolean {
    return this.#dayUs !== null;
  }

  /** A full UTC date and time of day: corrected for week rollover when enabled; becomes the known date. */
  fromDate(date: CivilDate, todUs: number): { tUs: number; weekRollover: boolean } {
    let tUs = dayStartUs(date) + todUs;
    let weekRollover = false;
    if (this.#rolloverReferenceUs !== null) {
      const fixed = correctWeekRollover(tUs, this.#rolloverReferenceUs);
      tUs = fixed.tUs;
      weekRollover = fixed.corrected;
    }
    this.#dayUs = tUs - todUs;
    this.#todUs = todUs;
    return { tUs, weekRollover };
  }

  /** A bare time of day placed on the known date (see the class comment); null before any date. */
  fromTimeOfDay(todUs: number): number | null {
    if (this.#dayUs === null) return null;
    let day = this.#dayUs;
    if (todUs < this.#todUs - HALF_DAY_US) day += US_PER_DAY;
    else if (todUs > this.#todUs + HALF_DAY_US) day -= US_PER_DAY;
    this.#dayUs = day;
    this.#todUs = todUs;
    return day + todUs;
  }
}
