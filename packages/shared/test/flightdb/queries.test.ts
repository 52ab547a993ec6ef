import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NavSample } from '../../src/nav/types.js';
import {
  FLIGHT_DB_SCHEMA_VERSION,
  addPortTraffic,
  checkFlightDbIntegrity,
  currentBootId,
  insertAsset,
  insertClockFit,
  insertFlight,
  insertNavSamples,
  iterateNavSamples,
  openFlightDb,
  readAssets,
  readEvents,
  readFlight,
  readFlightSummary,
  readClockFits,
  readLastClockFit,
  readLastClockFitOfBoot,
  readNavSamples,
  readPorts,
  readSentenceCounts,
  recordEvent,
  setAssetStatus,
  setFlightEnded,
  setPortStatus,
  upsertPort,
  upsertSentenceCounts,
  writeTransaction,
} from '../../src/flightdb/index.js';
import type { AssetInsert, FlightDb, NavSampleInsert } from '../../src/flightdb/index.js';

let dir: string;
let path: string;
const open: FlightDb[] = [];
function track(db: FlightDb): FlightDb {
  open.push(db);
  return db;
}
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flysnap-fdbq-'));
  path = join(dir, 'flight.db');
});
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const T0 = 1717200000000000;

function writer(): FlightDb {
  const db = track(openFlightDb(path, { create: true }));
  insertFlight(db, {
    id: 'F-2024-06-01',
    aircraft: 'N123AB',
    startedTUs: T0,
    endedTUs: null,
    layoutVersion: 1,
    createdBy: 'test',
  });
  upsertPort(db, {
    name: 'gps',
    role: 'gps',
    path: '/dev/ttyUSB0',
    baudRate: 4800,
    status: 'open',
    lastError: null,
    statusTUs: T0,
  });
  upsertPort(db, {
    name: 'compass',
    role: 'compass',
    path: '/dev/ttyUSB1',
    baudRate: 4800,
    status: 'open',
    lastError: null,
    statusTUs: T0,
  });
  return db;
}

const SAMPLES: NavSample[] = [
  { kind: 'position', sentence: 'GGA', talker: 'GP', tUs: T0, latDeg: 48.1, lonDeg: 11.5, altitudeM: 545.4, fixQuality: 1, satellites: 8, hdop: 0.9 },
  { kind: 'velocity', sentence: 'RMC', talker: 'GP', tUs: T0, speedMps: 51.4, trackDeg: 84.4 },
  { kind: 'heading', sentence: 'HDT', talker: 'HC', tUs: null, headingDeg: 90.5, reference: 'true' },
  { kind: 'pressure-altitude', sentence: 'PGRMZ', talker: 'P', tUs: null, altitudeM: 1234.5 },
  { kind: 'dop', sentence: 'GSA', talker: 'GN', tUs: null, fixMode: 3, pdop: 1.5, hdop: 0.9, vdop: 1.2 },
  { kind: 'time', sentence: 'ZDA', talker: 'GP', tUs: T0 + 1 },
];

function row(sample: NavSample, i: number): NavSampleInsert {
  return {
    sample,
    tUs: sample.tUs ?? T0 + 500 + i,
    tSource: sample.tUs === null ? 'flight-clock' : 'sentence',
    port: sample.kind === 'heading' ? 'compass' : 'gps',
    rawOffset: 40 + i * 50,
    receivedMonoUs: 1000 + i,
    flags: i === 0 ? ['date-inferred'] : [],
  };
}

const ASSET: AssetInsert = {
  device: 'cam-left',
  relPath: 'DCIM/IMG_0001.JPG',
  sizeBytes: 5_000_000,
  sha256: 'ab'.repeat(32),
  captureTUs: T0 + 10,
  timeSource: 'exif',
  appearedTUs: T0 + 900_000,
  appearedMonoUs: 123_456,
  recordedTUs: T0 + 1_000_000,
  status: 'complete',
  latDeg: 48.1,
  lonDeg: 11.5,
  altitudeM: 545.4,
  pressureAltitudeM: 1234.5,
  headingDeg: 90.5,
  speedMps: 51.4,
  trackDeg: 84.4,
  poseQuality: { fixQuality: 1, gapUs: 100_000, reasons: [] },
};

describe('flight DB helpers', () => {
  it('stores every sample kind and reads it back as the nav contract', () => {
    const db = writer();
    expect(insertNavSamples(db, SAMPLES.map(row))).toBe(SAMPLES.length);
    const back = readNavSamples(db);
    expect(back.map((s) => s.sample)).toEqual(
      SAMPLES.map((s, i) => ({ ...s, tUs: s.tUs ?? T0 + 500 + i })).sort((a, b) => a.tUs - b.tUs),
    );
    const first = back.find((s) => s.sample.kind === 'position')!;
    expect(first).toMatchObject({ tSource: 'sentence', port: 'gps', rawOffset: 40, receivedMonoUs: 1000, flags: ['date-inferred'] });
    expect(readNavSamples(db, { kinds: ['heading'] })).toHaveLength(1);
    expect(readNavSamples(db, { kinds: [] })).toHaveLength(0);
    expect(readNavSamples(db, { fromTUs: T0 + 1, toTUs: T0 + 503, port: 'gps' }).map((s) => s.sample.kind)).toEqual([
      'time',
      'pressure-altitude',
    ]);
    expect([...iterateNavSamples(db, { limit: 2 })]).toHaveLength(2);
  });

  it('inserts a batch all-or-nothing; foreign keys and CHECKs hold', () => {
    const db = writer();
    const bad = { ...row(SAMPLES[0]!, 0), port: 'no-such-port' };
    expect(() => insertNavSamples(db, [row(SAMPLES[1]!, 1), bad])).toThrow(/FOREIGN KEY/);
    expect(readNavSamples(db)).toHaveLength(0);
    expect(() => insertNavSamples(db, [{ ...row(SAMPLES[0]!, 0), tUs: 1.5 }])).toThrow(/tUs 1.5/);
    expect(() =>
      db.db.exec(`INSERT INTO nav_sample (kind, t_us, t_source, port, sentence, talker) VALUES ('position', 1, 'sentence', 'gps', 'GGA', 'GP')`),
    ).toThrow(/CHECK/);
    expect(() =>
      db.db.exec(`INSERT INTO nav_sample (kind, t_us, t_source, port, sentence, talker) VALUES ('bogus', 1, 'sentence', 'gps', 'GGA', 'GP')`),
    ).toThrow(/CHECK/);
  });

  it('flushes several helpers in one write transaction, all or nothing', () => {
    const db = writer();
    expect(() =>
      writeTransaction(db, () => {
        insertNavSamples(db, SAMPLES.map(row));
        upsertSentenceCounts(db, [{ port: 'gps', sentence: 'GGA', status: 'valid', count: 1 }]);
        addPortTraffic(db, 'nope', 1, 1);
      }),
    ).toThrow(/port "nope"/);
    expect(readNavSamples(db)).toHaveLength(0);
    expect(readSentenceCounts(db)).toHaveLength(0);
    const n = writeTransaction(db, () => {
      addPortTraffic(db, 'gps', 10, 1);
      return insertNavSamples(db, SAMPLES.map(row));
    });
    expect(n).toBe(SAMPLES.length);
    expect(readPorts(db).find((p) => p.name === 'gps')?.bytesReceived).toBe(10);
  });

  it('stores every row exactly, whether its chunk gets a statement shaped to its NULLs and texts or the all-columns one', () => {
    // Rows in a pseudo-random order of kinds, with optional values present or not: far more chunk
    // shapes than statements are prepared for, so both insert paths run; each row must read back
    // as it went in (order, every field, NULLs).
    const db = writer();
    upsertPort(db, { name: "it's-a-port", role: 'other', path: '/dev/x', baudRate: 0, status: 'open', lastError: null, statusTUs: T0 });
    let seed = 7;
    const rnd = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const rows: NavSampleInsert[] = [];
    for (let i = 0; i < 30_000; i++) {
      const tUs = T0 + i * 1000;
      const maybe = (v: number): number | null => (rnd() < 0.3 ? null : v);
      const choices: NavSample[] = [
        { kind: 'position', sentence: 'GGA', talker: 'GP', tUs, latDeg: 48 + rnd(), lonDeg: 11 + rnd(), altitudeM: maybe(500), fixQuality: 1, satellites: maybe(9), hdop: maybe(0.8) },
        { kind: 'velocity', sentence: 'VTG', talker: 'GP', tUs: null, speedMps: maybe(60.5), trackDeg: maybe(91) },
        { kind: 'heading', sentence: 'HDG', talker: 'HC', tUs: null, headingDeg: 360 * rnd(), reference: rnd() < 0.5 ? 'true' : 'magnetic' },
        { kind: 'pressure-altitude', sentence: 'PGRMZ', talker: 'P', tUs: null, altitudeM: 1000 * rnd() },
        { kind: 'dop', sentence: 'GSA', talker: 'GN', tUs: null, fixMode: 2, pdop: maybe(1.5), hdop: maybe(0.9), vdop: maybe(1.1) },
        { kind: 'time', sentence: 'ZDA', talker: 'GP', tUs },
      ];
      const sample = choices[Math.floor(rnd() * choices.length)]!;
      const port = rnd() < 0.05 ? "it's-a-port" : row(sample, i).port; // texts are SQL literals in shaped statements
      rows.push({ ...row(sample, i), tUs, port, rawOffset: rnd() < 0.2 ? null : i * 80, flags: rnd() < 0.1 ? ['no-fix'] : [] });
    }
    expect(insertNavSamples(db, rows)).toBe(rows.length);
    const back = readNavSamples(db);
    expect(back).toHaveLength(rows.length);
    back.forEach((b, i) => {
      const r = rows[i]!;
      expect(b.sample).toEqual({ ...r.sample, tUs: r.tUs });
      expect([b.tSource, b.port, b.rawOffset, b.receivedMonoUs, b.flags]).toEqual([r.tSource, r.port, r.rawOffset, r.receivedMonoUs, r.flags]);
    });
  });

  it('inserts 100k samples in one batch', () => {
    const db = writer();
    const rows: NavSampleInsert[] = [];
    for (let i = 0; i < 100_000; i++) rows.push(row({ ...SAMPLES[0]!, tUs: T0 + i * 100_000 } as NavSample, i));
    expect(insertNavSamples(db, rows)).toBe(100_000);
    expect(readFlightSummary(db).samples).toMatchObject({ total: 100_000, firstTUs: T0, lastTUs: T0 + 99_999 * 100_000 });
    expect(checkFlightDbIntegrity(db).ok).toBe(true);
  });

  it('upserts sentence counters in batches', () => {
    const db = writer();
    upsertSentenceCounts(db, [
      { port: 'gps', sentence: 'GGA', status: 'valid', count: 10 },
      { port: 'gps', sentence: 'GSV', status: 'unknown', count: 3 },
      { port: 'gps', sentence: null, status: 'rejected', reason: 'bad-checksum', count: 2 },
    ]);
    upsertSentenceCounts(db, [
      { port: 'gps', sentence: 'GGA', status: 'valid', count: 5 },
      { port: 'gps', sentence: null, status: 'rejected', reason: 'bad-checksum', count: 1 },
      { port: 'gps', sentence: 'RMC', status: 'rejected', reason: 'truncated', count: 0 },
    ]);
    expect(readSentenceCounts(db)).toEqual([
      { port: 'gps', sentence: '', status: 'rejected', reason: 'bad-checksum', count: 3 },
      { port: 'gps', sentence: 'GSV', status: 'unknown', reason: '', count: 3 },
      { port: 'gps', sentence: 'GGA', status: 'valid', reason: '', count: 15 },
    ]);
  });

  it('keeps assets unique on (device, rel_path, size, sha256) and inserts idempotently', () => {
    const db = writer();
    const a = insertAsset(db, ASSET);
    expect(a.inserted).toBe(true);
    expect(insertAsset(db, { ...ASSET, recordedTUs: T0 + 5 })).toEqual({ id: a.id, inserted: false });
    // The raw constraint holds too.
    expect(() =>
      db.db
        .prepare(
          `INSERT INTO asset (device, rel_path, size_bytes, sha256, recorded_t_us, status) VALUES (?, ?, ?, ?, ?, 'complete')`,
        )
        .run(ASSET.device, ASSET.relPath, ASSET.sizeBytes, ASSET.sha256, 1),
    ).toThrow(/UNIQUE/);
    // Same path, new content = a new asset.
    expect(insertAsset(db, { ...ASSET, sha256: 'cd'.repeat(32) }).inserted).toBe(true);
    expect(() => insertAsset(db, { ...ASSET, sha256: 'AB'.repeat(32) })).toThrow(/CHECK/);
    expect(() => insertAsset(db, { ...ASSET, sha256: 'ef'.repeat(32), timeSource: null })).toThrow(/CHECK/);
    setAssetStatus(db, a.id, 'incomplete');
    const rows = readAssets(db);
    expect(rows).toHaveLength(2);
    // No boot given with the monotonic time: the writing process's own boot.
    expect(rows[0]).toEqual({ ...ASSET, id: a.id, status: 'incomplete', appearedBootId: currentBootId() });
  });

  it('records flight end, port status/traffic, clock fits and events', () => {
    const db = writer();
    setFlightEnded(db, 'F-2024-06-01', T0 + 3600e6);
    expect(readFlight(db)?.endedTUs).toBe(T0 + 3600e6);
    setPortStatus(db, 'gps', 'reconnecting', T0 + 5, 'ENOENT /dev/ttyUSB0');
    addPortTraffic(db, 'gps', 1000, 12);
    addPortTraffic(db, 'gps', 24, 1);
    setPortStatus(db, 'gps', 'open', T0 + 6);
    expect(readPorts(db).find((p) => p.name === 'gps')).toMatchObject({
      status: 'open',
      lastError: 'ENOENT /dev/ttyUSB0',
      bytesReceived: 1024,
      linesReceived: 13,
    });
    // Re-registering a port at start-up keeps its counters.
    upsertPort(db, { name: 'gps', role: 'gps', path: '/dev/ttyUSB2', baudRate: 9600, status: 'open', lastError: null, statusTUs: T0 + 7 });
    expect(readPorts(db).find((p) => p.name === 'gps')).toMatchObject({ path: '/dev/ttyUSB2', bytesReceived: 1024 });
    expect(() => setPortStatus(db, 'nope', 'open', 1)).toThrow(/port "nope"/);

    expect(readLastClockFit(db)).toBeNull();
    insertClockFit(db, { fittedMonoUs: 1, fittedTUs: T0, offsetUs: T0 - 1, driftPpm: 1.5, uncertaintyUs: 900, pairs: 10, port: 'gps' });
    const id2 = insertClockFit(db, { fittedMonoUs: 2, fittedTUs: T0 + 1, offsetUs: T0 - 1, driftPpm: 1.4, uncertaintyUs: 800, pairs: 20, port: 'gps' });
    expect(readLastClockFit(db)).toMatchObject({ id: id2, pairs: 20, driftPpm: 1.4 });

    recordEvent(db, { tUs: T0 + 2, level: 'warn', source: 'port:gps', code: 'silent', message: 'no data for 5 s' });
    recordEvent(db, { tUs: T0 + 1, monoUs: 77, level: 'error', source: 'clock', code: 'clock-jump', message: 'jump', data: { jumpUs: 2e6 } });
    recordEvent(db, { tUs: T0 + 3, level: 'info', source: 'agent', code: 'start', message: 'started' });
    expect(readEvents(db).map((e) => e.code)).toEqual(['clock-jump', 'silent', 'start']);
    expect(readEvents(db, { minLevel: 'warn' }).map((e) => e.level)).toEqual(['error', 'warn']);
    expect(readEvents(db, { minLevel: 'error' })[0]).toMatchObject({ monoUs: 77, data: { jumpUs: 2e6 } });
    expect(() => recordEvent(db, { tUs: T0, level: 'fatal' as 'error', source: 'a', code: 'b', message: 'c' })).toThrow(/CHECK/);
  });

  it('stores the boot of clock fits and asset appearance times; only a fit of the same boot is found for a boot', () => {
    const db = writer();
    const fit = { fittedMonoUs: 1, fittedTUs: T0, offsetUs: T0 - 1, driftPpm: 0, uncertaintyUs: 900, pairs: 10, port: 'gps' };
    const a1 = insertClockFit(db, { ...fit, bootId: 'boot-A' });
    const unknown = insertClockFit(db, fit); // no boot given: unknown
    const b1 = insertClockFit(db, { ...fit, fittedMonoUs: 2, bootId: 'boot-B' });
    const a2 = insertClockFit(db, { ...fit, fittedMonoUs: 3, bootId: 'boot-A' });
    insertClockFit(db, { ...fit, bootId: null });
    expect(readClockFits(db).map((f) => [f.id, f.bootId])).toEqual([
      [a1, 'boot-A'],
      [unknown, null],
      [b1, 'boot-B'],
      [a2, 'boot-A'],
      [a2 + 1, null],
    ]);
    expect(readLastClockFitOfBoot(db, 'boot-A')?.id).toBe(a2);
    expect(readLastClockFitOfBoot(db, 'boot-B')?.id).toBe(b1);
    expect(readLastClockFitOfBoot(db, 'boot-C')).toBeNull();
    expect(readLastClockFit(db)?.bootId).toBeNull(); // the latest of any boot, for showing
    expect(() => insertClockFit(db, { ...fit, bootId: 'has space' })).toThrow(/bootId "has space" is not a boot id/);
    expect(() => insertClockFit(db, { ...fit, bootId: 'x'.repeat(65) })).toThrow(/not a boot id/);

    insertAsset(db, { ...ASSET, relPath: 'a.mp4', appearedBootId: 'boot-A' });
    insertAsset(db, { ...ASSET, relPath: 'n.mp4', appearedBootId: null });
    insertAsset(db, { ...ASSET, relPath: 'none.mp4', appearedMonoUs: null, appearedTUs: null });
    expect(Object.fromEntries(readAssets(db).map((r) => [r.relPath, r.appearedBootId]))).toEqual({
      'a.mp4': 'boot-A',
      'n.mp4': null,
      'none.mp4': null, // no monotonic time: no boot either
    });
    // A boot id without a monotonic time means nothing: refused.
    expect(() => insertAsset(db, { ...ASSET, relPath: 'x.mp4', appearedMonoUs: null, appearedBootId: 'boot-A' })).toThrow(/CHECK/);
  });

  it('summarises the flight for status and ingest', () => {
    const db = writer();
    insertNavSamples(db, SAMPLES.map(row));
    insertNavSamples(db, [
      row({ ...SAMPLES[0]!, tUs: T0 + 2_000_000, fixQuality: 0 } as NavSample, 10), // later but no fix
    ]);
    upsertSentenceCounts(db, [
      { port: 'gps', sentence: 'GGA', status: 'valid', count: 7 },
      { port: 'gps', sentence: 'TXT', status: 'unknown', count: 2 },
      { port: 'gps', sentence: null, status: 'rejected', reason: 'bad-checksum', count: 3 },
      { port: 'compass', sentence: 'HDT', status: 'rejected', reason: 'bad-checksum', count: 1 },
      { port: 'compass', sentence: null, status: 'rejected', reason: 'non-nmea', count: 4 },
    ]);
    insertAsset(db, ASSET);
    insertAsset(db, { ...ASSET, relPath: 'b.jpg', status: 'incomplete', captureTUs: null, timeSource: null, sizeBytes: 10 });
    recordEvent(db, { tUs: T0, level: 'error', source: 'a', code: 'boom', message: 'boom' });
    insertClockFit(db, { fittedMonoUs: 1, fittedTUs: T0, offsetUs: T0 - 1, driftPpm: 0, uncertaintyUs: 1000, pairs: 3, port: null });

    const s = readFlightSummary(db);
    expect(s.schemaVersion).toBe(FLIGHT_DB_SCHEMA_VERSION);
    expect(s.flight?.id).toBe('F-2024-06-01');
    expect(s.samples.byKind).toEqual({ position: 2, velocity: 1, heading: 1, 'pressure-altitude': 1, dop: 1, time: 1 });
    expect(s.samples.total).toBe(7);
    expect(s.sentences.byStatus).toEqual({ valid: 7, unknown: 2, rejected: 8 });
    expect(s.sentences.rejectedByReason).toEqual({ 'bad-checksum': 4, 'non-nmea': 4 });
    expect(s.ports.map((p) => p.name)).toEqual(['compass', 'gps']);
    expect(s.lastFix).toEqual({ tUs: T0, port: 'gps', latDeg: 48.1, lonDeg: 11.5, altitudeM: 545.4, fixQuality: 1, satellites: 8, hdop: 0.9 });
    expect(s.lastClockFit?.pairs).toBe(3);
    expect(s.assets).toEqual({
      total: 2,
      complete: 1,
      incomplete: 1,
      totalBytes: 5_000_010,
      withoutCaptureTime: 1,
      lastCaptureTUs: T0 + 10,
    });
    expect(s.events).toMatchObject({ info: 0, warn: 0, error: 1, lastError: { code: 'boom' } });
  });

  it('summarises an empty DB', () => {
    const db = track(openFlightDb(path, { create: true }));
    const s = readFlightSummary(db);
    expect(s.flight).toBeNull();
    expect(s.samples).toEqual({
      total: 0,
      byKind: { position: 0, velocity: 0, heading: 0, 'pressure-altitude': 0, dop: 0, time: 0 },
      firstTUs: null,
      lastTUs: null,
    });
    expect(s.lastFix).toBeNull();
    expect(s.assets.total).toBe(0);
  });
});

describe('reader and writer together', () => {
  it('a read-only reader sees committed rows while the writer keeps the DB open', () => {
    const w = writer();
    insertNavSamples(w, SAMPLES.map(row));
    const r = track(openFlightDb(path, { readonly: true }));
    expect(readFlightSummary(r).samples.total).toBe(SAMPLES.length);
    insertNavSamples(w, SAMPLES.map(row));
    expect(readFlightSummary(r).samples.total).toBe(2 * SAMPLES.length);
    expect(() => insertNavSamples(r, SAMPLES.map(row))).toThrow();
    // An open write transaction is invisible to the reader until it commits.
    w.db.exec('BEGIN IMMEDIATE');
    recordEvent(w, { tUs: T0, level: 'info', source: 'a', code: 'b', message: 'c' });
    expect(readEvents(r)).toHaveLength(0);
    w.db.exec('COMMIT');
    expect(readEvents(r)).toHaveLength(1);
    expect(checkFlightDbIntegrity(r)).toEqual({ ok: true, problems: [] });
  });

  it('a reader in another process sees the writer’s committed rows (WAL)', () => {
    const w = writer();
    insertNavSamples(w, SAMPLES.map(row));
    recordEvent(w, { tUs: T0, level: 'warn', source: 'a', code: 'b', message: 'c' });
    const script = `
      const D = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});
      const db = new D(${JSON.stringify(path)}, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 5000');
      const n = db.prepare('SELECT count(*) AS n FROM nav_sample').get().n;
      const e = db.prepare('SELECT count(*) AS n FROM event').get().n;
      console.log(JSON.stringify({ n, e, ok: db.pragma('integrity_check', { simple: true }) }));`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ n: SAMPLES.length, e: 1, ok: 'ok' });
  });
});
