// Lists what is on an array, without following any symlink and without writing anything.
// A name that is not valid UTF-8 cannot be carried exactly into a manifest (JSON) or a pax
// header: it is listed as such and never silently renamed.
import { promises as fsp } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { IngestError, errnoCode } from '../errors.js';

export type ArrayEntryType = 'file' | 'symlink' | 'special';

export interface ArrayEntry {
  /** Relative to the array root, POSIX separators. */
  path: string;
  type: ArrayEntryType;
  sizeBytes: number;
  mtimeUs: number;
  mode: number;
  /** A symlink's target text, as stored (never followed). */
  linkTarget: string | null;
}

export interface WalkResult {
  entries: ArrayEntry[];
  /** Names that are not valid UTF-8 (shown with U+FFFD), relative to the root. */
  badNames: string[];
}

function entryOf(path: string, st: BigIntStats, linkTarget: string | null): ArrayEntry {
  const type: ArrayEntryType = st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'special';
  return {
    path,
    type,
    sizeBytes: type === 'file' ? Number(st.size) : 0,
    // µs from the nanosecond field: a float of ms would round away what wipe compares.
    mtimeUs: Number(st.mtimeNs / 1000n),
    mode: Number(st.mode) & 0o7777,
    linkTarget,
  };
}

/**
 * Every file, symlink and special file below `root` (folders are walked, not listed), sorted by
 * path (byte order of the UTF-8 names) so that an archive's member order is reproducible.
 * Throws IngestError('array-read') when the array cannot be read (unplugged, permissions).
 */
export async function walkArray(root: string): Promise<WalkResult> {
  const entries: ArrayEntry[] = [];
  const badNames: string[] = [];
  const visit = async (dirAbs: string, dirRel: string): Promise<void> => {
    let names: Buffer[];
    try {
      names = await fsp.readdir(dirAbs, { encoding: 'buffer' });
    } catch (err) {
      throw new IngestError('array-read', `array ${root}: cannot read folder ${dirRel || '.'} (${errnoCode(err) ?? String(err)})`, { cause: err });
    }
    for (const raw of names) {
      const name = raw.toString('utf8');
      const rel = dirRel === '' ? name : `${dirRel}/${name}`;
      if (!Buffer.from(name, 'utf8').equals(raw)) {
        badNames.push(rel);
        continue;
      }
      const abs = join(dirAbs, name);
      let st: BigIntStats;
      try {
        st = await fsp.lstat(abs, { bigint: true });
      } catch (err) {
        throw new IngestError('array-read', `array ${root}: cannot look at ${rel} (${errnoCode(err) ?? String(err)})`, { cause: err });
      }
      if (st.isDirectory()) {
        await visit(abs, rel);
      } else if (st.isSymbolicLink()) {
        let target: string;
        try {
          target = await fsp.readlink(abs);
        } catch (err) {
          throw new IngestError('array-read', `array ${root}: cannot read symlink ${rel} (${errnoCode(err) ?? String(err)})`, { cause: err });
        }
        entries.push(entryOf(rel, st, target));
      } else {
        entries.push(entryOf(rel, st, null));
      }
    }
  };
  await visit(root, '');
  entries.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return { entries, badNames };
}
