// One supervisor per configured serial port: opens it, frames lines, and keeps it open. On a
// missing device, a failed open, an unplug or a read error, it closes and retries with a doubling
// delay until the device is back. A silent port (no byte for watchdogMs) is reopened once (a hung
// USB adapter often needs it), then kept open and listening while it stays silent: cycling it
// would lose whatever arrives while it is closed. Every status change is reported once.
import { existsSync } from 'node:fs';
import { SerialPort } from 'serialport';
import type { Logger } from '../log/index.js';
import type { PortConfig } from '../config/index.js';
import { LineSplitter } from './lineSplitter.js';
import { monoNowUs } from './monoClock.js';
import { PortError } from './portError.js';

/**
 * open: bytes are flowing; silent: open but no byte for watchdogMs (being reopened);
 * reconnecting: lost or failed, retrying; missing: never opened yet, device absent;
 * closed: stopped by the agent.
 */
/** Longest wait for a lost port's close before reopening anyway, ms. */
const CLOSE_WAIT_MS = 2000;

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

export class PortSupervisor {
  readonly #config: PortConfig;
  readonly #sink: PortSink;
  readonly #log: Logger;
  readonly #splitter: LineSplitter;
  #port: SerialPort | null = null;
  #state: PortState | null = null;
  #isStopped = false;
  /** The port whose open() has not called back yet; `released` resolves once it is let go of. */
  #opening: { port: SerialPort; released: Promise<void> } | null = null;
  #retryDelayMs: number;
  #retryTimer: NodeJS.Timeout | null = null;
  #watchdog: NodeJS.Timeout | null = null;
  #lastByteMonoUs = 0;
  /** Receive time of the chunk being split (all lines framed from one chunk share it). */
  #chunkMonoUs = 0;
  #hasEverOpened = false;
  #lineErrors = 0;

  constructor(config: PortConfig, sink: PortSink, log: Logger) {
    this.#config = config;
    this.#sink = sink;
    this.#log = log;
    this.#retryDelayMs = config.reconnectMinMs;
    this.#splitter = new LineSplitter(config.maxLineBytes, (bytes, isCut) => this.#deliver(bytes, isCut));
  }

  get name(): string {
    return this.#config.name;
  }

  get state(): PortState | null {
    return this.#state;
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
    this.#open();
  }

  /** Closes the port and emits any partial line held. Resolves when the device is closed. */
  async stop(): Promise<void> {
    this.#isStopped = true;
    this.#clearTimers();
    await this.#closePort();
    this.#splitter.flush();
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
    if (!existsSync(path)) {
      this.#fail(new PortError('MISSING', name, path, 'device not found'));
      return;
    }
    const port = new SerialPort({
      path,
      baudRate: this.#config.baudRate,
      dataBits: this.#config.dataBits,
      parity: this.#config.parity,
      stopBits: this.#config.stopBits,
      autoOpen: false,
      // Exclusive open (TIOCEXCL): another process reading the same device would steal bytes.
      lock: true,
    });
    this.#port = port;
    /** Stopped before this port finished opening: it is closed unread, nothing from it is delivered. */
    let isAbandoned = false;
    port.on('data', (chunk: Buffer) => {
      if (!isAbandoned) this.#onData(chunk);
    });
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
    const released = new Promise<void>((resolve) => (release = resolve));
    this.#opening = { port, released };
    port.open((err) => {
      if (this.#opening?.port === port) this.#opening = null;
      // Stopped while opening: the device may be open now; close it here (stop() waits for this),
      // or it would stay open with its data listener and keep the process alive.
      if (this.#isStopped || this.#port !== port) {
        isAbandoned = true;
        if (!err && port.isOpen) port.close(() => release());
        else release();
        return;
      }
      release();
      if (err) {
        this.#port = null;
        this.#fail(new PortError('OPEN_FAILED', name, path, err.message));
        return;
      }
      this.#hasEverOpened = true;
      this.#lastByteMonoUs = monoNowUs();
      this.#armWatchdog();
      // After a watchdog reopen the port stays 'silent' until a byte comes; otherwise it is open.
      if (this.#state !== 'silent') this.#setState('open', null);
    });
  }

  #onData(chunk: Buffer): void {
    const monoUs = monoNowUs();
    this.#lastByteMonoUs = monoUs;
    this.#chunkMonoUs = monoUs;
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

  #armWatchdog(): void {
    if (this.#watchdog) clearTimeout(this.#watchdog);
    const check = (): void => {
      const idleMs = (monoNowUs() - this.#lastByteMonoUs) / 1000;
      if (idleMs >= this.#config.watchdogMs) {
        this.#watchdog = null;
        if (this.#state === 'silent') {
          // Already reopened once for this silence: keep listening rather than cycling the port,
          // since bytes that arrive while it is closed would be lost.
          this.#lastByteMonoUs = monoNowUs();
          this.#armWatchdog();
          return;
        }
        const { name, path, watchdogMs } = this.#config;
        this.#lost(new PortError('SILENT', name, path, `no data for ${watchdogMs} ms`));
        return;
      }
      this.#watchdog = setTimeout(check, Math.max(10, this.#config.watchdogMs - idleMs));
    };
    this.#watchdog = setTimeout(check, this.#config.watchdogMs);
  }

  /** The open port failed: close it, report, and retry. */
  #lost(error: PortError): void {
    if (this.#isStopped) return;
    this.#clearTimers();
    const port = this.#port;
    this.#port = null;
    // A line cut short by the loss is kept as it came: the raw log must hold every byte.
    this.#splitter.flush();
    this.#setState(error.code === 'SILENT' ? 'silent' : 'reconnecting', error);
    if (!port?.isOpen) {
      this.#scheduleRetry();
      return;
    }
    // Reopen only once the old descriptor is closed (or after CLOSE_WAIT_MS): a close still pending
    // when the device is opened again can close the new port's descriptor (the same fd number, reused),
    // which reads as an unplug of the new port.
    let isRetried = false;
    const retry = (): void => {
      if (isRetried) return;
      isRetried = true;
      clearTimeout(bound);
      this.#scheduleRetry();
    };
    const bound = setTimeout(retry, CLOSE_WAIT_MS);
    port.close(retry);
  }

  /** Opening failed: report and retry. */
  #fail(error: PortError): void {
    const isMissingAtStart = !this.#hasEverOpened && error.code === 'MISSING';
    this.#setState(isMissingAtStart ? 'missing' : 'reconnecting', error);
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#isStopped || this.#retryTimer) return;
    const delayMs = this.#retryDelayMs;
    this.#retryDelayMs = Math.min(this.#config.reconnectMaxMs, this.#retryDelayMs * 2);
    this.#log.debug({ port: this.#config.name, delayMs }, 'reopen scheduled');
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#open();
    }, delayMs);
  }

  #clearTimers(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#watchdog) clearTimeout(this.#watchdog);
    this.#retryTimer = null;
    this.#watchdog = null;
  }

  #closePort(): Promise<void> {
    const port = this.#port;
    this.#port = null;
    const opening = this.#opening;
    this.#opening = null;
    // Still opening: its open callback closes what it opened, then this resolves.
    if (opening !== null) return opening.released;
    if (!port?.isOpen) return Promise.resolve();
    return new Promise((resolve) => port.close(() => resolve()));
  }
}
