// A simulated serial port: a pseudo-terminal whose slave the agent opens at a path we name (a
// symlink to /dev/pts/N), fed by us through socat. It can be unplugged (socat stops: the agent's
// reads fail with EIO as on a pulled USB adapter, the path vanishes) and plugged back in at the
// same path. A reader that is slow holds the writer back (backpressure: nothing lost); with no
// reader at all the bytes go nowhere, as on a real wire (unless `waitForReader`, see PtyPortOptions).
import { EventEmitter } from 'node:events';
import { unlinkSync } from 'node:fs';
import { hasPtyReader, socatWrittenBytes, startSocatPty, stopSocat, type SocatPty } from './socat.js';

/**
 * After a reader opens the port, serialport sets the line up and flushes the input queue
 * (tcflush TCIOFLUSH in its open): bytes arriving in that moment would be thrown away, so we
 * hold data back this long before the first byte.
 */
export const READER_SETTLE_MS = 250;

export interface PtyPortOptions {
  /** Path of the agent's end: a symlink to the PTY slave, created (parent folders too) and removed by us. */
  path: string;
  /**
   * true: hold data back until a reader has opened the port, and never drop anything (with no
   * reader, writes wait). false (default): data flows at once; while no process has the port open
   * (none yet, or the reader went away) and socat's input backs up past UNREAD_BACKLOG_BYTES, the
   * bytes are dropped and counted in `bytesDropped`, as a real wire loses what nobody listens to,
   * so a reader that opens later gets current data. A reader that has the port open but reads
   * slowly still holds the writer back (backpressure, nothing dropped).
   */
  waitForReader?: boolean;
}

/**
 * Bytes handed to socat but not yet passed into the PTY beyond which, with no reader, we stop
 * handing over (see PtyPortOptions.waitForReader). Below it, a reader present or not, bytes go in:
 * the few kB a PTY holds before socat blocks, which serialport flushes when it opens the port.
 */
export const UNREAD_BACKLOG_BYTES = 4096;
/** How often a write held back by a slow reader looks again whether the reader is still there. */
const READER_RECHECK_MS = 100;

export interface PtyPortEvents {
  unplugged: [];
  replugged: [devicePath: string];
}

const livePorts = new Set<PtyPort>();

export class PtyPort extends EventEmitter<PtyPortEvents> {
  readonly path: string;
  #pty: SocatPty | null;
  #devicePath: string;
  #isClosed = false;
  /** Aborted by close(): ends every write still waiting for the reader. */
  readonly #closing = new AbortController();
  #bytesWritten = 0;
  #bytesDropped = 0;
  /** wchar of socat processes already stopped by unplug, so delivery counts across replugs. */
  #deliveredBeforeUs = 0;
  #bytesWrittenToCurrent = 0;
  /** Bytes given to the current socat's stdin (written or still queued in it). */
  #bytesHandedToCurrent = 0;
  #lastWrite: Promise<void> = Promise.resolve();
  readonly #waitForReader: boolean;
  /** socat's backlog when last measured (see #isUnread). */
  #lastBacklog: { pty: SocatPty; handedBytes: number; backlogBytes: number } | null = null;

  private constructor(path: string, pty: SocatPty, waitForReader: boolean) {
    super();
    this.path = path;
    this.#waitForReader = waitForReader;
    this.#pty = pty;
    this.#devicePath = pty.devicePath;
  }

  /** Creates the port; resolves once its path exists. */
  static async open(options: PtyPortOptions): Promise<PtyPort> {
    const pty = await startSocatPty(options.path, options.waitForReader ?? false);
    const port = new PtyPort(options.path, pty, options.waitForReader ?? false);
    livePorts.add(port);
    return port;
  }

  /** The PTY slave the path points at (changes on replug). */
  get devicePath(): string {
    return this.#devicePath;
  }

  get isPlugged(): boolean {
    return this.#pty !== null;
  }

  /** Bytes handed to the port while plugged in. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** Bytes the device "sent" while unplugged, or while nobody read the port (see PtyPortOptions.waitForReader): they went nowhere. */
  get bytesDropped(): number {
    return this.#bytesDropped;
  }

  /** Resolves when a reader has opened the port and had time to set it up (with `waitForReader`). */
  async readerReady(): Promise<void> {
    const pty = this.#pty;
    if (!pty) return;
    await pty.transferStarted;
    await new Promise((r) => setTimeout(r, READER_SETTLE_MS));
  }

  /**
   * Writes bytes as they are. Resolves when the port can take more (backpressure from a slow
   * reader). While the port is unplugged, or nobody has it open (without `waitForReader`), the
   * bytes are dropped and counted in `bytesDropped`.
   */
  async write(bytes: Buffer): Promise<void> {
    const pty = this.#pty;
    if (!pty || this.#isClosed || (await this.#isUnread(pty))) {
      this.#bytesDropped += bytes.length;
      return;
    }
    const stdin = pty.child.stdin;
    let canTakeMore = true;
    this.#bytesHandedToCurrent += bytes.length;
    this.#lastWrite = new Promise<void>((resolve) => {
      canTakeMore = stdin.write(bytes, (err) => {
        if (err) {
          this.#bytesDropped += bytes.length;
        } else {
          this.#bytesWritten += bytes.length;
          this.#bytesWrittenToCurrent += bytes.length;
        }
        resolve();
      });
    });
    if (canTakeMore) return;
    // Wait for 'drain', or for socat to go away (unplug, close, or it ended by itself), or for
    // this port to be closed (a stop: Ctrl-C, SIGTERM), or (without waitForReader) for the reader
    // to go away; each ends the wait. socat gone before we got here: its stdin has already
    // closed and will never drain, so there is nothing to wait for (waiting would ignore a stop).
    const child = pty.child;
    if (stdin.destroyed || child.exitCode !== null || child.signalCode !== null || this.#isClosed) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        stdin.off('drain', done);
        stdin.off('close', done);
        child.off('exit', done);
        this.#closing.signal.removeEventListener('abort', done);
        clearInterval(recheck);
        resolve();
      };
      stdin.once('drain', done);
      stdin.once('close', done);
      child.once('exit', done);
      this.#closing.signal.addEventListener('abort', done, { once: true });
      const recheck = setInterval(() => void this.#isUnread(pty).then((isUnread) => isUnread && done()), READER_RECHECK_MS);
    });
  }

  /**
   * Resolves when every byte written so far has been handed to socat's pipe, or (without
   * waitForReader) when nobody reads the port any more: what is still queued then goes to the next
   * reader or nowhere.
   */
  async flush(): Promise<void> {
    const pty = this.#pty;
    if (this.#waitForReader || !pty) {
      await this.#lastWrite;
      return;
    }
    let recheck: NodeJS.Timeout | undefined;
    const unread = new Promise<void>((resolve) => {
      recheck = setInterval(() => void this.#isUnread(pty).then((isUnread) => isUnread && resolve()), READER_RECHECK_MS);
    });
    await Promise.race([this.#lastWrite, unread]);
    clearInterval(recheck);
  }

  /**
   * True when, without waitForReader, socat's input has backed up past UNREAD_BACKLOG_BYTES and
   * no process other than socat has the PTY open: nobody is reading. False when we cannot tell
   * (no /proc): then nothing is dropped and writes wait as with waitForReader.
   */
  async #isUnread(pty: SocatPty): Promise<boolean> {
    if (this.#waitForReader || pty !== this.#pty) return false;
    const handed = this.#bytesHandedToCurrent;
    // The backlog grows by at most what was handed over since it was last measured: while that
    // stays under the threshold, /proc need not be read again.
    const last = this.#lastBacklog;
    if (last && last.pty === pty && last.backlogBytes + (handed - last.handedBytes) <= UNREAD_BACKLOG_BYTES) return false;
    const wchar = await socatWrittenBytes(pty.child.pid);
    if (wchar === null) return false;
    const backlog = handed - Math.max(0, wchar - pty.outputBytes());
    this.#lastBacklog = { pty, handedBytes: handed, backlogBytes: backlog };
    if (backlog <= UNREAD_BACKLOG_BYTES) return false;
    return (await hasPtyReader(pty.devicePath, pty.child.pid)) === false;
  }

  /**
   * Bytes socat has passed on into the PTY (all plug-ins together), or null where /proc cannot
   * tell. The PTY holds at most a few kB more that the reader has not read yet.
   */
  async deliveredBytes(): Promise<number | null> {
    const pty = this.#pty;
    if (!pty) return this.#deliveredBeforeUs;
    const wchar = await socatWrittenBytes(pty.child.pid);
    if (wchar === null) return null;
    return this.#deliveredBeforeUs + Math.min(this.#bytesWrittenToCurrent, Math.max(0, wchar - pty.outputBytes()));
  }

  /** Pulls the plug: socat stops, the reader's next read fails, the path disappears. */
  async unplug(): Promise<void> {
    const pty = this.#pty;
    if (!pty) return;
    const delivered = await this.deliveredBytes();
    this.#pty = null;
    await stopSocat(pty.child, this.path);
    this.#deliveredBeforeUs = delivered ?? this.#deliveredBeforeUs + this.#bytesWrittenToCurrent;
    this.#bytesWrittenToCurrent = 0;
    this.#bytesHandedToCurrent = 0;
    this.emit('unplugged');
  }

  /** Plugs the port back in at the same path (a new PTY: the reader must open the path again). */
  async replug(): Promise<void> {
    if (this.#pty || this.#isClosed) return;
    const pty = await startSocatPty(this.path, false);
    if (this.#isClosed) {
      await stopSocat(pty.child, this.path);
      return;
    }
    this.#pty = pty;
    this.#devicePath = pty.devicePath;
    this.emit('replugged', pty.devicePath);
  }

  /** Removes the port for good. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#closing.abort();
    livePorts.delete(this);
    const pty = this.#pty;
    this.#pty = null;
    if (pty) await stopSocat(pty.child, this.path);
  }

  /** Synchronous last-chance cleanup for process 'exit': kill socat and remove the symlink. */
  killNow(): void {
    const pty = this.#pty;
    if (pty && pty.child.exitCode === null) pty.child.kill('SIGTERM');
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

/** Closes every port this process opened (for signal handlers and test teardown). */
export async function closeAllPorts(): Promise<void> {
  await Promise.all([...livePorts].map((p) => p.close()));
}

/** Kills every port's socat at once, synchronously (process 'exit' handlers cannot wait). */
export function killAllPortsNow(): void {
  for (const p of livePorts) p.killNow();
}
