import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIF_HEAD_BYTES, readExifTimeFields } from '../../src/cameras/capture-time.js';
import { exifFieldsFor, makeJpeg } from './helpers/jpeg.js';
import { HASH_WORKER_NICE, HashPool } from '../../src/cameras/hash-pool.js';

/** Nice value of each of this process's threads (Linux /proc; field 19 of a task's stat). */
function threadNices(): number[] {
  return readdirSync('/proc/self/task').flatMap((t) => {
    try {
      const st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      return [Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[16])];
    } catch {
      return []; // a thread that ended meanwhile
    }
  });
}

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
      // Each with a stat of its path taken after hashing (the recorder's check that it did not change).
      for (const [i, f] of files.entries()) {
        const st = statSync(f.p);
        expect(results[i]?.after).toEqual({ sizeBytes: st.size, mtimeMs: st.mtimeMs });
      }
      // Not JPEGs: each keeps its first EXIF_HEAD_BYTES as hashed (for the capture time).
      for (const [i, f] of files.entries()) {
        expect(results[i]?.head?.equals(readFileSync(f.p).subarray(0, EXIF_HEAD_BYTES))).toBe(true);
      }
    } finally {
      await pool.close();
    }
  });

  it.runIf(process.platform === 'linux')('hash workers run at a lower priority than the rest of the agent (cameras first)', async () => {
    const nices = threadNices();
    const before = nices.filter((n) => n === HASH_WORKER_NICE).length;
    const pool = new HashPool(2);
    try {
      const p = join(dir, 'nice.bin');
      writeFileSync(p, randomBytes(1000));
      // Both workers have run their start (which sets the priority) once each has hashed a file.
      await Promise.all([pool.hash(p), pool.hash(p)]);
      expect(threadNices().filter((n) => n === HASH_WORKER_NICE).length - before).toBe(2);
      expect(threadNices()[0]).toBe(nices[0]); // the process's first thread keeps its own
    } finally {
      await pool.close();
    }
  });

  it('a JPEG keeps its SOI and APPn segments (EXIF, XMP), from which the capture time is read', async () => {
    const pool = new HashPool(1);
    try {
      const jpeg = makeJpeg(exifFieldsFor(Date.UTC(2024, 4, 1, 12, 0, 0, 250) * 1000));
      const body = Buffer.alloc(200_000, 0x55);
      const p = join(dir, 'cap.jpg');
      writeFileSync(p, Buffer.concat([jpeg.subarray(0, jpeg.length - 2), body, Buffer.from([0xff, 0xd9])]));
      const { head } = await pool.hash(p);
      let end = 2;
      while (jpeg[end] === 0xff && jpeg[end + 1]! >= 0xe0 && jpeg[end + 1]! <= 0xef) end += 2 + jpeg.readUInt16BE(end + 2);
      expect(head).toEqual(jpeg.subarray(0, end + 4)); // + the next segment's marker and length
      expect(head!.length).toBeLessThan(EXIF_HEAD_BYTES);
      expect(await readExifTimeFields(head!)).toEqual(await readExifTimeFields(p));
      expect((await readExifTimeFields(head!))?.dateTime).toBe('2024:05:01 12:00:00');

      // A COM segment before the EXIF one (some cameras, editors): stepped over, EXIF kept.
      const com = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0x0a]), Buffer.from('comment!')]);
      const withCom = join(dir, 'com.jpg');
      writeFileSync(withCom, Buffer.concat([jpeg.subarray(0, 2), com, jpeg.subarray(2)]));
      const h2 = (await pool.hash(withCom)).head!;
      expect(h2.length).toBe(end + com.length + 4);
      expect((await readExifTimeFields(h2))?.dateTime).toBe('2024:05:01 12:00:00');
    } finally {
      await pool.close();
    }
  });

  it('a file smaller than the head keeps all of it; an empty file an empty head', async () => {
    const pool = new HashPool(1);
    try {
      const small = join(dir, 'small.tif');
      writeFileSync(small, Buffer.from([0x49, 0x49, 0x2a, 0, 8, 0, 0]));
      const empty = join(dir, 'empty.jpg');
      writeFileSync(empty, '');
      expect((await pool.hash(small)).head).toEqual(Buffer.from([0x49, 0x49, 0x2a, 0, 8, 0, 0]));
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
