// Reads what a report shows out of an open flight DB (read-only), through the shared query
// helpers, into the plain FlightData of model.ts. The derived parts (gaps) are pure functions.
import { iterateAssets, iterateNavSamples, readClockFits, readEvents, readFlight, readPorts, readSentenceCounts } from '@flysnap/shared';
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

/** GPS epochs with a fix from one port, RMC and GGA of an epoch merged (same t_us). */
export function readTrack(db: FlightDb, port: string): TrackPoint[] {
  const track: TrackPoint[] = [];
  for (const row of iterateNavSamples(db, { kinds: ['position'], port })) {
    const s = row.sample;
    if (s.kind !== 'position' || !(s.fixQuality > 0)) continue;
    const last = track[track.length - 1];
    if (last !== undefined && last.tUs === s.tUs) {
      // Same epoch from another sentence: fill what the first lacked (GGA brings altitude, sats, HDOP).
      last.altitudeMslM ??= s.altitudeM;
      last.satellites ??= s.satellites;
      last.hdop ??= s.hdop;
      if (s.sentence === 'GGA') last.fixQuality = s.fixQuality;
      continue;
    }
    track.push({ tUs: s.tUs, latDeg: s.latDeg, lonDeg: s.lonDeg, altitudeMslM: s.altitudeM, fixQuality: s.fixQuality, satellites: s.satellites, hdop: s.hdop });
  }
  return track;
}

/** Sample times of one port and kind, sorted, and whether most were placed by the flight clock at receipt. */
function sampleTimes(db: FlightDb, port: string, kind: SampleKind): { tUs: Float64Array; isReceiptTimed: boolean } {
  const times: number[] = [];
  let byClock = 0;
  for (const row of iterateNavSamples(db, { kinds: [kind], port })) {
    if (row.sample.kind === 'position' && !(row.sample.fixQuality > 0)) continue;
    times.push(row.sample.tUs);
    if (row.tSource === 'flight-clock') byClock += 1;
  }
  return { tUs: Float64Array.from(times), isReceiptTimed: byClock * 2 > times.length };
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
    if (port.role === 'gps' && track.length === 0) track = readTrack(db, port.name);
    if (port.role === 'altimeter') {
      for (const row of iterateNavSamples(db, { kinds: ['pressure-altitude'], port: port.name })) {
        if (row.sample.kind === 'pressure-altitude') pressureAltitude.push({ tUs: row.sample.tUs, value: row.sample.altitudeM });
      }
    }
    const times = sampleTimes(db, port.name, kind);
    if (times.tUs.length > 0) lastTUs = Math.max(lastTUs, times.tUs[times.tUs.length - 1]!);
    dataGaps.push(...findDataGaps(times.tUs, { instrument: port.role, port: port.name, isReceiptTimed: times.isReceiptTimed }));
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
