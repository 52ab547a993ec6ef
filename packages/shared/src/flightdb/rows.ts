// Row types of the flight DB as TypeScript sees them (camelCase, units in names).
import type { DecodeFlag, NavSample, SampleKind, TimedSample } from '../nav/types.js';

export const PORT_ROLES = ['gps', 'compass', 'altimeter', 'other'] as const;
export type PortRole = (typeof PORT_ROLES)[number];
export const PORT_STATUSES = ['open', 'silent', 'reconnecting', 'closed', 'missing'] as const;
export type PortStatus = (typeof PORT_STATUSES)[number];
export const SAMPLE_KINDS = ['position', 'velocity', 'heading', 'pressure-altitude', 'dop', 'time'] as const satisfies readonly SampleKind[];
/** Where a nav_sample's t_us came from: the sentence's own time, or the flight clock at receipt. */
export type SampleTimeSource = 'sentence' | 'flight-clock';
export const SENTENCE_STATUSES = ['valid', 'unknown', 'rejected'] as const;
export type SentenceStatus = (typeof SENTENCE_STATUSES)[number];
export type AssetTimeSource = 'exif' | 'flight-clock';
export type AssetStatus = 'complete' | 'incomplete';
export const EVENT_LEVELS = ['info', 'warn', 'error'] as const;
export type EventLevel = (typeof EVENT_LEVELS)[number];

/** Table `flight`: one row, the flight this array holds. */
export interface FlightRow {
  id: string;
  aircraft: string | null;
  startedTUs: number;
  endedTUs: number | null;
  layoutVersion: number;
  /** Who created the DB, e.g. 'capture-agent 0.1.0'. */
  createdBy: string;
}

/** Table `port`: one row per configured serial port; counters are cumulative. */
export interface PortRow {
  name: string;
  role: PortRole;
  /** Device path, e.g. '/dev/ttyUSB0'. */
  path: string;
  baudRate: number;
  status: PortStatus;
  lastError: string | null;
  /** When `status` last changed, UTC µs (wall clock of the capture machine). */
  statusTUs: number;
  bytesReceived: number;
  linesReceived: number;
}

/** A sample to store: the decoder's sample placed on the UTC time line, plus where it came from. */
export interface NavSampleInsert {
  sample: NavSample;
  /** The time-line position: the sample's own tUs when it has one, else the flight clock at receipt. */
  tUs: number;
  tSource: SampleTimeSource;
  /** Port name (must exist in `port`: foreign key). */
  port: string;
  /** Byte offset of the raw line in `serial/<port>.log`, or null when not from a raw log. */
  rawOffset: number | null;
  /** Monotonic receive time, µs, or null. */
  receivedMonoUs: number | null;
  flags?: readonly DecodeFlag[];
}

/** A stored sample read back. `sample.tUs` is the row's t_us. */
export interface StoredNavSample {
  id: number;
  sample: TimedSample;
  tSource: SampleTimeSource;
  port: string;
  rawOffset: number | null;
  receivedMonoUs: number | null;
  flags: DecodeFlag[];
}

/** A counter increment for `sentence_count`. */
export interface SentenceCountDelta {
  port: string;
  /** Sentence type (talker stripped, 'PFLAA' for proprietary); '' or null when unreadable. */
  sentence: string | null;
  status: SentenceStatus;
  /** Reject reason for 'rejected'; '' or null otherwise. */
  reason?: string | null;
  count: number;
}

export interface SentenceCountRow {
  port: string;
  /** '' when the type could not be read. */
  sentence: string;
  status: SentenceStatus;
  /** '' when none. */
  reason: string;
  count: number;
}

/**
 * Table `clock_fit`: one row per flight-clock fit. The fit maps the monotonic clock to UTC around
 * (fittedMonoUs, fittedTUs): tUs ≈ fittedTUs + (monoUs - fittedMonoUs) · (1 + driftPpm·1e-6).
 * offsetUs = fittedTUs − fittedMonoUs (UTC minus monotonic at the fit point). It holds only for
 * monotonic times of the same boot (`bootId`).
 */
export interface ClockFitRow {
  id: number;
  fittedMonoUs: number;
  fittedTUs: number;
  offsetUs: number;
  driftPpm: number;
  uncertaintyUs: number;
  /** How many (mono, UTC) pairs the fit used. */
  pairs: number;
  /** The port whose time sentences were used, or null. */
  port: string | null;
  /**
   * The boot of the capture machine whose monotonic clock the fit is for (see boot.ts); null =
   * unknown (rows from schema v1, replays of logs from another machine): never used to convert.
   */
  bootId: string | null;
}
/** A fit to store; `bootId` omitted = null (unknown): such a fit is never used to convert a stored time. */
export type ClockFitInsert = Omit<ClockFitRow, 'id' | 'bootId'> & { bootId?: string | null };

/** Pose at an asset's capture time; every field null when unknown. */
export interface AssetPose {
  latDeg: number | null;
  lonDeg: number | null;
  altitudeM: number | null;
  pressureAltitudeM: number | null;
  headingDeg: number | null;
  speedMps: number | null;
  trackDeg: number | null;
}

/** Table `asset`. `relPath` is relative to `cameras/<device>/`, POSIX '/' (see array/normalizeAssetRelPath). */
export interface AssetInsert extends AssetPose {
  device: string;
  relPath: string;
  sizeBytes: number;
  /** Lower-case hex. */
  sha256: string;
  /** Capture time, UTC µs; null (with timeSource null) when neither EXIF nor the flight clock gave one. */
  captureTUs: number | null;
  timeSource: AssetTimeSource | null;
  /** Flight-clock UTC when the file appeared, or null if the clock was not known then. */
  appearedTUs: number | null;
  /** Monotonic time the file appeared, µs, on the clock of boot `appearedBootId`. */
  appearedMonoUs: number | null;
  /**
   * The boot `appearedMonoUs` was read on (see boot.ts): a later conversion to UTC uses only a clock
   * fit of this boot. null = unknown (never converted). Omitted = the writing process's current
   * boot (currentBootId()) when appearedMonoUs is set: the agent writes rows of files it saw itself.
   * A writer of monotonic times from elsewhere (another process's record, another machine) must pass it.
   */
  appearedBootId?: string | null;
  /** When the row was written, UTC µs. */
  recordedTUs: number;
  status: AssetStatus;
  /** JSON-serialisable: gaps, fix quality, reasons (the pose module defines the shape). */
  poseQuality: unknown;
}
export interface AssetRow extends Omit<AssetInsert, 'appearedBootId'> {
  id: number;
  /** null = unknown (rows from schema v1): the appearance time is never converted. */
  appearedBootId: string | null;
}

export interface EventInsert {
  tUs: number;
  monoUs?: number | null;
  level: EventLevel;
  /** Who: 'agent', 'port:gps', 'camera:left', 'clock', … */
  source: string;
  /** Stable machine code, e.g. 'port-reconnect', 'clock-jump'. */
  code: string;
  message: string;
  /** JSON-serialisable details. */
  data?: unknown;
}
export interface EventRow {
  id: number;
  tUs: number;
  monoUs: number | null;
  level: EventLevel;
  source: string;
  code: string;
  message: string;
  data: unknown;
}

/** What `status` and the ingest CLI show about a flight DB. */
export interface FlightSummary {
  schemaVersion: number;
  flight: FlightRow | null;
  samples: {
    total: number;
    byKind: Record<SampleKind, number>;
    firstTUs: number | null;
    lastTUs: number | null;
  };
  sentences: {
    /** Totals per status over all ports and types. */
    byStatus: Record<SentenceStatus, number>;
    /** Rejected lines per reason. */
    rejectedByReason: Record<string, number>;
    /** Every counter row. */
    rows: SentenceCountRow[];
  };
  ports: PortRow[];
  /** The latest position sample (by t_us) with fix_quality > 0. */
  lastFix: {
    tUs: number;
    port: string;
    latDeg: number;
    lonDeg: number;
    altitudeM: number | null;
    fixQuality: number;
    satellites: number | null;
    hdop: number | null;
  } | null;
  lastClockFit: ClockFitRow | null;
  assets: {
    total: number;
    complete: number;
    incomplete: number;
    totalBytes: number;
    withoutCaptureTime: number;
    lastCaptureTUs: number | null;
  };
  events: Record<EventLevel, number> & { lastError: EventRow | null };
}
