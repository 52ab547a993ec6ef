// Test samples for the flight store's lock tests: sample i is a GGA position whose receive time
// (MONO0 + i × 100 ms) gives its number back from the DB, so a lost or doubled sample shows.
import { readNavSamples, type FlightDb, type NavSampleInsert } from '@flysnap/shared';

export const T0 = Date.UTC(2024, 5, 1, 8) * 1000;
export const MONO0 = 3_600_000_000;
/** The store's debug line when a flush is refused for another connection's lock. */
export const BUSY_MSG = 'flight DB busy: batch held for the next flush';
export const GPS_PORT = { name: 'gps', role: 'gps', path: '/dev/ttyUSB0', baudRate: 115200, status: 'open', lastError: null, statusTUs: T0 } as const;

/** Sample i on `port`; `rawOffset` null for a source without a raw log. */
export function positionRow(i: number, { port = 'gps', rawOffset = i * 80 }: { port?: string; rawOffset?: number | null } = {}): NavSampleInsert {
  return {
    sample: { kind: 'position', sentence: 'GGA', talker: 'GP', tUs: T0 + i * 100_000, latDeg: 48 + i * 1e-5, lonDeg: 11.5, altitudeM: 500, fixQuality: 1, satellites: 9, hdop: 0.9 },
    tUs: T0 + i * 100_000,
    tSource: 'sentence',
    port,
    rawOffset,
    receivedMonoUs: MONO0 + i * 100_000,
    flags: [],
  };
}

/** The sample numbers stored, sorted (duplicates would show). */
export function storedIndexes(db: FlightDb): number[] {
  return readNavSamples(db)
    .map((s) => ((s.receivedMonoUs ?? Number.NaN) - MONO0) / 100_000)
    .sort((a, b) => a - b);
}
