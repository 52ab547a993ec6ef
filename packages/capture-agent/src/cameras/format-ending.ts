// The cheap end-of-format checks behind FormatEnding: a few bytes read from each end of the file.
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import type { FormatEnding } from './completeness.js';

/** Some JPEG writers pad after EOI (FF D9) with zeros; we look for EOI within this many last bytes. */
const JPEG_TAIL_WINDOW_BYTES = 64;
/** More top-level boxes than this is not a camera's MP4: stop walking and say 'unknown'. */
const MP4_MAX_BOXES = 256;

/** JPEG: starts with SOI (FF D8) and ends with EOI (FF D9), allowing zero padding after EOI. */
export function judgeJpeg(head: Uint8Array, tail: Uint8Array): FormatEnding {
  if (head.length < 2 || head[0] !== 0xff || head[1] !== 0xd8) return 'invalid';
  let end = tail.length;
  while (end > 0 && tail[end - 1] === 0x00) end--;
  return end >= 2 && tail[end - 2] === 0xff && tail[end - 1] === 0xd9 ? 'valid' : 'invalid';
}

/** Reads `length` bytes at `position` (fewer at EOF). */
async function readAt(fh: import('node:fs/promises').FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/**
 * MP4/MOV (ISO BMFF): walks the top-level box headers. A finished file's boxes tile it exactly and
 * include `moov`; a file still being recorded has a box running past the end (or a size-0 box
 * meaning "to the end") and usually no `moov` yet. Not an ftyp-first file → 'unknown'.
 */
async function judgeMp4(fh: import('node:fs/promises').FileHandle, sizeBytes: number): Promise<FormatEnding> {
  let pos = 0;
  let sawMoov = false;
  for (let i = 0; i < MP4_MAX_BOXES && pos < sizeBytes; i++) {
    const h = await readAt(fh, pos, 16);
    if (h.length < 8) return 'invalid';
    let boxSize = h.readUInt32BE(0);
    const type = h.toString('latin1', 4, 8);
    if (i === 0 && type !== 'ftyp') return 'unknown';
    if (!/^[\x20-\x7e]{4}$/.test(type)) return 'invalid';
    if (boxSize === 1) {
      if (h.length < 16) return 'invalid';
      boxSize = Number(h.readBigUInt64BE(8));
    } else if (boxSize === 0) {
      return 'invalid'; // "extends to end of file": a recorder still writing mdat
    }
    if (boxSize < 8) return 'invalid';
    if (type === 'moov') sawMoov = true;
    pos += boxSize;
  }
  if (pos !== sizeBytes) return pos > sizeBytes ? 'invalid' : 'unknown';
  return sawMoov ? 'valid' : 'invalid';
}

/** Checks the end of the file at `path` by its extension; 'unknown' for formats without a cheap check. */
export async function checkFormatEnding(path: string, sizeBytes: number): Promise<FormatEnding> {
  const ext = extname(path).toLowerCase();
  const kind = ext === '.jpg' || ext === '.jpeg' ? 'jpeg' : ext === '.mp4' || ext === '.mov' ? 'mp4' : null;
  if (kind === null || sizeBytes === 0) return 'unknown';
  let fh: import('node:fs/promises').FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    if (kind === 'jpeg') {
      const head = await readAt(fh, 0, 2);
      const tailLen = Math.min(JPEG_TAIL_WINDOW_BYTES, sizeBytes);
      const tail = await readAt(fh, sizeBytes - tailLen, tailLen);
      return judgeJpeg(head, tail);
    }
    return await judgeMp4(fh, sizeBytes);
  } catch {
    return 'unknown'; // vanished or unreadable: the poller sees that on its next stat
  } finally {
    await fh?.close();
  }
}
