// The production PoseSource: navigation samples read from the flight DB's nav_sample table around
// the capture time, interpolated by the shared PoseTrack (each field between its own two nearest
// samples; null with a reason outside its samples or across a gap). A value is only ever one the
// pose module gives; this file adds whether a missing one may still come (catch-up) or never will.
import {
  PoseTrack,
  readNavSamples,
  FlightDb,
  type AssetPose,
  type FlightDbLike,
  type Pose,
  type PoseValue,
  type SampleKind,
  type SqliteDatabase,
} from '@flysnap/shared';
import type { PoseAnswer, PoseQuality, PoseSource } from './pose-source.js';

export interface NavPoseOptions {
  /** Largest interval between a field's two samples that is still interpolated, µs. Default 2 s (the pose module's). */
  maxGapUs?: number;
  /**
   * A field with no sample after the capture time is awaited while the newest navigation sample
   * of any kind is less than this far past the capture time, µs; beyond it, that field's stream
   * has stopped and the null is final. Default 30 s.
   */
  awaitHorizonUs?: number;
}

const POSE_KINDS: readonly SampleKind[] = ['position', 'velocity', 'heading', 'pressure-altitude'];
const DEFAULT_MAX_GAP_US = 2_000_000;
const DEFAULT_AWAIT_HORIZON_US = 30_000_000;

type PoseFieldKey = keyof AssetPose;

function conn(db: FlightDbLike): SqliteDatabase {
  return db instanceof FlightDb ? db.db : db;
}

function gaps(v: { gapBeforeUs: number | null; gapAfterUs: number | null }): { gapBeforeUs: number | null; gapAfterUs: number | null } {
  return { gapBeforeUs: v.gapBeforeUs, gapAfterUs: v.gapAfterUs };
}

/** Pure: the pose module's answer → stored pose fields and quality. `newestTUs` = newest nav sample of any kind. */
export function toPoseAnswer(pose: Pose, newestTUs: number | null, awaitHorizonUs: number): PoseAnswer {
  const p = pose.position;
  const values: AssetPose = {
    latDeg: p.latDeg,
    lonDeg: p.lonDeg,
    altitudeM: pose.gpsAltitudeM.value,
    pressureAltitudeM: pose.pressureAltitudeM.value,
    headingDeg: pose.headingDeg.value,
    speedMps: pose.groundSpeedMps.value,
    trackDeg: pose.trackDeg.value,
  };
  // Data for after the capture time can still arrive while the stream has not moved past it.
  const isStreamPast = newestTUs !== null && newestTUs >= pose.tUs + awaitHorizonUs;
  const missing: PoseQuality['missing'] = {};
  let isAwaitingData = false;
  const note = (key: PoseFieldKey, v: { reason: string | null }): void => {
    if (v.reason === null) return;
    const mayCome = v.reason === 'after-track' || v.reason === 'no-samples';
    if (mayCome && !isStreamPast) {
      isAwaitingData = true;
      missing[key] = 'awaiting-data';
    } else {
      missing[key] = v.reason;
    }
  };
  note('latDeg', p);
  note('lonDeg', p);
  note('altitudeM', pose.gpsAltitudeM);
  note('pressureAltitudeM', pose.pressureAltitudeM);
  note('headingDeg', pose.headingDeg);
  note('speedMps', pose.groundSpeedMps);
  note('trackDeg', pose.trackDeg);
  const scalar = (v: PoseValue): { gapBeforeUs: number | null; gapAfterUs: number | null } => gaps(v);
  return {
    pose: values,
    quality: {
      isAwaitingData,
      missing,
      join: {
        position: { ...gaps(p), fixQuality: p.fixQuality, hdop: p.hdop, satellites: p.satellites },
        altitudeM: scalar(pose.gpsAltitudeM),
        pressureAltitudeM: scalar(pose.pressureAltitudeM),
        headingDeg: scalar(pose.headingDeg),
        speedMps: scalar(pose.groundSpeedMps),
        trackDeg: scalar(pose.trackDeg),
      },
    },
  };
}

/**
 * Pose from the flight DB: the samples within ±2·maxGap of the time (enough for both neighbours of
 * every field; a field whose neighbours are further apart is a gap anyway), one PoseTrack per ask.
 */
export function navPoseSource(db: FlightDbLike, options: NavPoseOptions = {}): PoseSource {
  const maxGapUs = options.maxGapUs ?? DEFAULT_MAX_GAP_US;
  const awaitHorizonUs = options.awaitHorizonUs ?? DEFAULT_AWAIT_HORIZON_US;
  const c = conn(db);
  // max(t_us) per kind uses the (kind, t_us) index; max over all rows would scan.
  const newest = c.prepare(`SELECT max(t_us) AS t FROM nav_sample WHERE kind = ?`);
  return {
    poseAt(tUs: number): PoseAnswer {
      const window = 2 * maxGapUs;
      const rows = readNavSamples(db, { kinds: POSE_KINDS, fromTUs: tUs - window, toTUs: tUs + window });
      const track = new PoseTrack(
        rows.map((r) => r.sample),
        { maxGapUs },
      );
      let newestTUs: number | null = null;
      for (const k of POSE_KINDS) {
        const t = (newest.get(k) as { t: number | null }).t;
        if (t !== null && (newestTUs === null || t > newestTUs)) newestTUs = t;
      }
      return toPoseAnswer(track.poseAt(tUs), newestTUs, awaitHorizonUs);
    },
  };
}
