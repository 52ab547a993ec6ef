// buildJpegOfSize: every size from the smallest up, including those around the COM segments'
// 64 KiB limit that full segments alone cannot reach, is a JPEG whose segments chain to the scan.
import { describe, expect, it } from 'vitest';
import { exifCaptureTime } from '../../src/flight/exif.js';
import { buildJpegOfSize, endsWithEoi, EXIF_APP1_AT, minJpegBytes } from '../../src/flight/jpeg.js';

const EXIF = { make: 'FlySnap', model: 'SimCam 1', ...exifCaptureTime(Date.UTC(2024, 0, 2) * 1000) };

/** Follows the segment lengths from SOI to SOS; returns the markers and where the scan data starts. */
function walk(jpeg: Buffer): { markers: number[]; scanAt: number } {
  const markers: number[] = [];
  let at = 2;
  while (at + 4 <= jpeg.length) {
    if (jpeg[at] !== 0xff) throw new Error(`no marker at ${at}`);
    const marker = jpeg[at + 1] ?? 0;
    markers.push(marker);
    at += 2 + jpeg.readUInt16BE(at + 2);
    if (marker === 0xda) return { markers, scanAt: at };
  }
  throw new Error('no SOS');
}

describe('buildJpegOfSize', () => {
  const min = minJpegBytes(EXIF);
  const sizes = [min, min + 1, min + 2, min + 3, min + 65_533, min + 65_534, min + 65_535, min + 65_536, min + 65_537, min + 131_070, min + 131_075, 5_242_880];

  it.each(sizes)('builds exactly %i bytes from SOI to EOI with the EXIF first', (size) => {
    const jpeg = buildJpegOfSize(EXIF, size, (count) => Buffer.alloc(count, 0xff));
    expect(jpeg.length).toBe(size);
    expect(jpeg.readUInt16BE(0)).toBe(0xffd8);
    expect(jpeg.readUInt16BE(EXIF_APP1_AT)).toBe(0xffe1);
    expect(endsWithEoi(jpeg)).toBe(true);
    const { markers, scanAt } = walk(jpeg);
    expect(markers[0]).toBe(0xe1);
    expect(markers).toContain(0xfe);
    expect(markers.at(-1)).toBe(0xda);
    expect(jpeg.length - scanAt).toBe(12 + 2); // 48 grey blocks of 2 bits, then EOI
  });

  it('refuses a size below the smallest JPEG', () => {
    expect(() => buildJpegOfSize(EXIF, min - 1, (count) => Buffer.alloc(count))).toThrow(/below the smallest JPEG/);
  });
});
