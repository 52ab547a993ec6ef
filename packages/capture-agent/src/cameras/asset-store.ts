// The camera side's queries over the flight DB beyond the shared helpers (insertAsset, recordEvent):
// what is known per path, assets waiting for a pose or a time, pose updates, per-device status.
import type { AssetPose, FlightDbLike, SqliteDatabase } from '@flysnap/shared';
import { FlightDb } from '@flysnap/shared';
import type { KnownFile } from './rescan.js';

function conn(db: FlightDbLike): SqliteDatabase {
  return db instanceof FlightDb ? db.db : db;
}

/** Event codes the camera side writes (source 'camera:<device>'). */
export const CAMERA_EVENT_CODES = {
  /** A recorded file's content changed afterwards; data: { relPath, old, new }. No new row. */
  changed: 'asset-changed',
  /** A recorded file is gone from disk; data: { relPath, sizeBytes, sha256 }. */
  missing: 'asset-missing',
  /** A file first recorded as incomplete was later finished; a complete row was added. */
  completedLater: 'asset-completed-later',
  /** A file was recorded as incomplete (half-written and abandoned); data: { relPath, reason }. */
  incomplete: 'asset-incomplete',
} as const;

export function cameraEventSource(device: string): string {
  return `camera:${device}`;
}

interface KnownSql {
  rel_path: string;
  size_bytes: number;
  sha256: string;
  status: 'complete' | 'incomplete';
  recorded_t_us: number;
}

interface EventDataSql {
  code: string;
  t_us: number;
  data: string | null;
}

/**
 * What is accounted for at each path of a device: the latest row per path, then the changes and
 * disappearances already reported as events (so a restart does not report them again).
 */
export function loadKnownFiles(db: FlightDbLike, device: string): Map<string, KnownFile> {
  const c = conn(db);
  const known = new Map<string, KnownFile>();
  const rows = c
    .prepare(
      `SELECT rel_path, size_bytes, sha256, status, recorded_t_us FROM asset
       WHERE device = ? ORDER BY id`,
    )
    .all(device) as KnownSql[];
  for (const r of rows) {
    known.set(r.rel_path, {
      relPath: r.rel_path,
      sizeBytes: r.size_bytes,
      sha256: r.sha256,
      status: r.status,
      verifiedWallMs: Math.floor(r.recorded_t_us / 1000),
      isChangedAfterRecord: false,
      isReportedMissing: false,
    });
  }
  const events = c
    .prepare(`SELECT code, t_us, data FROM event WHERE source = ? AND code IN (?, ?) ORDER BY id`)
    .all(cameraEventSource(device), CAMERA_EVENT_CODES.changed, CAMERA_EVENT_CODES.missing) as EventDataSql[];
  for (const e of events) {
    const data = (e.data === null ? {} : JSON.parse(e.data)) as {
      relPath?: string;
      new?: { sizeBytes: number; sha256: string; mtimeMs: number };
    };
    const k = data.relPath === undefined ? undefined : known.get(data.relPath);
    if (!k) continue;
    if (e.code === CAMERA_EVENT_CODES.missing) {
      k.isReportedMissing = true;
    } else if (data.new) {
      k.sizeBytes = data.new.sizeBytes;
      k.sha256 = data.new.sha256;
      k.verifiedWallMs = Math.max(data.new.mtimeMs, Math.floor(e.t_us / 1000));
      k.isChangedAfterRecord = true;
      k.isReportedMissing = false;
    }
  }
  return known;
}

/** Newest sample time per pose kind: each max() uses the (kind, t_us) index, max() over all rows would scan. */
const NEWEST_NAV_SQL = ['position', 'velocity', 'heading', 'pressure-altitude']
  .map((k) => `SELECT max(t_us) AS m FROM nav_sample WHERE kind = '${k}'`)
  .join(' UNION ALL ');

/**
 * Timed assets still awaiting navigation data that now reaches past their capture time, oldest
 * first. The `json_extract(...) = 1` term is exactly the partial index asset_awaiting_pose's
 * condition (WRITER_INDEXES_SQL, made at every writable open), so SQLite reads only the awaiting rows, not every asset of the flight.
 */
export const AWAITING_POSE_SQL = `SELECT id, device, rel_path, capture_t_us, appeared_mono_us, appeared_boot_id FROM asset
  WHERE capture_t_us IS NOT NULL AND json_extract(pose_quality, '$.isAwaitingData') = 1
    AND capture_t_us <= (SELECT max(m) FROM (${NEWEST_NAV_SQL}))
  ORDER BY id LIMIT ?`;

/** An asset whose pose (or capture time) may still be filled in. */
export interface AssetAwaiting {
  id: number;
  device: string;
  relPath: string;
  captureTUs: number | null;
  appearedMonoUs: number | null;
  /** The boot appearedMonoUs was read on; null = unknown (never converted). */
  appearedBootId: string | null;
}

/**
 * Assets the catch-up pass should look at: a capture time but a pose still awaiting navigation
 * data, or no capture time yet but an appearance time that a clock fit of its own boot can convert:
 * one of `currentBootId` (the live clock may have a fit the DB has not yet), or of an older boot
 * whose fits are stored. Rows no fit can ever convert (unknown boot, or an ended boot that stored
 * no fit) are left out: they keep no time, and must not crowd out the others under `limit`.
 */
export function assetsAwaiting(db: FlightDbLike, limit = 500, currentBootId: string | null = null): AssetAwaiting[] {
  const c = conn(db);
  type Sql = {
    id: number;
    device: string;
    rel_path: string;
    capture_t_us: number | null;
    appeared_mono_us: number | null;
    appeared_boot_id: string | null;
  };
  // Two queries, each limited on its own, so that rows stuck on one cause (no clock fit yet)
  // cannot starve the others. Pose retries only where navigation data now reaches past the
  // capture time: before that, asking again cannot change the answer.
  const untimed = c
    .prepare(
      `SELECT id, device, rel_path, capture_t_us, appeared_mono_us, appeared_boot_id FROM asset a
       WHERE capture_t_us IS NULL AND appeared_mono_us IS NOT NULL AND appeared_boot_id IS NOT NULL
         AND (appeared_boot_id = ? OR EXISTS (SELECT 1 FROM clock_fit f WHERE f.boot_id = a.appeared_boot_id))
       ORDER BY id LIMIT ?`,
    )
    .all(currentBootId, limit) as Sql[];
  const unposed = c.prepare(AWAITING_POSE_SQL).all(limit) as Sql[];
  return [...untimed, ...unposed].map((r) => ({
    id: r.id,
    device: r.device,
    relPath: r.rel_path,
    captureTUs: r.capture_t_us,
    appearedMonoUs: r.appeared_mono_us,
    appearedBootId: r.appeared_boot_id,
  }));
}

/**
 * Why an asset has no capture time (pure; `hasFitOfBoot`: a clock fit of the asset's appearance
 * boot is stored):
 * - 'no-appearance-time': nothing to convert (no EXIF time either);
 * - 'unknown-boot': its appearance time has no boot (a row from schema v1): never converted;
 * - 'no-fit-this-boot': no clock fit of the boot it appeared on (yet: the current boot's first
 *   fit may still come; an ended boot's never will);
 * - 'awaiting-catch-up': a fit of its boot exists; the next catch-up pass times it.
 */
export type NoCaptureTimeReason = 'no-appearance-time' | 'unknown-boot' | 'no-fit-this-boot' | 'awaiting-catch-up';
export function noCaptureTimeReason(appearedMonoUs: number | null, appearedBootId: string | null, hasFitOfBoot: boolean): NoCaptureTimeReason {
  if (appearedMonoUs === null) return 'no-appearance-time';
  if (appearedBootId === null) return 'unknown-boot';
  return hasFitOfBoot ? 'awaiting-catch-up' : 'no-fit-this-boot';
}

/** Writes a pose and its quality onto an asset row. */
export function updateAssetPose(db: FlightDbLike, id: number, pose: AssetPose, quality: unknown): void {
  conn(db)
    .prepare(
      `UPDATE asset SET lat_deg = ?, lon_deg = ?, altitude_m = ?, pressure_altitude_m = ?, heading_deg = ?,
         speed_mps = ?, track_deg = ?, pose_quality = ? WHERE id = ?`,
    )
    .run(
      pose.latDeg,
      pose.lonDeg,
      pose.altitudeM,
      pose.pressureAltitudeM,
      pose.headingDeg,
      pose.speedMps,
      pose.trackDeg,
      JSON.stringify(quality),
      id,
    );
}

/** Sets a flight-clock capture time found later (the clock had no fit when the file appeared). */
export function updateAssetFlightClockTime(db: FlightDbLike, id: number, appearedTUs: number, captureTUs: number): void {
  conn(db)
    .prepare(
      `UPDATE asset SET appeared_t_us = ?, capture_t_us = ?, time_source = 'flight-clock'
       WHERE id = ? AND capture_t_us IS NULL`,
    )
    .run(appearedTUs, captureTUs, id);
}

/** What `capture-agent status` shows about cameras. */
export interface CameraStatus {
  devices: Record<
    string,
    {
      assets: number;
      complete: number;
      incomplete: number;
      totalBytes: number;
      byTimeSource: { exif: number; 'flight-clock': number; none: number };
      withoutPose: number;
      lastCaptureTUs: number | null;
    }
  >;
  /** Files recorded as incomplete (half-written and abandoned). */
  incompleteFiles: { device: string; relPath: string; sizeBytes: number; reason: string | null }[];
  /** Assets without a full pose, counted by why (the first missing field's reason, or 'no-capture-time'). */
  withoutPoseByReason: Record<string, number>;
  /** Assets without a capture time, counted by why (see noCaptureTimeReason); zero counts left out. */
  withoutCaptureTimeByReason: Partial<Record<NoCaptureTimeReason, number>>;
  /** Changes and disappearances of recorded files reported as events. */
  changedAfterRecord: number;
  missingFromDisk: number;
}

/** Reads the camera part of the flight status in one read transaction. */
export function readCameraStatus(db: FlightDbLike): CameraStatus {
  const c = conn(db);
  return c.transaction((): CameraStatus => {
    const devices: CameraStatus['devices'] = {};
    const perDevice = c
      .prepare(
        `SELECT device, count(*) AS n, coalesce(sum(status = 'complete'), 0) AS complete,
           coalesce(sum(status = 'incomplete'), 0) AS incomplete, coalesce(sum(size_bytes), 0) AS bytes,
           coalesce(sum(time_source = 'exif'), 0) AS exif, coalesce(sum(time_source = 'flight-clock'), 0) AS fc,
           coalesce(sum(time_source IS NULL), 0) AS untimed,
           coalesce(sum(lat_deg IS NULL OR heading_deg IS NULL OR altitude_m IS NULL), 0) AS no_pose,
           max(capture_t_us) AS last
         FROM asset GROUP BY device ORDER BY device`,
      )
      .all() as {
      device: string;
      n: number;
      complete: number;
      incomplete: number;
      bytes: number;
      exif: number;
      fc: number;
      untimed: number;
      no_pose: number;
      last: number | null;
    }[];
    for (const r of perDevice) {
      devices[r.device] = {
        assets: r.n,
        complete: r.complete,
        incomplete: r.incomplete,
        totalBytes: r.bytes,
        byTimeSource: { exif: r.exif, 'flight-clock': r.fc, none: r.untimed },
        withoutPose: r.no_pose,
        lastCaptureTUs: r.last,
      };
    }
    const incompleteRows = c
      .prepare(
        `SELECT a.device, a.rel_path, a.size_bytes,
           (SELECT json_extract(e.data, '$.reason') FROM event e
             WHERE e.source = 'camera:' || a.device AND e.code = ? AND json_extract(e.data, '$.relPath') = a.rel_path
             ORDER BY e.id DESC LIMIT 1) AS reason
         FROM asset a WHERE a.status = 'incomplete' ORDER BY a.device, a.rel_path`,
      )
      .all(CAMERA_EVENT_CODES.incomplete) as { device: string; rel_path: string; size_bytes: number; reason: string | null }[];
    const reasons = c
      .prepare(
        `SELECT coalesce(
             json_extract(pose_quality, '$.reason'),
             (SELECT value FROM json_each(pose_quality, '$.missing') LIMIT 1),
             'unknown') AS reason, count(*) AS n
         FROM asset WHERE lat_deg IS NULL OR heading_deg IS NULL OR altitude_m IS NULL GROUP BY 1`,
      )
      .all() as { reason: string; n: number }[];
    // The same rule as noCaptureTimeReason, in SQL (one pass over the untimed rows).
    const untimed = c
      .prepare(
        `SELECT CASE
             WHEN appeared_mono_us IS NULL THEN 'no-appearance-time'
             WHEN appeared_boot_id IS NULL THEN 'unknown-boot'
             WHEN EXISTS (SELECT 1 FROM clock_fit f WHERE f.boot_id = a.appeared_boot_id) THEN 'awaiting-catch-up'
             ELSE 'no-fit-this-boot' END AS reason, count(*) AS n
         FROM asset a WHERE capture_t_us IS NULL GROUP BY 1 ORDER BY 1`,
      )
      .all() as { reason: NoCaptureTimeReason; n: number }[];
    const ev = c
      .prepare(
        `SELECT coalesce(sum(code = ?), 0) AS changed, coalesce(sum(code = ?), 0) AS missing
         FROM event WHERE source LIKE 'camera:%'`,
      )
      .get(CAMERA_EVENT_CODES.changed, CAMERA_EVENT_CODES.missing) as { changed: number; missing: number };
    return {
      devices,
      incompleteFiles: incompleteRows.map((r) => ({ device: r.device, relPath: r.rel_path, sizeBytes: r.size_bytes, reason: r.reason })),
      withoutPoseByReason: Object.fromEntries(reasons.map((r) => [r.reason, r.n])),
      withoutCaptureTimeByReason: Object.fromEntries(untimed.map((r) => [r.reason, r.n])),
      changedAfterRecord: ev.changed,
      missingFromDisk: ev.missing,
    };
  })();
}
