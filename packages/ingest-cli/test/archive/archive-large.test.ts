// Limits zip has and tar must not: a member over 4 GiB (a sparse file: the archive itself is
// real, on tmpfs to spare the disk) and more than 65,535 files.
import { ARRAY_LAYOUT_VERSION, insertFlight, openFlightDb, writeArrayMarker, writeTransaction, insertAsset } from '@flysnap/shared';
import type { ArchiveManifest } from '@flysnap/shared';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ingest, sha256 } from '../helpers/arrays.js';

// tmpfs when there is one: 4 GiB written and read back is cheaper in memory than on a small disk.
const base = existsSync('/dev/shm') ? '/dev/shm' : '/tmp';
const dir = mkdtempSync(join(base, 'ingest-large-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function arrayWith(root: string, flightId: string, write: (add: (device: string, rel: string, size: number, sha: string) => void) => void): Promise<void> {
  mkdirSync(root, { recursive: true });
  await writeArrayMarker(root, { layoutVersion: ARRAY_LAYOUT_VERSION, flightId, createdTUs: 1 });
  const db = openFlightDb(join(root, 'flight.db'), { create: true });
  insertFlight(db, { id: flightId, aircraft: null, startedTUs: 1, endedTUs: 2, layoutVersion: ARRAY_LAYOUT_VERSION, createdBy: 'test' });
  writeTransaction(db, () =>
    write((device, relPath, sizeBytes, sha) =>
      insertAsset(db, { device, relPath, sizeBytes, sha256: sha, captureTUs: null, timeSource: null, appearedTUs: null, appearedMonoUs: null, recordedTUs: 1, status: 'complete', latDeg: null, lonDeg: null, altitudeM: null, pressureAltitudeM: null, headingDeg: null, speedMps: null, trackDeg: null, poseQuality: null }),
    ),
  );
  db.close();
}

describe('large archives', () => {
  it('a file over 4 GiB: archived, listed by GNU tar with its exact size, its tail pulled by offset', async () => {
    const root = join(dir, 'a4g');
    const size = 4 * 1024 ** 3 + 12345;
    await arrayWith(root, 'BIG-1', (add) => {
      const p = join(root, 'cameras', 'video1', 'LONG.MOV');
      mkdirSync(join(root, 'cameras', 'video1'), { recursive: true });
      const fd = openSync(p, 'w');
      writeSync(fd, Buffer.from('HEAD'), 0, 4, 0);
      ftruncateSync(fd, size);
      writeSync(fd, Buffer.from('TAIL'), 0, 4, size - 4);
      closeSync(fd);
      const sha = execFileSync('openssl', ['dgst', '-sha256', '-r', p], { encoding: 'utf8' }).split(' ')[0] ?? '';
      add('video1', 'LONG.MOV', size, sha);
    });
    const state = join(dir, 'state4g');
    const r = ingest(['archive', root, '--state-dir', state, '--no-upload', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { archivePath: string; manifestPath: string };
    const m = JSON.parse(readFileSync(out.manifestPath, 'utf8')) as ArchiveManifest;
    const f = m.files.find((x) => x.path === 'cameras/video1/LONG.MOV');
    expect(f?.sizeBytes).toBe(size);
    const listing = execFileSync('tar', ['-tvf', out.archivePath], { encoding: 'utf8' });
    expect(listing).toMatch(new RegExp(`\\s${size}\\s.*BIG-1/cameras/video1/LONG\\.MOV`));
    const fd = openSync(out.archivePath, 'r');
    const tail = Buffer.alloc(4);
    readSync(fd, tail, 0, 4, (f?.dataOffsetBytes ?? 0) + size - 4);
    closeSync(fd);
    expect(tail.toString()).toBe('TAIL');
    rmSync(root, { recursive: true, force: true });
    rmSync(out.archivePath);
  }, 240_000);

  it('more than 65,535 files: every one archived and extracted by GNU tar', async () => {
    const root = join(dir, 'many');
    const count = 70_000;
    await arrayWith(root, 'MANY-1', (add) => {
      for (let d = 0; d < 7; d++) {
        const folder = join(root, 'cameras', `cam${d}`);
        mkdirSync(folder, { recursive: true });
        for (let i = 0; i < count / 7; i++) {
          const content = `${d}/${i}`;
          writeFileSync(join(folder, `P${i}.JPG`), content);
          add(`cam${d}`, `P${i}.JPG`, content.length, sha256(content));
        }
      }
    });
    const state = join(dir, 'state-many');
    const r = ingest(['archive', root, '--state-dir', state, '--no-upload', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { archivePath: string; fileCount: number };
    expect(out.fileCount).toBe(count + 2); // + the marker and flight.db (closed cleanly: no WAL; no serial log)
    const names = execFileSync('tar', ['-tf', out.archivePath], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim().split('\n');
    expect(names.filter((n) => n.endsWith('.JPG'))).toHaveLength(count);
    const x = join(dir, 'many-x');
    mkdirSync(x);
    execFileSync('tar', ['-xf', out.archivePath, '-C', x]);
    expect(readFileSync(join(x, 'MANY-1', 'cameras', 'cam6', `P${count / 7 - 1}.JPG`), 'utf8')).toBe(`6/${count / 7 - 1}`);
  }, 240_000);
});
