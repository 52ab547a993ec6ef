// Reads what a report shows out of an open flight DB (read-only), through the shared query
// helpers, into the plain FlightData of model.ts. The derived parts (gaps) are pure functions.
import { iterateAssets, readClockFits, readEvents, readFlight, readPorts, readSentenceCounts } from '@flysnap/shared';
import type { FlightDb, SampleKind } from '@flysnap/shared';
import { IngestError } from '../errors.js';
import { findDataGaps, portDownGaps, sortGaps } from './gaps.js';
import type { PortEvent } from './gaps.js';
import type { ClockFitPoint, FlightData, Gap, Instrument, Picture, PortInfo, RejectedCount, TimedValue, TrackPoint } from './model.js';
import { readPoseQuality } from './pose-quality.js';

/** The sample kind that stands for "this instrument delivers" in the gap search. */
const GAP_KIND: Record<Instrument, SampleKind | null> = {
  gps: 'position',
  compass: 'heading',
  altimeter: 'pressure-altitude',
  other: null,
};

// The hot reads (a 4-hour flight has ~600,000 samples) select only the columns the report uses,
// as raw rows: the shared helpers build a full StoredNavSample object per row, which made reading
// ~4× slower than the scan itself. FlightDb.db is there "for queries the helpers lack".
type TrackSql = [tUs: number, latDeg: number, lonDeg: number, altitudeM: number | null, fixQuality: number, satellites: number | null, hdop: number | null, sentence: string];

/** GPS epochs with a fix from one port, RMC and GGA of an epoch merged (same t_us). */
export function readTrack(db: FlightDb, port: string): TrackPoint[] {
  const rows = db.db
    .prepare(
      `SELECT t_us, lat_deg, lon_deg, altitude_m, fix_quality, satellites, hdop, sentence FROM nav_sample
       WHERE kind = 'position' AND port = ? AND fix_quality > 0 ORDER BY t_us, id`,
    )
    .raw()
    .iterate(port) as IterableIterator<TrackSql>;
  const track: TrackPoint[] = [];
  for (const [tUs, latDeg, lonDeg, altitudeM, fixQuality, satellites, hdop, sentence] of rows) {
    const last = track[track.length - 1];
    if (last !== undefined && last.tUs === tUs) {
      // Same epoch from another sentence: fill what the first lacked (GGA brings altitude, sats, HDOP).
      last.altitudeMslM ??= altitudeM;
      last.satellites ??= satellites;
      last.hdop ??= hdop;
      if (sentence === 'GGA') last.fixQuality = fixQuality;
      continue;
    }
    track.push({ tUs, latDeg, lonDeg, altitudeMslM: altitudeM, fixQuality, satellites, hdop });
  }
  return track;
}

/** Whether most samples of a port and kind were placed by the flight clock at receipt (not by their own time). */
function isReceiptTimed(db: FlightDb, port: string, kind: SampleKind): boolean {
  const r = db.db
    .prepare(`SELECT count(*) AS n, coalesce(sum(t_source = 'flight-clock'), 0) AS byClock FROM nav_sample WHERE kind = ? AND port = ?`)
    .get(kind, port) as { n: number; byClock: number };
  return r.byClock * 2 > r.n;
}

/** Sample times and one value column of a port and kind, sorted by time. */
function readSeries(db: FlightDb, port: string, kind: SampleKind, column: 'heading_deg' | 'pressure_altitude_m'): TimedValue[] {
  const rows = db.db
    .prepare(`SELECT t_us, ${column} FROM nav_sample WHERE kind = ? AND port = ? ORDER BY t_us, id`)
    .raw()
    .iterate(kind, port) as IterableIterator<[number, number]>;
  const out: TimedValue[] = [];
  for (const [tUs, value] of rows) out.push({ tUs, value });
  return out;
}

function readPictures(db: FlightDb): Picture[] {
  const pictures: Picture[] = [];
  for (const a of iterateAssets(db)) {
    pictures.push({
      device: a.device,
      relPath: a.relPath,
      status: a.status,
      captureTUs: a.captureTUs,
      timeSource: a.timeSource,
      latDeg: a.latDeg,
      lonDeg: a.lonDeg,
      altitudeM: a.altitudeM,
      pressureAltitudeM: a.pressureAltitudeM,
      headingDeg: a.headingDeg,
      quality: readPoseQuality(a.poseQuality),
    });
  }
  return pictures;
}

function portEvents(db: FlightDb): PortEvent[] {
  const out: PortEvent[] = [];
  for (const e of readEvents(db)) {
    if (!e.source.startsWith('port:')) continue;
    const data = e.data as { gapMs?: unknown } | null;
    out.push({ tUs: e.tUs, port: e.source.slice('port:'.length), code: e.code, gapMs: typeof data?.gapMs === 'number' ? data.gapMs : null });
  }
  return out;
}

/** Everything a report shows, from one open flight DB. Throws IngestError('flight-db') for a DB without a flight. */
export function extractFlightData(db: FlightDb): FlightData {
  const flight = readFlight(db);
  if (flight === null) throw new IngestError('flight-db', `flight DB ${db.path} holds no flight yet (no flight row)`);
  const ports: PortInfo[] = readPorts(db).map((p) => ({ name: p.name, role: p.role, status: p.status, linesReceived: p.linesReceived }));
  const roleOf = (name: string): Instrument => ports.find((p) => p.name === name)?.role ?? 'other';

  let track: TrackPoint[] = [];
  const pressureAltitude: TimedValue[] = [];
  const dataGaps: Gap[] = [];
  let lastTUs = flight.endedTUs ?? flight.startedTUs;
  for (const port of ports) {
    const kind = GAP_KIND[port.role];
    if (kind === null) continue;
    // The times the gap search looks at: the track's epochs for the GPS, the series for the others.
    let times: Float64Array;
    if (port.role === 'gps') {
      const portTrack = readTrack(db, port.name);
      if (track.length === 0) track = portTrack;
      times = Float64Array.from(portTrack, (p) => p.tUs);
    } else {
      const series = readSeries(db, port.name, kind, port.role === 'altimeter' ? 'pressure_altitude_m' : 'heading_deg');
      if (port.role === 'altimeter') for (const p of series) pressureAltitude.push(p);
      times = Float64Array.from(series, (p) => p.tUs);
    }
    if (times.length > 0) lastTUs = Math.max(lastTUs, times[times.length - 1]!);
    dataGaps.push(...findDataGaps(times, { instrument: port.role, port: port.name, isReceiptTimed: port.role !== 'gps' && isReceiptTimed(db, port.name, kind) }));
  }
  pressureAltitude.sort((a, b) => a.tUs - b.tUs);
  const gaps = sortGaps([...dataGaps, ...portDownGaps(portEvents(db), roleOf, lastTUs)]);

  const rejectedMap = new Map<string, RejectedCount>();
  for (const c of readSentenceCounts(db)) {
    if (c.status !== 'rejected' || c.count === 0) continue;
    const key = `${c.port}\u0000${c.reason}`;
    const row = rejectedMap.get(key) ?? { port: c.port, reason: c.reason === '' ? 'unknown' : c.reason, count: 0 };
    row.count += c.count;
    rejectedMap.set(key, row);
  }
  const rejected = [...rejectedMap.values()].sort((a, b) => a.port.localeCompare(b.port) || b.count - a.count);
  const clockFits: ClockFitPoint[] = readClockFits(db).map((f) => ({ fittedTUs: f.fittedTUs, driftPpm: f.driftPpm, uncertaintyUs: f.uncertaintyUs, pairs: f.pairs }));

  return {
    flightId: flight.id,
    aircraft: flight.aircraft,
    startedTUs: flight.startedTUs,
    endedTUs: flight.endedTUs,
    ports,
    track,
    pressureAltitude,
    pictures: readPictures(db),
    gaps,
    rejected,
    clockFits,
  };
}
