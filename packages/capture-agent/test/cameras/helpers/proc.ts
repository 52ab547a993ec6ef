// A fake process table for the completeness scan's tests (open-writers.ts reads it like /proc).
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A fake process table: pid 100 holds `file` open for reading (fd 3), pid 200's descriptor table
 * cannot be read (a file where its fd folder should be: the scan's error is not ENOENT, as EACCES
 * for another user's process), pid 300 ended (no fd folder).
 */
export function fakeProc(root: string, file: string, isHiddenOne: boolean): string {
  const proc = join(root, 'proc');
  mkdirSync(join(proc, '100', 'fd'), { recursive: true });
  mkdirSync(join(proc, '100', 'fdinfo'), { recursive: true });
  symlinkSync(file, join(proc, '100', 'fd', '3'));
  writeFileSync(join(proc, '100', 'fdinfo', '3'), 'pos:\t0\nflags:\t0100000\n');
  mkdirSync(join(proc, '300'));
  if (isHiddenOne) {
    mkdirSync(join(proc, '200'));
    writeFileSync(join(proc, '200', 'fd'), '');
  }
  return proc;
}

