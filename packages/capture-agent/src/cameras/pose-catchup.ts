// Assets captured before enough navigation data existed (or before the flight clock had a fit)
// get their time and pose filled in when the data arrives. Never a wrong pose: a field is only
// written when the pose module gives it from both neighbours; otherwise the row keeps its nulls
// and the reason, and is retried while more data could still come.
//
// Never a wrong time either: an appearance time (monotonic) is converted only through a clock fit
// of the boot it was read on. The live clock for the current boot; for an older boot (the agent
// was restarted after a reboot before it timed the file), that boot's latest stored fit. Unknown
// boot (rows from schema v1) or no fit of its boot: the row keeps no time (see noCaptureTimeReason).
import { FlightDb, readLastClockFitOfBoot, type ClockFitRow, type FlightDbLike } from '@flysnap/shared';
import { assetsAwaiting, updateAssetFlightClockTime, updateAssetPose, type AssetAwaiting } from './asset-store.js';
import { utcByFit, type MonoToUtc } from './flight-clock-source.js';
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
 * The UTC time of an asset's appearance, by a fit of its own boot only: `clock` when it reads that
 * boot, else the boot's latest stored fit (`fitOf`, cached per pass); null when there is none.
 */
function appearedUtc(a: AssetAwaiting, clock: MonoToUtc, fitOf: (bootId: string) => ClockFitRow | null): number | null {
  if (a.appearedMonoUs === null || a.appearedBootId === null) return null;
  if (clock.bootId !== undefined && a.appearedBootId === clock.bootId) return clock.toUtc(a.appearedMonoUs);
  const fit = fitOf(a.appearedBootId);
  return fit === null ? null : utcByFit(fit, a.appearedMonoUs);
}

/**
 * One catch-up pass. `latencyMsOf(device)` gives a device's configured latency (for assets timed
 * by the flight clock). `clock` converts times of its own boot (`clock.bootId`); without a bootId it
 * is not used, and only stored fits of each asset's boot are. Returns counts; safe to run at any
 * time, from any process holding the DB.
 */
export function catchUpPoses(
  db: FlightDbLike,
  pose: PoseSource,
  clock: MonoToUtc,
  latencyMsOf: (device: string) => number,
  limit = 500,
): CatchUpResult {
  const result: CatchUpResult = { examined: 0, timed: 0, posed: 0, stillAwaiting: 0 };
  const fits = new Map<string, ClockFitRow | null>();
  const fitOf = (bootId: string): ClockFitRow | null => {
    let fit = fits.get(bootId);
    if (fit === undefined) fits.set(bootId, (fit = readLastClockFitOfBoot(db, bootId)));
    return fit;
  };
  // Reads first, then every update in ONE transaction: one fsync per pass, not one per row.
  const updates: (() => void)[] = [];
  // The live clock's boot only while it has a fit (it then converts any time of that boot, and
  // without one none): else its untimed rows would be read and left as they are at every pass, a
  // cost growing with every picture taken before the first fix (no EXIF time: videos).
  const liveBootId = clock.bootId !== undefined && clock.toUtc(0) !== null ? clock.bootId : null;
  for (const a of assetsAwaiting(db, limit, liveBootId)) {
    result.examined++;
    let captureTUs = a.captureTUs;
    if (captureTUs === null) {
      const appearedTUs = appearedUtc(a, clock, fitOf);
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
