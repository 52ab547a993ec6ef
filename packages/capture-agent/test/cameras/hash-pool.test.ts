import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIF_HEAD_BYTES } from '../../src/cameras/capture-time.js';
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
      expect(results.map(({ sha256, sizeBytes }) => ({ sha256, sizeBytes }))).toEqual(files.map((f) => ({ sha256: f.sha256, sizeBytes: f.sizeBytes })));
      // Each keeps its first EXIF_HEAD_BYTES as hashed (for the capture time).
      for (const [i, f] of files.entries()) {
        expect(results[i]?.head?.equals(readFileSync(f.p).subarray(0, EXIF_HEAD_BYTES))).toBe(true);
      }
    } finally {
      await pool.close();
    }
  });

  it('a file smaller than the head keeps all of it; an empty file an empty head', async () => {
    const pool = new HashPool(1);
    try {
      const small = join(dir, 'small.jpg');
      writeFileSync(small, Buffer.from([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]));
      const empty = join(dir, 'empty.jpg');
      writeFileSync(empty, '');
      expect((await pool.hash(small)).head).toEqual(Buffer.from([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]));
      expect(await pool.hash(empty)).toMatchObject({ sizeBytes: 0, head: Buffer.alloc(0) });
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
