// A simulated serial port: a pseudo-terminal whose slave the agent opens at a path we name (a
// symlink to /dev/pts/N), fed by us through socat. It can be unplugged (socat stops: the agent's
// reads fail with EIO as on a pulled USB adapter, the path vanishes) and plugged back in at the
// same path. Writes respect backpressure: when nobody reads, the PTY fills, socat stops reading
// its stdin, and `write` waits.
import { EventEmitter } from 'node:events';
import { unlinkSync } from 'node:fs';
import { socatWrittenBytes, startSocatPty, stopSocat, type SocatPty } from './socat.js';

/**
 * After a reader opens the port, serialport sets the line up and flushes the input queue
 * (tcflush TCIOFLUSH in its open): bytes arriving in that moment would be thrown away, so we
 * hold data back this long before the first byte.
 */
export const READER_SETTLE_MS = 250;

export interface PtyPortOptions {
  /** Path of the agent's end: a symlink to the PTY slave, created (parent folders too) and removed by us. */
  path: string;
  /** Hold data back until a reader has opened the port (default false: data flows at once, lost if unread, as on a real wire). */
  waitForReader?: boolean;
}

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
  #bytesWritten = 0;
  #bytesDropped = 0;
  /** wchar of socat processes already stopped by unplug, so delivery counts across replugs. */
  #deliveredBeforeUs = 0;
  #bytesWrittenToCurrent = 0;
  #lastWrite: Promise<void> = Promise.resolve();

  private constructor(path: string, pty: SocatPty) {
    super();
    this.path = path;
    this.#pty = pty;
    this.#devicePath = pty.devicePath;
  }

  /** Creates the port; resolves once its path exists. */
  static async open(options: PtyPortOptions): Promise<PtyPort> {
    const pty = await startSocatPty(options.path, options.waitForReader ?? false);
    const port = new PtyPort(options.path, pty);
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

  /** Bytes the device "sent" while unplugged: they went nowhere. */
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
   * Writes bytes as they are. Resolves when the port can take more (backpressure). While the port
   * is unplugged the bytes are dropped and counted in `bytesDropped`.
   */
  async write(bytes: Buffer): Promise<void> {
    const pty = this.#pty;
    if (!pty || this.#isClosed) {
      this.#bytesDropped += bytes.length;
      return;
    }
    const stdin = pty.child.stdin;
    let canTakeMore = true;
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
    // Wait for 'drain', or for socat to go away (unplug, close), which ends the wait too.
    await new Promise<void>((resolve) => {
      const done = (): void => {
        stdin.off('drain', done);
        stdin.off('close', done);
        resolve();
      };
      stdin.once('drain', done);
      stdin.once('close', done);
    });
  }

  /** Resolves when every byte written so far has been handed to socat's pipe. */
  async flush(): Promise<void> {
    await this.#lastWrite;
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
