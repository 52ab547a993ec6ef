import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkFormatEnding, judgeJpeg } from '../../src/cameras/format-ending.js';
import { makeJpeg } from './helpers/jpeg.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-ending-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function box(type: string, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(8 + payload.length, 0);
  h.write(type, 4, 'latin1');
  return Buffer.concat([h, payload]);
}

async function ending(name: string, bytes: Buffer): Promise<string> {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return checkFormatEnding(p, bytes.length);
}

describe('format endings on real files', () => {
  it('JPEG: FF D9 at the end is valid, a cut file is not', async () => {
    const jpeg = makeJpeg({ dateTimeOriginal: '2024:05:01 12:00:00' }, 10_000);
    expect(await ending('a.jpg', jpeg)).toBe('valid');
    expect(await ending('b.JPG', Buffer.concat([jpeg, Buffer.alloc(10)]))).toBe('valid'); // zero padding
    expect(await ending('c.jpg', jpeg.subarray(0, 6000))).toBe('invalid');
    expect(await ending('d.jpeg', Buffer.from('GIF89a....'))).toBe('invalid');
  });

  it('MP4: boxes that tile the file with a moov are valid; a growing mdat is not', async () => {
    const ftyp = box('ftyp', Buffer.from('isom\0\0\0\0isom'));
    const mdat = box('mdat', Buffer.alloc(5000, 7));
    const moov = box('moov', Buffer.alloc(200, 1));
    expect(await ending('v.mp4', Buffer.concat([ftyp, mdat, moov]))).toBe('valid');
    expect(await ending('w.mp4', Buffer.concat([ftyp, mdat.subarray(0, 3000)]))).toBe('invalid');
    const openMdat = Buffer.from(mdat);
    openMdat.writeUInt32BE(0, 0); // size 0 = "to the end of the file": still recording
    expect(await ending('x.mp4', Buffer.concat([ftyp, openMdat]))).toBe('invalid');
    expect(await ending('y.mp4', Buffer.concat([ftyp, mdat]))).toBe('invalid'); // no moov
    expect(await ending('z.mp4', Buffer.from('raw stream, not ISO BMFF'))).toBe('unknown');
  });

  it('says unknown for formats without a cheap check', async () => {
    expect(await ending('r.cr2', Buffer.alloc(100))).toBe('unknown');
  });

  it('judgeJpeg works on the bytes alone', () => {
    expect(judgeJpeg(Buffer.from([0xff, 0xd8]), Buffer.from([1, 2, 0xff, 0xd9]))).toBe('valid');
    expect(judgeJpeg(Buffer.from([0xff, 0xd8]), Buffer.from([1, 2, 0xff]))).toBe('invalid');
  });
});
