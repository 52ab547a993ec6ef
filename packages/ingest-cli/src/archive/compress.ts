// A compressed member is made before it is added: a tar header carries its size before its
// bytes. gzip runs in libuv's thread pool, so these small files (flight DB, serial logs) are
// compressed while the media stream into the archive on the main thread.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { IngestError, errnoCode, isDiskFull } from '../errors.js';
import { readFileChunks } from './file-reader.js';

export interface CompressedFile {
  /** SHA-256 and size of the original bytes. */
  sha256: string;
  sizeBytes: number;
  /** The gzip file and its size and SHA-256. */
  gzipPath: string;
  storedSizeBytes: number;
  storedSha256: string;
}

/**
 * gzips exactly `sizeBytes` bytes of `srcPath` into `gzipPath` (created, must not exist),
 * hashing the original and the compressed bytes on the way.
 */
export async function gzipFile(
  srcPath: string,
  displayPath: string,
  sizeBytes: number,
  gzipPath: string,
  level: number,
  signal?: AbortSignal,
): Promise<CompressedFile> {
  const original = createHash('sha256');
  const stored = createHash('sha256');
  let storedSizeBytes = 0;
  const gzip = createGzip({ level, chunkSize: 256 * 1024 });
  const out = createWriteStream(gzipPath, { flags: 'wx' });
  const outError = new Promise<never>((_, reject) => {
    out.on('error', (err) => reject(err));
    gzip.on('error', (err) => reject(err));
  });
  outError.catch(() => undefined);
  gzip.on('data', (chunk: Buffer) => {
    stored.update(chunk);
    storedSizeBytes += chunk.byteLength;
    if (!out.write(chunk)) gzip.pause();
  });
  out.on('drain', () => gzip.resume());
  const gzipEnded = once(gzip, 'end');
  try {
    await readFileChunks(
      srcPath,
      displayPath,
      sizeBytes,
      async (chunk) => {
        original.update(chunk);
        if (!gzip.write(chunk)) await Promise.race([once(gzip, 'drain'), outError]);
      },
      signal,
    );
    gzip.end();
    await Promise.race([gzipEnded, outError]);
    out.end();
    await Promise.race([once(out, 'finish'), outError]);
  } catch (err) {
    gzip.destroy();
    out.destroy();
    if (err instanceof IngestError) throw err;
    if (isDiskFull(err)) throw new IngestError('disk-full', `no room to compress ${displayPath} into ${gzipPath} (${errnoCode(err)})`, { cause: err });
    throw new IngestError('io', `compressing ${displayPath} into ${gzipPath}: ${(err as Error).message}`, { cause: err });
  }
  return { sha256: original.digest('hex'), sizeBytes, gzipPath, storedSizeBytes, storedSha256: stored.digest('hex') };
}
