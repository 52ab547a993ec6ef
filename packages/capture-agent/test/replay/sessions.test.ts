// replay of several agent raw logs: entries are merged by receive time within a session (so the
// file order does not matter), and a new session (header: restart/reboot, monotonic clock reset)
// starts a fresh flight clock. Logs generated with the shared raw-log encoder; real SQLite.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeRawLogLine, nmeaSentence, openFlightDb, rawLogHeader, readClockFits, readNavSamples } from '@flysnap/shared';
import { silentLogger } from '../../src/log/index.js';
import { replayLogs } from '../../src/replay/index.js';
import { readSummary } from '../helpers/flight.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-replay-sessions-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

function rmc(tUs: number): string {
  const d = new Date(tUs / 1000);
  const hhmmss = `${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}.00`;
  const ddmmyy = `${pad(d.getUTCDate(), 2)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCFullYear() % 100, 2)}`;
  return nmeaSentence(`GPRMC,${hhmmss},A,4807.038,N,01131.000,E,117.0,90.0,${ddmmyy},2.1,E,A`);
}

/** A raw log being built in memory; `offset` of each entry = its raw_offset. */
class LogText {
  text = '';
  add(s: string): number {
    const at = this.text.length;
    this.text += s;
    return at;
  }
}

interface Session {
  /** UTC of the first GPS epoch, µs. */
  t0Us: number;
  /** Monotonic time at t0 (a reboot restarts it), µs. */
  mono0Us: number;
  seconds: number;
  /** Monotonic clock rate error, ppm (mono runs fast by this much). */
  driftPpm: number;
  /** `session=` in the headers (the agent's start time), or none. */
  withStart: boolean;
  /** `boot=` in the headers (the boot the receive times are on), or none. */
  boot?: string;
}

/**
 * GPS (RMC, 1 Hz, received at its epoch) and compass (HDT, 1 Hz, half a second after each epoch)
 * raw logs of the given sessions. Returns the true UTC at receipt of every compass line, by raw offset.
 */
function writeLogs(sessions: Session[]): { gps: string; compass: string; truth: Map<number, number> } {
  const gps = new LogText();
  const compass = new LogText();
  const truth = new Map<number, number>();
  for (const s of sessions) {
    const startIso = new Date(s.t0Us / 1000 - 2000).toISOString();
    const boot: Record<string, string> = s.boot === undefined ? {} : { boot: s.boot };
    gps.add(rawLogHeader('gps', { role: 'gps', ...(s.withStart ? { session: startIso } : {}), ...boot }));
    compass.add(rawLogHeader('compass', { role: 'compass', ...(s.withStart ? { session: new Date(s.t0Us / 1000 - 1900).toISOString() } : {}), ...boot }));
    const mono = (tUs: number): number => Math.round(s.mono0Us + (tUs - s.t0Us) * (1 + s.driftPpm * 1e-6));
    for (let i = 0; i < s.seconds; i++) {
      const tUs = s.t0Us + i * 1_000_000;
      gps.add(encodeRawLogLine({ monoUs: mono(tUs), utcUs: null, bytes: Buffer.from(`${rmc(tUs)}\r`, 'latin1') }));
      const cUs = tUs + 500_000;
      const at = compass.add(encodeRawLogLine({ monoUs: mono(cUs), utcUs: null, bytes: Buffer.from(`${nmeaSentence(`HCHDT,${(i % 360).toFixed(1)},T`)}\r`, 'latin1') }));
      truth.set(at, cUs);
    }
  }
  const gpsPath = join(dir, 'gps.log');
  const compassPath = join(dir, 'compass.log');
  writeFileSync(gpsPath, gps.text);
  writeFileSync(compassPath, compass.text);
  return { gps: gpsPath, compass: compassPath, truth };
}

/** Largest |stored − true| of the compass headings, µs; every heading placed by the flight clock. */
function compassErrorUs(array: string, truth: Map<number, number>): number {
  const db = openFlightDb(join(array, 'flight.db'), { readonly: true });
  try {
    const headings = readNavSamples(db).filter((x) => x.sample.kind === 'heading');
    expect(headings.length).toBe(truth.size);
    let worst = 0;
    for (const h of headings) {
      expect(h.tSource).toBe('flight-clock');
      const t = truth.get(h.rawOffset!);
      expect(t).toBeDefined();
      worst = Math.max(worst, Math.abs(h.sample.tUs - t!));
    }
    return worst;
  } finally {
    db.close();
  }
}

const T0 = Date.UTC(2024, 5, 1, 8, 0, 0) * 1000;
const BOUND_US = 5_000;

describe('replay of several raw logs', () => {
  it('a 4 h flight with 50 ppm drift, compass log first: compass samples within 5 ms of truth', async () => {
    const logs = writeLogs([{ t0Us: T0, mono0Us: 3_600_000_000, seconds: 4 * 3600, driftPpm: 50, withStart: true }]);
    const array = join(dir, 'array');
    const r = await replayLogs({ arrayRoot: array, logs: [{ file: logs.compass }, { file: logs.gps }], log: silentLogger() });
    expect(r.files.map((f) => [f.format, f.ports, f.sessions])).toEqual([['raw', ['compass'], 1], ['raw', ['gps'], 1]]);
    expect(r.lines).toBe(2 * 4 * 3600);
    expect(compassErrorUs(array, logs.truth)).toBeLessThan(BOUND_US);
  });

  it.each([
    ['session start times in the headers', true],
    ['no start times (matched by order)', false],
  ])('two sessions, the monotonic clock restarting (%s): each placed by its own clock', async (_name, withStart) => {
    const logs = writeLogs([
      { t0Us: T0, mono0Us: 7_000_000_000, seconds: 3600, driftPpm: 50, withStart },
      // Rebooted 2 min later: the monotonic clock starts again near zero.
      { t0Us: T0 + 3720e6, mono0Us: 20_000_000, seconds: 1800, driftPpm: -30, withStart },
    ]);
    const array = join(dir, 'array');
    const r = await replayLogs({ arrayRoot: array, logs: [{ file: logs.compass }, { file: logs.gps }], log: silentLogger() });
    expect(r.files.map((f) => f.sessions)).toEqual([2, 2]);
    expect(compassErrorUs(array, logs.truth)).toBeLessThan(BOUND_US);
    expect(readSummary(array).events_.filter((e) => e.code === 'clock-reset')).toHaveLength(1);
  });

  it('a log without a header for the first session (port added at the restart) joins the second session by its start time', async () => {
    const logs = writeLogs([
      { t0Us: T0, mono0Us: 7_000_000_000, seconds: 600, driftPpm: 50, withStart: true },
      { t0Us: T0 + 720e6, mono0Us: 20_000_000, seconds: 600, driftPpm: -30, withStart: true },
    ]);
    // The compass log keeps only its second session.
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(logs.compass, 'latin1');
    const second = text.indexOf('#flysnap-rawlog', 1);
    writeFileSync(logs.compass, text.slice(second));
    const truth = new Map<number, number>();
    for (const [offset, t] of logs.truth) if (offset >= second) truth.set(offset - second, t);
    const array = join(dir, 'array');
    const r = await replayLogs({ arrayRoot: array, logs: [{ file: logs.compass }, { file: logs.gps }], log: silentLogger() });
    expect(r.files.map((f) => f.sessions)).toEqual([1, 2]);
    expect(compassErrorUs(array, truth)).toBeLessThan(BOUND_US);
  });

  it("each session's fits are stored with the boot its headers name (none named: unknown)", async () => {
    const bootA = '0b6c2a4e-7f3d-4d2e-9a51-3c8e1f2a9b01';
    const bootB = '5d1e9c7a-2b4f-4e8a-8c3d-7a9b0e1f2c34';
    const logs = writeLogs([
      { t0Us: T0, mono0Us: 7_000_000_000, seconds: 120, driftPpm: 0, withStart: true, boot: bootA },
      { t0Us: T0 + 300e6, mono0Us: 20_000_000, seconds: 120, driftPpm: 0, withStart: true, boot: bootB },
      { t0Us: T0 + 600e6, mono0Us: 10_000_000, seconds: 120, driftPpm: 0, withStart: true },
    ]);
    const array = join(dir, 'array');
    await replayLogs({ arrayRoot: array, logs: [{ file: logs.gps }, { file: logs.compass }], log: silentLogger() });
    const db = openFlightDb(join(array, 'flight.db'), { readonly: true });
    try {
      const fits = readClockFits(db);
      const bootOf = (fromUs: number, toUs: number): Set<string | null> =>
        new Set(fits.filter((f) => f.fittedTUs >= fromUs && f.fittedTUs < toUs).map((f) => f.bootId));
      expect(bootOf(T0, T0 + 300e6)).toEqual(new Set([bootA]));
      expect(bootOf(T0 + 300e6, T0 + 600e6)).toEqual(new Set([bootB]));
      expect(bootOf(T0 + 600e6, T0 + 900e6)).toEqual(new Set([null]));
    } finally {
      db.close();
    }
  });
});
