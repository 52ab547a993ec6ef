// Pose at a time: every field is interpolated linearly in time between ITS OWN two nearest
// samples (heading at 20 Hz and positions at 5 Hz do not wait for each other), as ExifTool's
// geotagging does between the two nearest fixes. Longitude, heading and track go the short way
// round. A field is null, with a reason, outside its own samples or across a gap longer than
// the configured maximum. Per-field sorted arrays and binary search: O(log n) per pose.

import { betterFixQuality, worseFixQuality } from '../nav/fix-quality.js';
import type { TimedSample } from '../nav/types.js';
import { lerp, lerpAngleDeg360, lerpLongitudeDeg, wrapDeg360 } from './angles.js';

/** Why a field of a pose has no value. */
export type PoseNullReason =
  /** The track has no usable sample of this field. */
  | 'no-samples'
  /** The time is before the field's first sample. */
  | 'before-track'
  /** The time is after the field's last sample. */
  | 'after-track'
  /** The field's samples either side are further apart than the maximum gap. */
  | 'gap-too-large';

export const POSE_FIELDS = [
  'position',
  'gpsAltitudeM',
  'pressureAltitudeM',
  'headingDeg',
  'groundSpeedMps',
  'trackDeg',
] as const;
export type PoseFieldName = (typeof POSE_FIELDS)[number];

/** A scalar field of a pose. The gaps say how far (µs) the samples used are from the time. */
export type PoseValue =
  | {
      value: number;
      reason: null;
      /** Time minus the time of the sample used before (0 when a sample is exactly at the time), µs. */
      gapBeforeUs: number;
      /** Time of the sample used after minus the time (0 when exact), µs. */
      gapAfterUs: number;
    }
  | {
      value: null;
      reason: PoseNullReason;
      /** Distance to the nearest sample before, µs, or null when there is none. */
      gapBeforeUs: number | null;
      /** Distance to the nearest sample after, µs, or null when there is none. */
      gapAfterUs: number | null;
    };

/** The position of a pose, with the quality of the fixes it comes from. */
export type PosePosition =
  | {
      latDeg: number;
      /** [-180, 180). */
      lonDeg: number;
      reason: null;
      gapBeforeUs: number;
      gapAfterUs: number;
      /** Fix quality, the worse (by fixQualityRank, not by number) of the two fixes used (GGA codes: 1 GPS, 2 DGPS, 4 RTK fixed, …). */
      fixQuality: number;
      /** HDOP, the worse of the two fixes where known, else null. */
      hdop: number | null;
      /** Satellites in use, the fewer of the two fixes where known, else null. */
      satellites: number | null;
    }
  | {
      latDeg: null;
      lonDeg: null;
      reason: PoseNullReason;
      gapBeforeUs: number | null;
      gapAfterUs: number | null;
      fixQuality: null;
      hdop: null;
      satellites: null;
    };

/** The pose at a UTC time, each field from its own samples. */
export interface Pose {
  /** The time asked for, µs since epoch, UTC. */
  tUs: number;
  /** Latitude and longitude of fixes with fixQuality > 0. */
  position: PosePosition;
  /** Altitude above mean sea level from the GNSS (position samples' altitudeM), metres. */
  gpsAltitudeM: PoseValue;
  /** Pressure altitude (pressure-altitude samples), metres. */
  pressureAltitudeM: PoseValue;
  /** TRUE heading (heading samples with reference 'true'), degrees [0, 360). */
  headingDeg: PoseValue;
  /** Ground speed (velocity samples), m/s. */
  groundSpeedMps: PoseValue;
  /** Track over ground, degrees true [0, 360). */
  trackDeg: PoseValue;
}

export interface PoseOptions {
  /** Largest interval between a field's two samples that is still interpolated, µs. Default 2_000_000 (2 s). */
  maxGapUs?: number;
  /** Per-field override of maxGapUs, µs. Default: none. */
  maxGapUsByField?: Partial<Record<PoseFieldName, number>>;
}

/** Count and time span of one field's samples. */
export interface PoseFieldCoverage {
  count: number;
  /** Times of the first and last sample, µs, or null when there is none. */
  firstTUs: number | null;
  lastTUs: number | null;
}

/** How the values of two samples at the same time are combined (the first one kept by default). */
type Merge = (kept: number[], incoming: readonly number[]) => void;

/** One field's samples: sorted times and parallel value columns (NaN = unknown). */
class Series {
  readonly times: number[] = [];
  readonly cols: number[][];
  readonly #merge: Merge | null;

  constructor(columns: number, merge: Merge | null = null) {
    this.cols = Array.from({ length: columns }, () => []);
    this.#merge = merge;
  }

  get length(): number {
    return this.times.length;
  }

  /** Inserts in time order (appending is O(1), an out-of-order sample O(n)); equal times merge. */
  insert(tUs: number, values: readonly number[]): void {
    const times = this.times;
    let i = times.length;
    if (i > 0 && times[i - 1]! >= tUs) i = lowerBound(times, tUs);
    if (i < times.length && times[i] === tUs) {
      if (this.#merge !== null) {
        const kept = this.cols.map((c) => c[i]!);
        this.#merge(kept, values);
        this.cols.forEach((c, k) => (c[i] = kept[k]!));
      }
      return;
    }
    if (i === times.length) {
      times.push(tUs);
      this.cols.forEach((c, k) => c.push(values[k]!));
    } else {
      times.splice(i, 0, tUs);
      this.cols.forEach((c, k) => c.splice(i, 0, values[k]!));
    }
  }
}

/** First index whose time is ≥ tUs (times.length when none). */
function lowerBound(times: readonly number[], tUs: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < tUs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

type Located =
  | { kind: 'value'; i0: number; i1: number; f: number; gapBeforeUs: number; gapAfterUs: number }
  | { kind: 'null'; reason: PoseNullReason; gapBeforeUs: number | null; gapAfterUs: number | null };

function locate(series: Series, tUs: number, maxGapUs: number): Located {
  const times = series.times;
  const n = times.length;
  if (n === 0) return { kind: 'null', reason: 'no-samples', gapBeforeUs: null, gapAfterUs: null };
  const i = lowerBound(times, tUs);
  if (i < n && times[i] === tUs) return { kind: 'value', i0: i, i1: i, f: 0, gapBeforeUs: 0, gapAfterUs: 0 };
  if (i === 0) return { kind: 'null', reason: 'before-track', gapBeforeUs: null, gapAfterUs: times[0]! - tUs };
  if (i === n) return { kind: 'null', reason: 'after-track', gapBeforeUs: tUs - times[n - 1]!, gapAfterUs: null };
  const t0 = times[i - 1]!;
  const t1 = times[i]!;
  const gapBeforeUs = tUs - t0;
  const gapAfterUs = t1 - tUs;
  if (t1 - t0 > maxGapUs) return { kind: 'null', reason: 'gap-too-large', gapBeforeUs, gapAfterUs };
  return { kind: 'value', i0: i - 1, i1: i, f: (tUs - t0) / (t1 - t0), gapBeforeUs, gapAfterUs };
}

const nanToNull = (v: number): number | null => (Number.isNaN(v) ? null : v);
const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

// Position columns.
const LAT = 0;
const LON = 1;
const FIX = 2;
const HDOP = 3;
const SATS = 4;

/** Two fixes at the same time (e.g. RMC and GGA of one epoch): keep the first position, the better quality (by rank), complete hdop/sats. */
const mergePosition: Merge = (kept, incoming) => {
  kept[FIX] = betterFixQuality(kept[FIX]!, incoming[FIX]!);
  if (Number.isNaN(kept[HDOP]!)) kept[HDOP] = incoming[HDOP]!;
  if (Number.isNaN(kept[SATS]!)) kept[SATS] = incoming[SATS]!;
};

/**
 * The navigation track of a flight, ready for pose lookups. Build it from the samples (any
 * order) and keep appending as samples stream in (`add`, cheapest in time order).
 */
export class PoseTrack {
  readonly #maxGapUs: Record<PoseFieldName, number>;
  readonly #position = new Series(5, mergePosition);
  readonly #gpsAltitude = new Series(1);
  readonly #pressureAltitude = new Series(1);
  readonly #heading = new Series(1);
  readonly #speed = new Series(1);
  readonly #track = new Series(1);

  constructor(samples: Iterable<TimedSample> = [], opts: PoseOptions = {}) {
    const base = opts.maxGapUs ?? 2_000_000;
    this.#maxGapUs = Object.fromEntries(
      POSE_FIELDS.map((f) => [f, opts.maxGapUsByField?.[f] ?? base]),
    ) as Record<PoseFieldName, number>;
    // Sorting first keeps the build O(n log n) whatever the input order (stable: ties keep input order).
    const sorted = Array.from(samples).sort((a, b) => a.tUs - b.tUs);
    for (const s of sorted) this.add(s);
  }

  /**
   * Adds a sample. Used: positions with fixQuality > 0 (and their altitudeM), pressure altitudes,
   * headings with reference 'true', velocities (speed and track each when not null). Others, and
   * non-finite values, are ignored. Returns whether any field took the sample.
   */
  add(sample: TimedSample): boolean {
    const t = sample.tUs;
    if (!Number.isFinite(t)) return false;
    switch (sample.kind) {
      case 'position': {
        if (!(sample.fixQuality > 0) || !finite(sample.latDeg) || !finite(sample.lonDeg)) return false;
        if (Math.abs(sample.latDeg) > 90 || Math.abs(sample.lonDeg) > 180) return false;
        this.#position.insert(t, [
          sample.latDeg,
          sample.lonDeg,
          sample.fixQuality,
          finite(sample.hdop) ? sample.hdop : Number.NaN,
          finite(sample.satellites) ? sample.satellites : Number.NaN,
        ]);
        if (finite(sample.altitudeM)) this.#gpsAltitude.insert(t, [sample.altitudeM]);
        return true;
      }
      case 'pressure-altitude':
        if (!finite(sample.altitudeM)) return false;
        this.#pressureAltitude.insert(t, [sample.altitudeM]);
        return true;
      case 'heading':
        if (sample.reference !== 'true' || !finite(sample.headingDeg)) return false;
        this.#heading.insert(t, [wrapDeg360(sample.headingDeg)]);
        return true;
      case 'velocity': {
        let used = false;
        if (finite(sample.speedMps)) {
          this.#speed.insert(t, [sample.speedMps]);
          used = true;
        }
        if (finite(sample.trackDeg)) {
          this.#track.insert(t, [wrapDeg360(sample.trackDeg)]);
          used = true;
        }
        return used;
      }
      default:
        return false;
    }
  }

  /** The pose at a UTC time (µs since epoch). */
  poseAt(tUs: number): Pose {
    return {
      tUs,
      position: this.#positionAt(tUs),
      gpsAltitudeM: this.#scalarAt(this.#gpsAltitude, tUs, 'gpsAltitudeM', lerp),
      pressureAltitudeM: this.#scalarAt(this.#pressureAltitude, tUs, 'pressureAltitudeM', lerp),
      headingDeg: this.#scalarAt(this.#heading, tUs, 'headingDeg', lerpAngleDeg360),
      groundSpeedMps: this.#scalarAt(this.#speed, tUs, 'groundSpeedMps', lerp),
      trackDeg: this.#scalarAt(this.#track, tUs, 'trackDeg', lerpAngleDeg360),
    };
  }

  /** Count and time span of a field's samples (e.g. to wait until a time is covered). */
  coverage(field: PoseFieldName): PoseFieldCoverage {
    const s = this.#series(field);
    const n = s.length;
    return { count: n, firstTUs: n > 0 ? s.times[0]! : null, lastTUs: n > 0 ? s.times[n - 1]! : null };
  }

  #series(field: PoseFieldName): Series {
    switch (field) {
      case 'position':
        return this.#position;
      case 'gpsAltitudeM':
        return this.#gpsAltitude;
      case 'pressureAltitudeM':
        return this.#pressureAltitude;
      case 'headingDeg':
        return this.#heading;
      case 'groundSpeedMps':
        return this.#speed;
      case 'trackDeg':
        return this.#track;
    }
  }

  #scalarAt(
    series: Series,
    tUs: number,
    field: PoseFieldName,
    interpolate: (a: number, b: number, f: number) => number,
  ): PoseValue {
    const at = locate(series, tUs, this.#maxGapUs[field]);
    if (at.kind === 'null') {
      return { value: null, reason: at.reason, gapBeforeUs: at.gapBeforeUs, gapAfterUs: at.gapAfterUs };
    }
    const col = series.cols[0]!;
    const v0 = col[at.i0]!;
    const value = at.i0 === at.i1 ? v0 : interpolate(v0, col[at.i1]!, at.f);
    return { value, reason: null, gapBeforeUs: at.gapBeforeUs, gapAfterUs: at.gapAfterUs };
  }

  #positionAt(tUs: number): PosePosition {
    const s = this.#position;
    const at = locate(s, tUs, this.#maxGapUs.position);
    if (at.kind === 'null') {
      return {
        latDeg: null,
        lonDeg: null,
        reason: at.reason,
        gapBeforeUs: at.gapBeforeUs,
        gapAfterUs: at.gapAfterUs,
        fixQuality: null,
        hdop: null,
        satellites: null,
      };
    }
    const { i0, i1, f } = at;
    const col = (k: number, i: number): number => s.cols[k]![i]!;
    const exact = i0 === i1;
    const lat0 = col(LAT, i0);
    const lon0 = col(LON, i0);
    const known = (k: number): number[] => [col(k, i0), col(k, i1)].filter((v) => !Number.isNaN(v));
    const hdops = known(HDOP);
    const sats = known(SATS);
    return {
      latDeg: exact ? lat0 : lerp(lat0, col(LAT, i1), f),
      lonDeg: exact ? lon0 : lerpLongitudeDeg(lon0, col(LON, i1), f),
      reason: null,
      gapBeforeUs: at.gapBeforeUs,
      gapAfterUs: at.gapAfterUs,
      fixQuality: worseFixQuality(col(FIX, i0), col(FIX, i1)),
      hdop: exact ? nanToNull(col(HDOP, i0)) : hdops.length > 0 ? Math.max(...hdops) : null,
      satellites: exact ? nanToNull(col(SATS, i0)) : sats.length > 0 ? Math.min(...sats) : null,
    };
  }
}

