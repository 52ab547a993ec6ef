// RawLogWriter when the log cannot be written: a device that always says "disk full" (/dev/full,
// for anyone), a real filesystem that fills up and frees again (a small tmpfs, root only), and the
// held-bytes limit. The writer never throws at its caller, reports each change once, and what it
// writes once it can is every entry at the offset it returned (or a note where entries were dropped).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeRawLog } from '@flysnap/shared';
import { RawLogWriter, type RawLogReport } from '../../src/rawlog/index.js';
import { canMount as isRoot, fillUp, TmpfsMounts } from '../helpers/disk.js';


let dir: string;
const mounts = new TmpfsMounts();
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-rawerr-unit-'));
});
afterEach(() => {
  mounts.umountAll();
  rmSync(dir, { recursive: true, force: true });
});

function smallFs(size: string): string {
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  return mounts.mount(mnt, size);
}

const line = (i: number): Buffer => Buffer.from(`$GPTXT,01,01,02,line ${String(i).padStart(6, '0')}*00\r`);

describe('RawLogWriter write failures', () => {
  it('a log on a device that is always full: append and flush never throw, the failure is reported once, entries are held', () => {
    const path = join(dir, 'gps.log');
    symlinkSync('/dev/full', path);
    const reports: RawLogReport[] = [];
    const w = new RawLogWriter(path, { port: 'gps', maxBufferedBytes: 64, onReport: (r) => reports.push(r) });
    expect(w.error?.code).toBe('WRITE_FAILED');
    expect(w.error?.sysCode).toBe('ENOSPC');
    for (let i = 0; i < 100; i++) expect(w.append(i, null, line(i))).not.toBeNull();
    w.flush();
    w.flush();
    expect(reports.map((r) => r.code)).toEqual(['raw-log-write-failed']);
    expect(reports[0]!.message).toContain(path);
    expect(reports[0]!.message).toContain('ENOSPC');
    expect(w.heldBytes).toBe(w.offset); // nothing reached the "file": everything is still held
    w.close();
    expect(reports.map((r) => r.code)).toEqual(['raw-log-write-failed', 'raw-log-lost']);
  });

  it.skipIf(!isRoot)('disk full, then room again: every entry is written at the offset append returned, and the recovery is reported', () => {
    const mnt = smallFs('1m');
    const path = join(mnt, 'serial', 'gps.log');
    const reports: RawLogReport[] = [];
    const w = new RawLogWriter(path, { port: 'gps', maxBufferedBytes: 4096, onReport: (r) => reports.push(r) });
    fillUp(join(mnt, 'filler'));
    const offsets: number[] = [];
    // Past maxBufferedBytes many times over: append itself tries to write, fails, and keeps going.
    for (let i = 0; i < 5000; i++) offsets.push(w.append(i, null, line(i)) as number);
    w.flush();
    expect(reports.map((r) => r.code)).toEqual(['raw-log-write-failed']);
    expect(w.error?.sysCode).toBe('ENOSPC');

    unlinkSync(join(mnt, 'filler'));
    w.flush();
    expect(w.error).toBeNull();
    expect(w.heldBytes).toBe(0);
    expect(reports.map((r) => r.code)).toEqual(['raw-log-write-failed', 'raw-log-recovered']);
    w.append(5000, null, line(5000));
    w.close();

    const content = readFileSync(path);
    const log = decodeRawLog(content);
    expect(log.rejected).toEqual([]);
    expect(log.entries.map((e) => e.bytes.toString('latin1'))).toEqual(Array.from({ length: 5001 }, (_, i) => line(i).toString('latin1')));
    for (const [i, at] of offsets.entries()) expect(content.subarray(at, at + `${i}\t`.length).toString(), `entry ${i}`).toBe(`${i}\t`);
  });

  it.skipIf(!isRoot)('held-bytes limit: later entries are dropped (null offset), the log marks where, and the counts are reported', () => {
    const mnt = smallFs('1m');
    const path = join(mnt, 'gps.log');
    const reports: RawLogReport[] = [];
    const w = new RawLogWriter(path, { port: 'gps', maxBufferedBytes: 1024, maxHeldBytes: 8192, onReport: (r) => reports.push(r) });
    fillUp(join(mnt, 'filler'));
    const results = Array.from({ length: 1000 }, (_, i) => w.append(i, null, line(i)));
    const kept = results.filter((r) => r !== null).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(1000);
    expect(results.slice(kept).every((r) => r === null)).toBe(true); // the first ones are kept, in order
    expect(w.droppedEntries).toBe(1000 - kept);

    unlinkSync(join(mnt, 'filler'));
    w.flush();
    w.append(1000, null, line(1000));
    w.close();
    expect(reports.map((r) => r.code)).toEqual(['raw-log-write-failed', 'raw-log-dropping', 'raw-log-recovered']);
    expect(reports[2]!.droppedEntries).toBe(1000 - kept);
    const log = decodeRawLog(readFileSync(path));
    expect(log.rejected).toEqual([]);
    expect(log.entries.map((e) => e.bytes.toString('latin1'))).toEqual([...Array.from({ length: kept }, (_, i) => line(i)), line(1000)].map((b) => b.toString('latin1')));
    const notes = log.items.filter((i) => i.type === 'comment');
    expect(notes).toHaveLength(1);
    expect(notes[0]!.type === 'comment' && notes[0]!.text).toContain(`${1000 - kept} entries`);
  });

  it('a log whose file was removed while open is created again with everything written so far', () => {
    const path = join(dir, 'serial', 'gps.log');
    const reports: RawLogReport[] = [];
    const w = new RawLogWriter(path, { port: 'gps', onReport: (r) => reports.push(r) });
    const a = w.append(1, null, line(1))!;
    w.flush();
    rmSync(join(dir, 'serial'), { recursive: true });
    const b = w.append(2, null, line(2))!;
    w.flush();
    w.close();
    expect(reports.map((r) => r.code)).toEqual(['raw-log-recreated']);
    const content = readFileSync(path);
    expect(content.subarray(a, a + 2).toString()).toBe('1\t');
    expect(content.subarray(b, b + 2).toString()).toBe('2\t');
    expect(decodeRawLog(content).entries.map((e) => e.bytes.toString('latin1'))).toEqual([line(1), line(2)].map((x) => x.toString('latin1')));
  });

  it.skipIf(!isRoot)('a log removed while its disk is full is reported once, not at every flush; recreated once there is room', () => {
    const mnt = smallFs('256k');
    const path = join(mnt, 'serial', 'gps.log');
    const reports: RawLogReport[] = [];
    const w = new RawLogWriter(path, { port: 'gps', onReport: (r) => reports.push(r) });
    for (let i = 0; i < 50; i++) w.append(i, null, line(i));
    w.flush();
    rmSync(join(mnt, 'serial'), { recursive: true });
    const filler = join(mnt, 'filler');
    fillUp(filler);
    // Six flushes of ~12 kB each: more than the removed file's last page holds, so its writes fail too.
    let n = 50;
    for (let f = 0; f < 6; f++) {
      for (let k = 0; k < 300; k++, n++) w.append(n, null, line(n));
      w.flush();
    }
    expect(reports.map((r) => r.code)).toEqual(['raw-log-write-failed']);
    unlinkSync(filler);
    w.append(n, null, line(n));
    n++;
    w.flush();
    w.close();
    expect(reports.map((r) => r.code)).toContain('raw-log-recreated');
    const lines = decodeRawLog(readFileSync(path)).entries.map((e) => e.bytes.toString('latin1'));
    expect(lines).toEqual(Array.from({ length: n }, (_, i) => line(i).toString('latin1')));
  });
});
