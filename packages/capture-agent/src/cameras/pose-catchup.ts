// Assets captured before enough navigation data existed (or before the flight clock had a fit)
// get their time and pose filled in when the data arrives. Never a wrong pose: a field is only
// written when the pose module gives it from both neighbours; otherwise the row keeps its nulls
// and the reason, and is retried while more data could still come.
import { FlightDb, type FlightDbLike } from '@flysnap/shared';
import { assetsAwaiting, updateAssetFlightClockTime, updateAssetPose } from './asset-store.js';
import type { MonoToUtc } from './flight-clock-source.js';
import type { PoseSource } from './pose-source.js';

export interface CatchUpResult {
  /** Rows looked at. */
  examined: number;
  /** Rows that got a capture time from the flight clock. */
  timed: number;
  /** Rows whose pose was rewritten (more fields, or no longer awaiting). */
  posed: number;
  /** Rows still awaiting data after this pass. */
  stillAwaiting: number;
}

/**
 * One catch-up pass. `latencyMsOf(device)` gives a device's configured latency (for assets timed
 * by the flight clock). Returns counts; safe to run at any time, from any process holding the DB.
 */
export function catchUpPoses(
  db: FlightDbLike,
  pose: PoseSource,
  clock: MonoToUtc,
  latencyMsOf: (device: string) => number,
  limit = 500,
): CatchUpResult {
  const result: CatchUpResult = { examined: 0, timed: 0, posed: 0, stillAwaiting: 0 };
  // Reads first, then every update in ONE transaction: one fsync per pass, not one per row.
  const updates: (() => void)[] = [];
  for (const a of assetsAwaiting(db, limit)) {
    result.examined++;
    let captureTUs = a.captureTUs;
    if (captureTUs === null) {
      const appearedTUs = a.appearedMonoUs === null ? null : clock.toUtc(a.appearedMonoUs);
      if (appearedTUs === null) {
        result.stillAwaiting++;
        continue;
      }
      const t = appearedTUs - Math.round(latencyMsOf(a.device) * 1000);
      captureTUs = t;
      updates.push(() => updateAssetFlightClockTime(db, a.id, appearedTUs, t));
      result.timed++;
    }
    const answer = pose.poseAt(captureTUs);
    updates.push(() => updateAssetPose(db, a.id, answer.pose, answer.quality));
    result.posed++;
    if (answer.quality.isAwaitingData) result.stillAwaiting++;
  }
  if (updates.length > 0) {
    const conn = db instanceof FlightDb ? db.db : db;
    conn.transaction((): void => {
      for (const u of updates) u();
    }).immediate();
  }
  return result;
}
