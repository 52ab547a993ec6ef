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

  it('replays the agent raw serial log format: payload bytes + LF, in order', async () => {
    const dir = await tempDir();
    const payloads = [Buffer.from('$GPZDA,183531.00,23,12,2007,00,00*6C\r'), Buffer.from([0x00, 0xff, 0x24, 0x0d, 0x09, 0x5c]), Buffer.from('$HCHDT,12.3,T*hh')];
    const log = [rawLogHeader('gps'), ...payloads.map((bytes, i) => encodeRawLogLine({ monoUs: 1_000_000 + i * 100_000, utcUs: null, bytes }))].join('\n') + '\n';
    const logPath = join(dir, 'gps.log');
    await writeFile(logPath, log);
    const path = join(dir, 'gps');
    const replay = runReplay({ ports: [{ path, log: logPath }], pacing: { mode: 'log-time', speed: 1 }, waitForReader: true, lingerMs: 300 });
    const reader = await readerOn(path);
    const report = await replay;
    const expected = Buffer.concat(payloads.flatMap((p) => [p, Buffer.from('\n')]));
    await reader.waitFor(expected.length);
    expect(reader.bytes.equals(expected)).toBe(true);
    expect(report.ports[0]).toMatchObject({ format: 'flysnap-rawlog', lines: 3, bytes: expected.length });
  });
});
