// CapturePipeline: a GPS port's receive latency is taken off its receipt times before they pair
// with the sentence times, so the flight clock's fit (and every time placed by it) is UTC exact.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nmeaChecksum, openFlightDb, readClockFits, readNavSamples } from '@flysnap/shared';
import { silentLogger } from '../../src/log/index.js';
import { CapturePipeline } from '../../src/pipeline/index.js';
import { FlightStore } from '../../src/store/index.js';

const T0 = Date.UTC(2024, 5, 1, 8) * 1000;
/** UTC minus the capture machine's monotonic clock. */
const OFFSET_US = T0 - 3_600_000_000;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-pipeline-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function sentence(body: string): Buffer {
  return Buffer.from(`$${body}*${nmeaChecksum(body)}`);
}

function rmc(tUs: number): Buffer {
  const d = new Date(tUs / 1000);
  const hhmmss = d.toISOString().slice(11, 19).replace(/:/g, '');
  return sentence(`GPRMC,${hhmmss}.00,A,4807.038,N,01131.000,E,022.4,084.4,010624,003.1,W`);
}

describe('CapturePipeline flight clock', () => {
  it('takes the GPS port latency off receipt times: lines arriving latencyMs late fit UTC exactly', () => {
    const dbPath = join(dir, 'flight.db');
    const db = openFlightDb(dbPath, { create: true });
    const store = new FlightStore(db, { log: silentLogger() });
    const pipeline = new CapturePipeline({ store, log: silentLogger(), clockFitMs: 1_000, rolloverReferenceUs: T0 });
    store.ensurePort({ name: 'gps', role: 'gps', path: '/dev/null', baudRate: 9600, status: 'open', lastError: null, statusTUs: T0 });
    const gps = pipeline.addPort({ name: 'gps', role: 'gps', latencyMs: 100, checksumPolicy: 'reject' }, null);
    for (let i = 0; i < 20; i++) {
      const tUs = T0 + i * 1_000_000;
      // The sentence for second t reaches the machine 100 ms later; a heading follows 20 ms after it.
      gps.line({ bytes: rmc(tUs), monoUs: tUs - OFFSET_US + 100_000 });
      gps.line({ bytes: sentence('HCHDT,123.4,T'), monoUs: tUs - OFFSET_US + 120_000 });
    }
    const fit = pipeline.clock.fit();
    expect(fit).not.toBeNull();
    expect(fit!.offsetUs).toBe(OFFSET_US);
    expect(pipeline.utcAt(T0 + 5_000_000 - OFFSET_US)).toBe(T0 + 5_000_000);
    pipeline.storeCurrentFit();
    pipeline.finish();
    store.flush();
    db.close();

    const read = openFlightDb(dbPath, { readonly: true });
    try {
      const fits = readClockFits(read);
      expect(fits.length).toBeGreaterThan(0);
      for (const f of fits) expect(f.fittedTUs - f.fittedMonoUs).toBe(OFFSET_US);
      // A heading received 120 ms after second t, minus the 100 ms latency: t + 20 ms.
      const headings = readNavSamples(read).filter((s) => s.sample.kind === 'heading' && s.tSource === 'flight-clock');
      expect(headings.length).toBe(20);
      for (const h of headings) expect((h.sample.tUs - T0 - 20_000) % 1_000_000).toBe(0);
    } finally {
      read.close();
    }
  });
});

describe('CapturePipeline boot ids of stored fits', () => {
  it("stores each fit with the boot of its receive times: the run's, none when not given, a new session's own", () => {
    const dbPath = join(dir, 'flight.db');
    const db = openFlightDb(dbPath, { create: true });
    const store = new FlightStore(db, { log: silentLogger() });
    store.ensurePort({ name: 'gps', role: 'gps', path: '/dev/null', baudRate: 9600, status: 'open', lastError: null, statusTUs: T0 });
    const feed = (p: CapturePipeline, fromS: number, monoOffsetUs: number): void => {
      const gps = p.ports.get('gps') ?? p.addPort({ name: 'gps', role: 'gps', latencyMs: 0, checksumPolicy: 'reject' }, null);
      for (let i = fromS; i < fromS + 5; i++) gps.line({ bytes: rmc(T0 + i * 1_000_000), monoUs: T0 + i * 1_000_000 - monoOffsetUs });
      p.storeCurrentFit();
    };
    const live = new CapturePipeline({ store, log: silentLogger(), clockFitMs: 1_000, bootId: 'boot-A' });
    expect(live.bootId).toBe('boot-A');
    feed(live, 0, OFFSET_US);
    const replay = new CapturePipeline({ store, log: silentLogger(), clockFitMs: 1_000 });
    expect(replay.bootId).toBeNull();
    feed(replay, 10, OFFSET_US);
    replay.newSession({ session: 2 }, 'boot-B');
    feed(replay, 20, OFFSET_US + 3_000_000_000); // the new session's monotonic clock restarted
    // A monotonic clock going backwards without a session header: a restart of unknown boot.
    replay.newSession({ session: 3 }, 'boot-C');
    feed(replay, 30, OFFSET_US + 3_000_000_000);
    feed(replay, 40, OFFSET_US + 3_500_000_000);
    store.flush();
    const boots = readClockFits(db).map((f) => f.bootId);
    db.close();
    const runs = boots.filter((b, i) => i === 0 || b !== boots[i - 1]);
    expect(runs).toEqual(['boot-A', null, 'boot-B', 'boot-C', null]);
  });
});
