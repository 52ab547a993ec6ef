// The array marker `<root>/flysnap-array.json`: the only I/O in array/ (kept apart from the pure
// path functions in layout.ts). Written crash-safe: temp file in the same folder, fsync, rename,
// fsync the folder. A reader never sees a half-written marker.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { ArrayLayoutError } from './errors.js';
import { ARRAY_LAYOUT_VERSION, arrayPaths, assertSafeFlightId, isSafeFlightId } from './layout.js';
import type { ArrayLayoutVersion } from './layout.js';

/** Content of `flysnap-array.json`. */
export interface ArrayMarker {
  layoutVersion: ArrayLayoutVersion;
  /** Safe file name (`[A-Za-z0-9_.-]{1,128}`): it ends up in archive names. */
  flightId: string;
  /** When the array was prepared for this flight, µs since epoch UTC. */
  createdTUs: number;
}

export type ParseMarkerResult =
  | { status: 'ok'; marker: ArrayMarker }
  | { status: 'rejected'; error: ArrayLayoutError };

/** Parses the marker file's text. Never throws: a bad marker is a typed rejection. */
export function parseArrayMarker(text: string, source = 'flysnap-array.json'): ParseMarkerResult {
  const reject = (code: 'bad-marker' | 'unsupported-layout-version', why: string): ParseMarkerResult => ({
    status: 'rejected',
    error: new ArrayLayoutError(code, `${source}: ${why}`),
  });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return reject('bad-marker', `not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject('bad-marker', 'is not a JSON object');
  }
  const o = value as Record<string, unknown>;
  if (typeof o['layoutVersion'] !== 'number' || !Number.isInteger(o['layoutVersion'])) {
    return reject('bad-marker', `layoutVersion ${JSON.stringify(o['layoutVersion'])} is not an integer`);
  }
  if (o['layoutVersion'] !== ARRAY_LAYOUT_VERSION) {
    return reject(
      'unsupported-layout-version',
      `layoutVersion ${o['layoutVersion']} is not supported (this code knows ${ARRAY_LAYOUT_VERSION})`,
    );
  }
  if (typeof o['flightId'] !== 'string' || !isSafeFlightId(o['flightId'])) {
    return reject('bad-marker', `flightId ${JSON.stringify(o['flightId'])} is not a safe flight id`);
  }
  if (typeof o['createdTUs'] !== 'number' || !Number.isSafeInteger(o['createdTUs'])) {
    return reject('bad-marker', `createdTUs ${JSON.stringify(o['createdTUs'])} is not an integer of µs`);
  }
  return {
    status: 'ok',
    marker: { layoutVersion: ARRAY_LAYOUT_VERSION, flightId: o['flightId'], createdTUs: o['createdTUs'] },
  };
}

/** The marker's file text (pretty JSON + '\n'); validates the marker, throws ArrayLayoutError. */
export function formatArrayMarker(marker: ArrayMarker): string {
  assertSafeFlightId(marker.flightId);
  if (!Number.isSafeInteger(marker.createdTUs)) {
    throw new ArrayLayoutError('bad-marker', `createdTUs ${marker.createdTUs} is not an integer of µs`);
  }
  if (marker.layoutVersion !== ARRAY_LAYOUT_VERSION) {
    throw new ArrayLayoutError(
      'unsupported-layout-version',
      `layoutVersion ${String(marker.layoutVersion)} is not ${ARRAY_LAYOUT_VERSION}`,
    );
  }
  const ordered = {
    layoutVersion: marker.layoutVersion,
    flightId: marker.flightId,
    createdTUs: marker.createdTUs,
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

function tempNameFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Writes `<root>/flysnap-array.json` crash-safe (temp file, fsync, rename, fsync folder).
 * The root folder must exist. Refuses (ArrayLayoutError 'marker-exists') to replace an existing
 * marker unless `overwrite` is set.
 */
export async function writeArrayMarker(
  root: string,
  marker: ArrayMarker,
  options: { overwrite?: boolean } = {},
): Promise<void> {
  const path = arrayPaths(root).marker;
  const text = formatArrayMarker(marker);
  if (!options.overwrite) {
    const exists = await fsp.stat(path).then(
      () => true,
      () => false,
    );
    if (exists) throw new ArrayLayoutError('marker-exists', `${path} already exists; not replacing it`);
  }
  const tmp = tempNameFor(path);
  try {
    const fh = await fsp.open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (options.overwrite) {
      await fsp.rename(tmp, path);
    } else {
      // link() fails if the target appeared meanwhile: no silent replacement of a racing writer.
      try {
        await fsp.link(tmp, path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new ArrayLayoutError('marker-exists', `${path} already exists; not replacing it`);
        }
        throw e;
      }
      await fsp.unlink(tmp);
    }
  } catch (e) {
    await fsp.unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dirname(path));
}

async function fsyncDir(dir: string): Promise<void> {
  const dh = await fsp.open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/**
 * Reads and validates `<root>/flysnap-array.json`. Throws ArrayLayoutError: 'marker-missing',
 * 'bad-marker' or 'unsupported-layout-version'.
 */
export async function readArrayMarker(root: string): Promise<ArrayMarker> {
  const path = arrayPaths(root).marker;
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    throw markerReadError(path, e);
  }
  return unwrap(parseArrayMarker(text, path));
}

/** Synchronous readArrayMarker (for start-up code and status commands). */
export function readArrayMarkerSync(root: string): ArrayMarker {
  const path = arrayPaths(root).marker;
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw markerReadError(path, e);
  }
  return unwrap(parseArrayMarker(text, path));
}

function markerReadError(path: string, e: unknown): Error {
  if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
    return new ArrayLayoutError('marker-missing', `${path} does not exist: not a Fly and Snap array`, {
      cause: e,
    });
  }
  return e as Error;
}

function unwrap(r: ParseMarkerResult): ArrayMarker {
  if (r.status === 'ok') return r.marker;
  throw r.error;
}
