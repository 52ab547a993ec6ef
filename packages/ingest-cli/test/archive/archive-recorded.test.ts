// Issue 13's main check, on an array recorded by a real capture-agent from `hardware-sim flight`
// (cameras with pictures and a video, raw serial logs, a flight DB whose WAL still holds rows the
// agent never checkpointed: it was SIGKILLed). Archived, verified, then extracted with GNU tar
// alone and compared with the array byte for byte; single files pulled by the manifest's offsets.
import { openFlightDb, readAssets } from '@flysnap/shared';
import type { ArchiveManifest } from '@flysnap/shared';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readSync, closeSync, readdirSync, lstatSync, readlinkSync, rmSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, recordFlight, sha256, tempDir } from '../helpers/arrays.js';

const dir = tempDir('recorded');
let array = '';
let archive = '';
let manifest: ArchiveManifest;
const state = join(dir, 'state');

/** Every file below `root` (relative POSIX paths), without following links. */
function listFiles(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, rel))) {
    const r = rel === '' ? name : `${rel}/${name}`;
    const st = lstatSync(join(root, r));
    if (st.isDirectory()) out.push(...listFiles(root, r));
    else out.push(r);
  }
  return out.sort();
}

beforeAll(async () => {
  array = await recordFlight(dir, { durationS: 12, cameras: 2 });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('archive of a recorded flight', () => {
  it('the recorded array has a WAL with rows not yet in flight.db', () => {
    expect(existsSync(join(array, 'flight.db-wal'))).toBe(true);
    expect(lstatSync(join(array, 'flight.db-wal')).size).toBeGreaterThan(0);
    // flight.db alone (copied without its WAL) lacks rows the WAL holds.
    const alone = join(dir, 'alone');
    mkdirSync(alone);
    copyFileSync(join(array, 'flight.db'), join(alone, 'flight.db'));
    const withWal = join(dir, 'withwal');
    mkdirSync(withWal);
    copyFileSync(join(array, 'flight.db'), join(withWal, 'flight.db'));
    copyFileSync(join(array, 'flight.db-wal'), join(withWal, 'flight.db-wal'));
    const count = (p: string): number => {
      try {
        const db = openFlightDb(p, { readonly: true });
        try {
          return (db.db.prepare('SELECT count(*) AS n FROM nav_sample').get() as { n: number }).n;
        } finally {
          db.close();
        }
      } catch {
        return 0; // a flight.db whose schema is only in the WAL is not even a flight DB alone
      }
    };
    expect(count(join(withWal, 'flight.db'))).toBeGreaterThan(count(join(alone, 'flight.db')));
  });

  it('archives the array in one pass, verified, and reports it done when run again', () => {
    const r = ingest(['archive', array, '--state-dir', state, '--no-upload', '--json']);
    // The agent was SIGKILLed: its lock is left behind, reported and no obstacle.
    expect(r.stderr).toMatch(/^ingest-cli: note: the capture agent's lock is still on the array \(pid \d+/);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { status: string; archivePath: string; manifestPath: string; mismatches: unknown[]; sha256: string };
    expect(out.status).toBe('archived');
    expect(out.mismatches).toEqual([]);
    archive = out.archivePath;
    manifest = JSON.parse(readFileSync(out.manifestPath, 'utf8')) as ArchiveManifest;
    expect(manifest.archive?.sha256).toBe(sha256(readFileSync(archive)));
    expect(manifest.archive?.sizeBytes).toBe(lstatSync(archive).size);
    const again = ingest(['archive', array, '--state-dir', state, '--no-upload']);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/already archived/);
    expect(readdirSync(join(state, 'archives'))).toHaveLength(2); // one archive + its manifest
  });

  it('every asset row, picture and video, is in the manifest with the agent hash equal to the archived hash', () => {
    const db = openFlightDb(join(dir, 'x.db'), { create: true });
    db.close();
    const copy = join(dir, 'dbcopy');
    mkdirSync(copy);
    for (const n of ['flight.db', 'flight.db-wal']) copyFileSync(join(array, n), join(copy, n));
    const fdb = openFlightDb(join(copy, 'flight.db'), { readonly: true });
    const assets = readAssets(fdb);
    fdb.close();
    expect(assets.length).toBeGreaterThan(10);
    expect(assets.some((a) => a.relPath.toLowerCase().endsWith('.mp4'))).toBe(true);
    for (const a of assets) {
      const f = manifest.files.find((m) => m.path === `cameras/${a.device}/${a.relPath}`);
      expect(f, a.relPath).toBeDefined();
      expect(f?.sha256).toBe(a.sha256);
      expect(f?.agentSha256).toBe(a.sha256);
      expect(f?.storage).toBe('plain');
    }
    expect(manifest.files.find((f) => f.path === 'flight.db-wal')?.storage).toBe('gzip');
    expect(manifest.files.find((f) => f.path === 'serial/gps.log')?.storage).toBe('gzip');
  });

  it('GNU tar alone extracts it; after gunzip of the .gz members every file equals the array byte for byte', () => {
    const x = join(dir, 'extract');
    mkdirSync(x);
    execFileSync('tar', ['-xf', archive, '-C', x]);
    const root = join(x, manifest.flightId);
    for (const f of manifest.files) {
      const arrayBytes = readFileSync(join(array, f.path));
      const stored = readFileSync(join(root, f.storage === 'gzip' ? `${f.path}.gz` : f.path));
      const bytes = f.storage === 'gzip' ? gunzipSync(stored) : stored;
      expect(bytes.equals(arrayBytes), f.path).toBe(true);
    }
    // Nothing on the array is left out but SQLite's -shm index.
    const archived = new Set(manifest.files.map((f) => f.path));
    expect(listFiles(array).filter((p) => !archived.has(p))).toEqual(['flight.db-shm']);
    // The manifest is the last member.
    const members = execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).trim().split('\n');
    expect(members.at(-1)).toBe(`${manifest.flightId}/flysnap-manifest.json`);
    // The WAL's rows are all there: the extracted DB + WAL hold as many samples as the array's.
    execFileSync('sh', ['-c', `gunzip -k "${join(root, 'flight.db.gz')}" "${join(root, 'flight.db-wal.gz')}"`]);
    const db = openFlightDb(join(root, 'flight.db'), { readonly: true });
    const n = (db.db.prepare('SELECT count(*) AS n FROM nav_sample').get() as { n: number }).n;
    db.close();
    expect(n).toBeGreaterThan(0);
  });

  it('the manifest offsets pull single files without reading the rest', () => {
    const fd = openSync(archive, 'r');
    try {
      for (const f of manifest.files.filter((m) => m.type === 'file').slice(0, 12)) {
        const buf = Buffer.alloc(f.storedSizeBytes);
        readSync(fd, buf, 0, buf.length, f.dataOffsetBytes);
        expect(sha256(buf), f.path).toBe(f.storedSha256);
      }
    } finally {
      closeSync(fd);
    }
    // and with dd, as the README shows
    const pic = manifest.files.find((m) => m.path.endsWith('.jpg') || m.path.endsWith('.JPG'));
    expect(pic).toBeDefined();
    if (pic) {
      const out = execFileSync('sh', ['-c', `dd if="${archive}" bs=512 skip=${pic.dataOffsetBytes / 512} count=${Math.ceil(pic.storedSizeBytes / 512)} status=none | head -c ${pic.storedSizeBytes} | sha256sum`], { encoding: 'utf8' });
      expect(out.split(' ')[0]).toBe(pic.sha256);
    }
  });

  it('verify passes on a copy elsewhere, and names the member that differs after one byte is flipped', () => {
    const copyDir = join(dir, 'elsewhere');
    mkdirSync(copyDir);
    const copy = join(copyDir, 'copy.tar');
    copyFileSync(archive, copy);
    copyFileSync(`${archive}.manifest.json`, `${copy}.manifest.json`);
    const ok = ingest(['verify', copy, '--state-dir', join(dir, 'other-state')]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^ok: /);
    const victim = manifest.files.find((f) => f.storage === 'plain' && f.storedSizeBytes > 1000);
    expect(victim).toBeDefined();
    const buf = readFileSync(copy);
    const at = (victim?.dataOffsetBytes ?? 0) + 100;
    buf[at] = (buf[at] ?? 0) ^ 0xff;
    execFileSync('sh', ['-c', `cat > "${copy}"`], { input: buf });
    const bad = ingest(['verify', copy, '--state-dir', join(dir, 'other-state')]);
    expect(bad.status).toBe(6);
    expect(bad.stdout).toContain(`${victim?.path}: stored bytes have sha256`);
    expect(bad.stdout).toMatch(/archive sha256 is [0-9a-f]{64}, manifest says/);
  });

  it('status shows the flight archived, with its history', () => {
    const table = ingest(['status', '--state-dir', state]);
    expect(table.status).toBe(0);
    expect(table.stdout).toContain(manifest.flightId);
    expect(table.stdout).toMatch(/archived/);
    const one = ingest(['status', manifest.flightId, '--state-dir', state, '--json']);
    const s = JSON.parse(one.stdout) as { flight: { state: string }; history: { step: string; outcome: string }[]; archives: { sha256: string }[] };
    expect(s.flight.state).toBe('archived');
    expect(s.history.map((h) => `${h.step}:${h.outcome}`)).toEqual(['archive:ok']);
    expect(s.archives[0]?.sha256).toBe(manifest.archive?.sha256);
  });
});
