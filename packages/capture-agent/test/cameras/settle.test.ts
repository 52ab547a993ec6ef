import { appendFileSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appearanceMonoUs, bornMonoUs, SettleTracker, type FileStat, type SettledFile } from '../../src/cameras/settle.js';
import { fakeProc, type FakeHidden } from './helpers/proc.js';

const dir = mkdtempSync(join(tmpdir(), 'fs-settle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const POLICY = { settleMs: 1000, closedSettleMs: 100, incompleteAfterMs: 30_000 };
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(1000, 7), Buffer.from([0xff, 0xd9])]);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Counts its polls (the private scheduler calls the public poll()). */
class CountingTracker extends SettleTracker {
  polls = 0;
  override async poll(): Promise<void> {
    this.polls++;
    return super.poll();
  }
}

describe('bornMonoUs: a birth time on the wall clock as a monotonic time of this boot', () => {
  const nowWallMs = Date.UTC(2026, 10, 25, 6, 0, 0);
  it('a file born 2 s ago, 100 s after boot: 98 s after boot', () => {
    expect(bornMonoUs(nowWallMs - 2000, 100_000_000, nowWallMs)).toBe(98_000_000);
  });
  it('a file born before this boot has no appearance time on this boot', () => {
    expect(bornMonoUs(nowWallMs - 200_000, 100_000_000, nowWallMs)).toBe('before-boot');
  });
  it('no birth time, or one in the future (wall clock stepped back): unknown', () => {
    expect(bornMonoUs(0, 100_000_000, nowWallMs)).toBeNull();
    expect(bornMonoUs(Number.NaN, 100_000_000, nowWallMs)).toBeNull();
    expect(bornMonoUs(nowWallMs + 5000, 100_000_000, nowWallMs)).toBeNull();
  });
});

describe('appearanceMonoUs: when a file appeared, or null when nobody knows', () => {
  const nowWallMs = Date.UTC(2026, 10, 25, 6, 0, 0);
  const since = nowWallMs - 60_000; // watching for a minute
  const seen = 99_500_000;
  it('from the birth time when there is one', () => {
    expect(appearanceMonoUs({ birthtimeMs: nowWallMs - 2000, mtimeMs: nowWallMs - 1000 }, seen, since, 100_000_000, nowWallMs)).toBe(98_000_000);
    expect(appearanceMonoUs({ birthtimeMs: nowWallMs - 500_000, mtimeMs: nowWallMs }, seen, since, 100_000_000, nowWallMs)).toBeNull();
  });
  it('no birth time (or one in the future): when first seen, only if it changed since we watch', () => {
    expect(appearanceMonoUs({ birthtimeMs: 0, mtimeMs: nowWallMs - 1000 }, seen, since, 100_000_000, nowWallMs)).toBe(seen);
    expect(appearanceMonoUs({ birthtimeMs: 0, mtimeMs: since - 1 }, seen, since, 100_000_000, nowWallMs)).toBeNull();
    expect(appearanceMonoUs({ birthtimeMs: nowWallMs + 9000, mtimeMs: since - 3_600_000 }, seen, since, 100_000_000, nowWallMs)).toBeNull();
  });
});

describe('SettleTracker (real files)', () => {
  /**
   * A JPEG finished 5 s ago, and a tracker (polling every 20 ms) over a fake process table whose
   * hidden process is `hidden`, collecting what settles. A fake table, because on some machines even
   * root cannot inspect every process (this VM's pid 1), and "no writer" could not be proven.
   */
  function finishedJpegAndTracker(name: string, hidden: FakeHidden, policy = POLICY, statFile?: (path: string) => Promise<FileStat>) {
    const path = join(dir, name);
    writeFileSync(path, JPEG);
    const old = new Date(Date.now() - 5000);
    utimesSync(path, old, old);
    const procRoot = fakeProc(mkdtempSync(join(dir, 'proc-')), join(dir, 'other.bin'), hidden);
    const t = new SettleTracker({ pollMs: 20, procRoot, ...(statFile ? { statFile } : {}) });
    t.setPolicy('cam1', policy);
    const settled: SettledFile[] = [];
    t.on('settled', (f) => settled.push(f));
    return { path, procRoot, t, settled };
  }

  it('settles a finished JPEG once, as closed and valid when /proc shows no writer', async () => {
    const { path, t, settled } = finishedJpegAndTracker('done.jpg', 'none');
    t.start();
    t.watch('cam1', path);
    t.watch('cam1', path); // a second candidate event for the same file: still one file
    while (settled.length === 0) await sleep(10);
    await sleep(150);
    t.stop();
    expect(settled).toHaveLength(1);
    expect(settled[0]).toMatchObject({ device: 'cam1', path, sizeBytes: JPEG.length, decision: { state: 'complete', reason: 'closed-and-valid' } });
    expect(t.pendingCount).toBe(0);
  });

  it('after a scan that met a process it cannot see, the next scan waits a second (it could not prove anything sooner)', async () => {
    const { path, procRoot, t, settled } = finishedJpegAndTracker('blind.jpg', 'links', { ...POLICY, settleMs: 10_000 });
    t.watch('cam1', path);
    await t.poll(); // first look: stable (mtime credit), valid ending: scans, meets pid 400
    await t.poll(); // nothing a look could decide yet
    expect(settled).toEqual([]);
    // The hidden process ends. A scan now would prove the file closed, but the next is held back.
    rmSync(join(procRoot, '400'), { recursive: true });
    await sleep(150); // > the 40 ms gap after a scan that saw everything
    await t.poll();
    expect(settled).toEqual([]);
    await sleep(1000);
    await t.poll();
    expect(settled.map((f) => f.decision)).toEqual([{ state: 'complete', reason: 'closed-and-valid' }]);
  });

  it('a file that only a scan (or settleMs) can decide is not stat\'ed until then, unless the watcher reports a write to it', async () => {
    const looks: string[] = [];
    const { path, t, settled } = finishedJpegAndTracker('waiting.jpg', 'links', { ...POLICY, settleMs: 10_000 }, (p) => (looks.push(p), stat(p)));
    t.watch('cam1', path);
    await t.poll(); // first look: stable (mtime credit), valid ending: scans, meets the hidden pid 400
    expect(looks).toHaveLength(1);
    await sleep(150);
    await t.poll(); // the next scan is a second away: nothing a stat could change
    expect(looks).toHaveLength(1);
    appendFileSync(path, Buffer.from([0xff, 0xd9]));
    t.watch('cam1', path); // the watcher's 'change'
    await t.poll();
    expect(looks).toHaveLength(2);
    expect(settled).toEqual([]);
  });

  it('a finished file present at start settles at its first look', async () => {
    const { path, t, settled } = finishedJpegAndTracker('present.jpg', 'none');
    t.watch('cam1', path);
    await t.poll();
    expect(settled.map((f) => f.decision)).toEqual([{ state: 'complete', reason: 'closed-and-valid' }]);
  });

  it('a change found at a late look decides nothing before the ending is checked (closedSettleMs longer than settleMs)', async () => {
    const path = join(dir, 'late-change.jpg');
    writeFileSync(path, JPEG.subarray(0, 600)); // no FF D9: cut short
    const t = new SettleTracker({ isProcScanEnabled: false });
    t.setPolicy('cam1', { settleMs: 300, closedSettleMs: 600, incompleteAfterMs: 30_000 });
    const settled: SettledFile[] = [];
    t.on('settled', (f) => settled.push(f));
    t.watch('cam1', path, statSync(path));
    await sleep(20);
    appendFileSync(path, Buffer.alloc(50, 1)); // still no ending
    t.watch('cam1', path); // the watcher's 'change'
    await sleep(320);
    await t.poll(); // finds the write ~320 ms old: more than settleMs, its ending not yet looked at
    expect(settled).toEqual([]);
    await t.poll();
    expect(settled).toEqual([]); // a bad ending waits for incompleteAfterMs
  });

  it('after stop(), neither the poll in flight nor a later watch() polls again', async () => {
    const growing = join(dir, 'growing.jpg');
    writeFileSync(growing, JPEG.subarray(0, 10));
    const t = new CountingTracker({ pollMs: 10 });
    t.setPolicy('cam1', POLICY);
    const settled: SettledFile[] = [];
    t.on('settled', (f) => settled.push(f));
    t.start();
    t.watch('cam1', growing);
    // Keep the file growing so it never settles and polling goes on until stop().
    const grow = setInterval(() => appendFileSync(growing, Buffer.alloc(10, 1)), 5);
    try {
      while (t.polls < 5) await sleep(5);
      t.stop();

      const atStop = t.polls;
      // A finished file offered after stop() must not be looked at either.
      const late = join(dir, 'late.jpg');
      writeFileSync(late, JPEG);
      t.watch('cam1', late);
      await sleep(300);
      // At most the one poll that may have been mid-flight when stop() ran.
      expect(t.polls - atStop).toBeLessThanOrEqual(1);
      expect(settled.map((f) => f.path)).not.toContain(late);
    } finally {
      clearInterval(grow);
    }
  });

  it('a file seen by the watcher is not stat\'ed again until it can be decided; a change meanwhile is seen by its mtime', async () => {
    const path = join(dir, 'fresh.jpg');
    writeFileSync(path, JPEG.subarray(0, 500));
    const procRoot = fakeProc(mkdtempSync(join(dir, 'proc-')), join(dir, 'other.bin'), 'none');
    const looks: string[] = [];
    const t = new SettleTracker({ procRoot, statFile: (p) => (looks.push(p), stat(p)) });
    t.setPolicy('cam1', { ...POLICY, closedSettleMs: 400 });
    const settled: SettledFile[] = [];
    t.on('settled', (f) => settled.push(f));
    const t0 = Date.now();
    t.watch('cam1', path, statSync(path)); // the watcher's stat, taken as it found the file
    await t.poll();
    await sleep(200);
    writeFileSync(path, JPEG); // the camera writes the rest
    await t.poll();
    expect(looks).toEqual([]); // unchanged for less than closedSettleMs as far as anyone knows
    await sleep(420 - (Date.now() - t0));
    await t.poll(); // one look: it changed ~220 ms ago (its mtime says), so not yet
    expect(looks).toEqual([path]);
    expect(settled).toEqual([]);
    await sleep(650 - (Date.now() - t0));
    await t.poll();
    expect(looks).toEqual([path, path]);
    expect(settled).toHaveLength(1);
    expect(settled[0]).toMatchObject({ sizeBytes: JPEG.length, decision: { state: 'complete', reason: 'closed-and-valid' } });
  });

  it('a file removed while settling is reported as vanished, not settled', async () => {
    const path = join(dir, 'gone.jpg');
    writeFileSync(path, JPEG.subarray(0, 100));
    const t = new SettleTracker({ pollMs: 10 });
    t.setPolicy('cam1', POLICY);
    const vanished: string[] = [];
    const settled: string[] = [];
    t.on('vanished', (f) => vanished.push(f.path));
    t.on('settled', (f) => settled.push(f.path));
    t.start();
    t.watch('cam1', path);
    rmSync(path);
    while (vanished.length === 0) await sleep(10);
    t.stop();
    expect(vanished).toEqual([path]);
    expect(settled).toEqual([]);
  });
});
