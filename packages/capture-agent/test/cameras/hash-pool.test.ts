import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HashPool } from '../../src/cameras/hash-pool.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-hashpool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('HashPool (real worker threads, real files)', () => {
  it('hashes files on workers exactly as node:crypto does, many at once', async () => {
    const pool = new HashPool(2);
    try {
      const files = Array.from({ length: 12 }, (_, i) => {
        const bytes = randomBytes(300_000 + i * 100_001);
        const p = join(dir, `f${i}.bin`);
        writeFileSync(p, bytes);
        return { p, sha256: createHash('sha256').update(bytes).digest('hex'), sizeBytes: bytes.length };
      });
      const results = await Promise.all(files.map((f) => pool.hash(f.p)));
      expect(results).toEqual(files.map((f) => ({ sha256: f.sha256, sizeBytes: f.sizeBytes })));
    } finally {
      await pool.close();
    }
  });

  it('rejects with the fs error code for a missing file', async () => {
    const pool = new HashPool(1);
    try {
      await expect(pool.hash(join(dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await pool.close();
    }
  });
});
