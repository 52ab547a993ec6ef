// replay on the agent's own raw log format: receive times and offsets are kept, the clock is fitted
// from the recorded times, and the counts equal a plain replay of the same bytes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFlightDb, readNavSamples } from '@flysnap/shared';
import { silentLogger } from '../../src/log/index.js';
import { RawLogWriter } from '../../src/rawlog/index.js';
import { replayLogs } from '../../src/replay/index.js';
import { add, expectedFromLog, fixture, readSummary, splitLines } from '../helpers/flight.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-replay-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('replayLogs', () => {
  it('decodes an agent raw log with its receive times into the same counts as the device log', async () => {
    const log = fixture('hemi.log');
    const lines = splitLines(log);
    const rawPath = join(dir, 'gps.log');
    const writer = new RawLogWriter(rawPath, { port: 'gps', header: { role: 'gps' } });
    // A receive time per line 20 ms apart on a monotonic clock starting at 5 s.
    const offsets: number[] = [];
    lines.forEach((line, i) => offsets.push(writer.append(5_000_000 + i * 20_000, null, line.subarray(0, line.length - 1))!));
    writer.close();

    const array = join(dir, 'array');
    const result = await replayLogs({ arrayRoot: array, logs: [{ file: rawPath }], log: silentLogger() });
    expect(result.files[0]?.format).toBe('raw');
    expect(result.lines).toBe(lines.length);

    const s = readSummary(array);
    const e = expectedFromLog(log);
    const valid: Record<string, number> = {};
    for (const r of s.sentences.rows) if (r.status === 'valid') add(valid, { [r.sentence]: r.count });
    expect(valid).toEqual(e.valid);
    expect(Object.fromEntries(Object.entries(s.samples.byKind).filter(([, n]) => n > 0))).toEqual(e.samplesByKind);
    expect(s.ports[0]).toMatchObject({ name: 'gps', role: 'gps' });
    expect(s.lastClockFit).not.toBeNull();

    const db = openFlightDb(join(array, 'flight.db'), { readonly: true });
    try {
      const stored = readNavSamples(db);
      // Each sample points at its line in the raw log and keeps its receive time.
      for (const sample of stored) {
        const i = offsets.indexOf(sample.rawOffset!);
        expect(i).toBeGreaterThanOrEqual(0);
        expect(sample.receivedMonoUs).toBe(5_000_000 + i * 20_000);
      }
      // Samples without own time (HDT) are placed by the flight clock.
      const headings = stored.filter((x) => x.sample.kind === 'heading');
      expect(headings.length).toBeGreaterThan(0);
      expect(headings.every((h) => h.tSource === 'flight-clock')).toBe(true);
      const firstFix = stored.find((x) => x.sample.kind === 'time')!;
      expect(headings.every((h) => Math.abs(h.sample.tUs - firstFix.sample.tUs) < 3600e6)).toBe(true);
    } finally {
      db.close();
    }
  });

  it('a second replay into the same array continues its flight', async () => {
    const array = join(dir, 'array');
    const file = join(dir, 'x.log');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, fixture('foretrex-201.log'));
    const a = await replayLogs({ arrayRoot: array, logs: [{ file }], log: silentLogger() });
    const b = await replayLogs({ arrayRoot: array, logs: [{ file, port: 'again' }], log: silentLogger() });
    expect(b.flightId).toBe(a.flightId);
    expect(readSummary(array).ports.map((p) => p.name).sort()).toEqual(['again', 'x']);
  });
});
