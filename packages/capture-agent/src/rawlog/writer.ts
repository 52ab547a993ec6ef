// Append-only raw serial log for one port (format: @flysnap/shared rawlog v2). Lines are encoded
// at once and kept in memory; flush() writes them and fsyncs. The agent flushes on a timer of at
// most a second, so a kill -9 or power cut loses at most that second; a write that the kernel
// took survives kill -9 even before fsync (page cache), fsync is for the power cut.
//
// A log that cannot be written (disk full, I/O error) never throws at the caller: append() is
// called from a serial port's data handler, where a throw would end the process and with it every
// port and every sample not yet in the DB. The entries stay in memory (up to maxHeldBytes, then
// further entries are counted and dropped, with a comment in the log where they were) and flush()
// retries; each change (failing, recovered, dropping) is reported once to `onReport`.
// A log file removed while open (its folder deleted) would silently swallow every later write
// into an unlinked inode: flush() notices (no link left), recreates the file at its path with the
// whole content written so far (offsets unchanged), and reports it.
import { closeSync, fdatasyncSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { encodeRawLogLine, rawLogHeader } from '@flysnap/shared';

export type RawLogErrorCode =
  /** write() or fsync() of the log failed (errno in `sysCode`: ENOSPC, EIO, …). */
  | 'WRITE_FAILED'
  /** The log file was removed while open and could not be created again at its path. */
  | 'RECREATE_FAILED';

export class RawLogError extends Error {
  override readonly name = 'RawLogError';
  constructor(
    readonly code: RawLogErrorCode,
    /** The log file. */
    readonly path: string,
    /** The system error code (ENOSPC, EIO, ENOENT…), or '' when there is none. */
    readonly sysCode: string,
    detail: string,
  ) {
    super(`raw log ${path}: ${detail}`);
  }
}

/** One change in the log's health, reported once (see RawLogWriterOptions.onReport). */
export interface RawLogReport {
  code: 'raw-log-write-failed' | 'raw-log-recovered' | 'raw-log-recreated' | 'raw-log-dropping' | 'raw-log-lost';
  level: 'info' | 'warn' | 'error';
  /** Names the log file and what happened. */
  message: string;
  error: RawLogError | null;
  /** Entries held in memory, not yet written, bytes. */
  heldBytes: number;
  /** Entries dropped so far because too much was held. */
  droppedEntries: number;
  droppedBytes: number;
}

export interface RawLogWriterOptions {
  /** Port name written in the header. */
  port: string;
  /** Extra header fields (e.g. device path, baud rate, session start). */
  header?: Record<string, string>;
  /** Write out once this much is buffered, bytes, even before the timer. Default 1 MiB. */
  maxBufferedBytes?: number;
  /**
   * Most bytes held in memory while the log cannot be written; entries beyond are dropped (and
   * counted) rather than growing the process until it dies. Default 16 MiB (over an hour of a
   * 38400-baud port sending all the time; several hours of a usual GPS).
   */
  maxHeldBytes?: number;
  /** Told once of each change: failing, recovered, recreated, dropping, lost at close. Must not throw. */
  onReport?: (report: RawLogReport) => void;
}

const DEFAULT_MAX_BUFFERED_BYTES = 1 << 20;
const DEFAULT_MAX_HELD_BYTES = 16 << 20;
/** Most bytes handed to one write() call. */
const WRITE_CHUNK_BYTES = 1 << 20;
/** Chunk for copying a removed log's content into its new file. */
const COPY_CHUNK_BYTES = 1 << 20;

function sysCodeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? '';
}

export class RawLogWriter {
  readonly path: string;
  #fd: number;
  /** Encoded entries not yet written: #parts[#head..]. */
  #parts: string[] = [];
  #head = 0;
  #bufferedBytes = 0;
  /** Byte offset in the file of the next line appended. */
  #offset: number;
  /** Bytes of the file actually written (the rest of #offset is buffered). */
  #writtenBytes: number;
  readonly #maxBufferedBytes: number;
  readonly #maxHeldBytes: number;
  readonly #onReport: ((report: RawLogReport) => void) | null;
  #isDirty = false;
  /** Set while the log cannot be written; cleared by the flush that writes everything. */
  #error: RawLogError | null = null;
  #droppedEntries = 0;
  #droppedBytes = 0;
  /** Dropped since the last comment about it was queued. */
  #unnotedDroppedEntries = 0;
  #unnotedDroppedBytes = 0;
  /** Entries are being dropped (reported once per episode). */
  #isDropping = false;

  /** Opens (creating folders and file) for append; a reopened log gets a '\n' if cut mid-line, then a fresh header. */
  constructor(path: string, options: RawLogWriterOptions) {
    this.path = path;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.#maxHeldBytes = Math.max(options.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES, this.#maxBufferedBytes);
    this.#onReport = options.onReport ?? null;
    mkdirSync(dirname(path), { recursive: true });
    this.#fd = openSync(path, 'a+', 0o644);
    const size = fstatSync(this.#fd).size;
    this.#offset = size;
    this.#writtenBytes = size;
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(this.#fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n'; // the previous session was cut mid-line (power cut)
    }
    this.#push(prefix + rawLogHeader(options.port, options.header ?? {}));
    // A header that cannot be written yet (disk full) is held and reported like any entry: the
    // port still captures into the DB. Only a log that cannot be opened at all throws, above.
    this.flush();
  }

  /** Bytes written or buffered so far: the offset the next line will have. */
  get offset(): number {
    return this.#offset;
  }

  /** Why the log cannot be written now, or null when it can. */
  get error(): RawLogError | null {
    return this.#error;
  }

  /** Bytes appended and not yet written to the file. */
  get heldBytes(): number {
    return this.#bufferedBytes;
  }

  /** Entries dropped because too much was held while the log could not be written. */
  get droppedEntries(): number {
    return this.#droppedEntries;
  }

  /**
   * Appends one received piece: its bytes without the framing '\n', and whether it had that '\n'
   * (`hasLf`, the usual line) or not: cut at maxLineBytes (`isCut`), or a partial line flushed at
   * unplug/stop. Returns the entry's byte offset in the file (nav_sample.raw_offset), or null when
   * the entry was dropped (the log has been failing and holds maxHeldBytes). Never throws.
   */
  append(monoUs: number, utcUs: number | null, bytes: Uint8Array, hasLf = true, isCut = false): number | null {
    const line = encodeRawLogLine({ monoUs, utcUs, bytes, hasLf, isCut });
    // After dropped entries, the note saying so goes first; while it does not fit either, the
    // entry is dropped too (the log keeps the order in which things were received).
    if (this.#unnotedDroppedEntries > 0) this.#noteDrops(line.length);
    if (this.#unnotedDroppedEntries > 0 || this.#bufferedBytes + line.length > this.#maxHeldBytes) {
      if (!this.#isDropping) {
        this.#isDropping = true;
        this.#report('raw-log-dropping', 'error', `raw log ${this.path}: ${this.#bufferedBytes} bytes held unwritten (${this.#error?.sysCode || 'write failing'}): entries received from now on are dropped until it can be written`);
      }
      this.#droppedEntries++;
      this.#droppedBytes += line.length;
      this.#unnotedDroppedEntries++;
      this.#unnotedDroppedBytes += line.length;
      return null;
    }
    const at = this.#offset;
    this.#push(line);
    // While failing, only flush() retries: a failing syscall per received line would be wasted.
    if (this.#error === null && this.#bufferedBytes >= this.#maxBufferedBytes) this.#tryWrite();
    return at;
  }

  /**
   * Writes what is buffered and fsyncs (data only). Cheap when nothing changed. Never throws: a
   * failure is kept in `error` (and reported), everything stays buffered for the next call.
   */
  flush(): void {
    const isLinked = this.#checkStillLinked();
    if (!this.#tryWrite()) return;
    if (this.#unnotedDroppedEntries > 0) {
      // Everything held is written: the note about what was dropped after it now fits.
      this.#noteDrops(0);
      if (!this.#tryWrite()) return;
    }
    if (this.#isDirty) {
      try {
        fdatasyncSync(this.#fd);
      } catch (err) {
        this.#fail(err, 'fsync');
        return;
      }
      this.#isDirty = false;
    }
    if (this.#error !== null && isLinked) {
      const was = this.#error;
      this.#error = null;
      this.#isDropping = false;
      const dropped = this.#droppedEntries > 0 ? `; ${this.#droppedEntries} entries dropped meanwhile (marked in the log)` : '; nothing received was lost';
      this.#report('raw-log-recovered', 'info', `raw log ${this.path}: written again after failing (${was.sysCode || was.code}), everything held is now written${dropped}`);
    }
  }

  /** Flushes and closes. Whatever still cannot be written is reported ('raw-log-lost') and let go. */
  close(): void {
    if (this.#fd < 0) return;
    this.flush();
    try {
      fsyncSync(this.#fd);
    } catch (err) {
      this.#fail(err, 'fsync');
    }
    if (this.#bufferedBytes > 0 || this.#error !== null) {
      this.#report('raw-log-lost', 'error', `raw log ${this.path}: closed with ${this.#bufferedBytes} bytes that could not be written (${this.#error?.sysCode || this.#error?.code || 'unknown'})`);
    }
    closeSync(this.#fd);
    this.#fd = -1;
  }

  #push(text: string): void {
    // The format is pure ASCII: string length is byte length.
    this.#parts.push(text);
    this.#bufferedBytes += text.length;
    this.#offset += text.length;
  }

  /**
   * Queues the comment that marks where entries were dropped, if it fits with `nextBytes` more.
   * A comment line ('#') is skipped by every reader of the format.
   */
  #noteDrops(nextBytes: number): void {
    const note = `# ${this.#unnotedDroppedEntries} entries (${this.#unnotedDroppedBytes} bytes) received here were dropped: the log could not be written and already held ${this.#maxHeldBytes} bytes\n`;
    if (this.#bufferedBytes + note.length + nextBytes > this.#maxHeldBytes) return;
    this.#push(note);
    this.#unnotedDroppedEntries = 0;
    this.#unnotedDroppedBytes = 0;
  }

  /**
   * Writes what is buffered, oldest first, in chunks (a long-held backlog is never joined into one
   * string per retry); false (and failing) when not all of it could be written.
   */
  #tryWrite(): boolean {
    const parts = this.#parts;
    while (this.#head < parts.length) {
      let end = this.#head;
      let n = 0;
      while (end < parts.length && (n === 0 || n + (parts[end] as string).length <= WRITE_CHUNK_BYTES)) n += (parts[end++] as string).length;
      const data = Buffer.from(end - this.#head === 1 ? (parts[this.#head] as string) : parts.slice(this.#head, end).join(''), 'latin1');
      let done = 0;
      let failure: unknown = null;
      try {
        while (done < data.length) done += writeSync(this.#fd, data, done, data.length - done);
      } catch (err) {
        failure = err;
      }
      this.#bufferedBytes -= done;
      this.#writtenBytes += done;
      if (done > 0) this.#isDirty = true;
      if (failure !== null) {
        // What was not written stays queued, in order, for the next try.
        for (let i = this.#head; i < end - 1; i++) parts[i] = '';
        this.#head = end - 1;
        parts[this.#head] = data.subarray(done).toString('latin1');
        this.#fail(failure, 'write');
        return false;
      }
      for (let i = this.#head; i < end; i++) parts[i] = ''; // written: let go of it now
      this.#head = end;
    }
    this.#parts = [];
    this.#head = 0;
    return true;
  }

  #fail(err: unknown, what: 'write' | 'fsync'): void {
    const sysCode = sysCodeOf(err);
    const error = new RawLogError('WRITE_FAILED', this.path, sysCode, `${what} failed (${sysCode || (err as Error).message}); ${this.#bufferedBytes} bytes held in memory, retried on every flush`);
    const isNew = this.#error === null;
    // A removed log that cannot be created again is the more telling error: it stays (and was
    // reported); one failure episode is one report, however many flushes fail.
    if (this.#error?.code !== 'RECREATE_FAILED') this.#error = error;
    if (isNew) this.#report('raw-log-write-failed', 'error', error.message);
  }

  /**
   * A log whose file was removed (nlink 0: its folder deleted, or the file itself) is recreated at
   * its path with everything written to the removed file, so nothing is lost and offsets hold.
   */
  #checkStillLinked(): boolean {
    let nlink: number;
    try {
      nlink = fstatSync(this.#fd).nlink;
    } catch {
      return true; // a failing fstat says nothing about the link; the write will report its own error
    }
    if (nlink > 0) return true;
    let fd = -1;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      // 'x': a file someone else made at the path meanwhile is never overwritten; 'a' as the log's own.
      fd = openSync(this.path, 'ax+', 0o644);
      const chunk = Buffer.alloc(Math.min(COPY_CHUNK_BYTES, Math.max(1, this.#writtenBytes)));
      for (let pos = 0; pos < this.#writtenBytes; ) {
        const n = readSync(this.#fd, chunk, 0, Math.min(chunk.length, this.#writtenBytes - pos), pos);
        if (n === 0) break; // cannot happen: the removed file still holds what was written
        for (let w = 0; w < n; ) w += writeSync(fd, chunk, w, n - w);
        pos += n;
      }
      fdatasyncSync(fd);
    } catch (err) {
      if (fd >= 0) {
        // Made by this call (exclusive create) and incomplete: removed, so the next flush can retry.
        closeSync(fd);
        try {
          unlinkSync(this.path);
        } catch {
          /* already gone */
        }
      }
      const sysCode = sysCodeOf(err);
      const error = new RawLogError('RECREATE_FAILED', this.path, sysCode, `the file was removed while open and cannot be created again (${sysCode || (err as Error).message}); writing on into the removed file`);
      const isNew = this.#error === null;
      this.#error = error;
      if (isNew) this.#report('raw-log-write-failed', 'error', error.message);
      return false;
    }
    closeSync(this.#fd);
    this.#fd = fd;
    if (this.#error?.code === 'RECREATE_FAILED') this.#error = null;
    this.#report('raw-log-recreated', 'error', `raw log ${this.path}: the file was removed while open (its folder deleted?); created again with the ${this.#writtenBytes} bytes written so far`);
    return true;
  }

  #report(code: RawLogReport['code'], level: RawLogReport['level'], message: string): void {
    if (this.#onReport === null) return;
    const report: RawLogReport = {
      code,
      level,
      message,
      error: this.#error,
      heldBytes: this.#bufferedBytes,
      droppedEntries: this.#droppedEntries,
      droppedBytes: this.#droppedBytes,
    };
    try {
      this.#onReport(report);
    } catch {
      /* a report must never take the capture down */
    }
  }
}
