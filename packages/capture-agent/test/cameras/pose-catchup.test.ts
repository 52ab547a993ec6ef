// Pose at capture time from real navigation samples in a real flight DB, and the catch-up pass:
// assets captured before the data arrived get their pose when it does, never a wrong one.
import { writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { insertNavSamples, PoseTrack, readAssets, upsertPort, type NavSampleInsert, type TimedSample } from '@flysnap/shared';
import { loadKnownFiles, readCameraStatus } from '../../src/cameras/asset-store.js';
import { navPoseSource } from '../../src/cameras/nav-pose.js';
import { catchUpPoses } from '../../src/cameras/pose-catchup.js';
import { recordFile, type RecordInput } from '../../src/cameras/record.js';
import { exifFieldsFor, makeJpeg } from './helpers/jpeg.js';
import { makeTestArray, type TestArray } from './helpers/env.js';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0) * 1000;
const noClock = { toUtc: (): number | null => null };

/** A straight eastward flight; heading swings across north (359° → 1°) to test the wrap. */
function samples(fromUs: number, toUs: number): TimedSample[] {
  const out: TimedSample[] = [];
  for (let t = fromUs; t <= toUs; t += 200_000) {
    const s = (t - T0) / 1e6;
    out.push({ kind: 'position', sentence: 'GGA', talker: 'GP', tUs: t, latDeg: 52, lonDeg: 4 + s * 1e-4, altitudeM: 1000 + s, fixQuality: 1, satellites: 9, hdop: 0.9 });
    out.push({ kind: 'velocity', sentence: 'RMC', talker: 'GP', tUs: t, speedMps: 60, trackDeg: 90 });
  }
  for (let t = fromUs; t <= toUs; t += 100_000) {
    const s = (t - T0) / 1e6;
    out.push({ kind: 'heading', sentence: 'HDT', talker: 'HE', tUs: t, headingDeg: (359 + s * 0.2) % 360, reference: 'true' });
  }
  for (let t = fromUs; t <= toUs; t += 1_000_000) {
    out.push({ kind: 'pressure-altitude', sentence: 'PGRMZ', talker: 'P', tUs: t, altitudeM: 990 + (t - T0) / 1e6 });
  }
  return out;
}

function store(arr: TestArray, list: TimedSample[]): void {
  const rows: NavSampleInsert[] = list.map((sample) => ({ sample, tUs: sample.tUs, tSource: 'sentence', port: 'gps', rawOffset: null, receivedMonoUs: null }));
  insertNavSamples(arr.db, rows);
}

let arr: TestArray;
beforeEach(() => {
  arr = makeTestArray();
  upsertPort(arr.db, { name: 'gps', role: 'gps', path: '/dev/null', baudRate: 4800, status: 'open', lastError: null, statusTUs: T0 });
});
afterEach(() => arr.close());

async function shoot(name: string, tUs: number): Promise<void> {
  const dir = arr.cameraDir('cam1');
  const p = join(dir, name);
  writeFileSync(p, makeJpeg(exifFieldsFor(tUs)));
  const st = statSync(p);
  const input: RecordInput = {
    device: { device: 'cam1', clockOffsetMs: 0, latencyMs: 0 },
    absPath: p,
    relPath: name,
    sizeBytes: st.size,
    mtimeMs: st.mtimeMs,
    appearedMonoUs: 0,
    status: 'complete',
  };
  await recordFile(input, { db: arr.db, clock: noClock, pose: navPoseSource(arr.db), known: loadKnownFiles(arr.db, 'cam1') });
}

describe('pose at capture time from nav_sample (real flight DB, shared PoseTrack)', () => {
  it('interpolates every field between its own neighbours, heading across north', async () => {
    const all = samples(T0, T0 + 60e6);
    store(arr, all);
    const t = T0 + 10_050_000; // between samples of every field
    await shoot('a.jpg', t);
    const [row] = readAssets(arr.db);
    const truth = new PoseTrack(all).poseAt(t);
    expect(row?.latDeg).toBeCloseTo(truth.position.latDeg ?? NaN, 9);
    expect(row?.lonDeg).toBeCloseTo(4 + 10.05e-4, 9);
    expect(row?.altitudeM).toBeCloseTo(1010.05, 6);
    expect(row?.pressureAltitudeM).toBeCloseTo(1000.05, 6);
    expect(row?.headingDeg).toBeCloseTo((359 + 10.05 * 0.2) % 360, 6); // 1.01°, not 180°
    expect(row?.speedMps).toBe(60);
    expect(row?.poseQuality).toMatchObject({ isAwaitingData: false, missing: {}, join: { position: { fixQuality: 1, satellites: 9 } } });
  });

  it('an asset captured before its data exists gets its pose from the catch-up, equal to a direct lookup', async () => {
    store(arr, samples(T0, T0 + 5e6));
    const t = T0 + 8_030_000; // after every sample so far
    await shoot('early.jpg', t);
    let [row] = readAssets(arr.db);
    expect(row?.latDeg).toBeNull();
    expect(row?.poseQuality).toMatchObject({ isAwaitingData: true, missing: { latDeg: 'awaiting-data' } });
    expect(readCameraStatus(arr.db).withoutPoseByReason).toEqual({ 'awaiting-data': 1 });

    // Data up to just before t: still no right neighbour; the pass does not even look, nothing guessed.
    store(arr, samples(T0 + 5_200_000, T0 + 8_000_000));
    expect(catchUpPoses(arr.db, navPoseSource(arr.db), noClock, () => 0).examined).toBe(0);
    // Heading data just past t but no position after it yet: heading filled, position still awaited.
    store(arr, [{ kind: 'heading', sentence: 'HDT', talker: 'HE', tUs: t + 20_000, headingDeg: 1, reference: 'true' }]);
    expect(catchUpPoses(arr.db, navPoseSource(arr.db), noClock, () => 0)).toMatchObject({ examined: 1, stillAwaiting: 1 });
    [row] = readAssets(arr.db);
    expect(row?.latDeg).toBeNull();
    expect(row?.headingDeg).not.toBeNull();
    expect(row?.poseQuality).toMatchObject({ isAwaitingData: true, missing: { latDeg: 'awaiting-data' } });

    store(arr, samples(T0 + 8_100_000, T0 + 20e6).filter((s) => s.kind !== 'heading' || s.tUs > t + 20_000));
    const res = catchUpPoses(arr.db, navPoseSource(arr.db), noClock, () => 0);
    expect(res).toMatchObject({ examined: 1, posed: 1, stillAwaiting: 0 });
    [row] = readAssets(arr.db);
    expect(row?.lonDeg).toBeCloseTo(4 + 8.03e-4, 9);
    expect(row?.poseQuality).toMatchObject({ isAwaitingData: false, missing: {} });
    expect(readCameraStatus(arr.db).withoutPoseByReason).toEqual({});
  });

  it('a gap in the data is a final null with the reason, not awaited and not bridged', async () => {
    store(arr, [...samples(T0, T0 + 10e6), ...samples(T0 + 20e6, T0 + 60e6)]);
    await shoot('gap.jpg', T0 + 15e6);
    const [row] = readAssets(arr.db);
    expect(row).toMatchObject({ latDeg: null, headingDeg: null, altitudeM: null });
    expect(row?.poseQuality).toMatchObject({ isAwaitingData: false, missing: { latDeg: 'no-samples', headingDeg: 'no-samples' } });
    expect(catchUpPoses(arr.db, navPoseSource(arr.db), noClock, () => 0).examined).toBe(0);
  });

  it('a field whose stream stopped (compass died) is final once the others are well past the capture time', async () => {
    const all = samples(T0, T0 + 60e6).filter((s) => s.kind !== 'heading' || s.tUs < T0 + 10e6);
    store(arr, all);
    await shoot('nocompass.jpg', T0 + 20e6);
    const [row] = readAssets(arr.db);
    expect(row?.lonDeg).toBeCloseTo(4 + 20e-4, 9);
    expect(row?.headingDeg).toBeNull();
    expect(row?.poseQuality).toMatchObject({ isAwaitingData: false, missing: { headingDeg: 'no-samples' } });
  });

  it('an asset timed by the flight clock is timed and posed once the clock has a fit', async () => {
    store(arr, samples(T0, T0 + 60e6));
    const p = join(arr.cameraDir('cam1'), 'noexif.raw');
    writeFileSync(p, 'no exif here');
    const st = statSync(p);
    await recordFile(
      { device: { device: 'cam1', clockOffsetMs: 0, latencyMs: 50 }, absPath: p, relPath: 'noexif.raw', sizeBytes: st.size, mtimeMs: st.mtimeMs, appearedMonoUs: 1_000_000, status: 'complete' },
      { db: arr.db, clock: noClock, pose: navPoseSource(arr.db), known: new Map() },
    );
    expect(readAssets(arr.db)[0]).toMatchObject({ captureTUs: null, latDeg: null });
    const clock = { toUtc: (mono: number): number => T0 + 9e6 + mono };
    const res = catchUpPoses(arr.db, navPoseSource(arr.db), clock, () => 50);
    expect(res).toMatchObject({ timed: 1, posed: 1 });
    expect(readAssets(arr.db)[0]).toMatchObject({ timeSource: 'flight-clock', appearedTUs: T0 + 10e6, captureTUs: T0 + 10e6 - 50_000 });
    expect(readAssets(arr.db)[0]?.lonDeg).toBeCloseTo(4 + (10 - 0.05) * 1e-4, 9);
  });
});
