// What goes into an archive and what does not match: a pure function of the array's listing and
// the flight DB's asset rows. Sizes and names are checked here, before the pass; hashes during it.
import { ARRAY_NAMES } from '@flysnap/shared';
import type { AssetRow, ManifestMismatch, ManifestStorage } from '@flysnap/shared';
import type { ArrayEntry } from './walk-array.js';

/** What a path is in the array layout (v1). */
export type ArrayFileRole = 'marker' | 'flight-db' | 'serial-log' | 'camera' | 'agent-lock' | 'unexpected';

/**
 * Files SQLite derives and rebuilds (the WAL index `flight.db-shm`): their bytes mean nothing
 * without a live connection, so they are neither archived nor counted as unexpected. Wipe removes
 * them with the rest.
 */
export function isDerivedFile(path: string): boolean {
  return path === `${ARRAY_NAMES.flightDb}-shm`;
}

export function roleOf(path: string): ArrayFileRole {
  if (path === ARRAY_NAMES.marker) return 'marker';
  if (path === ARRAY_NAMES.flightDb || path === `${ARRAY_NAMES.flightDb}-wal`) return 'flight-db';
  if (path === ARRAY_NAMES.lock || path.startsWith(`${ARRAY_NAMES.lock}.`)) return 'agent-lock';
  if (path.startsWith(`${ARRAY_NAMES.serialDir}/`) && !path.slice(ARRAY_NAMES.serialDir.length + 1).includes('/')) return 'serial-log';
  if (path.startsWith(`${ARRAY_NAMES.camerasDir}/`) && path.split('/').length >= 3) return 'camera';
  return 'unexpected';
}

/** The array path of an asset row: `cameras/<device>/<rel_path>`. */
export function assetArrayPath(row: Pick<AssetRow, 'device' | 'relPath'>): string {
  return `${ARRAY_NAMES.camerasDir}/${row.device}/${row.relPath}`;
}

export interface PlannedMember {
  entry: ArrayEntry;
  role: ArrayFileRole;
  storage: ManifestStorage;
  /** The SHA-256 the agent recorded (asset row), checked during the pass; null when there is none. */
  agentSha256: string | null;
}

export interface ArchivePlan {
  /** In archive order: the marker, plain members, then compressed ones (made meanwhile). */
  members: PlannedMember[];
  /** Found before the pass (names, sizes, rows); hash mismatches are added during it. */
  mismatches: ManifestMismatch[];
  /** Asset rows matched to a file, by array path. */
  matchedAssets: number;
}

export interface PlanOptions {
  /** Lower-case endings with the dot; a file whose lower-cased name ends with one is gzipped. */
  compressExtensions: readonly string[];
}

function isCompressible(path: string, extensions: readonly string[]): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  return extensions.some((ext) => name.endsWith(ext));
}

/**
 * Plans the archive. `assets` are every asset row of the flight DB. For a path with several rows
 * (a file rewritten and recorded again) the newest row (highest id) is the one expected.
 */
export function planArchive(entries: readonly ArrayEntry[], assets: readonly AssetRow[], options: PlanOptions): ArchivePlan {
  const mismatches: ManifestMismatch[] = [];
  const newestRow = new Map<string, AssetRow>();
  for (const row of assets) {
    const path = assetArrayPath(row);
    const seen = newestRow.get(path);
    if (seen === undefined || row.id > seen.id) newestRow.set(path, row);
  }
  const onArray = new Set<string>();
  const plain: PlannedMember[] = [];
  const gzip: PlannedMember[] = [];
  let marker: PlannedMember | null = null;
  let matchedAssets = 0;

  for (const entry of entries) {
    if (isDerivedFile(entry.path)) continue;
    onArray.add(entry.path);
    const role = roleOf(entry.path);
    if (entry.type === 'special') {
      mismatches.push({ kind: 'special-file', path: entry.path, detail: 'not a regular file or symlink (fifo, socket or device): not archived' });
      continue;
    }
    let agentSha256: string | null = null;
    if (role === 'camera') {
      const row = newestRow.get(entry.path);
      if (row === undefined) {
        mismatches.push({ kind: 'no-row', path: entry.path, detail: entry.type === 'symlink' ? `symlink to ${JSON.stringify(entry.linkTarget)} that no asset row names` : 'no asset row in the flight DB names this file' });
      } else if (entry.type === 'symlink') {
        mismatches.push({ kind: 'no-row', path: entry.path, detail: `is a symlink to ${JSON.stringify(entry.linkTarget)}, its asset row a file` });
      } else {
        matchedAssets++;
        agentSha256 = row.sha256;
        if (row.status !== 'complete') {
          mismatches.push({ kind: 'incomplete', path: entry.path, detail: `the agent recorded it as ${row.status} (it never saw the file finish)` });
        }
        if (row.sizeBytes !== entry.sizeBytes) {
          mismatches.push({ kind: 'size-differs', path: entry.path, detail: `${entry.sizeBytes} bytes on the array, ${row.sizeBytes} in its asset row` });
        }
      }
    } else if (role === 'unexpected') {
      mismatches.push({ kind: 'unexpected-file', path: entry.path, detail: 'not part of the array layout (marker, flight DB, serial/, cameras/): archived, but not recorded by the agent' });
    }
    const storage: ManifestStorage = entry.type === 'file' && (role === 'flight-db' || isCompressible(entry.path, options.compressExtensions)) ? 'gzip' : 'plain';
    const member: PlannedMember = { entry, role, storage, agentSha256 };
    if (role === 'marker') marker = member;
    else if (storage === 'gzip') gzip.push(member);
    else plain.push(member);
  }
  for (const [path, row] of newestRow) {
    if (!onArray.has(path)) {
      mismatches.push({ kind: 'missing-file', path, detail: `asset row #${row.id} (${row.sizeBytes} bytes, sha256 ${row.sha256.slice(0, 12)}…) has no file on the array` });
    }
  }
  mismatches.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.kind < b.kind ? -1 : 1));
  return { members: [...(marker ? [marker] : []), ...plain, ...gzip], mismatches, matchedAssets };
}
