// The production PoseSource: navigation samples from the flight DB's nav_sample table around the
// capture time, interpolated by the shared pose module.
import type { FlightDbLike } from '@flysnap/shared';
import { EMPTY_POSE, type PoseAnswer, type PoseSource } from './pose-source.js';

/**
 * Pose from the flight DB. Until the shared pose module exists, every answer is "awaiting data",
 * so assets are recorded with null poses and the catch-up pass fills them once it can.
 */
export function navPoseSource(db: FlightDbLike): PoseSource {
  void db;
  return {
    poseAt(): PoseAnswer {
      return { pose: EMPTY_POSE, quality: { isAwaitingData: true, missing: { latDeg: 'pose-module-missing' } } };
    },
  };
}
