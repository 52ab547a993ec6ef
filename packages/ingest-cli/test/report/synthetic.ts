// A flight DB written directly with the shared write helpers (no simulator, no agent): a survey
// of parallel lines at a known place, GPS epochs with one known gap, compass and altimeter,
// pictures with and without a pose, rejected lines, clock fits, a port-down event.
import { ARRAY_LAYOUT_VERSION, insertAsset, insertClockFit, insertFlight, insertNavSamples, openFlightDb, recordEvent, upsertPort, upsertSentenceCounts, writeTransaction } from '@flysnap/shared';
import type { FlightDb, NavSampleInsert } from '@flysnap/shared';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const T0_US = Date.UTC(2026, 5, 1, 10, 0, 0) * 1000;
export const LAT0_DEG = 50.1;
export const LON0_DEG = 8.6;

export interface SyntheticOptions {
  seconds: number;
  gpsHz: number;
  /** GPS epochs left out: [fromS, toS) of flight time. */
  gpsGapS?: [number, number];
  pictureIntervalS: number;
  cameras: string[];
  /** Every n-th picture gets no pose (reason 'gap'). */
  unposedEvery?: number;
  /** Leave the writer open (WAL kept) and return it. */
  keepOpen?: boolean;
}

export interface SyntheticFlight {
  arrayRoot: string;
  dbPath: string;
  epochs: number;
  posedPictures: number;
  pictures: number;
  writer: FlightDb | null;
}

/** Position at flight second s: east-west lines 2 km long, 200 m apart, 60 m/s. */
export function positionAt(s: number): { latDeg: number; lonDeg: number } {
  const lineS = 2000 / 60;
  const line = Math.floor(s / lineS);
  const along = ((s % lineS) / lineS) * 2000;
  const east = line % 2 === 0 ? along : 2000 - along;
  const north = line * 200;
  return { latDeg: LAT0_DEG + north / 111_195, lonDeg: LON0_DEG + east / (111_195 * Math.cos((LAT0_DEG * Math.PI) / 180)) };
}

export function writeSyntheticFlight(dir: string, o: SyntheticOptions): SyntheticFlight {
  const arrayRoot = join(dir, 'array');
  mkdirSync(arrayRoot, { recursive: true });
  const dbPath = join(arrayRoot, 'flight.db');
  const db = openFlightDb(dbPath, { create: true });
  // A writer kept open stands for an agent still running or killed: its writes stay in the WAL.
  if (o.keepOpen) db.db.pragma('wal_autocheckpoint = 0');
  const endUs = T0_US + o.seconds * 1e6;
  let epochs = 0;
  let pictures = 0;
  let posed = 0;
  writeTransaction(db, () => {
    insertFlight(db, { id: 'TEST-20260601T100000Z', aircraft: 'D-TEST', startedTUs: T0_US, endedTUs: endUs, layoutVersion: ARRAY_LAYOUT_VERSION, createdBy: 'report test' });
    for (const [name, role] of [['gps', 'gps'], ['compass', 'compass'], ['alt', 'altimeter']] as const) {
      upsertPort(db, { name, role, path: `/dev/${name}`, baudRate: 38400, status: 'closed', lastError: null, statusTUs: endUs });
    }
    const rows: NavSampleInsert[] = [];
    const stepUs = 1e6 / o.gpsHz;
    for (let k = 0; k * stepUs < o.seconds * 1e6; k++) {
      const s = (k * stepUs) / 1e6;
      const tUs = T0_US + Math.round(k * stepUs);
      if (!(o.gpsGapS && s >= o.gpsGapS[0] && s < o.gpsGapS[1])) {
        const { latDeg, lonDeg } = positionAt(s);
        epochs += 1;
        const hdop = s > o.seconds * 0.7 && s < o.seconds * 0.75 ? 4.2 : 0.9;
        rows.push({ sample: { kind: 'position', sentence: 'GGA', talker: 'GP', tUs, latDeg, lonDeg, altitudeM: 500 + s / 10, fixQuality: 1, satellites: 9, hdop }, tUs, tSource: 'sentence', port: 'gps', rawOffset: null, receivedMonoUs: null });
        rows.push({ sample: { kind: 'position', sentence: 'RMC', talker: 'GP', tUs, latDeg, lonDeg, altitudeM: null, fixQuality: 1, satellites: null, hdop: null }, tUs, tSource: 'sentence', port: 'gps', rawOffset: null, receivedMonoUs: null });
      }
      if (k % Math.max(1, Math.round(o.gpsHz / 10)) === 0 || o.gpsHz < 10) {
        rows.push({ sample: { kind: 'heading', sentence: 'HDT', talker: 'HE', tUs: null, headingDeg: 90, reference: 'true' }, tUs: tUs + 3000, tSource: 'flight-clock', port: 'compass', rawOffset: null, receivedMonoUs: null });
      }
      if (k % o.gpsHz === 0) {
        rows.push({ sample: { kind: 'pressure-altitude', sentence: 'PGRMZ', talker: '', tUs: null, altitudeM: 480 + s / 10 }, tUs: tUs + 5000, tSource: 'flight-clock', port: 'alt', rawOffset: null, receivedMonoUs: null });
      }
    }
    insertNavSamples(db, rows);
    upsertSentenceCounts(db, [
      { port: 'gps', sentence: 'RMC', status: 'rejected', reason: 'bad-checksum', count: 5 },
      { port: 'gps', sentence: '', status: 'rejected', reason: 'non-nmea', count: 2 },
      { port: 'compass', sentence: 'HDT', status: 'rejected', reason: 'truncated', count: 1 },
    ]);
    for (let s = 10; s < o.seconds; s += 10) {
      insertClockFit(db, { fittedMonoUs: s * 1e6, fittedTUs: T0_US + s * 1e6, offsetUs: T0_US, driftPpm: 1.5, uncertaintyUs: 800 + s, pairs: Math.min(s, 60), port: 'gps' });
    }
    recordEvent(db, { tUs: T0_US + 2_000_000, level: 'warn', source: 'port:compass', code: 'port-lost', message: 'compass lost' });
    recordEvent(db, { tUs: T0_US + 3_500_000, level: 'info', source: 'port:compass', code: 'port-reconnected', message: 'back', data: { gapMs: 1500 } });
    let n = 0;
    for (let s = 1; s < o.seconds; s += o.pictureIntervalS) {
      for (const device of o.cameras) {
        n += 1;
        const tUs = T0_US + Math.round(s * 1e6);
        const inGap = o.gpsGapS !== undefined && s >= o.gpsGapS[0] && s < o.gpsGapS[1];
        const isUnposed = inGap || (o.unposedEvery !== undefined && n % o.unposedEvery === 0);
        const p = positionAt(s);
        insertAsset(db, {
          device,
          relPath: `IMG_${String(n).padStart(5, '0')}.jpg`,
          sizeBytes: 1000,
          sha256: n.toString(16).padStart(64, '0'),
          captureTUs: tUs,
          timeSource: 'exif',
          appearedTUs: tUs,
          appearedMonoUs: null,
          recordedTUs: tUs,
          status: 'complete',
          latDeg: isUnposed ? null : p.latDeg,
          lonDeg: isUnposed ? null : p.lonDeg,
          altitudeM: isUnposed ? null : 500,
          pressureAltitudeM: isUnposed ? null : 480,
          headingDeg: isUnposed ? null : 90,
          speedMps: isUnposed ? null : 60,
          trackDeg: isUnposed ? null : 90,
          poseQuality: isUnposed
            ? { isAwaitingData: false, missing: { latDeg: 'gap', lonDeg: 'gap' } }
            : { isAwaitingData: false, missing: {}, positionErrorBoundM: 0.4, isTimingUnreliable: n % 7 === 0 },
        });
        pictures += 1;
        if (!isUnposed) posed += 1;
      }
    }
  });
  if (!o.keepOpen) db.close();
  return { arrayRoot, dbPath, epochs, posedPictures: posed, pictures, writer: o.keepOpen ? db : null };
}
