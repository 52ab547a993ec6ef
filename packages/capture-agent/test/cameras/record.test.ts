import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAssets, readEvents, sha256File } from '@flysnap/shared';
import type { HashFile } from '../../src/cameras/hash-pool.js';
import { loadKnownFiles } from '../../src/cameras/asset-store.js';
import type { MonoToUtc } from '../../src/cameras/flight-clock-source.js';
import { recordFile, type RecordContext, type RecordInput } from '../../src/cameras/record.js';
import { exifFieldsFor, makeJpeg } from './helpers/jpeg.js';
import { makeTestArray, noNavYet, type TestArray } from './helpers/env.js';
import { readFileSync, statSync } from 'node:fs';

const T_US = Date.UTC(2024, 4, 1, 12, 0, 0) * 1000;
const noClock: MonoToUtc = { toUtc: () => null };
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let arr: TestArray;
let dir: string;
let ctx: RecordContext;
beforeEach(() => {
  arr = makeTestArray();
  dir = arr.cameraDir('cam1');
  ctx = { db: arr.db, clock: noClock, pose: noNavYet, known: loadKnownFiles(arr.db, 'cam1') };
});
afterEach(() => arr.close());

function put(name: string, bytes: Buffer): RecordInput {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  const st = statSync(p);
  return {
    device: { device: 'cam1', clockOffsetMs: 0, latencyMs: 0 },
    absPath: p,
    relPath: name,
    sizeBytes: st.size,
    mtimeMs: st.mtimeMs,
    appearedMonoUs: 5_000_000,
    status: 'complete',
  };
}

describe('recordFile (real files, real flight DB)', () => {
  it('records size, SHA-256, EXIF capture time with the device clock offset, and why the pose is missing', async () => {
    const jpeg = makeJpeg(exifFieldsFor(T_US + 250_000, 120));
    const input = put('IMG_0001.jpg', jpeg);
    input.device.clockOffsetMs = 1500; // camera 1.5 s ahead of UTC
    const out = await recordFile(input, ctx);
    expect(out.kind).toBe('recorded');
    const [row] = readAssets(arr.db);
    expect(row).toMatchObject({
      device: 'cam1',
      relPath: 'IMG_0001.jpg',
      sizeBytes: jpeg.length,
      sha256: sha(jpeg),
      captureTUs: T_US + 250_000 - 1_500_000,
      timeSource: 'exif',
      status: 'complete',
      latDeg: null,
      appearedMonoUs: 5_000_000,
    });
    expect(row?.poseQuality).toMatchObject({ isAwaitingData: true });
  });

  it('falls back to the flight-clock appearance time minus latency, or no time while the clock has no fit', async () => {
    const raw = Buffer.from('not a jpeg, no exif at all');
    const clock: MonoToUtc = { toUtc: (mono) => T_US + mono };
    const a = put('a.raw', raw);
    a.device.latencyMs = 80;
    await recordFile(a, { ...ctx, clock });
    await recordFile(put('b.raw', Buffer.from('other bytes')), ctx);
    const rows = readAssets(arr.db);
    expect(rows[0]).toMatchObject({ relPath: 'a.raw', timeSource: 'flight-clock', appearedTUs: T_US + 5_000_000, captureTUs: T_US + 5_000_000 - 80_000 });
    expect(rows[1]).toMatchObject({ relPath: 'b.raw', timeSource: null, captureTUs: null, appearedTUs: null });
    expect(rows[1]?.poseQuality).toMatchObject({ reason: 'no-capture-time' });
  });

  it('a file born before this boot (no appearance time) gets no flight-clock time, even with a fit; the row keeps the clock\'s boot', async () => {
    const clock: MonoToUtc = { toUtc: (mono) => T_US + mono, bootId: 'boot-b' };
    const a = put('old.raw', Buffer.from('no exif, born before the reboot'));
    a.appearedMonoUs = null;
    await recordFile(a, { ...ctx, clock });
    await recordFile(put('new.raw', Buffer.from('no exif, born on this boot')), { ...ctx, clock });
    const rows = readAssets(arr.db);
    expect(rows.find((r) => r.relPath === 'old.raw')).toMatchObject({ appearedMonoUs: null, appearedTUs: null, captureTUs: null, timeSource: null });
    expect(rows.find((r) => r.relPath === 'new.raw')).toMatchObject({ appearedMonoUs: 5_000_000, appearedBootId: 'boot-b', timeSource: 'flight-clock' });
  });

  it('reads the time from the hashed head when it holds one, else from the file (EXIF further in)', async () => {
    const jpeg = makeJpeg(exifFieldsFor(T_US + 250_000));
    // A head without the time (as for an EXIF block past the kept bytes): the file is read.
    const headless = async (p: string) => ({ sha256: sha(jpeg), sizeBytes: jpeg.length, head: Buffer.from(readFileSync(p).subarray(0, 2)) });
    await recordFile(put('far.jpg', jpeg), { ...ctx, hash: headless });
    expect(readAssets(arr.db)[0]).toMatchObject({ relPath: 'far.jpg', timeSource: 'exif', captureTUs: T_US + 250_000 });
    // A head with a time: that time is used, not the file's (the hashed bytes win).
    const other = makeJpeg(exifFieldsFor(T_US + 9_000_000));
    const fromHead = async () => ({ sha256: sha(jpeg), sizeBytes: jpeg.length, head: other.subarray(0, 200) });
    await recordFile(put('near.jpg', jpeg), { ...ctx, hash: fromHead });
    expect(readAssets(arr.db).find((r) => r.relPath === 'near.jpg')).toMatchObject({ timeSource: 'exif', captureTUs: T_US + 9_000_000 });
  });

  it('keeps why an embedded time was rejected (camera with an unset clock)', async () => {
    await recordFile(put('z.jpg', makeJpeg({ dateTimeOriginal: '0000:00:00 00:00:00' })), ctx);
    expect(readAssets(arr.db)[0]?.poseQuality).toMatchObject({ exifRejected: expect.stringContaining('0000:00:00') });
  });

  it('the same content again is not a second row, also after a restart (known reloaded from the DB)', async () => {
    const input = put('IMG_0002.jpg', makeJpeg(exifFieldsFor(T_US)));
    expect((await recordFile(input, ctx)).kind).toBe('recorded');
    expect((await recordFile(input, ctx)).kind).toBe('unchanged');
    const fresh = { ...ctx, known: loadKnownFiles(arr.db, 'cam1') };
    expect((await recordFile(input, fresh)).kind).toBe('unchanged');
    // Even with nothing known in memory, the DB's unique key holds.
    expect((await recordFile(input, { ...ctx, known: new Map() })).kind).toBe('duplicate');
    expect(readAssets(arr.db)).toHaveLength(1);
  });

  it('a recorded file that changes is an event, not a new row; reported once, also after a restart', async () => {
    const first = makeJpeg(exifFieldsFor(T_US));
    await recordFile(put('IMG_0003.jpg', first), ctx);
    const second = makeJpeg(exifFieldsFor(T_US + 1000));
    const changed = put('IMG_0003.jpg', second);
    expect((await recordFile(changed, ctx)).kind).toBe('changed');
    expect((await recordFile(changed, ctx)).kind).toBe('unchanged');
    expect((await recordFile(changed, { ...ctx, known: loadKnownFiles(arr.db, 'cam1') })).kind).toBe('unchanged');
    expect(readAssets(arr.db)).toHaveLength(1);
    const events = readEvents(arr.db).filter((e) => e.code === 'asset-changed');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      source: 'camera:cam1',
      level: 'warn',
      data: { relPath: 'IMG_0003.jpg', old: { sha256: sha(first) }, new: { sha256: sha(second) } },
    });
  });

  it('an incomplete file finished later gets a complete row and an event', async () => {
    const full = makeJpeg(exifFieldsFor(T_US));
    const half = put('IMG_0004.jpg', full.subarray(0, 100));
    half.status = 'incomplete';
    half.incompleteReason = 'bad-ending';
    await recordFile(half, ctx);
    await recordFile(put('IMG_0004.jpg', full), ctx);
    const rows = readAssets(arr.db);
    expect(rows.map((r) => [r.status, r.sizeBytes])).toEqual([
      ['incomplete', 100],
      ['complete', full.length],
    ]);
    expect(readEvents(arr.db).map((e) => e.code)).toEqual(['asset-incomplete', 'asset-completed-later']);
  });

  it('a file that changes while it is hashed is not recorded (settle again)', async () => {
    const input = put('IMG_0005.jpg', makeJpeg(exifFieldsFor(T_US)));
    writeFileSync(input.absPath, makeJpeg(exifFieldsFor(T_US), 9000));
    expect((await recordFile(input, ctx)).kind).toBe('unstable');
    expect(readAssets(arr.db)).toHaveLength(0);
  });

  it('the hash pool\'s stat after hashing decides it too (no second stat here)', async () => {
    const input = put('IMG_0006.jpg', makeJpeg(exifFieldsFor(T_US)));
    // The bytes hashed are the settled ones, but the worker saw the file touched once it had read them.
    const touched: HashFile = async (p) => ({ ...(await sha256File(p)), after: { sizeBytes: input.sizeBytes, mtimeMs: input.mtimeMs + 1 } });
    expect((await recordFile(input, { ...ctx, hash: touched })).kind).toBe('unstable');
    const same: HashFile = async (p) => ({ ...(await sha256File(p)), after: { sizeBytes: input.sizeBytes, mtimeMs: input.mtimeMs } });
    expect((await recordFile(input, { ...ctx, hash: same })).kind).toBe('recorded');
  });
});
