// One supervisor per configured serial port: opens it, frames lines, and keeps it open. On a
// missing device, a failed open (any error), an unplug or a read error, it closes and retries with
// a doubling delay, for ever, until the device is back. A silent port (no byte for watchdogMs) is
// reopened (a hung USB adapter often needs it); while it stays silent it is reopened again after
// twice as long each time (up to SILENT_REOPEN_MAX_MS), and listens in between: cycling it often
// would lose whatever arrives while it is closed, never cycling it would leave a port that opened
// but delivers nothing open for ever. An open that never calls back (serialport opens on libuv's
// thread pool: a pool starved by I/O stuck on a hung disk or USB device, or a driver whose open
// blocks) is given up on after openTimeoutMs and counts as a failed open; whatever it opens later is
// closed unread. No close or open that never calls back holds up a reopen or stop() for more than
// CLOSE_WAIT_MS. Every status change is reported once.
import { existsSync } from 'node:fs';
import { SerialPort } from 'serialport';
import type { Logger } from '../log/index.js';
import type { PortConfig } from '../config/index.js';
import { LineSplitter } from './lineSplitter.js';
import { monoNowUs } from './monoClock.js';
import { PortError } from './portError.js';

/**
 * Longest wait for a lost port's close before reopening anyway, ms. The old descriptor holds the
 * device's exclusive lock (flock) until its close is done: an open before that fails with
 * 'Cannot lock port' (seen about once in 300 immediate reopens on a PTY), a needless failed attempt.
 */
const CLOSE_WAIT_MS = 2000;
/**
 * Longest wait for a port's open() to call back, ms, before the attempt counts as failed. A healthy
 * open (open(2), flock, termios) takes milliseconds; a USB serial driver may wait on a control
 * transfer, whose usual timeout in Linux drivers is 5 s (USB_CTRL_SET_TIMEOUT): 10 s lets such a slow
 * but working open finish, yet a port stuck behind a starved thread pool or a blocked driver is
 * reported and retried within seconds instead of never.
 */
export const OPEN_TIMEOUT_MS = 10_000;
/** Longest silence between two watchdog reopens of a port that stays silent, ms (or watchdogMs, if longer). */
export const SILENT_REOPEN_MAX_MS = 60_000;

/**
 * open: bytes are flowing; silent: no byte for watchdogMs (reopened, and again while it stays so);
 * reconnecting: lost or failed, retrying; missing: never opened yet, device absent;
 * closed: stopped by the agent.
 */
export type PortState = 'open' | 'silent' | 'reconnecting' | 'missing' | 'closed';

export interface PortStatusChange {
  port: string;
  state: PortState;
  previous: PortState | null;
  /** What went wrong, for silent/reconnecting/missing. */
  error: PortError | null;
  monoUs: number;
}

export interface PortSink {
  /** One received line with its terminator, as received. `isCut`: cut at maxLineBytes. */
  line(bytes: Buffer, monoUs: number, isCut: boolean): void;
  status(change: PortStatusChange): void;
}

/** Settings of the supervisor itself (the port's own are in its PortConfig). */
export interface PortSupervisorOptions {
  /** Longest wait for an open to call back, ms. Default OPEN_TIMEOUT_MS; tests use less. */
  openTimeoutMs?: number;
}

/** One call of open() on a port object. */
interface OpenAttempt {
  /** Generation: every open() gets the next number; only the current one's callback is used. */
  readonly attempt: number;
  readonly port: SerialPort;
  readonly startedMonoUs: number;
  /** Resolves once the port is let go of: its open called back, and any descriptor that is not used closed (or CLOSE_WAIT_MS passed). */
  readonly released: Promise<void>;
}

export class PortSupervisor {
  readonly #config: PortConfig;
  readonly #sink: PortSink;
  readonly #log: Logger;
  readonly #splitter: LineSplitter;
  #port: SerialPort | null = null;
  #state: PortState | null = null;
  #isStopped = false;
  /** stop() has returned: bytes a close still pending then delivers have nowhere to go. */
  #isClosed = false;
  readonly #openTimeoutMs: number;
  /** Number of the last open() started (see OpenAttempt.attempt). */
  #attempt = 0;
  /** The current attempt, whose open() has not called back yet. */
  #opening: OpenAttempt | null = null;
  #openTimer: NodeJS.Timeout | null = null;
  /**
   * An attempt given up on (open timed out) that is not let go of yet. While it is, no other open
   * of this port is started: each would be one more pool thread held if the driver blocks (until
   * the whole process's pool, file I/O included, is starved), and it would race the late one for
   * the device's lock.
   */
  #stale: OpenAttempt | null = null;
  /** A lost port's close that the reopen waits for (at most CLOSE_WAIT_MS); stop() waits for it too. */
  #closing: Promise<void> | null = null;
  #retryDelayMs: number;
  #retryTimer: NodeJS.Timeout | null = null;
  #watchdog: NodeJS.Timeout | null = null;
  #lastByteMonoUs = 0;
  /** Receive time of the chunk being split (all lines framed from one chunk share it). */
  #chunkMonoUs = 0;
  #hasEverOpened = false;
  #openCount = 0;
  /** Watchdog reopens since the last byte: the next one waits watchdogMs × 2^this (capped). */
  #silentReopens = 0;
  #lineErrors = 0;

  constructor(config: PortConfig, sink: PortSink, log: Logger, options: PortSupervisorOptions = {}) {
    this.#config = config;
    this.#sink = sink;
    this.#log = log;
    this.#openTimeoutMs = options.openTimeoutMs ?? OPEN_TIMEOUT_MS;
    this.#retryDelayMs = config.reconnectMinMs;
    this.#splitter = new LineSplitter(config.maxLineBytes, (bytes, isCut) => this.#deliver(bytes, isCut));
  }

  get name(): string {
    return this.#config.name;
  }

  get state(): PortState | null {
    return this.#state;
  }

  /** Successful opens since start: the first, and every reopen (after a loss or a silence). */
  get openCount(): number {
    return this.#openCount;
  }

  /** Lines cut at maxLineBytes since start. */
  get cutLineCount(): number {
    return this.#splitter.cutCount;
  }

  /** Lines whose handling by the sink threw (each logged; see #deliver). */
  get lineErrorCount(): number {
    return this.#lineErrors;
  }

  /** Bytes received and held waiting for their LF (emitted, without LF, at unplug or stop). */
  get pendingBytes(): number {
    return this.#splitter.pendingBytes;
  }

  start(): void {
    this.#isStopped = false;
    this.#isClosed = false;
    this.#open();
  }

  /**
   * Closes the port and emits any partial line held. Resolves when the device is closed, or after
   * CLOSE_WAIT_MS if an open or a close does not call back (whatever such an open opens later is
   * closed unread).
   */
  async stop(): Promise<void> {
    this.#isStopped = true;
    this.#clearTimers();
    await this.#closePort();
    this.#splitter.flush();
    this.#isClosed = true;
    this.#setState('closed', null);
  }

  #setState(state: PortState, error: PortError | null): void {
    if (state === this.#state) return;
    const previous = this.#state;
    this.#state = state;
    const fields = { port: this.#config.name, path: this.#config.path, state, previous, code: error?.code };
    if (state === 'open' || state === 'closed') this.#log.info(fields, `port ${state}`);
    else this.#log.warn({ ...fields, err: error?.message }, `port ${state}`);
    this.#sink.status({ port: this.#config.name, state, previous, error, monoUs: monoNowUs() });
  }

  #open(): void {
    if (this.#isStopped) return;
    const { name, path } = this.#config;
    const stale = this.#stale;
    if (stale !== null) {
      // See #stale: this attempt fails at once; the next follows with the usual backoff.
      const pendingMs = Math.round((monoNowUs() - stale.startedMonoUs) / 1000);
      this.#log.debug({ port: name, path, attempt: stale.attempt, pendingMs }, 'an open given up on has not returned yet: not opening again');
      this.#fail(new PortError('OPEN_FAILED', name, path, `an earlier open has not returned after ${pendingMs} ms`));
      return;
    }
    if (!existsSync(path)) {
      this.#fail(new PortError('MISSING', name, path, 'device not found'));
      return;
    }
    let port: SerialPort;
    try {
      port = new SerialPort({
        path,
        baudRate: this.#config.baudRate,
        dataBits: this.#config.dataBits,
        parity: this.#config.parity,
        stopBits: this.#config.stopBits,
        autoOpen: false,
        // Exclusive open (flock): another process reading the same device would steal bytes.
        lock: true,
      });
    } catch (err) {
      this.#fail(new PortError('OPEN_FAILED', name, path, (err as Error).message));
      return;
    }
    this.#port = port;
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) => {
      if (this.#port !== port) return;
      this.#port = null;
      if (this.#isStopped) return;
      const error = err?.disconnected
        ? new PortError('UNPLUGGED', name, path, `device disconnected (${err.message})`)
        : new PortError('READ_ERROR', name, path, `port closed unexpectedly${err ? ` (${err.message})` : ''}`);
      this.#lost(error);
    });
    port.on('error', (err: Error) => {
      if (this.#port !== port || this.#isStopped) return;
      this.#lost(new PortError('READ_ERROR', name, path, err.message));
    });
    let release!: () => void;
    const opening: OpenAttempt = {
      attempt: ++this.#attempt,
      port,
      startedMonoUs: monoNowUs(),
      released: new Promise<void>((resolve) => (release = resolve)),
    };
    this.#opening = opening;
    this.#openTimer = setTimeout(() => this.#openTimedOut(opening), this.#openTimeoutMs);
    port.open((err) => {
      const isCurrent = this.#opening?.attempt === opening.attempt && !this.#isStopped;
      if (this.#opening?.attempt === opening.attempt) {
        this.#opening = null;
        if (this.#openTimer) clearTimeout(this.#openTimer);
        this.#openTimer = null;
      }
      if (!isCurrent) {
        // Timed out or stopped meanwhile: it is not the port any more. What it opened is closed
        // (stop() waits for that, boundedly) and never read: it has no 'data' listener, so nothing
        // is read from it, twice or beside the current port.
        this.#letGo(opening, !err && port.isOpen, release);
        return;
      }
      release();
      if (err) {
        this.#port = null;
        this.#fail(new PortError('OPEN_FAILED', name, path, err.message));
        return;
      }
      // Only now does the port start reading (a 'data' listener makes the stream flow): a port
      // given up on must not read (and lose) bytes before its late open is seen and closed.
      port.on('data', (chunk: Buffer) => this.#onData(chunk));
      this.#hasEverOpened = true;
      this.#openCount++;
      this.#lastByteMonoUs = monoNowUs();
      this.#armWatchdog();
      // After a watchdog reopen the port stays 'silent' until a byte comes; otherwise it is open.
      if (this.#state !== 'silent') this.#setState('open', null);
    });
  }

  /** The current open has not called back within openTimeoutMs: a failed open, retried with backoff. */
  #openTimedOut(opening: OpenAttempt): void {
    this.#openTimer = null;
    if (this.#opening?.attempt !== opening.attempt || this.#isStopped) return;
    this.#opening = null;
    this.#stale = opening;
    // Its close/error events are ignored from now on; its open callback sees it is not current.
    if (this.#port === opening.port) this.#port = null;
    const { name, path } = this.#config;
    this.#log.warn({ port: name, path, attempt: opening.attempt, openTimeoutMs: this.#openTimeoutMs }, 'open did not return: counted as failed; if it opens later, that descriptor is closed unread');
    this.#fail(
      new PortError('OPEN_FAILED', name, path, `open timed out after ${this.#openTimeoutMs} ms (the driver or the I/O thread pool did not answer)`),
    );
  }

  /**
   * A port object that is not the port any more (its attempt timed out, or stop() came first) has
   * called back from open(): closes what it opened, then lets it go.
   */
  #letGo(opening: OpenAttempt, isOpen: boolean, release: () => void): void {
    const done = (): void => {
      if (this.#stale?.attempt === opening.attempt) this.#stale = null;
      release();
    };
    if (!isOpen) {
      done();
      return;
    }
    const { name, path } = this.#config;
    const lateMs = Math.round((monoNowUs() - opening.startedMonoUs) / 1000);
    this.#log.info({ port: name, path, attempt: opening.attempt, lateMs, isStopped: this.#isStopped }, 'an open given up on succeeded late: closing it unread');
    this.#closeBounded(opening.port, done);
  }

  /**
   * Closes `port`; `done` runs once, when the close calls back or after CLOSE_WAIT_MS, whichever
   * comes first: a close stuck in the driver or behind a starved thread pool must hold up neither
   * a reopen nor stop(). (serialport stops polling the descriptor at once, so it reads no more.)
   */
  #closeBounded(port: SerialPort, done: () => void): void {
    let isDone = false;
    const finish = (): void => {
      if (isDone) return;
      isDone = true;
      clearTimeout(bound);
      done();
    };
    const bound = setTimeout(() => {
      this.#log.warn({ port: this.#config.name, path: this.#config.path, closeWaitMs: CLOSE_WAIT_MS }, 'close did not return: going on without it');
      finish();
    }, CLOSE_WAIT_MS);
    try {
      port.close(finish);
    } catch {
      finish();
    }
  }

  #onData(chunk: Buffer): void {
    if (this.#isClosed) {
      // A read that completed after stop() gave up waiting for this port's close: the sink (its
      // raw log) is closed by now.
      this.#log.warn({ port: this.#config.name, path: this.#config.path, bytes: chunk.length }, 'bytes received after the port was stopped: not recorded');
      return;
    }
    const monoUs = monoNowUs();
    this.#lastByteMonoUs = monoUs;
    this.#chunkMonoUs = monoUs;
    this.#silentReopens = 0;
    if (this.#state !== 'open') {
      this.#retryDelayMs = this.#config.reconnectMinMs;
      this.#setState('open', null);
    }
    this.#splitter.push(chunk);
  }

  /**
   * Hands one line to the sink. This runs inside serialport's 'data' handler: an exception escaping
   * it would end the process, and with it every port, the camera side and whatever the store has
   * not flushed yet. A line the sink fails on is logged (the first, then every 1000th) and counted;
   * the next lines are handled as usual.
   */
  #deliver(bytes: Buffer, isCut: boolean): void {
    try {
      this.#sink.line(bytes, this.#chunkMonoUs, isCut);
    } catch (err) {
      this.#lineErrors++;
      if (this.#lineErrors === 1 || this.#lineErrors % 1000 === 0) {
        const { name, path } = this.#config;
        this.#log.error({ port: name, path, err: (err as Error).message, code: (err as { code?: unknown }).code ?? null, lineErrors: this.#lineErrors }, `port ${name}: a received line could not be handled; capture goes on`);
      }
    }
  }

  /** Silence allowed before the next watchdog reopen: watchdogMs, then twice as long after each reopen. */
  #silenceLimitMs(): number {
    const { watchdogMs } = this.#config;
    return Math.min(watchdogMs * 2 ** Math.min(this.#silentReopens, 30), Math.max(watchdogMs, SILENT_REOPEN_MAX_MS));
  }

  /**
   * Armed on every successful open. A port that delivers no byte for the limit is closed and
   * reopened (the first time it is reported 'silent'; it stays so until a byte comes), then given
   * twice as long before the next reopen: it listens most of the time, yet a port that opened but
   * never delivers is never left so.
   */
  #armWatchdog(): void {
    if (this.#watchdog) clearTimeout(this.#watchdog);
    const limitMs = this.#silenceLimitMs();
    const check = (): void => {
      const idleMs = (monoNowUs() - this.#lastByteMonoUs) / 1000;
      if (idleMs >= limitMs) {
        this.#watchdog = null;
        const { name, path, watchdogMs } = this.#config;
        const error = new PortError('SILENT', name, path, `no data for ${watchdogMs} ms`);
        if (this.#state === 'silent') {
          this.#log.info({ port: name, path, quietSinceOpenMs: Math.round(idleMs), reopens: this.#silentReopens }, 'port still silent: reopening it');
        }
        this.#silentReopens++;
        this.#lost(error);
        return;
      }
      this.#watchdog = setTimeout(check, Math.max(10, limitMs - idleMs));
    };
    this.#watchdog = setTimeout(check, limitMs);
  }

  /** The open port failed: close it, report, and retry. */
  #lost(error: PortError): void {
    if (this.#isStopped) return;
    this.#clearTimers();
    const port = this.#port;
    this.#port = null;
    // A line cut short by the loss is kept as it came: the raw log must hold every byte.
    this.#splitter.flush();
    const isSilent = error.code === 'SILENT';
    // A device that failed is watched as a new one once it is back.
    if (!isSilent) this.#silentReopens = 0;
    this.#setState(isSilent ? 'silent' : 'reconnecting', error);
    // A silent device is there and did not fail: reopen it after the shortest delay, leaving the
    // failure backoff alone (the less time it is closed, the less it can lose).
    const reopen = (): void => (isSilent ? this.#scheduleRetry(this.#config.reconnectMinMs) : this.#scheduleRetry());
    if (!port?.isOpen) {
      reopen();
      return;
    }
    // Reopen only once the old descriptor is closed (or after CLOSE_WAIT_MS): it holds the lock.
    let closed!: () => void;
    const closing = new Promise<void>((resolve) => (closed = resolve));
    this.#closing = closing;
    this.#closeBounded(port, () => {
      if (this.#closing === closing) this.#closing = null;
      closed();
      reopen();
    });
  }

  /** Opening failed: report and retry. */
  #fail(error: PortError): void {
    // A device that failed (gone while closed for a silent reopen, say) is watched as a new one
    // once it opens again: silence limit watchdogMs, not the doubled one of before.
    this.#silentReopens = 0;
    const isMissingAtStart = !this.#hasEverOpened && error.code === 'MISSING';
    this.#setState(isMissingAtStart ? 'missing' : 'reconnecting', error);
    this.#scheduleRetry();
  }

  /** Reopens after `fixedDelayMs`, or else after the failure backoff's delay (then doubled). */
  #scheduleRetry(fixedDelayMs?: number): void {
    if (this.#isStopped || this.#retryTimer) return;
    const delayMs = fixedDelayMs ?? this.#retryDelayMs;
    if (fixedDelayMs === undefined) this.#retryDelayMs = Math.min(this.#config.reconnectMaxMs, this.#retryDelayMs * 2);
    this.#log.debug({ port: this.#config.name, delayMs }, 'reopen scheduled');
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#open();
    }, delayMs);
  }

  #clearTimers(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#watchdog) clearTimeout(this.#watchdog);
    if (this.#openTimer) clearTimeout(this.#openTimer);
    this.#retryTimer = null;
    this.#watchdog = null;
    this.#openTimer = null;
  }

  /**
   * stop()'s part: closes the port and waits for every open and close still pending, together at
   * most CLOSE_WAIT_MS. An open still pending closes what it opens whenever it calls back.
   */
  #closePort(): Promise<void> {
    const port = this.#port;
    this.#port = null;
    const pending: Promise<void>[] = [];
    const opening = this.#opening;
    this.#opening = null;
    // Still opening: its open callback closes what it opened, then `released` resolves.
    if (opening !== null) pending.push(opening.released);
    else if (port?.isOpen) pending.push(new Promise<void>((resolve) => this.#closeBounded(port, resolve)));
    if (this.#stale !== null) pending.push(this.#stale.released);
    if (this.#closing !== null) pending.push(this.#closing);
    if (pending.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const bound = setTimeout(() => {
        const { name, path } = this.#config;
        this.#log.warn({ port: name, path, closeWaitMs: CLOSE_WAIT_MS, attempt: opening?.attempt ?? this.#stale?.attempt ?? null }, 'stopping without waiting longer for an open or close that has not returned');
        resolve();
      }, CLOSE_WAIT_MS);
      void Promise.all(pending).then(() => {
        clearTimeout(bound);
        resolve();
      });
    });
  }
}
