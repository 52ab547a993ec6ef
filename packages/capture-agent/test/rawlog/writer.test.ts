import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeRawLog, rawLogEntryBytes } from '@flysnap/shared';
import { RawLogWriter } from '../../src/rawlog/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-raw-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('RawLogWriter', () => {
  it('appends lossless entries at the offsets it returns; a reopened log gets a fresh header after a cut line', () => {
    const path = join(dir, 'serial', 'gps.log');
    const w = new RawLogWriter(path, { port: 'gps' });
    const junk = Buffer.from([0x00, 0xff, 0x5c, 0x0d, 0x09, 0x24]);
    const a = w.append(10, null, Buffer.from('$GPZDA,1*00\r'))!;
    const b = w.append(20, 1_700_000_000_000_000, junk)!;
    expect(readFileSync(path).length).toBe(a); // only the header is on disk before flush
    w.flush();
    const text = readFileSync(path, 'latin1');
    expect(text.slice(a).startsWith('10\t-\t$GPZDA,1*00\\r\n')).toBe(true);
    expect(text.slice(b).startsWith('20\t1700000000000000\t')).toBe(true);
    w.close();

    appendFileSync(path, '30\t-\t$GPZ'); // a power cut in the middle of a line
    const w2 = new RawLogWriter(path, { port: 'gps' });
    w2.append(5, null, Buffer.from('after'));
    w2.close();
    const log = decodeRawLog(readFileSync(path));
    expect(log.items.filter((i) => i.type === 'header')).toHaveLength(2);
    // The cut line is closed with '\n' and stays what it was ('$GPZ'); the new session starts clean.
    expect(log.entries.map((e) => e.bytes.toString('latin1'))).toEqual(['$GPZDA,1*00\r', junk.toString('latin1'), '$GPZ', 'after']);
    expect(log.rejected).toHaveLength(0);
    expect(log.truncated).toBeNull();
  });

  it('records whether each piece had its LF: a cut piece and a partial line come back without one', () => {
    const path = join(dir, 'gps.log');
    const w = new RawLogWriter(path, { port: 'gps' });
    const cut = Buffer.from([0x00, 0xff, 0x0d, 0x5c, 0x09]);
    w.append(10, null, Buffer.from('$GPZDA,1*00\r'));
    const at = w.append(20, null, cut, false, true)!;
    w.append(30, 5, Buffer.from([0x80]), true, false);
    w.append(40, null, Buffer.from('$GPGG'), false);
    w.close();
    const text = readFileSync(path, 'latin1');
    expect(text.startsWith('#flysnap-rawlog v2 port=gps\n')).toBe(true);
    expect(text.slice(at)).toBe('20\t-\t\\x00\\xff\\r\\\\\\t\tcut\n30\t5\t\\x80\n40\t-\t$GPGG\tnolf\n');
    const log = decodeRawLog(readFileSync(path));
    expect(log.rejected).toEqual([]);
    expect(log.entries.map((e) => [e.hasLf, e.isCut])).toEqual([[true, false], [false, true], [true, false], [false, false]]);
    expect(Buffer.concat(log.entries.map(rawLogEntryBytes)).equals(Buffer.concat([Buffer.from('$GPZDA,1*00\r\n'), cut, Buffer.from('\x80\n$GPGG', 'latin1')]))).toBe(true);
  });
});
