// The storage array's layout, version 1: pure path functions from the array root (no I/O).
// One array = one flight.
//
//   <root>/flysnap-array.json     marker { layoutVersion, flightId, createdTUs } (see marker.ts)
//   <root>/flight.db              flight database (SQLite, WAL; see ../flightdb)
//   <root>/serial/<port>.log      raw serial log per port (see ../rawlog)
//   <root>/cameras/<device>/      camera folders; asset `rel_path` is relative to this folder
//   <root>/capture-agent.lock     the capture agent's lock file
import { isAbsolute, join, posix } from 'node:path';
import { ArrayLayoutError } from './errors.js';

export const ARRAY_LAYOUT_VERSION = 1 as const;
export type ArrayLayoutVersion = typeof ARRAY_LAYOUT_VERSION;

/** File and folder names inside the array root (layout v1). */
export const ARRAY_NAMES = {
  marker: 'flysnap-array.json',
  flightDb: 'flight.db',
  serialDir: 'serial',
  camerasDir: 'cameras',
  lock: 'capture-agent.lock',
  /** Suffix of a raw serial log file in `serial/`. */
  serialLogSuffix: '.log',
} as const;

/** Absolute (or root-relative, if `root` is relative) paths of everything in an array. */
export interface ArrayPaths {
  root: string;
  /** `<root>/flysnap-array.json` */
  marker: string;
  /** `<root>/flight.db` (SQLite also creates `flight.db-wal` and `flight.db-shm` beside it). */
  flightDb: string;
  /** `<root>/serial` */
  serialDir: string;
  /** `<root>/cameras` */
  camerasDir: string;
  /** `<root>/capture-agent.lock` */
  lock: string;
}

const SAFE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const SAFE_FLIGHT_ID = /^[A-Za-z0-9_.-]{1,128}$/;

function checkRoot(root: string): void {
  if (typeof root !== 'string' || root.length === 0) {
    throw new ArrayLayoutError('bad-root', `array root ${JSON.stringify(root)} is empty`);
  }
}

/** True when `name` is usable as a port or device name: `[A-Za-z0-9_.-]{1,64}`, no '..', not '.'. */
export function isSafeName(name: string): boolean {
  return typeof name === 'string' && SAFE_NAME.test(name) && name !== '.' && !name.includes('..');
}

/**
 * Throws ArrayLayoutError('bad-name') unless `name` is a safe port/device name.
 * `what` names the input in the message ('port', 'device').
 */
export function assertSafeName(name: string, what: 'port' | 'device' = 'port'): void {
  if (!isSafeName(name)) {
    throw new ArrayLayoutError(
      'bad-name',
      `${what} name ${JSON.stringify(name)} is not a safe file name: ` +
        `use 1-64 of A-Z a-z 0-9 _ . - (no '..', not '.')`,
    );
  }
}

/** True when `flightId` is usable as a flight id: `[A-Za-z0-9_.-]{1,128}`, no '..', not '.'. */
export function isSafeFlightId(flightId: string): boolean {
  return (
    typeof flightId === 'string' &&
    SAFE_FLIGHT_ID.test(flightId) &&
    flightId !== '.' &&
    !flightId.includes('..')
  );
}

/** Throws ArrayLayoutError('bad-flight-id') unless `flightId` is safe (it ends up in file names). */
export function assertSafeFlightId(flightId: string): void {
  if (!isSafeFlightId(flightId)) {
    throw new ArrayLayoutError(
      'bad-flight-id',
      `flight id ${JSON.stringify(flightId)} is not a safe file name: ` +
        `use 1-128 of A-Z a-z 0-9 _ . - (no '..', not '.')`,
    );
  }
}

/** Every path of the array at `root`. Pure: `root` is joined, not resolved against the cwd. */
export function arrayPaths(root: string): ArrayPaths {
  checkRoot(root);
  return {
    root,
    marker: join(root, ARRAY_NAMES.marker),
    flightDb: join(root, ARRAY_NAMES.flightDb),
    serialDir: join(root, ARRAY_NAMES.serialDir),
    camerasDir: join(root, ARRAY_NAMES.camerasDir),
    lock: join(root, ARRAY_NAMES.lock),
  };
}

/** `<root>/serial/<port>.log`; throws ArrayLayoutError('bad-name') for an unsafe port name. */
export function serialLogPath(root: string, port: string): string {
  checkRoot(root);
  assertSafeName(port, 'port');
  return join(root, ARRAY_NAMES.serialDir, `${port}${ARRAY_NAMES.serialLogSuffix}`);
}

/**
 * The port name of a file name found in `serial/` ('gps.log' → 'gps'), or null when the file is
 * not a raw serial log of this layout (other suffix, unsafe name).
 */
export function portFromSerialLogName(fileName: string): string | null {
  const suffix = ARRAY_NAMES.serialLogSuffix;
  if (!fileName.endsWith(suffix)) return null;
  const port = fileName.slice(0, -suffix.length);
  return isSafeName(port) ? port : null;
}

/** `<root>/cameras/<device>`; throws ArrayLayoutError('bad-name') for an unsafe device name. */
export function cameraDir(root: string, device: string): string {
  checkRoot(root);
  assertSafeName(device, 'device');
  return join(root, ARRAY_NAMES.camerasDir, device);
}

/**
 * Normalises an asset path relative to its camera folder to the stored form (POSIX '/',
 * no '.' segments), or throws ArrayLayoutError('bad-rel-path') when it is empty, absolute,
 * or leaves the folder. `asset.rel_path` in the flight DB is always in this form.
 */
export function normalizeAssetRelPath(relPath: string): string {
  const bad = (why: string): ArrayLayoutError =>
    new ArrayLayoutError('bad-rel-path', `asset path ${JSON.stringify(relPath)} ${why}`);
  if (typeof relPath !== 'string' || relPath.length === 0) throw bad('is empty');
  if (relPath.includes('\0')) throw bad('contains a NUL byte');
  const slashed = relPath.replaceAll('\\', '/');
  if (isAbsolute(relPath) || slashed.startsWith('/')) throw bad('is absolute');
  const norm = posix.normalize(slashed);
  if (norm === '.' || norm === '' || norm.endsWith('/')) throw bad('names a folder, not a file');
  if (norm === '..' || norm.startsWith('../')) throw bad('leaves the camera folder');
  return norm;
}

/** `<root>/cameras/<device>/<relPath>` for an asset row; validates both names. */
export function assetPath(root: string, device: string, relPath: string): string {
  const dir = cameraDir(root, device);
  return join(dir, ...normalizeAssetRelPath(relPath).split('/'));
}
