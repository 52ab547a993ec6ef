// A fake process table for the completeness scan's tests (open-writers.ts reads it like /proc).
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Which process of the fake table cannot be seen: none; 'table': pid 200 ('otheruser'), whose
 * descriptor table cannot be listed (a file where its fd folder should be: the scan's error is not
 * ENOENT, as EACCES for another user's process); 'links': pid 400 ('supervisor'), whose table lists
 * but whose descriptor cannot be followed (a plain file, not a link: as the EACCES that even root
 * gets from a VM's supervisor).
 */
export type FakeHidden = 'none' | 'table' | 'links';

/**
 * A fake process table: pid 100 ('tetherd') holds `file` open for reading (fd 3), pid 300 ended (no
 * fd folder), and the hidden process chosen by `hidden`. Each live process has its comm file.
 */
export function fakeProc(root: string, file: string, hidden: FakeHidden): string {
  const proc = join(root, 'proc');
  mkdirSync(join(proc, '100', 'fd'), { recursive: true });
  mkdirSync(join(proc, '100', 'fdinfo'), { recursive: true });
  writeFileSync(join(proc, '100', 'comm'), 'tetherd\n');
  symlinkSync(file, join(proc, '100', 'fd', '3'));
  writeFileSync(join(proc, '100', 'fdinfo', '3'), 'pos:\t0\nflags:\t0100000\n');
  mkdirSync(join(proc, '300'));
  if (hidden === 'table') {
    mkdirSync(join(proc, '200'));
    writeFileSync(join(proc, '200', 'comm'), 'otheruser\n');
    writeFileSync(join(proc, '200', 'fd'), '');
  }
  if (hidden === 'links') {
    mkdirSync(join(proc, '400', 'fd'), { recursive: true });
    writeFileSync(join(proc, '400', 'comm'), 'supervisor\n');
    writeFileSync(join(proc, '400', 'fd', '3'), '');
  }
  return proc;
}

/** Adds to a fake table pid 500 ('camerad') holding `file` open for writing (fd 5). */
export function addFakeWriter(proc: string, file: string): void {
  mkdirSync(join(proc, '500', 'fd'), { recursive: true });
  mkdirSync(join(proc, '500', 'fdinfo'), { recursive: true });
  writeFileSync(join(proc, '500', 'comm'), 'camerad\n');
  symlinkSync(file, join(proc, '500', 'fd', '5'));
  writeFileSync(join(proc, '500', 'fdinfo', '5'), 'pos:\t0\nflags:\t0100001\n');
}
