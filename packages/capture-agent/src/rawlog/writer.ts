// Append-only raw serial log for one port (format: @flysnap/shared rawlog v2). Lines are encoded
// at once and kept in memory; flush() writes them and fsyncs. The agent flushes on a timer of at
// most a second, so a kill -9 or power cut loses at most that second; a write that the kernel
// took survives kill -9 even before fsync (page cache), fsync is for the power cut.
import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readSync, fstatSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { encodeRawLogLine, rawLogHeader } from '@flysnap/shared';

export interface RawLogWriterOptions {
  /** Port name written in the header. */
  port: string;
  /** Extra header fields (e.g. device path, baud rate, session start). */
  header?: Record<string, string>;
  /** Write out once this much is buffered, bytes, even before the timer. Default 1 MiB. */
  maxBufferedBytes?: number;
}

const DEFAULT_MAX_BUFFERED_BYTES = 1 << 20;

export class RawLogWriter {
  readonly path: string;
  #fd: number;
  #parts: string[] = [];
  #bufferedBytes = 0;
  /** Byte offset in the file of the next line appended. */
  #offset: number;
  readonly #maxBufferedBytes: number;
  #isDirty = false;

  /** Opens (creating folders and file) for append; a reopened log gets a '\n' if cut mid-line, then a fresh header. */
  constructor(path: string, options: RawLogWriterOptions) {
    this.path = path;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    mkdirSync(dirname(path), { recursive: true });
    this.#fd = openSync(path, 'a+', 0o644);
    const size = fstatSync(this.#fd).size;
    this.#offset = size;
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(this.#fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n'; // the previous session was cut mid-line (power cut)
    }
    this.#push(prefix + rawLogHeader(options.port, options.header ?? {}));
    this.flush();
  }

  /** Bytes written or buffered so far: the offset the next line will have. */
  get offset(): number {
    return this.#offset;
  }

  /**
   * Appends one received piece: its bytes without the framing '\n', and whether it had that '\n'
   * (`hasLf`, the usual line) or not: cut at maxLineBytes (`isCut`), or a partial line flushed at
   * unplug/stop. Returns the entry's byte offset in the file (nav_sample.raw_offset).
   */
  append(monoUs: number, utcUs: number | null, bytes: Uint8Array, hasLf = true, isCut = false): number {
    const at = this.#offset;
    this.#push(encodeRawLogLine({ monoUs, utcUs, bytes, hasLf, isCut }));
    if (this.#bufferedBytes >= this.#maxBufferedBytes) this.#write();
    return at;
  }

  /** Writes what is buffered and fsyncs (data only). Cheap when nothing changed. */
  flush(): void {
    this.#write();
    if (this.#isDirty) {
      fdatasyncSync(this.#fd);
      this.#isDirty = false;
    }
  }

  close(): void {
    if (this.#fd < 0) return;
    this.flush();
    fsyncSync(this.#fd);
    closeSync(this.#fd);
    this.#fd = -1;
  }

  #push(text: string): void {
    // The format is pure ASCII: string length is byte length.
    this.#parts.push(text);
    this.#bufferedBytes += text.length;
    this.#offset += text.length;
  }

  #write(): void {
    if (this.#bufferedBytes === 0) return;
    const data = Buffer.from(this.#parts.join(''), 'latin1');
    let done = 0;
    try {
      while (done < data.length) done += writeSync(this.#fd, data, done, data.length - done);
    } finally {
      // On a write error (disk full, I/O error) what was not written stays queued for the next try.
      const rest = data.subarray(done).toString('latin1');
      this.#parts = rest === '' ? [] : [rest];
      this.#bufferedBytes = rest.length;
      if (done > 0) this.#isDirty = true;
    }
  }
}
