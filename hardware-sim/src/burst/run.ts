// `hardware-sim burst`: cameras writing pictures as fast as they can (or at a fixed rate), for
// benchmarking what takes the files in. Writes N pictures of B bytes round-robin into
// DIR/cam1 … DIR/camK, each in C-byte writes then closed as a camera does, and records the
// wall-clock time of each close.
import { closeSync, openSync, writeSync, type Dirent } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import { SimError } from '../errors.js';
import { nowMs } from '../ports/player.js';
import { BurstPictures, MAX_CLOCK_MS, MIN_CLOCK_MS, minPictureBytes } from './pictures.js';

export const DEFAULT_BURST_CAMERAS = 5;
/** Cameras write in large pieces; 1 MiB as the capture agent's benchmark writer does. */
export const DEFAULT_BURST_CHUNK_BYTES = 1024 * 1024;

export interface BurstOptions {
  /** Output folder, new or empty: cam1 … camK are made in it. */
  outDir: string;
  /** Pictures to write, at least 1. */
  files: number;
  /** Size of every picture, bytes (at least minPictureBytes()). */
  sizeBytes: number;
  /** Cameras (folders), at least 1. */
  cameras: number;
  /** Files per second, paced from the start; 0 = as fast as possible. */
  rate: number;
  /** Bytes per write() call. */
  chunkBytes: number;
  /** EXIF capture time of the first picture, ms since the epoch UTC; null = the wall clock at start. */
  startUtcMs: number | null;
  signal?: AbortSignal;
}

export interface BurstReport {
  /** Wall clock (Date.now) when writing started and ended, ms. */
  startMs: number;
  endMs: number;
  /** Pictures written and closed. */
  files: number;
  /** Bytes in them. */
  bytes: number;
  /**
   * This process's CPU time while writing, user and system, in seconds: what the writing itself
   * cost (system time: the kernel copying into the page cache), beside the wall-clock time.
   */
  cpuUserS: number;
  cpuSystemS: number;
  /** Absolute path of each picture → wall-clock ms (Date.now) just after its close. */
  closes: Record<string, number>;
  /** The camera folders. */
  cameraDirs: string[];
  /** Stopped by the signal before all files were written. */
  isAborted: boolean;
}

function bad(message: string): SimError {
  return new SimError('BAD_INPUT', message);
}

/** Throws BAD_INPUT naming the first option that is not valid. */
export function checkBurstOptions(o: BurstOptions): void {
  if (!Number.isInteger(o.files) || o.files < 1) throw bad(`--files ${o.files}: must be an integer >= 1`);
  const min = minPictureBytes();
  if (!Number.isInteger(o.sizeBytes) || o.sizeBytes < min) throw bad(`--bytes ${o.sizeBytes}: must be an integer >= ${min} (the smallest JPEG the simulator writes)`);
  if (!Number.isInteger(o.cameras) || o.cameras < 1) throw bad(`--cameras ${o.cameras}: must be an integer >= 1`);
  if (!Number.isFinite(o.rate) || o.rate < 0) throw bad(`--rate ${o.rate}: must be a number >= 0 (0 = as fast as possible)`);
  if (!Number.isInteger(o.chunkBytes) || o.chunkBytes < 1) throw bad(`--chunk-bytes ${o.chunkBytes}: must be an integer >= 1`);
  if (o.startUtcMs !== null && (o.startUtcMs < MIN_CLOCK_MS || o.startUtcMs + o.files * exifStepMs(o.rate) > MAX_CLOCK_MS)) {
    throw bad(`--start-utc ${new Date(o.startUtcMs).toISOString()}: EXIF dates need years 1000-9999`);
  }
}

/** EXIF time between two pictures: the pacing interval, at least 1 ms so times always increase. */
function exifStepMs(rate: number): number {
  return rate > 0 ? Math.max(1, 1000 / rate) : 1;
}

/**
 * Sleeps until `dueMs` on the nowMs() clock, never returning early: a timer counts from the event
 * loop's cached time, which is stale by the length of the synchronous write just done, so one
 * sleep can end a few ms early.
 */
async function sleepUntilDue(dueMs: number, signal: AbortSignal | undefined): Promise<void> {
  for (let left = dueMs - nowMs(); left > 0 && !signal?.aborted; left = dueMs - nowMs()) {
    await sleep(left, undefined, { signal }).catch(() => undefined);
  }
}

/**
 * Makes `outDir` and its camera folders; returns their absolute paths. `outDir` must be new or
 * empty, or hold only the (empty) camera folders themselves: an agent already watching them
 * (the capture-agent bench starts it first) has made them. Nothing is ever overwritten.
 */
async function prepareOutDir(outDir: string, cameras: number): Promise<string[]> {
  const dirs = Array.from({ length: cameras }, (_, i) => join(outDir, `cam${i + 1}`));
  const names = new Set(dirs.map((d) => basename(d)));
  let entries: Dirent[];
  try {
    await mkdir(outDir, { recursive: true });
    entries = await readdir(outDir, { withFileTypes: true });
  } catch (err) {
    throw new SimError('OUTPUT_FAILED', `cannot prepare --out ${outDir}: ${(err as Error).message}`, { cause: err });
  }
  const others: string[] = [];
  for (const e of entries) {
    const isOwnEmptyFolder = e.isDirectory() && names.has(e.name) && (await readdir(join(outDir, e.name)).catch(() => ['?'])).length === 0;
    if (!isOwnEmptyFolder) others.push(e.name);
  }
  if (others.length > 0) {
    throw bad(`--out ${outDir} is not empty (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', …' : ''}): give a new or empty folder`);
  }
  try {
    for (const dir of dirs) await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new SimError('OUTPUT_FAILED', `cannot make the camera folders in --out ${outDir}: ${(err as Error).message}`, { cause: err });
  }
  return dirs;
}

/** Writes all of `bytes` to a new file in `chunkBytes` writes, then closes it (short writes are continued). */
function writePicture(path: string, bytes: Buffer, chunkBytes: number): void {
  const fd = openSync(path, 'wx');
  try {
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, Math.min(chunkBytes, bytes.length - at));
  } finally {
    closeSync(fd);
  }
}

export async function runBurst(o: BurstOptions): Promise<BurstReport> {
  checkBurstOptions(o);
  const outDir = resolve(o.outDir);
  const pictures = new BurstPictures(o.sizeBytes);
  const cameraDirs = await prepareOutDir(outDir, o.cameras);
  const stepMs = exifStepMs(o.rate);
  const closes: Record<string, number> = {};
  const startMs = Date.now();
  const startCpu = process.cpuUsage();
  const startMono = nowMs();
  const firstClockMs = o.startUtcMs ?? startMs;
  let files = 0;
  for (let i = 0; i < o.files; i++) {
    // Due times count from the start, so time spent writing does not add up into a slower rate.
    if (o.rate > 0) await sleepUntilDue(startMono + (i * 1000) / o.rate, o.signal);
    else await yieldToEventLoop(); // lets Ctrl-C through at full speed
    if (o.signal?.aborted) break;
    const dir = cameraDirs[i % o.cameras] ?? '';
    const path = join(dir, `IMG_${String(Math.floor(i / o.cameras) + 1).padStart(4, '0')}.jpg`);
    const bytes = pictures.picture(i, firstClockMs + Math.floor(i * stepMs));
    try {
      writePicture(path, bytes, o.chunkBytes);
    } catch (err) {
      throw new SimError('WRITE_FAILED', `cannot write ${path} (${(err as Error).message}): ${files} of ${o.files} files were written before it (left in place, with what was written of this one)`, { cause: err });
    }
    closes[path] = Date.now();
    files++;
  }
  const endMs = Date.now();
  const cpu = process.cpuUsage(startCpu);
  return { startMs, endMs, cpuUserS: cpu.user / 1e6, cpuSystemS: cpu.system / 1e6, files, bytes: files * pictures.sizeBytes, closes, cameraDirs, isAborted: files < o.files };
}
