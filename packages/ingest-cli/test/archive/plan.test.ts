// The archive plan: which member is which, what is compressed, and every kind of mismatch found
// before the pass (names, sizes, rows).
import { describe, expect, it } from 'vitest';
import type { AssetRow } from '@flysnap/shared';
import { isDerivedFile, planArchive, roleOf } from '../../src/archive/plan.js';
import type { ArrayEntry } from '../../src/archive/walk-array.js';

const file = (path: string, sizeBytes = 10): ArrayEntry => ({ path, type: 'file', sizeBytes, mtimeUs: 1, mode: 0o644, linkTarget: null });
let nextId = 1;
const row = (device: string, relPath: string, sizeBytes = 10, extra: Partial<AssetRow> = {}): AssetRow =>
  ({
    id: nextId++, device, relPath, sizeBytes, sha256: 'a'.repeat(64), captureTUs: null, timeSource: null, appearedTUs: null, appearedMonoUs: null,
    appearedBootId: null, recordedTUs: 1, status: 'complete', latDeg: null, lonDeg: null, altitudeM: null, pressureAltitudeM: null,
    headingDeg: null, speedMps: null, trackDeg: null, poseQuality: null, ...extra,
  }) as AssetRow;
const opts = { compressExtensions: ['.log', '.db', '.db-wal', '.txt'] };

describe('roleOf', () => {
  it('names every part of the layout', () => {
    expect(roleOf('flysnap-array.json')).toBe('marker');
    expect(roleOf('flight.db')).toBe('flight-db');
    expect(roleOf('flight.db-wal')).toBe('flight-db');
    expect(roleOf('capture-agent.lock')).toBe('agent-lock');
    expect(roleOf('serial/gps.log')).toBe('serial-log');
    expect(roleOf('serial/sub/gps.log')).toBe('unexpected');
    expect(roleOf('cameras/cam1/IMG.JPG')).toBe('camera');
    expect(roleOf('cameras/stray.jpg')).toBe('unexpected');
    expect(roleOf('notes.txt')).toBe('unexpected');
    expect(isDerivedFile('flight.db-shm')).toBe(true);
    expect(isDerivedFile('flight.db')).toBe(false);
  });
});

describe('planArchive', () => {
  it('puts the marker first, media plain, the flight DB and logs gzipped at the end; skips -shm', () => {
    const p = planArchive(
      [file('cameras/c/A.JPG'), file('flight.db'), file('flight.db-shm'), file('flight.db-wal'), file('flysnap-array.json'), file('serial/gps.log')],
      [row('c', 'A.JPG')],
      opts,
    );
    expect(p.mismatches).toEqual([]);
    expect(p.members.map((m) => [m.entry.path, m.storage])).toEqual([
      ['flysnap-array.json', 'plain'],
      ['cameras/c/A.JPG', 'plain'],
      ['flight.db', 'gzip'],
      ['flight.db-wal', 'gzip'],
      ['serial/gps.log', 'gzip'],
    ]);
    expect(p.members[1]?.agentSha256).toBe('a'.repeat(64));
    expect(p.matchedAssets).toBe(1);
  });

  it('finds files without a row, rows without a file, size differences, incomplete rows, strays, special files', () => {
    const p = planArchive(
      [
        file('cameras/c/norow.JPG'),
        file('cameras/c/short.JPG', 5),
        file('cameras/c/half.MP4'),
        file('junk.bin'),
        { ...file('cameras/c/fifo'), type: 'special' },
        { path: 'cameras/c/link.JPG', type: 'symlink', sizeBytes: 0, mtimeUs: 1, mode: 0o777, linkTarget: '/etc/passwd' },
      ],
      [row('c', 'short.JPG', 10), row('c', 'half.MP4', 10, { status: 'incomplete' }), row('c', 'gone.JPG')],
      opts,
    );
    expect(p.mismatches.map((m) => [m.kind, m.path])).toEqual([
      ['special-file', 'cameras/c/fifo'],
      ['missing-file', 'cameras/c/gone.JPG'],
      ['incomplete', 'cameras/c/half.MP4'],
      ['no-row', 'cameras/c/link.JPG'],
      ['no-row', 'cameras/c/norow.JPG'],
      ['size-differs', 'cameras/c/short.JPG'],
      ['unexpected-file', 'junk.bin'],
    ]);
    // The fifo is not archived; the stray file and the symlink are (as what they are).
    expect(p.members.map((m) => m.entry.path)).not.toContain('cameras/c/fifo');
    expect(p.members.find((m) => m.entry.path === 'cameras/c/link.JPG')?.entry.type).toBe('symlink');
  });

  it('expects the newest row of a file recorded twice', () => {
    const p = planArchive([file('cameras/c/A.JPG', 20)], [row('c', 'A.JPG', 10), row('c', 'A.JPG', 20, { sha256: 'b'.repeat(64) })], opts);
    expect(p.mismatches).toEqual([]);
    expect(p.members[0]?.agentSha256).toBe('b'.repeat(64));
  });

  it('compresses by ending, case-insensitively', () => {
    const p = planArchive([file('notes/README.TXT'), file('cameras/c/A.jpg')], [row('c', 'A.jpg')], opts);
    expect(p.members.map((m) => m.storage)).toEqual(['plain', 'gzip']);
  });
});
