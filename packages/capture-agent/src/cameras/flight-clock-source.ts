// The flight clock as the camera side needs it: monotonic µs → UTC µs, or null without a fit.
import { readLastClockFit, type ClockFitRow, type FlightDbLike } from '@flysnap/shared';

export interface MonoToUtc {
  /** UTC µs for a monotonic time, or null while the flight clock has no fit. */
  toUtc(monoUs: number): number | null;
}

/** How long a read clock fit is reused before the DB is asked again, ms. */
const FIT_CACHE_MS = 1000;

/**
 * Reads the flight clock from the flight DB's latest `clock_fit` row (the serial side stores a fit
 * every few seconds). Chosen over the live in-process FlightClock so that the same code serves the
 * running agent, a restarted one (fits from before the crash) and reprocessing, with no coupling
 * to the serial pipeline's objects. Model: tUs = fittedTUs + (monoUs − fittedMonoUs)·(1 + drift·1e-6).
 */
export function clockFromFlightDb(db: FlightDbLike): MonoToUtc {
  let fit: ClockFitRow | null = null;
  let readAtMs = -Infinity;
  return {
    toUtc(monoUs: number): number | null {
      const now = Date.now();
      if (fit === null || now - readAtMs > FIT_CACHE_MS) {
        fit = readLastClockFit(db);
        readAtMs = now;
      }
      if (fit === null) return null;
      return Math.round(fit.fittedTUs + (monoUs - fit.fittedMonoUs) * (1 + fit.driftPpm * 1e-6));
    },
  };
}
