// Test environment for the camera side: a temporary array with a real flight DB, camera folders,
// and camera stand-ins that write files from a child process.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openFlightDb, type FlightDb } from '@flysnap/shared';
import { EMPTY_POSE, type PoseAnswer, type PoseSource } from '../../../src/cameras/pose-source.js';

const run = promisify(execFile);
const WRITER = fileURLToPath(new URL('./writer.mjs', import.meta.url));

export interface TestArray {
  root: string;
  db: FlightDb;
  cameraDir(device: string): string;
  /** Writes `bytes` to `dest` from a child process in `chunks` pieces, `delayMs` apart. */
  writeAsCamera(dest: string, bytes: Buffer, chunks?: number, delayMs?: number, isHalfWritten?: boolean): Promise<void>;
  close(): void;
}

export function makeTestArray(prefix = 'fs-cam-'): TestArray {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const db = openFlightDb(join(root, 'flight.db'), { create: true });
  const stage = join(root, '.stage');
  mkdirSync(stage);
  let n = 0;
  return {
    root,
    db,
    cameraDir(device: string): string {
      const d = join(root, 'cameras', device);
      mkdirSync(d, { recursive: true });
      return d;
    },
    async writeAsCamera(dest, bytes, chunks = 4, delayMs = 10, isHalfWritten = false): Promise<void> {
      const src = join(stage, `src-${n++}`);
      writeFileSync(src, bytes);
      await run(process.execPath, [WRITER, src, dest, String(chunks), String(delayMs), isHalfWritten ? '1' : '0']);
      rmSync(src);
    },
    close(): void {
      db.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A pose source with no navigation data yet: every field missing, awaiting data. */
export const noNavYet: PoseSource = {
  poseAt(): PoseAnswer {
    return { pose: EMPTY_POSE, quality: { isAwaitingData: true, missing: { latDeg: 'no-data' } } };
  },
};

/** Polls `check` until it is true or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
