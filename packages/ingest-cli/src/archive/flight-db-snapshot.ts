// The flight DB is read from a copy, never in place: the array may be mounted read-only, and
// SQLite cannot open a WAL database read-only there without its -shm file; and what the
// archive holds must be exactly what was checked. So flight.db and flight.db-wal are copied once
// into the work folder (hashed on the way), the copy is checked and queried, and the same copy
// is what goes into the archive. The array's copy is read once and never opened by SQLite.
import { FlightDbError, checkFlightDbIntegrity, openFlightDb, readAssets, readFlight } from '@flysnap/shared';
import type { AssetRow, FlightDb, FlightRow } from '@flysnap/shared';
import { createHash } from 'node:crypto';
import { copyFileSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { IngestError, errnoCode, isDiskFull } from '../errors.js';
import { readFileChunks } from './file-reader.js';
import type { ArrayEntry } from './walk-array.js';

export interface SnapshotFile {
  entry: ArrayEntry;
  copyPath: string;
  sha256: string;
}

export interface FlightDbSnapshot {
  /** flight.db, then flight.db-wal when there is one. */
  files: SnapshotFile[];
  flight: FlightRow;
  assets: AssetRow[];
  schemaVersion: number;
}

async function copyHashed(src: string, entry: ArrayEntry, dest: string, signal?: AbortSignal): Promise<SnapshotFile> {
  const hash = createHash('sha256');
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(dest, 'wx');
  } catch (err) {
    throw new IngestError('io', `cannot create ${dest} (${errnoCode(err) ?? String(err)})`, { cause: err });
  }
  try {
    await readFileChunks(src, entry.path, entry.sizeBytes, async (chunk) => {
      hash.update(chunk);
      await fh.write(chunk);
    }, signal);
  } catch (err) {
    if (isDiskFull(err)) throw new IngestError('disk-full', `no room for a copy of ${entry.path} in ${dest} (${errnoCode(err)})`, { cause: err });
    throw err;
  } finally {
    await fh.close();
  }
  return { entry, copyPath: dest, sha256: hash.digest('hex') };
}

/**
 * Copies the flight DB (and its WAL) into `workDir`, checks it (a flight DB, integrity_check,
 * foreign keys) and reads the flight row and every asset row from the copy. Throws
 * IngestError('flight-db') naming what is wrong.
 */
export async function snapshotFlightDb(arrayRoot: string, workDir: string, entries: readonly ArrayEntry[], signal?: AbortSignal): Promise<FlightDbSnapshot> {
  const dbEntry = entries.find((e) => e.path === 'flight.db');
  if (dbEntry === undefined || dbEntry.type !== 'file') {
    throw new IngestError('flight-db', `array ${arrayRoot}: no flight.db (the capture agent writes it at the start of a flight)`);
  }
  const walEntry = entries.find((e) => e.path === 'flight.db-wal' && e.type === 'file');
  const files = [await copyHashed(join(arrayRoot, 'flight.db'), dbEntry, join(workDir, 'flight.db'), signal)];
  if (walEntry !== undefined) files.push(await copyHashed(join(arrayRoot, 'flight.db-wal'), walEntry, join(workDir, 'flight.db-wal'), signal));

  // Queries run on a second copy: opening a database lets SQLite write its -shm (and, for an
  // older schema, migrate), and the first copy must stay byte for byte what was hashed.
  const queryDir = join(workDir, 'query');
  await fsp.mkdir(queryDir);
  for (const f of files) copyFileSync(f.copyPath, join(queryDir, f.entry.path));
  let db: FlightDb;
  try {
    try {
      db = openFlightDb(join(queryDir, 'flight.db'), { readonly: true });
    } catch (err) {
      if (!(err instanceof FlightDbError) || err.code !== 'schema-outdated') throw err;
      db = openFlightDb(join(queryDir, 'flight.db')); // an older schema: upgraded in the query copy only
    }
  } catch (err) {
    throw new IngestError('flight-db', `flight DB ${join(arrayRoot, 'flight.db')}: ${(err as Error).message.replace(join(queryDir, 'flight.db'), 'the copy read')}`, { cause: err });
  }
  try {
    const integrity = checkFlightDbIntegrity(db);
    if (!integrity.ok) {
      throw new IngestError('flight-db', `flight DB ${join(arrayRoot, 'flight.db')} fails its integrity check: ${integrity.problems.slice(0, 5).join('; ')}`, { details: integrity.problems.slice(0, 50) });
    }
    const flight = readFlight(db);
    if (flight === null) throw new IngestError('flight-db', `flight DB ${join(arrayRoot, 'flight.db')} has no flight row`);
    return { files, flight, assets: readAssets(db), schemaVersion: db.schemaVersion };
  } catch (err) {
    if (err instanceof IngestError) throw err;
    throw new IngestError('flight-db', `flight DB ${join(arrayRoot, 'flight.db')}: ${(err as Error).message}`, { cause: err });
  } finally {
    db.close({ keepWal: true });
  }
}
