import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listCameraFolder, reconcile, type DiskFile, type KnownFile } from '../../src/cameras/rescan.js';

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
