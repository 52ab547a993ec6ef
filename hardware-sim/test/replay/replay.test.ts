import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeRawLogLine, rawLogHeader } from '@flysnap/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAllPorts } from '../../src/ports/pty.js';
import { runReplay } from '../../src/replay/replay.js';
import { Collector, FIXTURES, runCleanups, tempDir, until } from '../helpers.js';
import { writeFile } from 'node:fs/promises';
import { lstat } from 'node:fs/promises';

afterEach(async () => {
  await runCleanups();
  await closeAllPorts();
});

/** Opens a reader on the port as soon as its path exists. */
async function readerOn(path: string): Promise<Collector> {
  await until(() => lstat(path).then(() => true, () => false), `port ${path}`);
  return Collector.open(path);
}

describe('runReplay', () => {
  it('delivers every byte of a real log with binary junk, unchanged, with --fast', async () => {
    const dir = await tempDir();
    const path = join(dir, 'gps');
    const expected = await readFile(join(FIXTURES, 'ac12_binary.log'));
    const replay = runReplay({ ports: [{ path, log: join(FIXTURES, 'ac12_binary.log') }], pacing: { mode: 'fast' }, waitForReader: true, lingerMs: 500 });
    const reader = await readerOn(path);
    const report = await replay;
    await reader.waitFor(expected.length);
    expect(reader.bytes.equals(expected)).toBe(true);
    expect(report.ports[0]).toMatchObject({ bytes: expected.length, droppedBytes: 0, format: 'device' });
  });

  it('plays two logs into two ports at once, paced by the times in the logs', async () => {
    const dir = await tempDir();
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    const big = await readFile(join(FIXTURES, 'signalk-gps.log'));
    const small = await readFile(join(FIXTURES, 'ac12_binary.log'));
    const replay = runReplay({
      ports: [
        { path: a, log: join(FIXTURES, 'signalk-gps.log') },
        { path: b, log: join(FIXTURES, 'ac12_binary.log') },
      ],
      pacing: { mode: 'log-time', speed: 400 },
      waitForReader: true,
      lingerMs: 500,
    });
    const [ra, rb] = await Promise.all([readerOn(a), readerOn(b)]);
    const report = await replay;
    await Promise.all([ra.waitFor(big.length), rb.waitFor(small.length)]);
    expect(ra.bytes.equals(big)).toBe(true);
    expect(rb.bytes.equals(small)).toBe(true);
    expect(report.ports.map((p) => p.bytes)).toEqual([big.length, small.length]);
  });

  it('replays the agent raw serial log format byte for byte: payload + LF only where the piece had one, in order', async () => {
    const dir = await tempDir();
    const pieces = [
      { bytes: Buffer.from('$GPZDA,183531.00,23,12,2007,00,00*6C\r'), hasLf: true, isCut: false },
      { bytes: Buffer.from([0x00, 0xff, 0x24, 0x0d, 0x09, 0x5c]), hasLf: true, isCut: false },
      // Binary junk cut at the agent's maximum line length, then its rest ended by a LF.
      { bytes: Buffer.from([0x80, 0x0d, 0x00, 0x5c]), hasLf: false, isCut: true },
      { bytes: Buffer.from([0xfe, 0x09]), hasLf: true, isCut: false },
      { bytes: Buffer.from('$HCHDT,12.3,T*hh'), hasLf: true, isCut: false },
      // A partial line flushed when the agent stopped: no LF was ever received.
      { bytes: Buffer.from('$GPGGA,12\r'), hasLf: false, isCut: false },
    ];
    const log = rawLogHeader('gps') + pieces.map((p, i) => encodeRawLogLine({ monoUs: 1_000_000 + i * 100_000, utcUs: null, ...p })).join('');
    const logPath = join(dir, 'gps.log');
    await writeFile(logPath, log);
    const path = join(dir, 'gps');
    const replay = runReplay({ ports: [{ path, log: logPath }], pacing: { mode: 'log-time', speed: 1 }, waitForReader: true, lingerMs: 300 });
    const reader = await readerOn(path);
    const report = await replay;
    const expected = Buffer.concat(pieces.flatMap((p) => (p.hasLf ? [p.bytes, Buffer.from('\n')] : [p.bytes])));
    await reader.waitFor(expected.length);
    expect(reader.bytes.equals(expected)).toBe(true);
    expect(report.ports[0]).toMatchObject({ format: 'flysnap-rawlog', lines: pieces.length, bytes: expected.length, logBytes: expected.length });
  });

  it('replays a v1 agent raw log as before: every entry followed by LF', async () => {
    const dir = await tempDir();
    const logPath = join(dir, 'old.log');
    await writeFile(logPath, '#flysnap-rawlog v1 port=gps\n1000000\t-\t$GPZDA,1*00\\r\n1100000\t-\t\\xff\\x00\n');
    const path = join(dir, 'gps');
    const replay = runReplay({ ports: [{ path, log: logPath }], pacing: { mode: 'fast' }, waitForReader: true, lingerMs: 300 });
    const reader = await readerOn(path);
    const report = await replay;
    const expected = Buffer.from('$GPZDA,1*00\r\n\xff\x00\n', 'latin1');
    await reader.waitFor(expected.length);
    expect(reader.bytes.equals(expected)).toBe(true);
    expect(report.ports[0]).toMatchObject({ format: 'flysnap-rawlog', lines: 2, bytes: expected.length });
  });

  it('aligns several agent raw logs of one session on their recorded times: a log starting 2 s later starts 2 s into the replay', async () => {
    const dir = await tempDir();
    const S = 1_000_000;
    const rawLog = (port: string, lines: Array<{ monoUs: number; text: string }>): string =>
      rawLogHeader(port) + lines.map((l) => encodeRawLogLine({ monoUs: l.monoUs, utcUs: null, bytes: Buffer.from(`${l.text}\r`), hasLf: true, isCut: false })).join('');
    // Compass from monotonic 100 s, a line every 0.2 s until 104 s; GPS from 102 s to 104 s.
    const compassLines = Array.from({ length: 21 }, (_, i) => ({ monoUs: 100 * S + i * 200_000, text: `$HCHDT,${i},T` }));
    const gpsLines = Array.from({ length: 5 }, (_, i) => ({ monoUs: 102 * S + i * 500_000, text: `$GPZDA,${i}` }));
    await writeFile(join(dir, 'compass.log'), rawLog('compass', compassLines));
    await writeFile(join(dir, 'gps.log'), rawLog('gps', gpsLines));
    const compass = join(dir, 'compass');
    const gps = join(dir, 'gps');
    const replay = runReplay({
      ports: [
        { path: gps, log: join(dir, 'gps.log') },
        { path: compass, log: join(dir, 'compass.log') },
      ],
      pacing: { mode: 'log-time', speed: 2 },
      waitForReader: true,
      lingerMs: 300,
    });
    const [rg, rc] = await Promise.all([readerOn(gps), readerOn(compass)]);
    // How many compass lines had arrived when the first GPS byte arrived.
    let compassLinesAtFirstGps: number | null = null;
    rg.port.on('data', () => {
      compassLinesAtFirstGps ??= rc.bytes.toString('latin1').split('\n').length - 1;
    });
    await replay;
    const compassText = compassLines.map((l) => `${l.text}\r\n`).join('');
    await Promise.all([rg.waitFor(gpsLines.map((l) => `${l.text}\r\n`).join('').length), rc.waitFor(compassText.length)]);
    expect(rc.bytes.toString('latin1')).toBe(compassText);
    // Log time order: the compass lines of 100.0–101.6 s came before the GPS line of 102 s, those
    // of 102.4 s on after it (±0.4 s of log time for the scheduler and the PTYs).
    expect(compassLinesAtFirstGps).not.toBeNull();
    expect(compassLinesAtFirstGps).toBeGreaterThanOrEqual(9);
    expect(compassLinesAtFirstGps).toBeLessThanOrEqual(12);
  });
});
