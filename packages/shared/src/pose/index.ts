// Pose at a time: each navigation field interpolated between its own samples.
export {
  PoseTrack,
  POSE_FIELDS,
  type Pose,
  type PoseFieldCoverage,
  type PoseFieldName,
  type PoseNullReason,
  type PoseOptions,
  type PosePosition,
  type PoseValue,
} from './pose-track.js';
