// A simulated serial port: a pseudo-terminal whose slave the agent opens at a path we name (a
// symlink to /dev/pts/N), fed by us through socat. It can be unplugged (socat stops: the agent's
// reads fail with EIO as on a pulled USB adapter, the path vanishes) and plugged back in at the
// same path. A reader that is slow holds the writer back (backpressure: nothing lost); with no
// reader at all the bytes go nowhere, as on a real wire (unless `waitForReader`, see PtyPortOptions).
import { EventEmitter } from 'node:events';
import { closeSync, constants as fsConstants, openSync, readSync, unlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fdsStillOn, hasPtyReader, ptyFdsOf, ptyReaderPids, socatWrittenBytes, startSocatPty, stopSocat, type SocatPty } from './socat.js';

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
   * true: data goes into the PTY only while a reader has the port open, starting READER_SETTLE_MS
   * after it opened it (each time it opens it: the first reader and every reopen); with no reader,
   * writes wait. When the reader closes the port, what it had not read yet (and what was written
   * before we noticed the close, at most READER_RECHECK_MS later) is taken back out of the PTY and
   * given to the next reader first, in order: every byte written is read by some reader, as long
   * as a reader comes (and the port is not unplugged or closed meanwhile: what is held then is
   * counted in `bytesDropped`). Limit: a reader that closes and reopens the port within
   * READER_RECHECK_MS (the same process; we cannot see that it went away) has what was queued for
   * it flushed by its reopen. Where /proc cannot tell who has the port open, only the first reader
   * is waited for (socat's wait-slave). false (default): data flows at once; while no process has the port open
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
/**
 * How often a write held back by a slow reader looks again whether the reader is still there; with
 * waitForReader, how often a reader's processes are looked at (their fd tables only) to notice it
 * closed the port.
 */
export const READER_RECHECK_MS = 100;
/** With waitForReader, how often a write waiting for a reader scans /proc for one (~10 ms CPU a scan). */
const READER_POLL_MS = 250;
/** How long taking unread bytes back out of a PTY may wait for socat to pass on what it holds. */
const RECOVER_TIMEOUT_MS = 2000;

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
  // waitForReader only:
  /** Processes of the reader that has the current PTY open (settled), or null: none known, writes wait. */
  #readerPids: Set<number> | null = null;
  /** Its descriptors on the PTY (`/proc/PID/fd/N`): one readlink each tells it is still there. */
  #readerFds: string[] = [];
  /** The timer that looks whether the reader is still there (see #watchReader). */
  #watchTimer: NodeJS.Timeout | null = null;
  /** Running while unread bytes are taken back out of the PTY (see #recover). */
  #recovering: Promise<void> = Promise.resolve();
  /** Bytes taken back out of the PTY, for the next reader (first, in order). */
  #heldBack: Buffer[] = [];
  /** Bytes taken back out of the current PTY so far (socat counted them as passed on once already). */
  #takenBackFromCurrent = 0;
  /** Writes one after another (each may wait for a reader). */
  #queue: Promise<void> = Promise.resolve();

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

  /**
   * Resolves when a reader has opened the port and had time to set it up (with `waitForReader`;
   * then the writes that follow need not wait for it again, unless it goes away).
   */
  async readerReady(): Promise<void> {
    const pty = this.#pty;
    if (!pty) return;
    await pty.transferStarted;
    if (!this.#waitForReader) {
      await new Promise((r) => setTimeout(r, READER_SETTLE_MS));
      return;
    }
    const run = this.#queue.then(async () => void (await this.#readerReadyFor(pty)));
    this.#queue = run;
    await run;
  }

  /**
   * Writes bytes as they are. Resolves when the port can take more (backpressure from a slow
   * reader). While the port is unplugged, or nobody has it open (without `waitForReader`), the
   * bytes are dropped and counted in `bytesDropped`. With `waitForReader`, writes go in order and
   * each waits until a reader has the port open (see PtyPortOptions.waitForReader).
   */
  async write(bytes: Buffer): Promise<void> {
    if (!this.#waitForReader) return this.#writeNow(bytes);
    const run = this.#queue.then(() => this.#writeForReader(bytes));
    this.#queue = run;
    return run;
  }

  /** With waitForReader: waits for a reader (settled), gives it what was held back, then `bytes`. */
  async #writeForReader(bytes: Buffer): Promise<void> {
    const pty = this.#pty;
    if (!pty || this.#isClosed || !(await this.#readerReadyFor(pty))) {
      this.#bytesDropped += bytes.length;
      return;
    }
    await this.#writeNow(bytes);
  }

  async #writeNow(bytes: Buffer, isHeldBack = false): Promise<void> {
    const pty = this.#pty;
    if (!pty || this.#isClosed || (await this.#isUnread(pty))) {
      this.#bytesDropped += bytes.length;
      if (isHeldBack) this.#bytesWritten -= bytes.length;
      return;
    }
    const stdin = pty.child.stdin;
    let canTakeMore = true;
    this.#bytesHandedToCurrent += bytes.length;
    this.#lastWrite = new Promise<void>((resolve) => {
      canTakeMore = stdin.write(bytes, (err) => {
        if (err) {
          this.#bytesDropped += bytes.length;
          // Held-back bytes were counted as written when first handed over.
          if (isHeldBack) this.#bytesWritten -= bytes.length;
        } else if (!isHeldBack) {
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
    if (this.#waitForReader) {
      // Also: what was taken back from a reader that went away waits for the next one.
      const run = this.#queue.then(async () => {
        await this.#recovering;
        const current = this.#pty;
        if (current && !this.#isClosed && this.#heldBack.length > 0) await this.#readerReadyFor(current);
      });
      this.#queue = run;
      await run;
      await this.#lastWrite;
      return;
    }
    if (!pty) {
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
   * With waitForReader: resolves true once a reader has the PTY open and has had READER_SETTLE_MS to
   * set it up, after handing over what was held back for it; false when the wait ended because the
   * port was unplugged or closed or socat ended (the caller drops its bytes). Where /proc cannot
   * tell, true once socat's wait-slave saw the first reader.
   */
  async #readerReadyFor(pty: SocatPty): Promise<boolean> {
    await this.#recovering;
    if (this.#readerPids !== null) return true;
    const isOver = (): boolean =>
      this.#pty !== pty || this.#isClosed || pty.child.exitCode !== null || pty.child.signalCode !== null;
    for (;;) {
      if (isOver()) return false;
      const pids = await ptyReaderPids(pty.devicePath, pty.child.pid);
      if (pids === null) {
        await Promise.race([pty.transferStarted, this.#ended(pty)]);
        return !isOver();
      }
      if (pids.size > 0) {
        // serialport's open flushes the PTY just after the open we saw: let it finish first.
        await sleep(READER_SETTLE_MS);
        if (isOver()) return false;
        const fds = await ptyFdsOf(pids, pty.devicePath);
        if (fds.length > 0) {
          this.#readerPids = pids;
          this.#readerFds = fds;
          this.#watchReader(pty);
          break;
        }
        continue;
      }
      await sleep(READER_POLL_MS);
    }
    const held = Buffer.concat(this.#heldBack);
    this.#heldBack = [];
    if (held.length > 0) await this.#writeNow(held, true);
    return true;
  }

  /** Resolves when socat ends, the port is closed, or it is unplugged (polled). */
  async #ended(pty: SocatPty): Promise<void> {
    while (this.#pty === pty && !this.#isClosed && pty.child.exitCode === null && pty.child.signalCode === null) {
      await sleep(READER_RECHECK_MS);
    }
  }

  /**
   * While a reader is known, looks every READER_RECHECK_MS (a readlink of its descriptors on the
   * PTY: ~0.05 ms CPU) whether it still has the port open; when it closed it, stops writes going in and takes what it
   * did not read back out of the PTY (#recover).
   */
  #watchReader(pty: SocatPty): void {
    const pids = this.#readerPids;
    if (!pids) return;
    this.#watchTimer = setTimeout(() => {
      this.#watchTimer = null;
      void (async (): Promise<void> => {
        if (this.#pty !== pty || this.#isClosed || this.#readerPids !== pids) return;
        // Its known descriptors (cheap), else its processes' whole fd tables (it may have reopened).
        let isThere = await fdsStillOn(this.#readerFds, pty.devicePath);
        if (!isThere) {
          const fds = await ptyFdsOf(pids, pty.devicePath);
          isThere = fds.length > 0;
          if (isThere && this.#readerPids === pids) this.#readerFds = fds;
        }
        if (isThere) {
          if (this.#readerPids === pids) this.#watchReader(pty);
          return;
        }
        if (this.#readerPids !== pids || this.#pty !== pty) return;
        this.#readerPids = null;
        this.#recovering = this.#recover(pty);
      })();
    }, READER_RECHECK_MS);
    this.#watchTimer.unref();
  }

  /**
   * The reader closed the port: lets socat pass on what it still holds, then opens the PTY slave
   * itself and reads out everything queued there (what the reader did not read, which the next
   * reader's open would flush), to give it to the next reader first. Writes wait meanwhile.
   */
  async #recover(pty: SocatPty): Promise<void> {
    let fd: number;
    try {
      fd = openSync(pty.devicePath, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY);
    } catch {
      return; // the PTY is gone (unplugged, socat ended): nothing to take back
    }
    const deadline = performance.now() + RECOVER_TIMEOUT_MS;
    try {
      for (;;) {
        const buf = Buffer.alloc(65_536);
        let n = 0;
        try {
          n = readSync(fd, buf, 0, buf.length, null);
        } catch {
          n = 0; // EAGAIN: the queue is empty for now (EIO: socat ended)
        }
        if (n > 0) {
          this.#heldBack.push(buf.subarray(0, n));
          this.#takenBackFromCurrent += n;
          continue;
        }
        // Empty: done once socat has passed on everything it was given.
        const wchar = await socatWrittenBytes(pty.child.pid);
        if (wchar === null || this.#pty !== pty) break;
        const passed = wchar - pty.outputBytes();
        if (passed >= this.#bytesHandedToCurrent || performance.now() > deadline) break;
        await sleep(5);
      }
    } finally {
      closeSync(fd);
    }
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
    const passed = wchar - pty.outputBytes() - this.#takenBackFromCurrent;
    return this.#deliveredBeforeUs + Math.min(this.#bytesWrittenToCurrent, Math.max(0, passed));
  }

  /** Pulls the plug: socat stops, the reader's next read fails, the path disappears. */
  async unplug(): Promise<void> {
    const pty = this.#pty;
    if (!pty) return;
    const delivered = await this.deliveredBytes();
    this.#pty = null;
    this.#forgetReader();
    await stopSocat(pty.child, this.path);
    this.#deliveredBeforeUs = delivered ?? this.#deliveredBeforeUs + this.#bytesWrittenToCurrent;
    this.#bytesWrittenToCurrent = 0;
    this.#bytesHandedToCurrent = 0;
    this.#takenBackFromCurrent = 0;
    this.emit('unplugged');
  }

  /** Plugs the port back in at the same path (a new PTY: the reader must open the path again). */
  async replug(): Promise<void> {
    if (this.#pty || this.#isClosed) return;
    const pty = await startSocatPty(this.path, this.#waitForReader);
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
    this.#forgetReader();
    if (pty) await stopSocat(pty.child, this.path);
  }

  /** The PTY goes away (unplug, close): no reader any more; what was held back for one is lost. */
  #forgetReader(): void {
    this.#readerPids = null;
    this.#readerFds = [];
    if (this.#watchTimer) clearTimeout(this.#watchTimer);
    this.#watchTimer = null;
    for (const b of this.#heldBack) {
      this.#bytesDropped += b.length;
      this.#bytesWritten -= b.length; // counted as written when first handed over
    }
    this.#heldBack = [];
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
