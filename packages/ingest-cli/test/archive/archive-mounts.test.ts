// The array on a read-only mount (the ingest side never writes it), and a full disk under the
// archive (a small tmpfs mounted by the test): one clear line, nothing left, nothing marked.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openLedger } from '../../src/ledger/ledger.js';
import { ingest, makeArray, pictures, tempDir } from '../helpers/arrays.js';

const canMount = process.getuid?.() === 0;
const dir = tempDir('mounts');
const mounts: string[] = [];
function mount(args: string[], at: string): void {
  mkdirSync(at, { recursive: true });
  execFileSync('mount', [...args, at]);
  mounts.push(at);
}
afterEach(() => {
  for (const m of mounts.splice(0).reverse()) execFileSync('umount', [m]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!canMount)('mounts (root: bind and tmpfs mounts)', () => {
  it('archive, verify and status work on a read-only mount of the array, whose WAL-mode flight DB has no -shm there', async () => {
    const live = join(dir, 'live');
    const a = await makeArray(live, { files: pictures(['cam1'], 5), keepOpen: true });
    // While the writer is open, flight.db-wal holds the rows; the array is pulled right then
    // (copied now, without the -shm a clean mount would not have either).
    const src = join(dir, 'src');
    execFileSync('cp', ['-a', live, src]);
    rmSync(join(src, 'flight.db-shm'), { force: true });
    a.db?.db.close();
    expect(existsSync(join(src, 'flight.db-wal'))).toBe(true);
    const ro = join(dir, 'ro');
    mount(['--bind', src], ro);
    execFileSync('mount', ['-o', 'remount,bind,ro', ro]);
    expect(() => writeFileSync(join(ro, 'probe'), 'x')).toThrow(/EROFS/);
    const state = join(dir, 'state-ro');
    const r = ingest(['archive', ro, '--state-dir', state, '--no-upload', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { archivePath: string; fileCount: number };
    expect(ingest(['verify', out.archivePath, '--state-dir', state]).status).toBe(0);
    expect(ingest(['status', '--state-dir', state]).status).toBe(0);
    // Every asset row was in the WAL only: the archive has all five pictures with their hashes.
    const listing = execFileSync('tar', ['-tf', out.archivePath], { encoding: 'utf8' });
    expect(listing.match(/IMG_\d+\.JPG/g)).toHaveLength(5);
    expect(readdirSync(ro).sort()).toEqual(['cameras', 'flight.db', 'flight.db-wal', 'flysnap-array.json', 'serial']);
  });

  it('disk full under --out: exit 9 with one line, the partial file removed, the ledger not marked; with room, a re-run works', async () => {
    const root = join(dir, 'big');
    const a = await makeArray(root, { files: pictures(['cam1'], 12, 512 * 1024) });
    const small = join(dir, 'small');
    mount(['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs'], small);
    const state = join(dir, 'state-full');
    const r = ingest(['archive', root, '--state-dir', state, '--out', small, '--no-upload']);
    expect(r.status).toBe(9);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no room left for the archive .*\(ENOSPC\): free space or choose another --out/);
    expect(readdirSync(small)).toEqual([]);
    const l = openLedger(join(state, 'ledger.db'), { create: false });
    expect(l.archivesOf(a.flightId)).toEqual([]);
    expect(l.history(a.flightId).map((h) => h.outcome)).toEqual(['failed']);
    l.close();
    const ok = ingest(['archive', root, '--state-dir', state, '--no-upload']);
    expect(ok.status).toBe(0);
  });
});
