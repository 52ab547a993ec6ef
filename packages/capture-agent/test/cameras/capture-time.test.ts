import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { parseExifTime, readExifTimeFields, resolveCaptureTime } from '../../src/cameras/capture-time.js';
import { exifFieldsFor, makeJpeg } from './helpers/jpeg.js';

const T0_US = Date.UTC(2024, 4, 1, 12, 34, 56) * 1000; // 2024-05-01T12:34:56Z

describe('parseExifTime', () => {
  it('reads DateTimeOriginal + SubSecTimeOriginal + OffsetTimeOriginal to µs UTC', () => {
    expect(parseExifTime({ dateTime: '2024:05:01 14:34:56', subSec: '123', offset: '+02:00' })).toEqual({ ok: true, tUs: T0_US + 123_000 });
    expect(parseExifTime({ dateTime: '2024:05:01 07:04:56', subSec: '5', offset: '-05:30' })).toEqual({ ok: true, tUs: T0_US + 500_000 });
  });

  it('treats subsec digits as a decimal fraction and no offset as UTC', () => {
    expect(parseExifTime({ dateTime: '2024:05:01 12:34:56', subSec: '050', offset: null })).toEqual({ ok: true, tUs: T0_US + 50_000 });
    expect(parseExifTime({ dateTime: '2024:05:01 12:34:56', subSec: '123456', offset: null })).toEqual({ ok: true, tUs: T0_US + 123_456 });
    expect(parseExifTime({ dateTime: '2024:05:01 12:34:56', subSec: null, offset: null })).toEqual({ ok: true, tUs: T0_US });
  });

  it('crosses midnight and the year correctly with an offset', () => {
    const r = parseExifTime({ dateTime: '2025:01:01 01:00:00', subSec: '0', offset: '+02:00' });
    expect(r).toEqual({ ok: true, tUs: Date.UTC(2024, 11, 31, 23, 0, 0) * 1000 });
  });

  it('rejects, typed, what is not a time', () => {
    expect(parseExifTime({ dateTime: null, subSec: null, offset: null })).toMatchObject({ ok: false, reason: 'no-exif-time' });
    expect(parseExifTime({ dateTime: '0000:00:00 00:00:00', subSec: null, offset: null })).toMatchObject({ ok: false, reason: 'bad-date-time' });
    expect(parseExifTime({ dateTime: '2024:02:30 10:00:00', subSec: null, offset: null })).toMatchObject({ ok: false, reason: 'bad-date-time' });
    expect(parseExifTime({ dateTime: '2024-05-01', subSec: null, offset: null })).toMatchObject({ ok: false, reason: 'bad-date-time' });
    expect(parseExifTime({ dateTime: '2024:05:01 12:34:56', subSec: '12a', offset: null })).toMatchObject({ ok: false, reason: 'bad-subsec' });
    expect(parseExifTime({ dateTime: '2024:05:01 12:34:56', subSec: null, offset: '+2' })).toMatchObject({ ok: false, reason: 'bad-offset' });
  });
});

describe('readExifTimeFields (exifr on real JPEG bytes)', () => {
  it('reads the three fields as the file carries them', async () => {
    const jpeg = makeJpeg({ dateTimeOriginal: '2024:05:01 14:34:56', subSecTimeOriginal: '123', offsetTimeOriginal: '+02:00' });
    const fields = await readExifTimeFields(jpeg);
    expect(fields).toEqual({ dateTime: '2024:05:01 14:34:56', subSec: '123', offset: '+02:00' });
    expect(fields && parseExifTime(fields)).toEqual({ ok: true, tUs: T0_US + 123_000 });
  });

  it('round-trips the test writer for offsets either side of UTC', async () => {
    for (const offsetMin of [0, 120, -330]) {
      const t = T0_US + 987_000;
      const fields = await readExifTimeFields(makeJpeg(exifFieldsFor(t, offsetMin)));
      expect(fields && parseExifTime(fields)).toEqual({ ok: true, tUs: t });
    }
  });

  it('says null for a file with no EXIF or no known format', async () => {
    expect(await readExifTimeFields(Buffer.from('not an image at all'))).toBeNull();
    const noTime = await readExifTimeFields(makeJpeg({}));
    expect(noTime === null || noTime.dateTime === null).toBe(true);
  });
});

describe('readExifTimeFields over a flight', () => {
  it('keeps no memory per picture read (exifr caches options per options object, for ever)', async () => {
    // A fresh options literal per call left ~8 KB per picture in exifr's cache: ~25 MB for these
    // 3,000 pictures, hundreds of MB over a long flight. With one options object: ~0.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const jpeg = makeJpeg(exifFieldsFor(T0_US));
    for (let i = 0; i < 100; i++) await readExifTimeFields(jpeg); // warm up (JIT, exifr's lazy parts)
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 3000; i++) await readExifTimeFields(jpeg);
    gc();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(5 * 1024 * 1024);
  });
});

describe('resolveCaptureTime', () => {
  it('prefers EXIF and removes the camera clock offset (camera minus UTC)', () => {
    expect(resolveCaptureTime({ exifTUs: T0_US, clockOffsetMs: 250, appearedTUs: T0_US + 9e6, latencyMs: 100 })).toEqual({
      tUs: T0_US - 250_000,
      source: 'exif',
    });
  });

  it('falls back to the appeared time on the flight clock minus latency', () => {
    expect(resolveCaptureTime({ exifTUs: null, clockOffsetMs: 250, appearedTUs: T0_US, latencyMs: 120 })).toEqual({
      tUs: T0_US - 120_000,
      source: 'flight-clock',
    });
  });

  it('is null when neither is known (no EXIF, flight clock not fitted yet)', () => {
    expect(resolveCaptureTime({ exifTUs: null, clockOffsetMs: 0, appearedTUs: null, latencyMs: 0 })).toBeNull();
  });
});
