import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ARRAY_LAYOUT_VERSION,
  ArrayLayoutError,
  arrayPaths,
  assetPath,
  cameraDir,
  isSafeName,
  normalizeAssetRelPath,
  parseArrayMarker,
  portFromSerialLogName,
  readArrayMarker,
  readArrayMarkerSync,
  serialLogPath,
  writeArrayMarker,
} from '../../src/array/index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ArrayLayoutError);
    return (e as ArrayLayoutError).code;
  }
  return undefined;
}

describe('array layout v1 paths', () => {
  it('names every path under the root', () => {
    const p = arrayPaths('/mnt/array');
    expect(ARRAY_LAYOUT_VERSION).toBe(1);
    expect(p).toEqual({
      root: '/mnt/array',
      marker: '/mnt/array/flysnap-array.json',
      flightDb: '/mnt/array/flight.db',
      serialDir: '/mnt/array/serial',
      camerasDir: '/mnt/array/cameras',
      lock: '/mnt/array/capture-agent.lock',
    });
    expect(serialLogPath('/mnt/array', 'gps')).toBe('/mnt/array/serial/gps.log');
    expect(cameraDir('/mnt/array', 'cam-left_1')).toBe('/mnt/array/cameras/cam-left_1');
    expect(codeOf(() => arrayPaths(''))).toBe('bad-root');
  });

  it('accepts safe names and refuses unsafe ones with a typed error', () => {
    for (const ok of ['gps', 'ttyUSB0', 'a.b-c_d', 'x'.repeat(64), '.hidden']) expect(isSafeName(ok)).toBe(true);
    for (const bad of ['', '.', '..', 'a..b', 'a/b', 'a\\b', 'gps log', 'x'.repeat(65), 'é', 'a\0b']) {
      expect(isSafeName(bad)).toBe(false);
    }
    expect(codeOf(() => serialLogPath('/r', '../etc/passwd'))).toBe('bad-name');
    expect(codeOf(() => cameraDir('/r', '..'))).toBe('bad-name');
    try {
      cameraDir('/r', 'a/b');
    } catch (e) {
      expect((e as Error).message).toContain('device name "a/b"');
    }
  });

  it('maps serial log file names back to ports', () => {
    expect(portFromSerialLogName('gps.log')).toBe('gps');
    expect(portFromSerialLogName('gps.log.tmp')).toBeNull();
    expect(portFromSerialLogName('.log')).toBeNull();
  });

  it('normalises asset paths and refuses ones leaving the camera folder', () => {
    expect(normalizeAssetRelPath('DCIM/./100/IMG_1.JPG')).toBe('DCIM/100/IMG_1.JPG');
    expect(normalizeAssetRelPath('a\\b.jpg')).toBe('a/b.jpg');
    expect(assetPath('/r', 'cam', 'DCIM/IMG_1.JPG')).toBe('/r/cameras/cam/DCIM/IMG_1.JPG');
    for (const bad of ['', '/etc/passwd', '../x', 'a/../../x', '.', 'dir/']) {
      expect(codeOf(() => normalizeAssetRelPath(bad))).toBe('bad-rel-path');
    }
  });
});

describe('array marker', () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'flysnap-array-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('writes crash-safe, reads back, leaves no temp file, refuses to replace', async () => {
    const root = tmp();
    const marker = { layoutVersion: 1 as const, flightId: '2024-06-01_N123AB', createdTUs: 1717200000000000 };
    await writeArrayMarker(root, marker);
    expect(readdirSync(root)).toEqual(['flysnap-array.json']);
    expect(JSON.parse(readFileSync(join(root, 'flysnap-array.json'), 'utf8'))).toEqual(marker);
    expect(await readArrayMarker(root)).toEqual(marker);
    expect(readArrayMarkerSync(root)).toEqual(marker);
    await expect(writeArrayMarker(root, { ...marker, flightId: 'other' })).rejects.toMatchObject({
      code: 'marker-exists',
    });
    expect((await readArrayMarker(root)).flightId).toBe(marker.flightId);
    await writeArrayMarker(root, { ...marker, flightId: 'other' }, { overwrite: true });
    expect((await readArrayMarker(root)).flightId).toBe('other');
    expect(readdirSync(root)).toEqual(['flysnap-array.json']);
  });

  it('reports a missing, broken or newer marker with typed errors', async () => {
    const root = tmp();
    await expect(readArrayMarker(root)).rejects.toMatchObject({ code: 'marker-missing' });
    writeFileSync(join(root, 'flysnap-array.json'), '{"layoutVersion":1,');
    await expect(readArrayMarker(root)).rejects.toMatchObject({ code: 'bad-marker' });
    writeFileSync(join(root, 'flysnap-array.json'), '{"layoutVersion":2,"flightId":"f","createdTUs":1}');
    await expect(readArrayMarker(root)).rejects.toMatchObject({ code: 'unsupported-layout-version' });
    expect(parseArrayMarker('{"layoutVersion":1,"flightId":"../x","createdTUs":1}')).toMatchObject({
      status: 'rejected',
      error: { code: 'bad-marker' },
    });
    expect(parseArrayMarker('{"layoutVersion":1,"flightId":"f","createdTUs":1.5}').status).toBe('rejected');
    expect(parseArrayMarker('[]').status).toBe('rejected');
    await expect(
      writeArrayMarker(root, { layoutVersion: 1, flightId: 'a/b', createdTUs: 1 }, { overwrite: true }),
    ).rejects.toMatchObject({ code: 'bad-flight-id' });
  });
});
