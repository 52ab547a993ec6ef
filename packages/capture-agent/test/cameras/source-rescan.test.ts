// The rescan against files recorded while it lists the folder: a file on disk is never reported
// missing. The listing is wrapped (vi.mock) so that a file is written and
// recorded exactly while the listing runs, whatever the machine's speed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readAssets, readEvents } from '@flysnap/shared';
import { CameraSource, type CameraSettings } from '../../src/cameras/source.js';
import { exifFieldsFor, makeJpeg } from './helpers/jpeg.js';
import { makeTestArray, noNavYet, waitFor, type TestArray } from './helpers/env.js';

/** Run once (then cleared) after the real listing, before the rescan sees its result. */
let whileListing: (() => Promise<void>) | null = null;

vi.mock('../../src/cameras/rescan.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/cameras/rescan.js')>();
  return {
    ...actual,
    listCameraFolder: async (...args: Parameters<typeof actual.listCameraFolder>): ReturnType<typeof actual.listCameraFolder> => {
      const listed = await actual.listCameraFolder(...args);
      const hook = whileListing;
      whileListing = null;
      if (hook) await hook();
      return listed;
    },
  };
});

const T_US = Date.UTC(2024, 4, 1, 12, 0, 0) * 1000;
const noClock = { toUtc: (): number | null => null };

let arr: TestArray;
let source: CameraSource | null = null;
beforeEach(() => {
  arr = makeTestArray();
  whileListing = null;
});
afterEach(async () => {
  await source?.stop();
  source = null;
  arr.close();
});

function start(): CameraSource {
  const cams: CameraSettings[] = [{ device: 'cam1', kind: 'image', folder: arr.cameraDir('cam1'), extensions: ['.jpg'], closedSettleMs: 20 }];
  source = new CameraSource({ db: arr.db, cameras: cams, clock: noClock, pose: noNavYet, rescanMs: 600_000, catchUpMs: 600_000 });
  return source;
}

const codes = (): string[] => readEvents(arr.db).map((e) => e.code);
const paths = (): string[] => readAssets(arr.db).map((a) => a.relPath).sort();

describe('CameraSource rescan', () => {
  it('does not report missing a file written and recorded while the folder was being listed', async () => {
    const dir = arr.cameraDir('cam1');
    writeFileSync(join(dir, 'before.jpg'), makeJpeg(exifFieldsFor(T_US), 5_000));
    const s = start();
    await s.start();
    await waitFor('the file present at start', () => paths().length === 1);
    whileListing = async (): Promise<void> => {
      writeFileSync(join(dir, 'during.jpg'), makeJpeg(exifFieldsFor(T_US + 1e6), 5_000));
      await waitFor('the file written during the listing', () => paths().includes('during.jpg'));
    };
    await s.rescan();
    expect(whileListing).toBeNull(); // the race happened
    await s.rescan(); // and a later rescan, which lists it, has nothing to say either
    await s.idle();
    expect(paths()).toEqual(['before.jpg', 'during.jpg']);
    expect(codes()).toEqual([]);
  });
});
