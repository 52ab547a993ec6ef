// The pictures of a burst: one JPEG of the requested size is built once (its filler drawn once),
// and for each file only the EXIF APP1 is rewritten in place (capture time and ImageUniqueID from
// the file's number). Every file then differs, for the cost of a few hundred bytes per file
// instead of building megabytes, so the writer runs at the disk's speed.
import { Prng } from '../random.js';
import { exifCaptureTime, buildExifApp1, type ExifFields } from '../flight/exif.js';
import { CAMERA_MAKE, CAMERA_MODEL } from '../flight/files.js';
import { buildJpegOfSize, EXIF_APP1_AT, minJpegBytes } from '../flight/jpeg.js';

/** The EXIF of picture `index` taken at `clockMs` (UTC). Its length is the same for every picture in years 1000-9999. */
function pictureExif(index: number, clockMs: number): ExifFields {
  return {
    make: CAMERA_MAKE,
    model: CAMERA_MODEL,
    ...exifCaptureTime(clockMs * 1000),
    // 32 hex digits as cameras write it; the counter makes every file's bytes (and hash) distinct.
    imageUniqueId: index.toString(16).padStart(32, '0'),
  };
}

/** The earliest and latest capture times whose EXIF date has four-digit years (fixed length). */
export const MIN_CLOCK_MS = Date.UTC(1000, 0, 1);
export const MAX_CLOCK_MS = Date.UTC(10000, 0, 1) - 1;

/** The smallest picture size a burst can write, bytes. */
export function minPictureBytes(): number {
  return minJpegBytes(pictureExif(0, Date.UTC(2024, 0, 1)));
}

/**
 * `count` seeded random bytes, four per draw into a Uint32Array (5 MB in ~10 ms, a quarter of
 * Prng.bytes's time, which adds to the command's start). Bytes follow the machine's endianness.
 */
function randomFiller(seed: number, count: number): Buffer {
  const rng = new Prng(seed).fork('burst');
  const words = new Uint32Array(Math.ceil(count / 4));
  for (let i = 0; i < words.length; i++) words[i] = rng.next() * 0x1_0000_0000;
  return Buffer.from(words.buffer, 0, count);
}

export class BurstPictures {
  readonly #bytes: Buffer;
  readonly #app1Bytes: number;

  /** `sizeBytes` at least minPictureBytes(); `seed` chooses the filler. */
  constructor(sizeBytes: number, seed = 1) {
    const exif = pictureExif(0, Date.UTC(2024, 0, 1));
    this.#bytes = buildJpegOfSize(exif, sizeBytes, (count) => randomFiller(seed, count));
    this.#app1Bytes = buildExifApp1(exif).length;
  }

  get sizeBytes(): number {
    return this.#bytes.length;
  }

  /**
   * The bytes of picture `index` taken at `clockMs`. The same buffer comes back every time,
   * rewritten: it is valid until the next call.
   */
  picture(index: number, clockMs: number): Buffer {
    const app1 = buildExifApp1(pictureExif(index, clockMs));
    if (app1.length !== this.#app1Bytes) throw new RangeError(`picture ${index}: capture time ${clockMs} ms gives an EXIF of another length (years 1000-9999 only)`);
    app1.copy(this.#bytes, EXIF_APP1_AT);
    return this.#bytes;
  }
}
