import { appendFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listCameraFolder, reconcile, unstatedFile, verifySlice, VERIFY_SLICES, type DiskFile, type KnownFile } from '../../src/cameras/rescan.js';

const k = (relPath: string, o: Partial<KnownFile> = {}): KnownFile => ({
  relPath,
  sizeBytes: 100,
  sha256: 'a'.repeat(64),
  status: 'complete',
  verifiedWallMs: 1_000_000,
  isChangedAfterRecord: false,
  isReportedMissing: false,
  ...o,
});
const d = (relPath: string, o: Partial<DiskFile> = {}): DiskFile => ({ relPath, sizeBytes: 100, mtimeMs: 999_000, ...o });

describe('reconcile', () => {
  it('examines new files and leaves recorded, unchanged ones alone', () => {
    const known = new Map([['a.jpg', k('a.jpg')]]);
    const r = reconcile([d('a.jpg'), d('b.jpg')], known, new Set());
    expect(r.toExamine.map((f) => f.relPath)).toEqual(['b.jpg']);
    expect(r.missing).toEqual([]);
  });

  it('re-examines a recorded file whose size changed or that was modified after it was verified', () => {
    const known = new Map([['a.jpg', k('a.jpg')], ['b.jpg', k('b.jpg')]]);
    const r = reconcile([d('a.jpg', { sizeBytes: 120 }), d('b.jpg', { mtimeMs: 1_000_001 })], known, new Set());
    expect(r.toExamine.map((f) => f.relPath)).toEqual(['a.jpg', 'b.jpg']);
  });

  it('skips files being settled or recorded (no double work, no double row)', () => {
    const r = reconcile([d('a.jpg'), d('b.jpg')], new Map(), new Set(['a.jpg', 'b.jpg']));
    expect(r.toExamine).toEqual([]);
  });

  it('reports a recorded file gone from disk once', () => {
    const known = new Map([['gone.jpg', k('gone.jpg')], ['told.jpg', k('told.jpg', { isReportedMissing: true })]]);
    const r = reconcile([], known, new Set());
    expect(r.missing.map((f) => f.relPath)).toEqual(['gone.jpg']);
  });

  it('re-examines a file that came back after being reported missing', () => {
    const known = new Map([['back.jpg', k('back.jpg', { isReportedMissing: true })]]);
    expect(reconcile([d('back.jpg')], known, new Set()).toExamine.map((f) => f.relPath)).toEqual(['back.jpg']);
  });
});

describe('listCameraFolder (real folders)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-list-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists asset files in sub-folders by extension, case-insensitively, without hidden files', async () => {
    mkdirSync(join(dir, 'DCIM', '100CAM'), { recursive: true });
    writeFileSync(join(dir, 'a.jpg'), 'x');
    writeFileSync(join(dir, 'DCIM', '100CAM', 'B.JPG'), 'yy');
    writeFileSync(join(dir, 'notes.txt'), 'z');
    writeFileSync(join(dir, '._a.jpg'), 'mac');
    const files = await listCameraFolder(dir, ['.jpg']);
    expect(files.map((f) => [f.relPath, f.sizeBytes]).sort()).toEqual([
      ['DCIM/100CAM/B.JPG', 2],
      ['a.jpg', 1],
    ]);
  });
});

describe('rescan passes: which recorded files are stat-ed again (unstatedFile)', () => {
  const names = Array.from({ length: 2000 }, (_, i) => `DCIM/100CAM/IMG_${String(i).padStart(4, '0')}.JPG`);
  const known = new Map(names.map((n) => [n, k(n)]));

  it('puts every path in one stable slice, and spreads paths over all slices', () => {
    const counts = new Array<number>(VERIFY_SLICES).fill(0);
    for (const n of names) {
      const slice = verifySlice(n);
      expect(slice).toBe(verifySlice(n));
      expect(slice).toBeGreaterThanOrEqual(0);
      expect(slice).toBeLessThan(VERIFY_SLICES);
      counts[slice]!++;
    }
    // 2,000 paths over 30 slices: ~67 each; none empty, none holding a large share.
    expect(Math.min(...counts)).toBeGreaterThan(30);
    expect(Math.max(...counts)).toBeLessThan(120);
  });

  it('the first pass stats everything; later passes stat new and missing names, and each recorded file once per VERIFY_SLICES passes', () => {
    const first = unstatedFile(0, known);
    expect(names.every((n) => first(n) === null)).toBe(true);
    const missing = new Map(known);
    missing.set(names[0]!, k(names[0]!, { isReportedMissing: true }));
    const statedTimes = new Map<string, number>();
    for (let pass = 1; pass <= VERIFY_SLICES; pass++) {
      const u = unstatedFile(pass, missing);
      expect(u('new.jpg')).toBeNull();
      expect(u(names[0]!)).toBeNull(); // reported missing: looked at every pass
      for (const n of names.slice(1)) {
        const entry = u(n);
        if (entry === null) statedTimes.set(n, (statedTimes.get(n) ?? 0) + 1);
        // Listed as recorded: reconcile then sees it unchanged.
        else expect(entry).toEqual({ relPath: n, sizeBytes: 100, mtimeMs: 1_000_000 });
      }
    }
    expect(names.slice(1).every((n) => statedTimes.get(n) === 1)).toBe(true);
  });

  it('a file changed in place behind the watcher is examined at its slice\'s pass', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-slices-'));
    try {
      const rel = 'IMG_0001.JPG';
      writeFileSync(join(dir, rel), 'recorded');
      const st = statSync(join(dir, rel));
      const rec = new Map([[rel, k(rel, { sizeBytes: st.size, verifiedWallMs: st.mtimeMs })]]);
      appendFileSync(join(dir, rel), ' and changed'); // larger now
      const slice = verifySlice(rel);
      const otherPass = slice === 1 ? 2 : 1;
      const notItsTurn = await listCameraFolder(dir, ['.jpg'], 4, unstatedFile(otherPass, rec));
      expect(reconcile(notItsTurn, rec, new Set()).toExamine).toEqual([]);
      const itsTurn = await listCameraFolder(dir, ['.jpg'], 4, unstatedFile(VERIFY_SLICES + slice, rec));
      expect(reconcile(itsTurn, rec, new Set()).toExamine.map((f) => f.relPath)).toEqual([rel]);
      const atStart = await listCameraFolder(dir, ['.jpg'], 4, unstatedFile(0, rec));
      expect(reconcile(atStart, rec, new Set()).toExamine.map((f) => f.relPath)).toEqual([rel]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
