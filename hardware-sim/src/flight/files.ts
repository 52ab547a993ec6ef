// The file writing of a flight: pictures written the way a camera writes them, a video that
// grows during the flight, and crash-safe truth/config files.
import { open, rename } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Prng } from '../random.js';
import { buildJpeg } from './jpeg.js';
import type { ImagePlan } from './plan.js';

/** A camera writes its file in pieces of this size. */
const CAMERA_CHUNK_BYTES = 64 * 1024;
export const CAMERA_MAKE = 'FlySnap';
export const CAMERA_MODEL = 'SimCam 1';

/** Writes `text` to `path` through a temporary file, fsync and rename. */
export async function writeFileAtomic(path: string, text: string | Buffer): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

export function jsonLines(items: Iterable<unknown>): string {
  let out = '';
  for (const item of items) out += `${JSON.stringify(item)}\n`;
  return out;
}

/** The bytes of one picture (same seed, same bytes). */
export function imageBytes(image: ImagePlan, seed: number, approxBytes: number): Buffer {
  const filler = new Prng(seed).fork(`image:${image.device}:${image.index}`).bytes(approxBytes);
  return buildJpeg({ exif: { make: CAMERA_MAKE, model: CAMERA_MODEL, ...image.exif }, filler });
}

/**
 * Writes a picture as a camera does: creates the file under its final name, writes it in chunks
 * spread over `image.writeMs`, closes it. With `cutAtFraction` the power goes: only that part is
 * written and the file is left unfinished. Returns the bytes written.
 */
export async function writeImage(path: string, image: ImagePlan, bytes: Buffer): Promise<number> {
  const total = image.cutAtFraction === null ? bytes.length : Math.floor(bytes.length * image.cutAtFraction);
  const chunks = Math.max(1, Math.ceil(total / CAMERA_CHUNK_BYTES));
  // At least a few pieces, so a slow write really is spread out in time.
  const pieces = Math.max(chunks, image.writeMs > 1000 ? 10 : 1);
  const pieceBytes = Math.ceil(total / pieces);
  const pauseMs = pieces > 1 ? image.writeMs / (pieces - 1) : 0;
  const fh = await open(path, 'wx');
  try {
    for (let at = 0, i = 0; at < total; at += pieceBytes, i++) {
      if (i > 0 && pauseMs > 0) await sleep(pauseMs);
      await fh.write(bytes, at, Math.min(pieceBytes, total - at), at);
    }
  } finally {
    await fh.close();
  }
  return total;
}

function box(type: string, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + payload.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, payload]);
}

/**
 * A recording video file in the MP4 layout cameras use: `ftyp`, then `mdat` with size 0 ("to the
 * end of the file") while recording; on stop the real `mdat` size is written and `moov` appended.
 */
export class VideoRecorder {
  readonly path: string;
  #fh: Awaited<ReturnType<typeof open>> | null = null;
  #size = 0;
  #mdatAt = 0;
  #rng: Prng;

  constructor(path: string, seed: number) {
    this.path = path;
    this.#rng = new Prng(seed).fork('video');
  }

  get sizeBytes(): number {
    return this.#size;
  }

  async start(): Promise<void> {
    this.#fh = await open(this.path, 'wx');
    const ftyp = box('ftyp', Buffer.concat([Buffer.from('isom', 'latin1'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2mp41', 'latin1')]));
    const mdatHead = Buffer.alloc(8);
    mdatHead.write('mdat', 4, 'latin1');
    await this.#append(ftyp);
    this.#mdatAt = this.#size;
    await this.#append(mdatHead);
  }

  async appendChunk(sizeBytes: number): Promise<void> {
    await this.#append(this.#rng.bytes(sizeBytes));
  }

  async stop(): Promise<void> {
    const fh = this.#fh;
    if (!fh) return;
    const mdatSize = Buffer.alloc(4);
    mdatSize.writeUInt32BE(this.#size - this.#mdatAt, 0);
    // moov first, then the mdat size: until the size is there the file still reads as recording.
    await this.#append(box('moov', box('mvhd', Buffer.alloc(100))));
    await fh.write(mdatSize, 0, 4, this.#mdatAt);
    await fh.sync();
    await fh.close();
    this.#fh = null;
  }

  async #append(bytes: Buffer): Promise<void> {
    if (!this.#fh) throw new Error('VideoRecorder: not started');
    await this.#fh.write(bytes, 0, bytes.length, this.#size);
    this.#size += bytes.length;
  }
}
