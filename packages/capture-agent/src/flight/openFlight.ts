// Opens the flight on an array, creating it on a fresh array: folders, the marker (crash-safe,
// from shared), the flight DB and its flight row. On an array that already has a flight (agent
// restart after a crash or a reboot) the same flight continues: same id, same DB, raw logs appended.
import { mkdirSync } from 'node:fs';
import {
  ARRAY_LAYOUT_VERSION,
  ArrayLayoutError,
  arrayPaths,
  insertFlight,
  openFlightDb,
  readArrayMarkerSync,
  readFlight,
  writeArrayMarker,
  type FlightDb,
  type FlightRow,
} from '@flysnap/shared';
import { AGENT_NAME_VERSION } from '../version.js';

export interface OpenedFlight {
  flightDb: FlightDb;
  flight: FlightRow;
  /** True when this call created the flight; false when an existing one continues. */
  isNew: boolean;
}

export type FlightOpenErrorCode = 'ARRAY_MISSING' | 'FLIGHT_MISMATCH';

export class FlightOpenError extends Error {
  override readonly name = 'FlightOpenError';
  constructor(
    readonly code: FlightOpenErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A flight id safe as a file name: `<aircraft>_<UTC start, compact ISO>`, e.g. `SIM-1_20240101T120000Z`. */
export function newFlightId(aircraft: string, startedTUs: number): string {
  const stamp = new Date(Math.floor(startedTUs / 1000)).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const safeAircraft = aircraft.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/\.\.+/g, '.').slice(0, 64) || 'unknown';
  return `${safeAircraft}_${stamp}`;
}

export async function openOrCreateFlight(root: string, aircraft: string, nowUs: number = Date.now() * 1000): Promise<OpenedFlight> {
  const paths = arrayPaths(root);
  try {
    mkdirSync(paths.serialDir, { recursive: true });
    mkdirSync(paths.camerasDir, { recursive: true });
  } catch (err) {
    throw new FlightOpenError('ARRAY_MISSING', `array ${root}: cannot create folders (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let flightId: string;
  let createdTUs: number;
  try {
    const marker = readArrayMarkerSync(root);
    flightId = marker.flightId;
    createdTUs = marker.createdTUs;
  } catch (err) {
    if (!(err instanceof ArrayLayoutError) || err.code !== 'marker-missing') throw err;
    flightId = newFlightId(aircraft, nowUs);
    createdTUs = nowUs;
    // The marker first: if we crash before the DB exists, the restart reuses this id.
    await writeArrayMarker(root, { layoutVersion: ARRAY_LAYOUT_VERSION, flightId, createdTUs });
  }
  const flightDb = openFlightDb(paths.flightDb, { create: true });
  try {
    const existing = readFlight(flightDb);
    if (existing) {
      if (existing.id !== flightId) {
        throw new FlightOpenError('FLIGHT_MISMATCH', `array ${root}: marker says flight ${flightId} but flight.db holds ${existing.id}`);
      }
      return { flightDb, flight: existing, isNew: false };
    }
    const flight: FlightRow = {
      id: flightId,
      aircraft,
      startedTUs: createdTUs,
      endedTUs: null,
      layoutVersion: ARRAY_LAYOUT_VERSION,
      createdBy: AGENT_NAME_VERSION,
    };
    insertFlight(flightDb, flight);
    return { flightDb, flight, isNew: true };
  } catch (err) {
    flightDb.close();
    throw err;
  }
}
