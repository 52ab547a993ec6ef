// Opening an array's flight DB for reading only, never writing the array. A flight DB still in
// WAL mode (the agent was killed, or is still running) needs its -shm file: on read-only media
// where the -shm is missing SQLite cannot open it read-only at all (see FlightDb.close in
// @flysnap/shared). Then the DB and its WAL are copied into a temporary folder and the copy is
// opened: the report sees everything the WAL holds, and the array stays untouched.
import { arrayPaths, FlightDbError, openFlightDb } from '@flysnap/shared';
import type { FlightDb } from '@flysnap/shared';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IngestError } from '../errors.js';

export interface OpenedFlightDb {
  db: FlightDb;
  /** True when a temporary copy was opened (the array's DB could not be opened in place). */
  isCopy: boolean;
  /** Closes the DB and removes the copy, if any. */
  close(): void;
}

function flightDbError(path: string, err: unknown): IngestError {
  return new IngestError('flight-db', `flight DB ${path}: ${(err as Error).message}`, { cause: err });
}

/** Opens `<array>/flight.db` read-only, or a temporary copy of it with its WAL when that is the only way. */
export function openArrayFlightDb(arrayRoot: string, scratchDir: string = tmpdir()): OpenedFlightDb {
  const path = arrayPaths(arrayRoot).flightDb;
  if (!existsSync(path)) throw new IngestError('not-an-array', `${arrayRoot} is not an array: no ${path}`);
  let firstError: unknown;
  try {
    const db = openFlightDb(path, { readonly: true });
    // The open itself reads nothing of the WAL index: a query does. Read once, so a missing -shm
    // on read-only media fails here and not halfway through the report.
    db.db.prepare('SELECT count(*) FROM flight').get();
    return { db, isCopy: false, close: () => db.close() };
  } catch (err) {
    if (err instanceof FlightDbError && err.code !== 'open-failed') throw flightDbError(path, err);
    if (!existsSync(`${path}-wal`)) throw flightDbError(path, err);
    firstError = err;
  }
  const dir = mkdtempSync(join(scratchDir, 'flysnap-report-db-'));
  try {
    const copy = join(dir, 'flight.db');
    // Only reached when the DB cannot be opened in place, i.e. read-only media: no writer can be
    // changing the files meanwhile, so the two copies are one consistent state.
    copyFileSync(`${path}-wal`, `${copy}-wal`);
    copyFileSync(path, copy);
    const db = openFlightDb(copy, { readonly: true });
    db.db.prepare('SELECT count(*) FROM flight').get();
    return {
      db,
      isCopy: true,
      close: () => {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new IngestError('flight-db', `flight DB ${path}: cannot be opened read-only (${(firstError as Error).message}), nor a copy of it with its WAL (${(err as Error).message})`, { cause: err });
  }
}
