// Turning one settled file into an asset row: hash it (streaming, once), read its capture time,
// look up the pose at that time, insert. Or, for a path already accounted for, verify it and
// report a change as an event rather than a new silent row.
import { stat } from 'node:fs/promises';
import { sha256File, type AssetInsert, type FlightDbLike } from '@flysnap/shared';
import { inlineAssetWriter, type AssetToWrite, type AssetWriter, type EventToWrite } from './asset-writer.js';
import { CAMERA_EVENT_CODES, cameraEventSource } from './asset-store.js';
import { parseExifTime, readExifTimeFields, resolveCaptureTime } from './capture-time.js';
import type { IncompleteReason } from './completeness.js';
import type { MonoToUtc } from './flight-clock-source.js';
import type { HashedFile, HashFile } from './hash-pool.js';
import { EMPTY_POSE, type PoseQuality, type PoseSource } from './pose-source.js';
import type { KnownFile } from './rescan.js';

/** Per-device settings the recorder needs. */
export interface RecordDevice {
  device: string;
  /** Camera clock minus UTC, ms; applied to EXIF times. */
  clockOffsetMs: number;
  /** Shutter-to-file latency, ms; applied to flight-clock (appearance) times. */
  latencyMs: number;
}

export interface RecordInput {
  device: RecordDevice;
  absPath: string;
  relPath: string;
  /** Size and mtime at which the file was judged complete/incomplete. */
  sizeBytes: number;
  mtimeMs: number;
  /** Monotonic time (this boot) the file appeared; null = unknown (born before this boot). */
  appearedMonoUs: number | null;
  status: 'complete' | 'incomplete';
  /** For an incomplete file: why. */
  incompleteReason?: IncompleteReason;
}

export interface RecordContext {
  db: FlightDbLike;
  clock: MonoToUtc;
  pose: PoseSource;
  /** What is accounted for per path of this device; updated here. */
  known: Map<string, KnownFile>;
  /** Wall clock, ms (injectable for tests). */
  nowWallMs?: () => number;
  /** How files are hashed (a worker pool in the agent). Default: shared sha256File on this thread. */
  hash?: HashFile;
  /** Where rows and events are written (the agent: a worker thread). Default: inline on `db`. */
  writer?: AssetWriter;
}

export type RecordOutcome =
  | { kind: 'recorded'; id: number; asset: AssetInsert }
  /** Already in the DB with this content (a restart, a rescan): nothing written. */
  | { kind: 'duplicate'; id: number }
  /** A path accounted for, looked at again: same content. */
  | { kind: 'unchanged' }
  /** A recorded file's content changed: reported as an event, no new row. */
  | { kind: 'changed'; eventId: number }
  /** The file changed while it was being hashed: settle it again. */
  | { kind: 'unstable' }
  /** Gone before or while it was read. */
  | { kind: 'vanished' };

/** Records one settled file. Never throws for file trouble (vanished, changed); throws on DB errors. */
export async function recordFile(input: RecordInput, ctx: RecordContext): Promise<RecordOutcome> {
  const nowWallMs = ctx.nowWallMs ?? Date.now;
  const writer = ctx.writer ?? inlineAssetWriter(ctx.db);
  let hashed: HashedFile;
  try {
    hashed = await (ctx.hash ?? sha256File)(input.absPath);
    let after = hashed.after;
    if (after === undefined) {
      const st = await stat(input.absPath);
      after = { sizeBytes: st.size, mtimeMs: st.mtimeMs };
    }
    if (after.sizeBytes !== hashed.sizeBytes || after.sizeBytes !== input.sizeBytes || after.mtimeMs !== input.mtimeMs) {
      return { kind: 'unstable' };
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'vanished' };
    if (code === 'EWORKER') return { kind: 'unstable' }; // hash again
    throw e;
  }
  const { sha256, sizeBytes } = hashed;
  const source = cameraEventSource(input.device.device);
  const known = ctx.known.get(input.relPath);
  const wallMs = nowWallMs();

  if (known && known.sha256 === sha256 && known.sizeBytes === sizeBytes) {
    known.verifiedWallMs = Math.max(known.verifiedWallMs, input.mtimeMs, wallMs);
    known.isReportedMissing = false;
    return { kind: 'unchanged' };
  }
  if (known && (known.status === 'complete' || known.isChangedAfterRecord) && !known.isReportedMissing) {
    // The camera (or someone) rewrote a file we already recorded: the row keeps what was captured;
    // the change is an event a person and the ingest check will see.
    const old = { sizeBytes: known.sizeBytes, sha256: known.sha256 };
    Object.assign(known, { sizeBytes, sha256, verifiedWallMs: Math.max(input.mtimeMs, wallMs), isChangedAfterRecord: true });
    const eventId = await writer.writeEvent({
      tUs: 0,
      level: 'warn',
      source,
      code: CAMERA_EVENT_CODES.changed,
      message: `${input.device.device}/${input.relPath} changed after it was recorded (${old.sizeBytes} → ${sizeBytes} bytes)`,
      data: { relPath: input.relPath, old, new: { sizeBytes, sha256, mtimeMs: input.mtimeMs } },
    });
    return { kind: 'changed', eventId };
  }

  // A new file, a file recorded as incomplete that was finished later, or one that came back.
  // From the hashed bytes when the hash pool kept them (see HashedFile.head); from the file when
  // there are none or they hold no time (EXIF further in than the kept bytes).
  let exifFields = hashed.head ? await readExifTimeFields(hashed.head) : null;
  if (!exifFields?.dateTime) exifFields = await readExifTimeFields(input.absPath);
  const exif = exifFields ? parseExifTime(exifFields) : null;
  const appearedTUs = input.appearedMonoUs === null ? null : ctx.clock.toUtc(input.appearedMonoUs);
  const time = resolveCaptureTime({
    exifTUs: exif?.ok ? exif.tUs : null,
    clockOffsetMs: input.device.clockOffsetMs,
    appearedTUs,
    latencyMs: input.device.latencyMs,
  });
  let pose = EMPTY_POSE;
  let quality: PoseQuality = { isAwaitingData: false, missing: {}, reason: 'no-capture-time' };
  if (time) {
    const answer = ctx.pose.poseAt(time.tUs);
    pose = answer.pose;
    quality = answer.quality;
  }
  if (exif && !exif.ok && exif.reason !== 'no-exif-time') {
    // Keep why the embedded time was not used: a camera with an unset clock must be visible.
    quality = { ...quality, exifRejected: exif.detail };
  }
  const asset: AssetToWrite = {
    device: input.device.device,
    relPath: input.relPath,
    sizeBytes,
    sha256,
    captureTUs: time?.tUs ?? null,
    timeSource: time?.source ?? null,
    appearedTUs,
    appearedMonoUs: input.appearedMonoUs,
    // The boot the clock (and so appearedMonoUs) belongs to; without one, the writer's own boot.
    ...(ctx.clock.bootId === undefined || input.appearedMonoUs === null ? {} : { appearedBootId: ctx.clock.bootId }),
    status: input.status,
    ...pose,
    poseQuality: quality,
  };
  const events: EventToWrite[] = [];
  if (input.status === 'incomplete') {
    events.push({
      tUs: 0,
      level: 'warn',
      source,
      code: CAMERA_EVENT_CODES.incomplete,
      message: `${input.device.device}/${input.relPath} recorded as incomplete (${input.incompleteReason ?? 'unknown'})`,
      data: { relPath: input.relPath, reason: input.incompleteReason ?? null, sizeBytes, sha256 },
    });
  } else if (known?.status === 'incomplete') {
    events.push({
      tUs: 0,
      level: 'info',
      source,
      code: CAMERA_EVENT_CODES.completedLater,
      message: `${input.device.device}/${input.relPath} was finished after being recorded as incomplete`,
      data: { relPath: input.relPath, old: { sizeBytes: known.sizeBytes, sha256: known.sha256 }, new: { sizeBytes, sha256 } },
    });
  }
  // Accounted for from now on: a rescan while the write waits for its commit must not pick it up.
  ctx.known.set(input.relPath, {
    relPath: input.relPath,
    sizeBytes,
    sha256,
    status: input.status,
    verifiedWallMs: Math.max(input.mtimeMs, wallMs),
    isChangedAfterRecord: false,
    isReportedMissing: false,
  });
  let res;
  try {
    res = await writer.writeAsset(asset, events);
  } catch (e) {
    // Not written: not accounted for either (the next look records it).
    if (known) ctx.known.set(input.relPath, known);
    else ctx.known.delete(input.relPath);
    throw e;
  }
  return res.inserted ? { kind: 'recorded', id: res.id, asset: { ...asset, recordedTUs: res.recordedTUs } } : { kind: 'duplicate', id: res.id };
}
