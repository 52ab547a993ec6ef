// The flight clock as the camera side needs it: monotonic µs → UTC µs, or null without a fit.
//
// A monotonic time is only ever converted through a fit of the boot it was read on: the monotonic
// clock restarts at every boot, so after a reboot mid-flight the previous boot's fits (still in the
// flight DB) would give a wrong time, and with it a wrong pose. No fit of that boot = no time (the
// asset waits, or keeps no time), never a time by another boot's fit.
import { readLastClockFitOfBoot, type ClockFitRow, type FlightDbLike } from '@flysnap/shared';

export interface MonoToUtc {
  /**
   * UTC µs for a monotonic time of boot `bootId` (the capture machine's current boot), or null while
   * there is no fit of it: then for every time (the catch-up relies on it), never for some only.
   */
  toUtc(monoUs: number): number | null;
  /**
   * The boot whose monotonic clock `toUtc` reads. Absent: not known, and then the catch-up never
   * hands it a stored time (it converts those only through stored fits of the asset's own boot).
   */
  readonly bootId?: string;
}

/** How long a read clock fit is reused before the DB is asked again, ms. */
const FIT_CACHE_MS = 1000;

/** Pure: UTC µs of a monotonic time of the fit's own boot: tUs = fittedTUs + (monoUs − fittedMonoUs)·(1 + drift·1e-6). */
export function utcByFit(fit: Pick<ClockFitRow, 'fittedMonoUs' | 'fittedTUs' | 'driftPpm'>, monoUs: number): number {
  return Math.round(fit.fittedTUs + (monoUs - fit.fittedMonoUs) * (1 + fit.driftPpm * 1e-6));
}

/**
 * Reads the flight clock of boot `bootId` from the flight DB's latest `clock_fit` row of that boot
 * (the serial side stores a fit every few seconds, with its boot). Chosen over the live in-process
 * FlightClock so that the same code serves the running agent, a restarted one on the same boot
 * (fits from before the crash) and reprocessing, with no coupling to the serial pipeline's objects.
 * Fits of other boots and of unknown boot (schema v1 rows) are never used.
 */
export function clockFromFlightDb(db: FlightDbLike, bootId: string): MonoToUtc {
  let fit: ClockFitRow | null = null;
  let readAtMs = -Infinity;
  return {
    bootId,
    toUtc(monoUs: number): number | null {
      const now = Date.now();
      if (fit === null || now - readAtMs > FIT_CACHE_MS) {
        fit = readLastClockFitOfBoot(db, bootId);
        readAtMs = now;
      }
      return fit === null ? null : utcByFit(fit, monoUs);
    },
  };
}
