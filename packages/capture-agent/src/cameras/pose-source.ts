// Where an asset's pose comes from. The camera side asks "the pose at tUs"; the answer carries the
// values the pose module could give, why the others are missing, and whether more navigation
// data could still fill them (then the catch-up pass asks again later).
import type { AssetPose } from '@flysnap/shared';

export interface PoseAnswer {
  /** Every field null when unknown. */
  pose: AssetPose;
  /** JSON stored in asset.pose_quality: join quality and, per missing field, why. */
  quality: PoseQuality;
}

export interface PoseQuality {
  /**
   * True when a missing field may still be filled: navigation data for after tUs has not arrived
   * yet (or no data at all yet). The catch-up pass retries such assets.
   */
  isAwaitingData: boolean;
  /** Per pose field that is null: the reason (e.g. 'no-data-after', 'gap', 'no-data'). */
  missing: Partial<Record<keyof AssetPose, string>>;
  /** Whatever the pose module says about the join (gaps, neighbour distances, fix quality). */
  join?: unknown;
  /** Set when there was no capture time to look a pose up at. */
  reason?: 'no-capture-time';
  /** The file's embedded time was present but unusable (e.g. a camera with an unset clock): why. */
  exifRejected?: string;
}

export interface PoseSource {
  poseAt(tUs: number): PoseAnswer;
}

export const EMPTY_POSE: AssetPose = {
  latDeg: null,
  lonDeg: null,
  altitudeM: null,
  pressureAltitudeM: null,
  headingDeg: null,
  speedMps: null,
  trackDeg: null,
};
