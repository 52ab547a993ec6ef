// Writing a report's files into its folder, each crash-safe: a temporary name in the same
// folder, fsync, rename; then the folder is fsynced so the renames last. A reader never sees a
// half-written report.html, and a report made again replaces the old files one by one.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { IngestError, isDiskFull } from '../errors.js';

export function writeReportFiles(outDir: string, files: ReadonlyMap<string, string>): string[] {
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (err) {
    throw new IngestError('io', `report folder ${outDir}: cannot create (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  const written: string[] = [];
  for (const [name, text] of files) {
    const final = join(outDir, name);
    const temp = join(outDir, `.${name}.tmp-${process.pid}`);
    try {
      const fd = openSync(temp, 'w', 0o644);
      try {
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, final);
      written.push(final);
    } catch (err) {
      rmSync(temp, { force: true });
      if (isDiskFull(err)) throw new IngestError('disk-full', `report folder ${outDir}: disk full writing ${name}`, { cause: err });
      throw new IngestError('io', `report folder ${outDir}: cannot write ${name} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
    }
  }
  try {
    const dirFd = openSync(outDir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // Some filesystems refuse fsync on a folder; the files themselves are synced.
  }
  return written;
}
