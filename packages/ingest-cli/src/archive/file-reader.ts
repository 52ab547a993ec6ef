// Reading a file of the array in large chunks, each a fresh buffer (the tar packer keeps a
// reference to what it was given until it is written out, so a buffer is never reused).
import { promises as fsp } from 'node:fs';
import { IngestError, errnoCode, throwIfAborted } from '../errors.js';

/** Read size: 1 MiB keeps syscalls few for 5-50 MB pictures without holding much memory. */
export const ARCHIVE_READ_BYTES = 1024 * 1024;

/**
 * Calls `onChunk` with every chunk of exactly `sizeBytes` bytes of `path` (the size recorded
 * before the pass). A file that turns out shorter or longer than that is an 'array-read' error:
 * it changed under the archive, and no half-truth goes into it.
 */
export async function readFileChunks(
  path: string,
  displayPath: string,
  sizeBytes: number,
  onChunk: (chunk: Buffer) => Promise<void> | void,
  signal?: AbortSignal,
): Promise<void> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, 'r');
  } catch (err) {
    throw new IngestError('array-read', `cannot open ${displayPath} on the array (${errnoCode(err) ?? String(err)})`, { cause: err });
  }
  try {
    let done = 0;
    while (done < sizeBytes) {
      throwIfAborted(signal);
      const want = Math.min(ARCHIVE_READ_BYTES, sizeBytes - done);
      const buf = Buffer.allocUnsafe(want);
      let bytesRead: number;
      try {
        ({ bytesRead } = await fh.read(buf, 0, want, done));
      } catch (err) {
        throw new IngestError('array-read', `cannot read ${displayPath} on the array at byte ${done} (${errnoCode(err) ?? String(err)}): is the array still plugged in?`, { cause: err });
      }
      if (bytesRead === 0) throw new IngestError('array-read', `${displayPath} shrank while it was archived (${done} of ${sizeBytes} bytes): the array is changing; is a capture agent still writing?`);
      await onChunk(bytesRead === want ? buf : buf.subarray(0, bytesRead));
      done += bytesRead;
    }
    const extra = Buffer.allocUnsafe(1);
    const { bytesRead } = await fh.read(extra, 0, 1, sizeBytes).catch(() => ({ bytesRead: 0 }));
    if (bytesRead > 0) throw new IngestError('array-read', `${displayPath} grew while it was archived (past ${sizeBytes} bytes): the array is changing; is a capture agent still writing?`);
  } finally {
    await fh.close().catch(() => undefined);
  }
}
