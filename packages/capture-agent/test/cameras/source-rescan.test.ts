// The rescan against files recorded while it lists the folder, and what the watcher and the
// listing leave alone (hidden sub-folders, symbolic links): a file on disk is never reported missing. The listing is wrapped (vi.mock) so that a file is written and
// recorded exactly while the listing runs, whatever the machine's speed.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
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

  it('ignores hidden sub-folders and symbolic links in the watcher as in the listing: nothing recorded there, nothing missing', async () => {
    const dir = arr.cameraDir('cam1');
    const outside = join(arr.root, 'outside');
    mkdirSync(outside);
    const s = start();
    await s.start();
    await arr.writeAsCamera(join(outside, 'target.jpg'), makeJpeg(exifFieldsFor(T_US + 2e6), 5_000));
    symlinkSync(join(outside, 'target.jpg'), join(dir, 'link.jpg'));
    symlinkSync(outside, join(dir, 'linkdir'));
    await arr.writeAsCamera(join(outside, 'through-link.jpg'), makeJpeg(exifFieldsFor(T_US + 3e6), 5_000));
    mkdirSync(join(dir, '.partial', 'DCIM'), { recursive: true });
    mkdirSync(join(dir, 'DCIM', '100CAM'), { recursive: true });
    await arr.writeAsCamera(join(dir, '.partial', 'DCIM', 'hidden.jpg'), makeJpeg(exifFieldsFor(T_US), 5_000));
    await arr.writeAsCamera(join(dir, 'DCIM', '100CAM', 'shown.jpg'), makeJpeg(exifFieldsFor(T_US + 1e6), 5_000));
    await waitFor('the visible file', () => paths().length >= 1);
    await waitFor('nothing settling', () => s.pendingCount === 0);
    await s.idle();
    await s.rescan();
    await s.idle();
    expect(paths()).toEqual(['DCIM/100CAM/shown.jpg']);
    expect(codes()).toEqual([]);
  });
});
