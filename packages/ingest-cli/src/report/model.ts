// What a flight report is made of, as plain data: extract.ts fills it from a flight DB, the other
// modules of this folder (figures, page, GeoJSON, KML) turn it into files. No I/O here.

/** One GPS epoch with a fix (RMC and GGA of the same epoch merged: GGA's altitude, satellites, HDOP). */
export interface TrackPoint {
  tUs: number;
  latDeg: number;
  lonDeg: number;
  /** GNSS altitude above mean sea level (GGA), metres; null when no sentence of the epoch gave it. */
  altitudeMslM: number | null;
  /** GGA fix quality code (1 GPS, 2 DGPS, 4 RTK fixed…); 0 = no fix. */
  fixQuality: number;
  satellites: number | null;
  hdop: number | null;
}

/** A time series of one value (pressure altitude, heading…). */
export interface TimedValue {
  tUs: number;
  value: number;
}

/** What the report makes of an asset's pose_quality JSON (read defensively: writers add fields). */
export interface PoseQualityView {
  /** Per pose field that is null, why (e.g. 'gap', 'no-data'). */
  missing: Record<string, string>;
  /** The asset-level reason, e.g. 'no-capture-time'. */
  reason: string | null;
  /** Fields other than isAwaitingData/missing/reason/join (error bounds, a timing-unreliable flag…), as stored. */
  extra: Record<string, unknown>;
  /** The stored JSON as it was (null when none): exported as is. */
  raw: unknown;
}

export interface Picture {
  device: string;
  relPath: string;
  status: 'complete' | 'incomplete';
  captureTUs: number | null;
  timeSource: 'exif' | 'flight-clock' | null;
  latDeg: number | null;
  lonDeg: number | null;
  altitudeM: number | null;
  pressureAltitudeM: number | null;
  headingDeg: number | null;
  quality: PoseQualityView;
}

export type Instrument = 'gps' | 'compass' | 'altimeter' | 'other';

/** A stretch without data from one instrument. */
export interface Gap {
  instrument: Instrument;
  /** Port name. */
  port: string;
  /** 'data': consecutive samples too far apart; 'port-down': the agent saw the port lost, silent or missing. */
  kind: 'data' | 'port-down';
  /** Last sample before (or when the port went down), UTC µs. */
  fromTUs: number;
  /** First sample after (or when the port delivered again), UTC µs. */
  toTUs: number;
}

export interface RejectedCount {
  port: string;
  reason: string;
  count: number;
}

export interface ClockFitPoint {
  fittedTUs: number;
  driftPpm: number;
  uncertaintyUs: number;
  pairs: number;
}

export interface PortInfo {
  name: string;
  role: Instrument;
  status: string;
  linesReceived: number;
}

/** Everything a report shows, read from one flight DB. */
export interface FlightData {
  flightId: string;
  aircraft: string | null;
  startedTUs: number;
  endedTUs: number | null;
  ports: PortInfo[];
  /** GPS epochs with a fix, in time order (one port: the first GPS-role port with positions). */
  track: TrackPoint[];
  pressureAltitude: TimedValue[];
  pictures: Picture[];
  gaps: Gap[];
  rejected: RejectedCount[];
  clockFits: ClockFitPoint[];
}
