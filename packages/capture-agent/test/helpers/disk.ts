// Full disks for tests: small tmpfs mounts (root only) and filling a file system up.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';

/** True when tests may mount (tmpfs needs root). */
export const canMount = process.getuid?.() === 0;

/** tmpfs mounts made by a test, all unmounted by umountAll() (call it in afterEach). */
export class TmpfsMounts {
  readonly #mounts: string[] = [];

  /** Mounts a tmpfs of `size` (e.g. '256k', '8m') on the existing folder `at`. */
  mount(at: string, size: string): string {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', at]);
    this.#mounts.push(at);
    return at;
  }

  umountAll(): void {
    for (const m of this.#mounts.splice(0)) execFileSync('umount', [m]);
  }
}

/** Fills the file system holding `file` (writes until ENOSPC); deleting `file` frees it again. */
export function fillUp(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 0x55);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}
