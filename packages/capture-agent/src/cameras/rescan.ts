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

/**
 * How many passes a periodic rescan spreads the re-verification of recorded files over. Each pass
 * stats every name it does not know (new, or reported missing) and the recorded files of one slice
 * (VERIFY_SLICES of them, by a hash of the path), so each recorded file's size and mtime are
 * looked at again once per VERIFY_SLICES passes (5 min at the default 10 s), not at every pass.
 * Why: a stat per recorded file at every pass made the rescan's cost grow with the flight (tens of
 * thousands of pictures: thousands of stats per second on the agent's thread, for nothing new).
 * A file changed in place after it was recorded is normally seen at once (the folder's watcher
 * reports its writes); this is the backstop when the watcher missed it.
 */
export const VERIFY_SLICES = 30;

/** Which of VERIFY_SLICES slices a relative path belongs to (stable: a hash of the path). */
export function verifySlice(relPath: string): number {
  let h = 2166136261; // FNV-1a
  for (let i = 0; i < relPath.length; i++) {
    h ^= relPath.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) % VERIFY_SLICES;
}

/**
 * What a rescan pass (number `pass`, 0 at start) lists, without a stat, for a name it finds: the
 * known file's recorded size and verification time (so reconcile sees it unchanged), or null to
 * stat it. Pass 0 stats everything; later passes a recorded file only in its slice's turn.
 */
export function unstatedFile(pass: number, known: ReadonlyMap<string, KnownFile>): (relPath: string) => DiskFile | null {
  return (relPath) => {
    if (pass === 0) return null;
    const k = known.get(relPath);
    if (!k || k.isReportedMissing || verifySlice(relPath) === pass % VERIFY_SLICES) return null;
    return { relPath, sizeBytes: k.sizeBytes, mtimeMs: k.verifiedWallMs };
  };
}

/**
 * Lists the asset files under `folder` (to `depth` levels of sub-folders), with size and mtime.
 * `unstated` may give a file's entry without a stat (see unstatedFile); by default every file is
 * stat'ed.
 */
export async function listCameraFolder(
  folder: string,
  extensions: readonly string[],
  depth = 4,
  unstated: (relPath: string) => DiskFile | null = () => null,
): Promise<DiskFile[]> {
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
        const relPath = toRelPath(folder, p);
        const known = unstated(relPath);
        if (known) {
          out.push(known);
          continue;
        }
        try {
          const st = await stat(p);
          out.push({ relPath, sizeBytes: st.size, mtimeMs: st.mtimeMs });
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
