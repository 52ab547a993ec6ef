import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAssets, readEvents } from '@flysnap/shared';
import { inlineAssetWriter, workerAssetWriter, type AssetToWrite, type AssetWriter } from '../../src/cameras/asset-writer.js';
import { EMPTY_POSE } from '../../src/cameras/pose-source.js';
import { makeTestArray, type TestArray } from './helpers/env.js';

const asset = (relPath: string, sha = 'a'): AssetToWrite => ({
  device: 'cam1',
  relPath,
  sizeBytes: 10,
  sha256: sha.repeat(64),
  captureTUs: 1,
  timeSource: 'exif',
  appearedTUs: null,
  appearedMonoUs: null,
  status: 'complete',
  ...EMPTY_POSE,
  poseQuality: { isAwaitingData: true, missing: {} },
});

let arr: TestArray;
beforeEach(() => {
  arr = makeTestArray();
});
afterEach(() => arr.close());

describe.each([
  ['inline', (a: TestArray): AssetWriter => inlineAssetWriter(a.db)],
  ['worker thread (own connection)', (a: TestArray): AssetWriter => workerAssetWriter(a.db.path)],
])('asset writer: %s', (_name, make) => {
  it('writes many concurrent assets (group commit), idempotently, events only for new rows, commit time as recorded_t_us', async () => {
    const w = make(arr);
    const before = Date.now() * 1000;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => w.writeAsset(asset(`f${i}.jpg`), [{ tUs: 0, level: 'info', source: 'camera:cam1', code: 'x', message: `f${i}` }])),
    );
    expect(results.every((r) => r.inserted)).toBe(true);
    const again = await w.writeAsset(asset('f0.jpg'), [{ tUs: 0, level: 'info', source: 'camera:cam1', code: 'x', message: 'dup' }]);
    expect(again).toMatchObject({ id: results[0]?.id, inserted: false });
    expect(await w.writeEvent({ tUs: 0, level: 'warn', source: 'camera:cam1', code: 'y', message: 'm' })).toBeGreaterThan(0);
    await w.close();
    const rows = readAssets(arr.db);
    expect(rows).toHaveLength(200);
    expect(rows.every((r) => r.recordedTUs >= before)).toBe(true);
    const events = readEvents(arr.db);
    expect(events.filter((e) => e.code === 'x')).toHaveLength(200);
    expect(events.every((e) => e.tUs >= before)).toBe(true);
  });

  it('a row the DB refuses fails alone; the others of the batch are written', async () => {
    const w = make(arr);
    const bad = { ...asset('bad.jpg'), sha256: 'not-hex' };
    const [ok, failed] = await Promise.allSettled([w.writeAsset(asset('good.jpg')), w.writeAsset(bad)]);
    await w.close();
    expect(ok.status).toBe('fulfilled');
    expect(failed.status).toBe('rejected');
    expect(readAssets(arr.db).map((r) => r.relPath)).toEqual(['good.jpg']);
  });
});
