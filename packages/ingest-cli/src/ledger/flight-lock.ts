// Two ingest-cli processes never work on the same flight at once: a lock file per flight in the
// state folder. It is the capture agent's own lock protocol (owner pid + boot id + process start
// time, atomic create, safe takeover of a lock whose owner died), used from its module so both
// sides judge a lock's liveness by one definition.
import { acquireArrayLock, LockError } from '@flysnap/capture-agent/lock';
import type { ArrayLock } from '@flysnap/capture-agent/lock';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { IngestError } from '../errors.js';

export interface FlightLock {
  readonly path: string;
  /** Set when a lock left by a dead ingest-cli was taken over. */
  readonly tookOverFromPid: number | null;
  release(): void;
}

/** Takes the lock of `flightId` in `locksDir`, or throws IngestError('flight-busy') naming the holder. */
export function lockFlight(locksDir: string, flightId: string): FlightLock {
  mkdirSync(locksDir, { recursive: true, mode: 0o750 });
  const path = join(locksDir, `${flightId}.lock`);
  let lock: ArrayLock;
  try {
    lock = acquireArrayLock(path, { heldBy: `flight ${flightId} is being worked on by another ingest-cli` });
  } catch (err) {
    if (err instanceof LockError && err.code === 'LOCKED') throw new IngestError('flight-busy', err.message, { cause: err });
    throw new IngestError('io', `flight lock ${path}: ${(err as Error).message}`, { cause: err });
  }
  return { path, tookOverFromPid: lock.tookOverFrom?.pid ?? null, release: () => lock.release() };
}
