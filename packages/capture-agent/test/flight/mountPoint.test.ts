import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isMountPoint } from '../../src/flight/mountPoint.js';

let dir: string | null = null;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

describe('isMountPoint', () => {
  it('is true for the file system root and for /proc (always its own mount on Linux)', () => {
    expect(isMountPoint('/')).toBe(true);
    expect(isMountPoint('/proc')).toBe(true);
  });

  it('is false for a plain folder on its parent file system', () => {
    dir = mkdtempSync(join(tmpdir(), 'flysnap-mount-'));
    expect(isMountPoint(dir)).toBe(false);
    expect(isMountPoint(join(dir, '.'))).toBe(false);
  });

  it('throws when the folder does not exist (the caller checks existence first)', () => {
    expect(() => isMountPoint('/nonexistent-flysnap-array')).toThrow(/ENOENT/);
  });
});
