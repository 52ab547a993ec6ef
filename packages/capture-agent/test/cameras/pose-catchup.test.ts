// Pose at capture time from real navigation samples in a real flight DB, and the catch-up pass:
// assets captured before the data arrived get their pose when it does, never a wrong one.
import { writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  currentBootId,
  insertAsset,
  insertClockFit,
  insertNavSamples,
  nmeaChecksum,
  PoseTrack,
  readAssets,
  readClockFits,
  upsertPort,
  type NavSampleInsert,
  type TimedSample,
} from '@flysnap/shared';
import { AWAITING_POSE_SQL, loadKnownFiles, readCameraStatus } from '../../src/cameras/asset-store.js';
import { cameraClock } from '../../src/cameras/capture-source.js';
import { silentLogger } from '../../src/log/index.js';
import { CapturePipeline } from '../../src/pipeline/index.js';
import { FlightStore } from '../../src/store/index.js';
import { navPoseSource } from '../../src/cameras/nav-pose.js';
import { EMPTY_POSE } from '../../src/cameras/pose-source.js';
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
    // This boot's clock with no fit yet: its untimed rows are not even read (every 2 s, all flight).
    const noFitYet = { bootId: currentBootId(), toUtc: (): null => null };
    expect(catchUpPoses(arr.db, navPoseSource(arr.db), noFitYet, () => 50)).toEqual({ examined: 0, timed: 0, posed: 0, stillAwaiting: 0 });
    // The clock of the boot the file appeared on (this process's: the row was written here).
    const clock = { bootId: currentBootId(), toUtc: (mono: number): number => T0 + 9e6 + mono };
    const res = catchUpPoses(arr.db, navPoseSource(arr.db), clock, () => 50);
    expect(res).toMatchObject({ timed: 1, posed: 1 });
    expect(readAssets(arr.db)[0]).toMatchObject({ timeSource: 'flight-clock', appearedTUs: T0 + 10e6, captureTUs: T0 + 10e6 - 50_000 });
    expect(readAssets(arr.db)[0]?.lonDeg).toBeCloseTo(4 + (10 - 0.05) * 1e-4, 9);
  });
});

// A reboot mid-flight: the agent comes back on a new boot and continues the same flight DB, whose
// last clock fit is of the boot before. The monotonic clock restarted at the reboot.
describe('a reboot mid-flight: monotonic times are only converted through a fit of their own boot', () => {
  const OLD_BOOT = 'boot-before-the-reboot';
  /** Boot before the reboot: UTC minus its monotonic clock (it had run 2 h at T0). */
  const OLD_OFFSET_US = T0 - 7_200_000_000;
  /** This boot: UTC minus its monotonic clock (it started at T0). */
  const NEW_OFFSET_US = T0;

  function rmc(tUs: number): Buffer {
    const d = new Date(tUs / 1000);
    const body = `GPRMC,${d.toISOString().slice(11, 19).replace(/:/g, '')}.00,A,5200.000,N,00400.000,E,116.6,090.0,${d.toISOString().slice(8, 10)}${d.toISOString().slice(5, 7)}${d.toISOString().slice(2, 4)},,`;
    return Buffer.from(`$${body}*${nmeaChecksum(body)}\n`);
  }

  async function video(name: string, appearedMonoUs: number, latencyMs: number, clock: ReturnType<typeof cameraClock>): Promise<void> {
    const p = join(arr.cameraDir('cam1'), name);
    writeFileSync(p, 'a video without an embedded time');
    const st = statSync(p);
    await recordFile(
      { device: { device: 'cam1', clockOffsetMs: 0, latencyMs }, absPath: p, relPath: name, sizeBytes: st.size, mtimeMs: st.mtimeMs, appearedMonoUs, status: 'complete' },
      { db: arr.db, clock, pose: navPoseSource(arr.db), known: loadKnownFiles(arr.db, 'cam1') },
    );
  }

  it("a file appearing before this boot's first fit keeps no time (not the old boot's); the catch-up times it by this boot's fit", async () => {
    const boot = currentBootId();
    store(arr, samples(T0, T0 + 120e6));
    // The boot before stored its fits (the latest one 10 s before the reboot).
    insertClockFit(arr.db, { fittedMonoUs: 7_250e6, fittedTUs: 7_250e6 + OLD_OFFSET_US, offsetUs: OLD_OFFSET_US, driftPpm: 0, uncertaintyUs: 500, pairs: 60, port: 'gps', bootId: OLD_BOOT });

    // The agent after the reboot: its pipeline has no fit yet.
    const flightStore = new FlightStore(arr.db, { log: silentLogger() });
    const pipeline = new CapturePipeline({ store: flightStore, log: silentLogger(), clockFitMs: 1_000, bootId: boot });
    const gps = pipeline.addPort({ name: 'gps', role: 'gps', latencyMs: 0, checksumPolicy: 'reject' }, null);
    const clock = cameraClock(arr.db, pipeline, boot);

    // 20 s after this boot started (true UTC T0 + 20 s), a video appears.
    await video('after-reboot.mp4', 20e6, 0, clock);
    let [row] = readAssets(arr.db);
    // Through the old boot's fit it would have been T0 + 20 s - 2 h: no time at all instead.
    expect(row).toMatchObject({ captureTUs: null, timeSource: null, appearedTUs: null, appearedBootId: boot, latDeg: null });
    expect(readCameraStatus(arr.db).withoutCaptureTimeByReason).toEqual({ 'no-fit-this-boot': 1 });
    // Before this boot's first fit its untimed rows are not even read (nothing could convert them).
    expect(catchUpPoses(arr.db, navPoseSource(arr.db), clock, () => 0)).toEqual({ examined: 0, timed: 0, posed: 0, stillAwaiting: 0 });
    [row] = readAssets(arr.db);
    expect(row).toMatchObject({ captureTUs: null, timeSource: null });

    // This boot's GPS time arrives: the pipeline fits (and stores the fit with this boot).
    for (let s = 30; s < 40; s++) gps.line({ bytes: rmc(T0 + s * 1e6), monoUs: T0 + s * 1e6 - NEW_OFFSET_US });
    flightStore.flush();
    expect(pipeline.utcAt(20e6)).toBe(T0 + 20e6);
    const res = catchUpPoses(arr.db, navPoseSource(arr.db), clock, () => 0);
    expect(res).toMatchObject({ examined: 1, timed: 1, posed: 1, stillAwaiting: 0 });
    [row] = readAssets(arr.db);
    expect(row).toMatchObject({ timeSource: 'flight-clock', appearedTUs: T0 + 20e6, captureTUs: T0 + 20e6, appearedBootId: boot });
    expect(row?.lonDeg).toBeCloseTo(4 + 20e-4, 9);
    expect(readCameraStatus(arr.db).withoutCaptureTimeByReason).toEqual({});
    expect([...new Set(readClockFits(arr.db).map((f) => f.bootId))]).toEqual([OLD_BOOT, boot]);

    // A file appearing now is timed at once, by this boot's clock.
    await video('later.mp4', 50e6, 40, clock);
    expect(readAssets(arr.db).find((a) => a.relPath === 'later.mp4')).toMatchObject({ captureTUs: T0 + 50e6 - 40_000, appearedBootId: boot });
  });

  it("an older boot's untimed file is timed by that boot's own stored fit, never by this boot's; unknown or fitless boots keep no time", () => {
    const boot = currentBootId();
    store(arr, samples(T0 - 60e6, T0 + 60e6));
    const base = {
      device: 'cam1',
      sizeBytes: 10,
      captureTUs: null,
      timeSource: null,
      appearedTUs: null,
      recordedTUs: T0,
      status: 'complete' as const,
      ...EMPTY_POSE,
      poseQuality: { isAwaitingData: false, missing: {}, reason: 'no-capture-time' },
    };
    // Recorded in the boot before, before its first fit; the agent went down before a catch-up.
    insertAsset(arr.db, { ...base, relPath: 'old.mp4', sha256: 'a'.repeat(64), appearedMonoUs: 7_190e6, appearedBootId: OLD_BOOT });
    // A row from schema v1 (boot unknown), and one of a boot that never stored a fit.
    insertAsset(arr.db, { ...base, relPath: 'v1.mp4', sha256: 'b'.repeat(64), appearedMonoUs: 20e6, appearedBootId: null });
    insertAsset(arr.db, { ...base, relPath: 'fitless.mp4', sha256: 'c'.repeat(64), appearedMonoUs: 20e6, appearedBootId: 'boot-without-gps' });
    insertClockFit(arr.db, { fittedMonoUs: 7_200e6, fittedTUs: T0, offsetUs: OLD_OFFSET_US, driftPpm: 0, uncertaintyUs: 500, pairs: 60, port: 'gps', bootId: OLD_BOOT });
    // This boot has a fit too, whose mapping would put mono 7,190 s some 2 h after T0.
    const clock = { bootId: boot, toUtc: (mono: number): number => mono + NEW_OFFSET_US };

    const res = catchUpPoses(arr.db, navPoseSource(arr.db), clock, () => 0);
    expect(res).toMatchObject({ examined: 1, timed: 1, posed: 1 });
    const rows = Object.fromEntries(readAssets(arr.db).map((a) => [a.relPath, a]));
    expect(rows['old.mp4']).toMatchObject({ captureTUs: T0 - 10e6, appearedTUs: T0 - 10e6, timeSource: 'flight-clock' });
    expect(rows['old.mp4']?.lonDeg).toBeCloseTo(4 - 10e-4, 9);
    expect(rows['v1.mp4']).toMatchObject({ captureTUs: null, timeSource: null, latDeg: null });
    expect(rows['fitless.mp4']).toMatchObject({ captureTUs: null, timeSource: null, latDeg: null });
    expect(readCameraStatus(arr.db).withoutCaptureTimeByReason).toEqual({ 'unknown-boot': 1, 'no-fit-this-boot': 1 });
    // Rows no fit can convert are not looked at again (they would crowd out the others).
    expect(catchUpPoses(arr.db, navPoseSource(arr.db), clock, () => 0).examined).toBe(0);
  });
});

describe('the catch-up query over a long flight', () => {
  it('reads only the assets awaiting data (the partial index made at writable open), not every asset', () => {
    const arr = makeTestArray('fs-catchup-plan-');
    try {
      const plan = (arr.db.db.prepare(`EXPLAIN QUERY PLAN ${AWAITING_POSE_SQL}`).all(500) as { detail: string }[]).map((r) => r.detail);
      // Before the index: "SCAN asset" (every row, a JSON lookup each, every 2 s).
      expect(plan).toContain('SCAN asset USING INDEX asset_awaiting_pose');
    } finally {
      arr.close();
    }
  });
});
