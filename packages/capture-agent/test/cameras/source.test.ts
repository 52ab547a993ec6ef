// The camera side end to end on real folders, a real flight DB and camera stand-ins in child
// processes: bursts, files present at start, a slow writer, a half-written file, a growing video,
// a stop/restart with files added and changed meanwhile.
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { insertNavSamples, readAssets, readEvents, upsertPort } from '@flysnap/shared';
import { readCameraStatus } from '../../src/cameras/asset-store.js';
import { CameraSource, type CameraSettings } from '../../src/cameras/source.js';
import { exifFieldsFor, makeJpeg } from './helpers/jpeg.js';
import { capturedLog } from '../helpers/log.js';
import { holdWriteLock, killLockHolders } from '../store/lock-holder.js';
import type { PoseSource } from '../../src/cameras/pose-source.js';
import { makeTestArray, noNavYet, waitFor, type TestArray } from './helpers/env.js';
import { fakeProc } from './helpers/proc.js';
import { canSeeEveryUser, ownCapEff } from '../../src/cameras/open-writers.js';

const T_US = Date.UTC(2024, 4, 1, 12, 0, 0) * 1000;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const noClock = { toUtc: (): number | null => null };

let arr: TestArray;
let source: CameraSource | null = null;
beforeEach(() => {
  arr = makeTestArray();
});
afterEach(async () => {
  killLockHolders();
  await source?.stop();
  source = null;
  arr.close();
});

function cameras(devices: string[], o: Partial<CameraSettings> = {}): CameraSettings[] {
  return devices.map((device) => ({ device, kind: 'image', folder: arr.cameraDir(device), extensions: ['.jpg'], ...o }));
}

function start(cams: CameraSettings[], rescanMs = 60_000): CameraSource {
  source = new CameraSource({ db: arr.db, cameras: cams, clock: noClock, pose: noNavYet, rescanMs, catchUpMs: 60_000 });
  return source;
}

describe('CameraSource', () => {
  it('records every file exactly once with the right hash: present at start, then a burst into 3 folders', async () => {
    const expected = new Map<string, string>();
    const cams = cameras(['cam1', 'cam2', 'cam3']);
    // Present before the agent starts (chokidar #594: awaitWriteFinish would not apply to these).
    for (let i = 0; i < 5; i++) {
      const b = makeJpeg(exifFieldsFor(T_US + i * 1e6), 20_000);
      writeFileSync(join(arr.cameraDir('cam1'), `pre${i}.jpg`), b);
      expected.set(`cam1/pre${i}.jpg`, sha(b));
    }
    await start(cams).start();
    // A burst: 3 cameras × 15 files, each written in chunks by a child process, all at once.
    const writes: Promise<void>[] = [];
    for (const cam of ['cam1', 'cam2', 'cam3']) {
      for (let i = 0; i < 15; i++) {
        const b = makeJpeg(exifFieldsFor(T_US + i * 2e6), 50_000 + i * 1000);
        expected.set(`${cam}/IMG_${i}.jpg`, sha(b));
        writes.push(arr.writeAsCamera(join(arr.cameraDir(cam), `IMG_${i}.jpg`), b, 5, 5));
      }
    }
    // Not assets: another extension, a hidden file, a sub-folder's .txt.
    writes.push(arr.writeAsCamera(join(arr.cameraDir('cam1'), 'notes.txt'), Buffer.from('not an asset'), 1));
    writes.push(arr.writeAsCamera(join(arr.cameraDir('cam2'), '._IMG_0.jpg'), makeJpeg(exifFieldsFor(T_US))));
    await Promise.all(writes);
    await waitFor('all assets', () => readAssets(arr.db).length >= expected.size);
    await source?.rescan();
    await source?.idle();
    const rows = readAssets(arr.db);
    expect(rows).toHaveLength(expected.size);
    for (const r of rows) {
      expect(r.sha256).toBe(expected.get(`${r.device}/${r.relPath}`));
      expect(r).toMatchObject({ status: 'complete', timeSource: 'exif' });
    }
  });

  it('records a slow writer (5 s, 10 chunks) once, after it is complete', async () => {
    await start(cameras(['cam1'])).start();
    const b = makeJpeg(exifFieldsFor(T_US), 200_000);
    const recorded: number[] = [];
    source?.on('asset', (a) => recorded.push(a.sizeBytes));
    await arr.writeAsCamera(join(arr.cameraDir('cam1'), 'slow.jpg'), b, 10, 550);
    await waitFor('the slow file', () => recorded.length > 0);
    await source?.rescan();
    await source?.idle();
    expect(recorded).toEqual([b.length]);
    expect(readAssets(arr.db).map((r) => [r.sizeBytes, r.sha256])).toEqual([[b.length, sha(b)]]);
  });

  it('records a half-written file (writer died, no FF D9) as incomplete after the timeout, and says why', async () => {
    await start(cameras(['cam1'], { incompleteAfterMs: 1500 })).start();
    const b = makeJpeg(exifFieldsFor(T_US), 30_000);
    await arr.writeAsCamera(join(arr.cameraDir('cam1'), 'half.jpg'), b, 4, 5, true);
    await waitFor('the incomplete row', () => readAssets(arr.db).length > 0);
    const [row] = readAssets(arr.db);
    expect(row).toMatchObject({ status: 'incomplete', sizeBytes: Math.ceil(b.length / 4) * 3 });
    expect(readCameraStatus(arr.db).incompleteFiles).toEqual([
      { device: 'cam1', relPath: 'half.jpg', sizeBytes: row?.sizeBytes, reason: 'bad-ending' },
    ]);
  });

  it('does not record a growing video until it stops growing and is closed', async () => {
    const cams: CameraSettings[] = [
      { device: 'video1', kind: 'video', folder: arr.cameraDir('video1'), extensions: ['.mp4'], settleMs: 1500 },
    ];
    await start(cams).start();
    const path = join(arr.cameraDir('video1'), 'flight.mp4');
    const box = (type: string, n: number): Buffer => {
      const h = Buffer.alloc(8);
      h.writeUInt32BE(8 + n);
      h.write(type, 4, 'latin1');
      return Buffer.concat([h, Buffer.alloc(n, 3)]);
    };
    // mdat written in pieces, pauses longer than the closed-file settle time, then moov.
    const ftyp = box('ftyp', 8);
    const mdat = box('mdat', 60_000);
    writeFileSync(path, ftyp);
    for (let i = 0; i < 6; i++) {
      appendFileSync(path, mdat.subarray(i * 10_000, (i + 1) * 10_000));
      await new Promise((r) => setTimeout(r, 300));
      expect(readAssets(arr.db)).toHaveLength(0);
    }
    appendFileSync(path, mdat.subarray(60_000));
    appendFileSync(path, box('moov', 500));
    const whole = readFileSync(path);
    await waitFor('the video asset', () => readAssets(arr.db).length > 0);
    expect(readAssets(arr.db).map((r) => [r.status, r.sizeBytes, r.sha256])).toEqual([['complete', whole.length, sha(whole)]]);
  });

  it('after a stop and restart: files added meanwhile recorded once, a changed one is an event, a deleted one is reported', async () => {
    const cams = cameras(['cam1', 'cam2']);
    await start(cams).start();
    const a = makeJpeg(exifFieldsFor(T_US), 10_000);
    await arr.writeAsCamera(join(arr.cameraDir('cam1'), 'a.jpg'), a);
    await arr.writeAsCamera(join(arr.cameraDir('cam2'), 'gone.jpg'), makeJpeg(exifFieldsFor(T_US), 10_000));
    await waitFor('two assets', () => readAssets(arr.db).length === 2);
    await source?.stop();

    // While the agent is down: a new file, a rewrite of a recorded one, a deletion.
    const b = makeJpeg(exifFieldsFor(T_US + 1e6), 10_000);
    writeFileSync(join(arr.cameraDir('cam2'), 'b.jpg'), b);
    await new Promise((r) => setTimeout(r, 20)); // mtime strictly after the row's recorded time
    writeFileSync(join(arr.cameraDir('cam1'), 'a.jpg'), makeJpeg(exifFieldsFor(T_US + 5), 10_000));
    const { rmSync } = await import('node:fs');
    rmSync(join(arr.cameraDir('cam2'), 'gone.jpg'));

    await start(cams).start();
    await waitFor('b recorded', () => readAssets(arr.db).length === 3);
    await waitFor('the change event', () => readEvents(arr.db).some((e) => e.code === 'asset-changed'));
    await source?.rescan();
    await source?.idle();
    await source?.rescan();
    await source?.idle();
    expect(readAssets(arr.db).map((r) => `${r.device}/${r.relPath}`).sort()).toEqual(['cam1/a.jpg', 'cam2/b.jpg', 'cam2/gone.jpg']);
    expect(readAssets(arr.db).find((r) => r.relPath === 'a.jpg')?.sha256).toBe(sha(a));
    expect(readEvents(arr.db).map((e) => e.code).sort()).toEqual(['asset-changed', 'asset-missing']);
    const status = readCameraStatus(arr.db);
    expect(status.changedAfterRecord).toBe(1);
    expect(status.missingFromDisk).toBe(1);
    expect(status.devices['cam2']).toMatchObject({ assets: 2, complete: 2 });
  });

  it('a pose catch-up pass refused for another connection\'s write lock is no error: the next pass does it', async () => {
    const dbPath = join(arr.root, 'flight.db');
    // As in the agent: its connection waits only a few ms for the lock (store/flightStore.ts).
    arr.db.db.pragma('busy_timeout = 20');
    writeFileSync(join(arr.cameraDir('cam1'), 'a.jpg'), makeJpeg(exifFieldsFor(T_US)));
    let hasNav = false;
    const pose: PoseSource = {
      poseAt: (tUs) => (hasNav ? { pose: { ...noNavYet.poseAt(tUs).pose, latDeg: 45.5, lonDeg: 7.25 }, quality: { isAwaitingData: false, missing: {} } } : noNavYet.poseAt(tUs)),
    };
    const { lines, log } = capturedLog();
    const errors: Error[] = [];
    source = new CameraSource({ db: arr.db, cameras: cameras(['cam1']), clock: noClock, pose, rescanMs: 60_000, catchUpMs: 50, logger: log });
    source.on('error', (e) => errors.push(e));
    await source.start();
    await waitFor('the asset', () => readAssets(arr.db).length === 1);
    // Navigation data past the capture time is stored (so the passes look at the asset again) and
    // reaches the pose source while another process holds the write lock for 6+ passes.
    upsertPort(arr.db, { name: 'gps', role: 'gps', path: '/dev/null', baudRate: 4800, status: 'open', lastError: null, statusTUs: T_US });
    const fix = { kind: 'position', sentence: 'GGA', talker: 'GP', tUs: T_US + 1e6, latDeg: 45.5, lonDeg: 7.25, altitudeM: 1000, fixQuality: 1, satellites: 9, hdop: 0.9 } as const;
    insertNavSamples(arr.db, [{ sample: fix, tUs: fix.tUs, tSource: 'sentence', port: 'gps', rawOffset: null, receivedMonoUs: null }]);
    const holder = await holdWriteLock(dbPath);
    hasNav = true;
    await new Promise((r) => setTimeout(r, 400));
    expect(readAssets(arr.db)[0]?.latDeg).toBeNull();
    await holder.release();
    await waitFor('the caught-up pose', () => readAssets(arr.db)[0]?.latDeg === 45.5);
    expect(errors).toEqual([]);
    expect(lines().filter((l) => l.level === 'error' || l.level === 50)).toEqual([]);
  });
});

describe('CameraSource where other processes\' open files cannot be seen', () => {
  it('says so once at start, naming them and the fix, and records pictures only after settleMs, unless they are named non-writers', async () => {
    const file = join(arr.root, 'unrelated.bin');
    writeFileSync(file, 'x');
    const cases = [
      { name: 'all-seen', hidden: 'none', notCameraWriters: [], warned: false, decision: 'closed-and-valid' },
      { name: 'hidden', hidden: 'links', notCameraWriters: [], warned: true, decision: 'stable' },
      { name: 'named', hidden: 'links', notCameraWriters: ['supervisor'], warned: false, decision: 'closed-and-valid' },
    ] as const;
    for (const c of cases) {
      const { lines, log } = capturedLog();
      const procRoot = fakeProc(join(arr.root, `proc-${c.name}`), file, c.hidden);
      const cams = cameras(['cam1']).map((cam) => ({ ...cam, settleMs: 300 }));
      const s = new CameraSource({ db: arr.db, cameras: cams, clock: noClock, pose: noNavYet, rescanMs: 60_000, catchUpMs: 60_000, logger: log, procRoot, notCameraWriters: c.notCameraWriters });
      source = s;
      await s.start();
      const name = `IMG_${c.name}.jpg`;
      writeFileSync(join(arr.cameraDir('cam1'), name), makeJpeg(exifFieldsFor(T_US)));
      await waitFor(name, () => readAssets(arr.db).some((a) => a.relPath === name));
      await s.stop();
      source = null;
      const warnings = lines().filter((l) => typeof l['msg'] === 'string' && l['msg'].startsWith('cannot see which files'));
      expect(warnings, c.name).toHaveLength(c.warned ? 1 : 0);
      if (c.warned) {
        expect(warnings[0]).toMatchObject({ hiddenProcesses: 1, processes: [{ pid: 400, name: 'supervisor' }], level: expect.anything() });
        expect(warnings[0]?.['msg']).toContain('400 (supervisor)');
        // The fix that applies: with both capabilities only naming them can help; otherwise the capabilities first.
        expect(warnings[0]?.['msg']).toContain('notCameraWriters');
        if (canSeeEveryUser(ownCapEff())) expect(warnings[0]?.['msg']).not.toContain('run the agent as root');
        else expect(warnings[0]?.['msg']).toContain('CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE');
      }
      // How the picture was called complete: its writer proven gone, or only its size stable for settleMs.
      expect(lines().find((l) => l['msg'] === 'asset recorded' && l['relPath'] === name), c.name).toMatchObject({ decision: c.decision });
    }
  });
});
