// The navigation data contract: what the NMEA decoder produces, what the flight DB stores and
// what pose interpolation consumes. Times are integers of microseconds since the Unix epoch, UTC
// (`tUs`), unless a name says another clock (`monoUs` = the capture machine's monotonic clock).

/** Sentence types the decoder turns into samples (talker ID stripped). */
export const DECODED_SENTENCES = [
  'RMC',
  'GGA',
  'GLL',
  'GNS',
  'VTG',
  'ZDA',
  'GSA',
  'HDT',
  'HDG',
  'HDM',
  'PGRMZ',
] as const;
export type DecodedSentence = (typeof DECODED_SENTENCES)[number];

/** Why a received line was not accepted. Counted per reason; the raw line is always kept. */
export const REJECT_REASONS = [
  'bad-checksum',
  'missing-checksum',
  'truncated',
  'fused',
  'non-nmea',
  'malformed-field',
  'impossible-value',
  'empty',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Flags on an accepted sentence that a reader should know about. */
export type DecodeFlag =
  /** The line had no `*hh` checksum and the port's policy accepts that. */
  | 'no-checksum'
  /** The date looked 1024 weeks (or a multiple) in the past: GPS week-rollover bug; corrected. */
  | 'week-rollover'
  /** A time of day was resolved against the last known date (GGA/GLL/GNS). */
  | 'date-inferred'
  /** The sentence's status/mode field says the data is not valid (RMC 'V', GGA quality 0, …). */
  | 'no-fix';

/** Kinds of navigation sample; one sentence can yield several (RMC: position + velocity + time). */
export type SampleKind = 'position' | 'velocity' | 'heading' | 'pressure-altitude' | 'dop' | 'time';

interface SampleBase {
  kind: SampleKind;
  /** Sentence type it came from (talker stripped), e.g. 'RMC'. */
  sentence: DecodedSentence;
  /** Talker ID as received ('GP', 'GN', 'HC', 'P' for proprietary, …). */
  talker: string;
  /**
   * UTC time carried by the sentence itself, µs since epoch, or null when the sentence has no
   * time (HDT, PGRMZ, GSA) or its time could not be resolved to a date yet.
   */
  tUs: number | null;
}

export interface PositionSample extends SampleBase {
  kind: 'position';
  latDeg: number;
  lonDeg: number;
  /** Altitude above mean sea level from the GNSS (GGA/GNS), metres; null when not given. */
  altitudeM: number | null;
  /** GGA fix quality (0 invalid, 1 GPS, 2 DGPS, 3 PPS, 4 RTK fixed, 5 RTK float, 6 estimated, 7 manual, 8 simulation); RMC/GLL/GNS: from the mode letter (A 1, D 2, P 3, R 4, F 5, E 6, M 7, S 8), 1 when there is none. Codes are labels, not a scale: compare with fixQualityRank. */
  fixQuality: number;
  satellites: number | null;
  hdop: number | null;
}

export interface VelocitySample extends SampleBase {
  kind: 'velocity';
  /** Speed over ground, m/s. */
  speedMps: number | null;
  /** Course over ground, degrees true [0, 360). */
  trackDeg: number | null;
}

export interface HeadingSample extends SampleBase {
  kind: 'heading';
  /** Heading in degrees [0, 360), true when `reference` is 'true'. */
  headingDeg: number;
  /** HDT, and HDG with variation present, give true heading; HDM and bare HDG are magnetic. */
  reference: 'true' | 'magnetic';
}

export interface PressureAltitudeSample extends SampleBase {
  kind: 'pressure-altitude';
  /** Pressure altitude, metres (PGRMZ in feet is converted). */
  altitudeM: number;
}

export interface DopSample extends SampleBase {
  kind: 'dop';
  /** GSA fix mode: 1 none, 2 2D, 3 3D. */
  fixMode: number;
  pdop: number | null;
  hdop: number | null;
  vdop: number | null;
}

export interface TimeSample extends SampleBase {
  kind: 'time';
  /** Full UTC time with date (RMC, ZDA, and GGA/GLL/GNS once a date is known). */
  tUs: number;
}

export type NavSample =
  | PositionSample
  | VelocitySample
  | HeadingSample
  | PressureAltitudeSample
  | DopSample
  | TimeSample;

/** A sample placed on the UTC time line (by its own time or by the flight clock at receipt). */
export type TimedSample = NavSample & { tUs: number };

/** The decoder's answer for one received line. It never throws. */
export type DecodeResult =
  | {
      status: 'accepted';
      sentence: DecodedSentence;
      talker: string;
      samples: NavSample[];
      flags: DecodeFlag[];
    }
  | {
      /** Well-formed, checksum fine, but a type we do not decode (GSV, TXT, AIS, PFLAA, …): counted, kept raw. */
      status: 'unknown';
      /** Type with talker stripped, e.g. 'GSV'; proprietary ones keep their full address ('PFLAA'). */
      sentence: string;
      talker: string;
      flags: DecodeFlag[];
    }
  | {
      status: 'rejected';
      reason: RejectReason;
      /** Human-readable: names the field and what is wrong. */
      detail: string;
      /** Type when it could be read from the line. */
      sentence: string | null;
    };
