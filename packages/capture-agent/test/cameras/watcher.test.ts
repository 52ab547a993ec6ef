import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { watch, type ChokidarOptions } from 'chokidar';
import { FolderWatcher } from '../../src/cameras/watcher.js';
import { waitFor } from './helpers/env.js';

const root = mkdtempSync(join(tmpdir(), 'fs-watcher-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** inotify watches this process holds (each is an "inotify wd:" line in its inotify fds' fdinfo). */
function inotifyWatchCount(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== 'anon_inode:inotify') continue;
    n += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length;
  }
  return n;
}

describe('FolderWatcher (chokidar 5, patched; real folders)', () => {
  it('runs with our chokidar patch applied (a child\'s event does not re-read the whole folder)', async () => {
    // pnpm applies patches/chokidar@5.0.0.patch at install; without it the watcher still works
    // but re-reads the whole folder on every write (see the patch), so check it is there.
    const entry = fileURLToPath(import.meta.resolve('chokidar', new URL('../../src/cameras/watcher.ts', import.meta.url).href));
    const handler = readFileSync(join(dirname(entry), 'handler.js'), 'utf8');
    expect(handler).toContain('flysnap patch');
    expect(handler).toContain('flysnapFileWatchers'); // patch (3), which watcher.ts asks for
    expect(handler).toContain('knownStats'); // patch (4): a new entry lstat'ed once, not twice
  });

  it('a new file comes with the stat chokidar took of it (the settle tracker\'s first look); a write without', async () => {
    const folder = join(root, 'cam-stats');
    mkdirSync(folder);
    const w = new FolderWatcher({ folder, extensions: ['.jpg'] });
    const seen: Array<{ path: string; size: number | undefined; birthtimeMs: number | undefined }> = [];
    w.on('candidate', (path, st) => seen.push({ path, size: st?.size, birthtimeMs: st?.birthtimeMs }));
    await w.start();
    try {
      const path = join(folder, 'IMG_0001.jpg');
      // Whole when it appears (a rename), so the size chokidar saw is certain.
      writeFileSync(join(root, 'stats.tmp'), 'twelve bytes');
      renameSync(join(root, 'stats.tmp'), path);
      await waitFor('the new file', () => seen.length > 0, 5000);
      expect(seen[0]).toMatchObject({ path, size: 12 });
      expect(typeof seen[0]?.birthtimeMs).toBe('number');
      appendFileSync(path, '!');
      await waitFor('the write', () => seen.length > 1, 5000);
      expect(seen.at(-1)).toEqual({ path, size: undefined, birthtimeMs: undefined });
    } finally {
      await w.close();
    }
  });

  it('reports new files, writes to files present at start, files in new sub-folders and removals; ignores other names', async () => {
    const folder = join(root, 'cam1');
    mkdirSync(folder);
    const early = join(folder, 'IMG_0001.JPG');
    writeFileSync(early, 'a');
    const w = new FolderWatcher({ folder, extensions: ['.jpg'] });
    const candidates: string[] = [];
    const removed: string[] = [];
    w.on('candidate', (p) => candidates.push(p));
    w.on('removed', (p) => removed.push(p));
    await w.start();
    try {
      expect(candidates).toEqual([]); // present at start: the rescan's job, not the watcher's
      const fresh = join(folder, 'IMG_0002.jpg');
      writeFileSync(fresh, 'b');
      await waitFor('a new file', () => candidates.includes(fresh), 5000);

      appendFileSync(early, 'more');
      await waitFor('a write to a file present at start', () => candidates.includes(early), 5000);

      mkdirSync(join(folder, 'DCIM', '100CAM'), { recursive: true });
      const deep = join(folder, 'DCIM', '100CAM', 'IMG_0003.jpg');
      writeFileSync(deep, 'c');
      await waitFor('a file in a new sub-folder', () => candidates.includes(deep), 5000);

      // A burst of writes to many files: each is a candidate (with patch (3), through their
      // folder's watcher).
      const burst = Array.from({ length: 40 }, (_, i) => join(folder, `B_${i}.jpg`));
      for (const p of burst) writeFileSync(p, 'x');
      for (const p of burst) appendFileSync(p, 'y');
      await waitFor('every file of a burst', () => burst.every((p) => candidates.includes(p)), 5000);

      // Written under a hidden temporary name, then renamed into place (an atomic writer); and a
      // file moved in from outside the folder.
      const tmp = join(folder, '.IMG_0005.jpg.part');
      writeFileSync(tmp, 'partial then whole');
      const renamed = join(folder, 'IMG_0005.jpg');
      renameSync(tmp, renamed);
      const outside = join(root, 'outside.jpg');
      writeFileSync(outside, 'from elsewhere');
      const movedIn = join(folder, 'IMG_0006.jpg');
      renameSync(outside, movedIn);
      await waitFor('a renamed and a moved-in file', () => candidates.includes(renamed) && candidates.includes(movedIn), 5000);

      // A sub-folder made with its files already in it (moved in whole), and files written into a
      // new sub-folder right after it is made.
      const staged = join(root, 'staged');
      mkdirSync(staged);
      writeFileSync(join(staged, 'IMG_0007.jpg'), 'g');
      renameSync(staged, join(folder, '101CAM'));
      const fresh2 = join(folder, '102CAM');
      mkdirSync(fresh2);
      writeFileSync(join(fresh2, 'IMG_0008.jpg'), 'h');
      await waitFor(
        'files of moved-in and new sub-folders',
        () => candidates.includes(join(folder, '101CAM', 'IMG_0007.jpg')) && candidates.includes(join(fresh2, 'IMG_0008.jpg')),
        5000,
      );

      // Removed and written again under the same name: a removal, then a candidate again.
      const again = join(folder, 'IMG_0006.jpg');
      const before = candidates.filter((p) => p === again).length;
      unlinkSync(again);
      await waitFor('the removal before the rewrite', () => removed.includes(again), 5000);
      writeFileSync(again, 'rewritten');
      await waitFor('the rewritten file', () => candidates.filter((p) => p === again).length > before, 5000);

      writeFileSync(join(folder, '.IMG_0004.jpg'), 'hidden');
      writeFileSync(join(folder, 'notes.txt'), 'not a picture');
      unlinkSync(fresh);
      await waitFor('a removal', () => removed.includes(fresh), 5000);
      await sleep(100);
      expect(candidates.filter((p) => p.endsWith('.txt') || p.includes('/.'))).toEqual([]);
    } finally {
      await w.close();
    }
  });

  // Our patch (3): no watcher per file; the folder's watcher reports its files' writes. A long
  // flight's thousands of pictures would otherwise hold an inotify watch and a handle each.
  it.runIf(process.platform === 'linux')('holds one inotify watch per folder, none per file, and still reports writes to, and replacements of, each file', async () => {
    const folder = join(root, 'cam3');
    mkdirSync(join(folder, 'DCIM'), { recursive: true });
    const files = Array.from({ length: 50 }, (_, i) => join(folder, i % 2 === 0 ? 'DCIM' : '', `IMG_${i}.jpg`));
    for (const p of files) writeFileSync(p, 'x');
    const before = inotifyWatchCount();
    const w = new FolderWatcher({ folder, extensions: ['.jpg'] });
    const candidates: string[] = [];
    w.on('candidate', (p) => candidates.push(p));
    await w.start();
    try {
      expect(inotifyWatchCount() - before).toBe(2); // the folder and DCIM
      for (const p of files) appendFileSync(p, 'more');
      await waitFor('a write to each file', () => files.every((p) => candidates.includes(p)), 5000);
      const fresh = join(folder, 'DCIM', 'IMG_new.jpg');
      writeFileSync(fresh, 'new');
      await waitFor('a new file', () => candidates.includes(fresh), 5000);
      expect(inotifyWatchCount() - before).toBe(2);
      // Replaced under its name by a rename (a writer that writes a temporary file, then moves it
      // over the old one): reported too, after its earlier events' throttle.
      await sleep(100);
      const seen = candidates.filter((p) => p === files[0]).length;
      const tmp = join(folder, 'DCIM', '.IMG_0.jpg.tmp');
      writeFileSync(tmp, 'replacement');
      renameSync(tmp, files[0]!);
      await waitFor('the replaced file', () => candidates.filter((p) => p === files[0]).length > seen, 5000);
    } finally {
      await w.close();
    }
  });

  // Our patch (2): an entry appearing is looked at alone, and a child's event never makes the whole
  // folder be read again (an lstat per entry). At every 64th new entry (the first patch), its cost
  // per picture grew with the folder, to most of the main thread late in a long flight.
  it('does not read a whole folder again as pictures keep coming into it', async () => {
    const folder = join(root, 'cam4');
    mkdirSync(folder);
    for (let i = 0; i < 500; i++) writeFileSync(join(folder, `OLD_${i}.jpg`), 'x');
    const w = watch(folder, { ignoreInitial: true, depth: 4, alwaysStat: false, followSymlinks: false, flysnapFileWatchers: false } as ChokidarOptions);
    const added: string[] = [];
    w.on('add', (p: string) => added.push(p));
    await new Promise<void>((resolve) => w.once('ready', () => resolve()));
    // chokidar reads a folder through this method of its watcher (readdirp): count the calls.
    const internals = w as unknown as { _readdirp: (...args: unknown[]) => unknown };
    const readdirp = internals._readdirp.bind(w);
    let fullReads = 0;
    internals._readdirp = (...args: unknown[]) => {
      fullReads++;
      return readdirp(...args);
    };
    try {
      const fresh = Array.from({ length: 300 }, (_, i) => join(folder, `NEW_${i}.jpg`));
      for (const p of fresh) {
        writeFileSync(p, 'y');
        await sleep(1); // events come one by one, as from a camera (not coalesced)
      }
      await waitFor('every new picture', () => fresh.every((p) => added.includes(p)), 10_000);
      expect(fullReads).toBe(0); // unpatched: 300; first patch: 4 (every 64th)
    } finally {
      await w.close();
    }
  });

  // Our patch (2): a full read of a folder (chokidar still does one when a new sub-folder starts
  // being watched) that lists the folder before pictures arriving one by one are added reported
  // them removed when it finished: the agent then stopped settling them until its next rescan.
  it('a folder read that runs while pictures arrive one by one reports none of them removed', async () => {
    const folder = join(root, 'cam5');
    mkdirSync(folder);
    const w = watch(folder, { ignoreInitial: true, depth: 4, alwaysStat: false, followSymlinks: false, flysnapFileWatchers: false } as ChokidarOptions);
    const added = new Set<string>();
    const unlinked: string[] = [];
    w.on('add', (p: string) => added.add(p));
    w.on('unlink', (p: string) => unlinked.push(p));
    await new Promise<void>((resolve) => w.once('ready', () => resolve()));
    // Widen the race the way a large folder does: each listing is taken (readdir done), then
    // handed to chokidar 300 ms later, while the pictures keep coming.
    const internals = w as unknown as { _readdirp: (...args: unknown[]) => Readable | undefined };
    const readdirp = internals._readdirp.bind(w);
    internals._readdirp = (...args: unknown[]) => {
      const real = readdirp(...args);
      if (!real) return real;
      const late = new PassThrough({ objectMode: true });
      const entries: unknown[] = [];
      real.on('data', (e: unknown) => entries.push(e));
      real.on('error', (e: Error) => late.destroy(e));
      real.on('end', () =>
        setTimeout(() => {
          for (const e of entries) late.write(e);
          late.end();
        }, 300),
      );
      return late;
    };
    try {
      const sub = join(folder, '101CAM');
      mkdirSync(sub);
      const pictures = Array.from({ length: 60 }, (_, i) => join(sub, `IMG_${i}.jpg`));
      for (const p of pictures) {
        writeFileSync(p, 'z');
        await sleep(20);
      }
      await waitFor('every picture', () => pictures.every((p) => added.has(p)), 10_000);
      await sleep(700); // every listing started meanwhile has been handed over
      expect(unlinked).toEqual([]);
    } finally {
      await w.close();
    }
  });

  it('files written into a folder the instant it is made are all reported (not left to the rescan)', async () => {
    const folder = join(root, 'cam2');
    mkdirSync(folder);
    const w = new FolderWatcher({ folder, extensions: ['.jpg'] });
    const candidates = new Set<string>();
    w.on('candidate', (p) => candidates.add(p));
    await w.start();
    try {
      // Written by another process (as a camera does), so the watcher runs while they appear.
      const script = `const fs = require('node:fs'), path = require('node:path');
        for (let d = 0; d < 10; d++) {
          const sub = path.join(process.argv[1], '1' + String(d).padStart(2, '0') + 'CAM');
          fs.mkdirSync(sub);
          for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(sub, 'IMG_' + String(i).padStart(4, '0') + '.jpg'), 'x');
        }`;
      const child = spawn(process.execPath, ['-e', script, folder], { stdio: 'ignore' });
      expect(await new Promise((r) => child.on('exit', r))).toBe(0);
      const expected: string[] = [];
      for (let d = 0; d < 10; d++) {
        for (let i = 0; i < 300; i++) expected.push(join(folder, `1${String(d).padStart(2, '0')}CAM`, `IMG_${String(i).padStart(4, '0')}.jpg`));
      }
      await waitFor(`all ${expected.length} files (${candidates.size} seen)`, () => expected.every((p) => candidates.has(p)), 5000);
    } finally {
      await w.close();
    }
  });
});
