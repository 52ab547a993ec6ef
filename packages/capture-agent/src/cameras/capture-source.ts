// The camera side as a source of the run loop (see ../sources/types.ts): one CameraSource for all
// configured cameras, on the run's flight DB connection.
//
// Where times and poses come from, and why:
// - Flight clock: the pipeline's live FlightClock (refitted continuously from the GPS port), else
//   the latest fit stored in the DB by this same boot (an agent restart before the first new fit).
//   Never a fit of another boot: after a reboot the monotonic clock restarted, and the old fits
//   would give files a wrong time; they wait for this boot's first fit instead (the catch-up).
// - Pose: the nav_sample table of the same flight DB, queried around the capture time. The DB is
//   what the serial side commits, it survives a restart (the catch-up after a crash needs the data
//   from before it), and the same code serves `replay` reprocessing; an in-memory track fed by the
//   pipeline would hold only this process's samples and couple the two sides' objects.
import { resolve } from 'node:path';
import { cameraDir, currentBootId, type FlightDbLike } from '@flysnap/shared';
import type { CapturePipeline } from '../pipeline/index.js';
import type { CaptureSource, SourceContext, SourceFactory } from '../sources/types.js';
import { clockFromFlightDb, type MonoToUtc } from './flight-clock-source.js';
import type { PoseSource } from './pose-source.js';
import { navPoseSource } from './nav-pose.js';
import { CameraSource } from './source.js';

/**
 * The camera side's clock for monotonic times of boot `bootId` (the current one): the run loop's
 * live pipeline, else the latest fit of that boot stored in the DB, else null. The run loop's
 * pipeline is fed with this process's own receive times, so it reads this boot's clock (its bootId
 * is this boot, or null when `run` did not say); one labelled with another boot is never asked.
 */
export function cameraClock(db: FlightDbLike, pipeline: Pick<CapturePipeline, 'bootId' | 'utcAt'>, bootId: string): MonoToUtc {
  const dbClock = clockFromFlightDb(db, bootId);
  const isLive = pipeline.bootId === null || pipeline.bootId === bootId;
  return {
    bootId,
    toUtc: (monoUs) => (isLive ? pipeline.utcAt(monoUs) : null) ?? dbClock.toUtc(monoUs),
  };
}

/** Makes the pose source for a flight DB (the nav_sample-backed one in production). */
export type PoseSourceFactory = (ctx: SourceContext) => PoseSource;

export class CameraCaptureSource implements CaptureSource {
  readonly name = 'cameras';
  readonly #source: CameraSource;

  constructor(ctx: SourceContext, pose: PoseSource) {
    for (const c of ctx.config.cameras) {
      // asset.rel_path is relative to the configured folder; the ingest side looks for it under
      // <array>/cameras/<device>/ (the array layout). Another folder works, but is not archived.
      const expected = cameraDir(ctx.arrayRoot, c.device);
      if (resolve(c.folder) !== resolve(expected)) {
        ctx.log.warn(
          { ns: `capture:cameras:${c.device}`, folder: c.folder, expected },
          'camera folder is outside the array layout: its files are recorded but the ingest side will not find them',
        );
      }
    }
    // Read here, before CameraSource starts its DB writer thread: on a machine without a kernel boot
    // id the fallback id is put in the environment, which the thread copies when it starts.
    const clock = cameraClock(ctx.flightDb, ctx.pipeline, currentBootId());
    this.#source = new CameraSource({
      db: ctx.flightDb,
      dbPath: ctx.flightDb.path,
      cameras: ctx.config.cameras,
      notCameraWriters: ctx.config.notCameraWriters,
      clock,
      pose,
      logger: ctx.log,
    });
  }

  get cameras(): CameraSource {
    return this.#source;
  }

  async start(): Promise<void> {
    await this.#source.start();
  }

  async stop(): Promise<void> {
    await this.#source.stop();
  }
}

/** A SourceFactory for the run loop: no source when the config lists no camera. */
export function cameraSourcesWith(makePose: PoseSourceFactory): SourceFactory {
  return (ctx) => (ctx.config.cameras.length === 0 ? [] : [new CameraCaptureSource(ctx, makePose(ctx))]);
}

/** The run loop's camera sources: poses from the flight DB's navigation samples. */
export const cameraSources: SourceFactory = cameraSourcesWith((ctx) => navPoseSource(ctx.flightDb));
