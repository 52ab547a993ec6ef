// Reconciling what is on disk with what the flight DB holds, at start and periodically, so that no
// file is missed whatever the watcher did and none is recorded twice. The listing is I/O; the
// reconciliation is a pure function over plain data.
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { isIgnoredEntry } from './watcher.js';

/** A file found in a camera folder. */
export interface DiskFile {
  /** Relative to the camera folder, POSIX '/'. */
  relPath: string;
  sizeBytes: number;
  /** Wall-clock modification time, ms. */
  mtimeMs: number;
}

/** The content we last accounted for at a path: a recorded row, or a reported change. */
export interface KnownFile {
  relPath: string;
  sizeBytes: number;
  sha256: string;
  status: 'complete' | 'incomplete';
  /**
   * Wall-clock ms up to which the file is known to have had this content (when it was recorded or
   * last verified): a later mtime means it may have changed since.
   */
  verifiedWallMs: number;
  /** The recorded row was superseded by a change reported as an event ('asset-changed'). */
  isChangedAfterRecord: boolean;
  /** Its disappearance has been reported ('asset-missing'). */
  isReportedMissing: boolean;
}

export interface Reconciliation {
  /** On disk and not accounted for (new), or possibly changed since it was accounted for. */
  toExamine: DiskFile[];
  /** Accounted for, gone from disk, not yet reported. */
  missing: KnownFile[];
}

/**
 * Compares a folder listing with the known files of that device. `busy` = relative paths being
 * settled or recorded right now: left alone (their watcher/record path will finish them).
 */
export function reconcile(disk: readonly DiskFile[], known: ReadonlyMap<string, KnownFile>, busy: ReadonlySet<string>): Reconciliation {
  const toExamine: DiskFile[] = [];
  const onDisk = new Set<string>();
  for (const f of disk) {
    onDisk.add(f.relPath);
    if (busy.has(f.relPath)) continue;
    const k = known.get(f.relPath);
    if (!k || k.isReportedMissing || f.sizeBytes !== k.sizeBytes || f.mtimeMs > k.verifiedWallMs) toExamine.push(f);
  }
  const missing: KnownFile[] = [];
  for (const k of known.values()) {
    if (!onDisk.has(k.relPath) && !busy.has(k.relPath) && !k.isReportedMissing) missing.push(k);
  }
  return { toExamine, missing };
}

/** Lists the asset files under `folder` (to `depth` levels of sub-folders), with size and mtime. */
export async function listCameraFolder(folder: string, extensions: readonly string[], depth = 4): Promise<DiskFile[]> {
  const out: DiskFile[] = [];
  async function walk(dir: string, level: number): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // folder missing (camera not mounted yet) or vanished: nothing to list
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (level < depth && !isIgnoredEntry(p, 'dir', extensions)) await walk(p, level + 1);
      } else if (e.isFile() && !isIgnoredEntry(p, 'file', extensions)) {
        try {
          const st = await stat(p);
          out.push({ relPath: toRelPath(folder, p), sizeBytes: st.size, mtimeMs: st.mtimeMs });
        } catch {
          // vanished between readdir and stat
        }
      }
    }
  }
  await walk(folder, 0);
  return out;
}

/** Path of `absPath` relative to `folder`, POSIX separators (the stored form of asset.rel_path). */
export function toRelPath(folder: string, absPath: string): string {
  return relative(folder, absPath).split(sep).join('/');
}
