// FlightStore: the writer thread (replay) commits exactly what the inline writer (the agent)
// commits, batch by batch in order; a batch the DB refuses is dropped and logged, the rest kept.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  openFlightDb,
  readClockFits,
  readEvents,
  readNavSamples,
  readPorts,
  readSentenceCounts,
  type NavSample,
  type NavSampleInsert,
} from '@flysnap/shared';
import { capturedLog } from '../helpers/log.js';
import { FlightStore } from '../../src/store/index.js';

const T0 = Date.UTC(2024, 5, 1, 8) * 1000;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Sample i: cycles through every kind, some with flags, some placed by the flight clock. */
function row(i: number, port = 'gps'): NavSampleInsert {
  const base = { sentence: 'RMC' as const, talker: 'GP', tUs: T0 + i * 100_000 };
  const samples: NavSample[] = [
    { ...base, kind: 'position', latDeg: 48 + i * 1e-5, lonDeg: 11.5, altitudeM: i % 3 === 0 ? null : 500.5, fixQuality: 1, satellites: 9, hdop: 0.9 },
    { ...base, kind: 'velocity', speedMps: 60.25, trackDeg: i % 4 === 0 ? null : 90 },
    { ...base, sentence: 'HDT', talker: 'HC', tUs: null, kind: 'heading', headingDeg: (i * 7) % 360, reference: 'true' },
    { ...base, sentence: 'PGRMZ', talker: 'P', tUs: null, kind: 'pressure-altitude', altitudeM: 1234.5 },
    { ...base, sentence: 'GSA', tUs: null, kind: 'dop', fixMode: 3, pdop: 1.5, hdop: null, vdop: 1.2 },
    { ...base, sentence: 'ZDA', kind: 'time', tUs: T0 + i * 100_000 },
  ];
  const sample = samples[i % samples.length]!;
  return {
    sample,
    tUs: sample.tUs ?? T0 + i * 100_000 + 7,
    tSource: sample.tUs === null ? 'flight-clock' : 'sentence',
    port,
    rawOffset: i % 5 === 0 ? null : i * 80,
    receivedMonoUs: 3_600_000_000 + i * 100_000,
    flags: i % 7 === 0 ? ['no-checksum', 'date-inferred'] : [],
  };
}

function feed(store: FlightStore): void {
  store.ensurePort({ name: 'gps', role: 'gps', path: '/dev/ttyUSB0', baudRate: 38400, status: 'open', lastError: null, statusTUs: T0 });
  for (let i = 0; i < 500; i++) {
    if (i === 200) store.ensurePort({ name: 'compass', role: 'compass', path: '/dev/ttyUSB1', baudRate: 4800, status: 'open', lastError: null, statusTUs: T0 + 1 });
    store.addSample(row(i, i >= 200 && i % 2 === 0 ? 'compass' : 'gps'));
    store.count('gps', i % 2 === 0 ? 'RMC' : 'GGA', 'valid');
    store.addTraffic('gps', 80, 1);
    if (i % 90 === 0) store.count('gps', null, 'rejected', 'bad-checksum');
    if (i % 150 === 0) store.recordEvent({ tUs: T0 + i, monoUs: null, level: 'warn', source: 'test', code: 'e', message: `event ${i}`, data: { i } });
    if (i % 120 === 0) store.addClockFit({ fittedMonoUs: i, fittedTUs: T0 + i, offsetUs: 5, driftPpm: 0.5, uncertaintyUs: 100, pairs: 10, port: 'gps' });
    if (i === 333) store.setPortStatus('gps', 'silent', T0 + 333, 'no data for 3000 ms');
  }
}

function dump(path: string): unknown {
  const db = openFlightDb(path, { readonly: true });
  try {
    return {
      samples: readNavSamples(db),
      counts: readSentenceCounts(db),
      ports: readPorts(db),
      events: readEvents(db),
      fits: readClockFits(db),
    };
  } finally {
    db.close();
  }
}

function run(writer: 'inline' | 'thread', path: string, body: (store: FlightStore) => void, log = capturedLog()): FlightStore {
  const db = openFlightDb(path, { create: true });
  try {
    const store = new FlightStore(db, { log: log.log, writer, maxBatchSamples: 64 });
    body(store);
    store.close();
    return store;
  } finally {
    db.close();
  }
}

describe('FlightStore', () => {
  it('a writer thread commits exactly what the inline writer commits (samples, counters, traffic, ports, events, fits)', () => {
    const inline = run('inline', join(dir, 'inline.db'), feed);
    const thread = run('thread', join(dir, 'thread.db'), feed);
    expect(inline.samplesWritten).toBe(500);
    expect(thread.samplesWritten).toBe(500);
    const a = dump(join(dir, 'inline.db')) as { samples: unknown[]; ports: unknown[] };
    expect(a.samples).toHaveLength(500);
    expect(a.ports).toHaveLength(2);
    expect(dump(join(dir, 'thread.db'))).toEqual(a);
  });

  it('a batch the DB refuses is dropped and logged; the batches before and after it are kept', () => {
    for (const writer of ['inline', 'thread'] as const) {
      const path = join(dir, `${writer}.db`);
      const log = capturedLog();
      const store = run(
        writer,
        path,
        (s) => {
          s.ensurePort({ name: 'gps', role: 'gps', path: '/dev/ttyUSB0', baudRate: 38400, status: 'open', lastError: null, statusTUs: T0 });
          for (let i = 0; i < 64; i++) s.addSample(row(i)); // batch 1
          for (let i = 64; i < 128; i++) s.addSample(row(i, i === 100 ? 'no-such-port' : 'gps')); // batch 2: foreign key
          for (let i = 128; i < 140; i++) s.addSample(row(i)); // last batch, at close
        },
        log,
      );
      expect([writer, store.samplesWritten, store.droppedSamples]).toEqual([writer, 76, 64]);
      const failed = log.lines().filter((l) => l['msg'] === 'flight DB write failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY', samples: 64, isTransient: false });
      const stored = (dump(path) as { samples: { rawOffset: number | null; receivedMonoUs: number }[] }).samples;
      expect(stored.map((s) => (s.receivedMonoUs - 3_600_000_000) / 100_000).sort((x, y) => x - y)).toEqual([
        ...Array.from({ length: 64 }, (_, i) => i),
        ...Array.from({ length: 12 }, (_, i) => 128 + i),
      ]);
    }
  });
});
