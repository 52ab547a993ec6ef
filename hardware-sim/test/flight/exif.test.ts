import exifr from 'exifr';
import { describe, expect, it } from 'vitest';
import { buildExifTiff, exifCaptureTime, parseUtcOffset } from '../../src/flight/exif.js';
import { buildJpeg, endsWithEoi } from '../../src/flight/jpeg.js';

const T = Date.UTC(2024, 0, 2, 3, 4, 5, 678) * 1000;

describe('EXIF capture time', () => {
  it('shows the camera clock in its time zone with milliseconds and the offset', () => {
    expect(exifCaptureTime(T)).toEqual({ dateTimeOriginal: '2024:01:02 03:04:05', subSecTimeOriginal: '678', offsetTimeOriginal: '+00:00' });
    expect(exifCaptureTime(T, '-05:30')).toEqual({ dateTimeOriginal: '2024:01:01 21:34:05', subSecTimeOriginal: '678', offsetTimeOriginal: '-05:30' });
    expect(parseUtcOffset('+14:00')).toBe(840);
    expect(parseUtcOffset('+2:00')).toBeNull();
    expect(() => exifCaptureTime(T, 'Z')).toThrow(/bad UTC offset/);
  });

  it('writes a TIFF structure that exifr reads back', async () => {
    const jpeg = buildJpeg({ exif: { make: 'FlySnap', model: 'SimCam 1', ...exifCaptureTime(T, '+02:00') }, filler: Buffer.alloc(70_000, 0xff) });
    const tags = await exifr.parse(jpeg, { pick: ['Make', 'Model', 'DateTimeOriginal', 'SubSecTimeOriginal', 'OffsetTimeOriginal'], reviveValues: false });
    expect(tags).toEqual({ Make: 'FlySnap', Model: 'SimCam 1', DateTimeOriginal: '2024:01:02 05:04:05', SubSecTimeOriginal: '678', OffsetTimeOriginal: '+02:00' });
    expect(buildExifTiff({ make: 'A', model: 'B', ...exifCaptureTime(T) }).subarray(0, 4)).toEqual(Buffer.from([0x49, 0x49, 0x2a, 0x00]));
  });

  it('builds a JPEG from SOI to EOI, with the EXIF APP1 first and filler in COM segments', () => {
    const filler = Buffer.alloc(150_000, 0x5a);
    const jpeg = buildJpeg({ exif: { make: 'A', model: 'B', ...exifCaptureTime(T) }, filler });
    expect(jpeg.subarray(0, 4)).toEqual(Buffer.from([0xff, 0xd8, 0xff, 0xe1]));
    expect(jpeg.subarray(6, 12).toString('latin1')).toBe('Exif\0\0');
    expect(endsWithEoi(jpeg)).toBe(true);
    expect(endsWithEoi(jpeg.subarray(0, jpeg.length - 1))).toBe(false);
    expect(jpeg.length).toBeGreaterThan(filler.length);
    // Walk the segments up to SOS: each length must land on the next marker.
    let at = 2;
    const markers: number[] = [];
    while (at < jpeg.length) {
      expect(jpeg[at]).toBe(0xff);
      const marker = jpeg[at + 1] ?? 0;
      markers.push(marker);
      if (marker === 0xda) break;
      at += 2 + jpeg.readUInt16BE(at + 2);
    }
    expect(markers).toEqual([0xe1, 0xdb, 0xc0, 0xc4, 0xc4, 0xfe, 0xfe, 0xfe, 0xda]);
  });
});
