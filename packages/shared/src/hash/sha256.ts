// SHA-256 of files and streams. The only I/O here is reading a file (256 KiB reads).
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';

/**
 * Read size used by sha256File and the camera hash workers: 256 KiB. A block this size is still in
 * the CPU's cache when it is hashed; with 1 MiB blocks a 2 GB file took 0.4-0.5 s of system time
 * to read instead of 0.2-0.4 s, and the hashing ~5 % more user time (2-core VM).
 */
export const HASH_READ_BYTES = 256 * 1024;

export interface Sha256Result {
  /** Lower-case hex, 64 characters. */
  sha256: string;
  sizeBytes: number;
}

/** True for a lower-case 64-hex-digit SHA-256 (the stored form in the flight DB and manifests). */
export function isSha256Hex(text: string): boolean {
  return typeof text === 'string' && /^[0-9a-f]{64}$/.test(text);
}

/** Incremental SHA-256 that also counts bytes. */
export interface Sha256Hasher {
  update(chunk: Uint8Array): void;
  /** Bytes seen so far. */
  readonly sizeBytes: number;
  /** Finishes; the hasher cannot be updated afterwards. */
  digest(): Sha256Result;
}

export function createHasher(): Sha256Hasher {
  const hash: Hash = createHash('sha256');
  let size = 0;
  return {
    update(chunk: Uint8Array): void {
      hash.update(chunk);
      size += chunk.length;
    },
    get sizeBytes(): number {
      return size;
    },
    digest(): Sha256Result {
      return { sha256: hash.digest('hex'), sizeBytes: size };
    },
  };
}

/**
 * SHA-256 and size of a file, read in 1 MiB blocks (one reused buffer). Rejects with the
 * fs error (ENOENT, EISDIR, …) naming the path.
 */
export async function sha256File(path: string, options: { readBytes?: number } = {}): Promise<Sha256Result> {
  const readBytes = options.readBytes ?? HASH_READ_BYTES;
  const hasher = createHasher();
  const fh = await fsp.open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(readBytes);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, readBytes, null);
      if (bytesRead === 0) break;
      hasher.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hasher.digest();
}

/**
 * A pass-through stream that hashes what flows through it (hash while archiving/uploading in
 * one pass). `result()` is available after 'finish'/'end'.
 */
export class Sha256Stream extends Transform {
  #hasher = createHasher();
  #result: Sha256Result | null = null;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#hasher.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.#result = this.#hasher.digest();
    cb();
  }

  /** Bytes seen so far. */
  get sizeBytes(): number {
    return this.#result?.sizeBytes ?? this.#hasher.sizeBytes;
  }

  /** The digest; throws if the stream has not been ended yet. */
  result(): Sha256Result {
    if (this.#result === null) throw new Error('Sha256Stream.result(): the stream has not ended yet');
    return this.#result;
  }
}
