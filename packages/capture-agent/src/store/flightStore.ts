// Batched writer of the flight DB. The pipeline hands it samples, counters, clock fits, port
// status changes and events as they happen; flush() writes all of it in ONE transaction, so a
// crash leaves the DB at the last flush, never half a batch. The agent flushes on a timer
// (dbFlushMs) and whenever a batch grows large (replay).
//
// Where the transaction runs: 'inline' (the agent: on the calling thread, at once) or 'thread'
// (replay: a writer thread with its own connection to the same DB file commits the batches in
// order while the caller decodes the next ones, so two cores work; at most `maxBatchesInFlight`
// batches wait, then flush() blocks until the writer catches up). Both write each batch with the
// same shared writeFlightBatch, in order, one transaction per batch.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import {
  NavSampleBatch,
  upsertPort,
  writeFlightBatch,
  type ClockFitInsert,
  type EventInsert,
  type FlightDb,
  type FlightWriteBatch,
  type FlightWriteOp,
  type NavSampleInsert,
  type PortRow,
  type PortStatus,
  type SentenceCountDelta,
  type SentenceStatus,
} from '@flysnap/shared';
import type { Logger } from '../log/index.js';

export interface FlightStoreOptions {
  /** Flush as soon as this many samples wait. Default 20,000. */
  maxBatchSamples?: number;
  /** 'inline' (default) or 'thread': commit batches on a writer thread (see above). */
  writer?: 'inline' | 'thread';
  /** Thread writer: batches posted but not yet committed before flush() waits. Default 3. */
  maxBatchesInFlight?: number;
  log: Logger;
}

/** SQLite errors worth retrying (the batch is kept). */
const TRANSIENT_CODES = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR'];
const isTransientCode = (code: string): boolean => TRANSIENT_CODES.some((c) => code.startsWith(c));

/** Shared state of a writer thread (Int32 slots). */
const DONE = 0; // batches handled (committed or given up)
const WRITTEN = 1; // samples committed
const DROPPED = 2; // samples given up
const FAILED = 3; // 1: the thread could not start or open the DB
const CLOSED = 4; // 1: the thread closed its connection

// The writer thread: opens its own connection, writes each posted batch with writeFlightBatch in
// one transaction; a transient error (busy, locked, full, I/O) is retried every 100 ms for up to
// 30 s, any other drops the batch (the raw logs keep every line) and is reported on the log port.
const WRITER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const state = new Int32Array(workerData.state);
const logPort = workerData.logPort;
const pause = new Int32Array(new SharedArrayBuffer(4));
const transient = (code) => ${JSON.stringify(TRANSIENT_CODES)}.some((c) => code.startsWith(c));
function done() { Atomics.add(state, ${DONE}, 1); Atomics.notify(state, ${DONE}); }
import(workerData.sharedUrl).then(({ openFlightDb, writeFlightBatch }) => {
  const db = openFlightDb(workerData.path);
  parentPort.on('message', (msg) => {
    try {
      handle(msg);
    } catch (e) {
      // Not expected (every write error is handled in handle()): stop, so the caller does not wait forever.
      try { logPort.postMessage({ err: String(e && e.message), code: String((e && e.code) || ''), samples: 0, fatal: true }); } catch {}
      Atomics.store(state, ${FAILED}, 1); Atomics.notify(state, ${DONE}); Atomics.store(state, ${CLOSED}, 1); Atomics.notify(state, ${CLOSED});
    }
  });
  function handle(msg) {
    if (msg.type === 'close') {
      try { db.close({ keepWal: true }); } finally { Atomics.store(state, ${CLOSED}, 1); Atomics.notify(state, ${CLOSED}); parentPort.close(); logPort.close(); }
      return;
    }
    const n = msg.batch.samples.length;
    for (let attempt = 0; ; attempt++) {
      try {
        writeFlightBatch(db, msg.batch);
        Atomics.add(state, ${WRITTEN}, n);
        break;
      } catch (e) {
        const code = String((e && e.code) || '');
        if (transient(code) && attempt < 300) { Atomics.wait(pause, 0, 0, 100); continue; }
        Atomics.add(state, ${DROPPED}, n);
        logPort.postMessage({ err: String(e && e.message), code, samples: n, isTransient: transient(code) });
        break;
      }
    }
    done();
  }
}).catch((e) => {
  try { logPort.postMessage({ err: String(e && e.message), code: String((e && e.code) || ''), samples: 0, fatal: true }); } catch {}
  Atomics.store(state, ${FAILED}, 1); Atomics.notify(state, ${DONE}); Atomics.store(state, ${CLOSED}, 1); Atomics.notify(state, ${CLOSED});
});
`;

interface WriterError {
  err: string;
  code: string;
  samples: number;
  isTransient?: boolean;
  fatal?: boolean;
}

/** The thread side of a 'thread' store. */
class WriterThread {
  readonly #worker: Worker;
  readonly #state: Int32Array;
  readonly #logPort: MessagePort;
  readonly #log: Logger;
  #posted = 0;

  constructor(path: string, log: Logger) {
    this.#log = log;
    this.#state = new Int32Array(new SharedArrayBuffer(5 * 4));
    const { port1, port2 } = new MessageChannel();
    this.#logPort = port1;
    const sharedUrl = pathToFileURL(createRequire(import.meta.url).resolve('@flysnap/shared')).href;
    this.#worker = new Worker(WRITER_SOURCE, {
      eval: true,
      workerData: { sharedUrl, path, state: this.#state.buffer, logPort: port2 },
      transferList: [port2],
    });
    // Failures reach the caller through the shared state and the log port; an 'error' event left
    // without a listener would crash the process later, outside any caller.
    this.#worker.on('error', (e) => log.error({ err: e.message }, 'flight DB writer thread error'));
    this.#worker.unref();
  }

  get written(): number {
    return Atomics.load(this.#state, WRITTEN);
  }

  get dropped(): number {
    return Atomics.load(this.#state, DROPPED);
  }

  /** Queues a batch; blocks while more than `maxInFlight` are not yet done. */
  post(batch: FlightWriteBatch, maxInFlight: number): void {
    this.#check();
    this.#worker.postMessage({ type: 'batch', batch }, [batch.samples.numbers.buffer as ArrayBuffer, batch.samples.strings.buffer as ArrayBuffer]);
    this.#posted++;
    this.#waitDone(this.#posted - maxInFlight);
  }

  /** Blocks until every posted batch is done. */
  drain(): void {
    this.#waitDone(this.#posted);
  }

  /** Drains, closes the thread's connection and lets the thread end. */
  close(): void {
    this.drain();
    this.#worker.postMessage({ type: 'close' });
    while (Atomics.load(this.#state, CLOSED) === 0) Atomics.wait(this.#state, CLOSED, 0, 1000);
    this.#report();
  }

  #waitDone(target: number): void {
    for (;;) {
      const done = Atomics.load(this.#state, DONE);
      if (done >= target) break;
      this.#check();
      Atomics.wait(this.#state, DONE, done, 1000);
    }
    this.#report();
  }

  #check(): void {
    if (Atomics.load(this.#state, FAILED) !== 0) {
      const first = this.#report();
      throw new Error(`flight DB writer thread failed: ${first?.err ?? 'unknown error'}`);
    }
  }

  /** Logs what the thread reported; returns the first report. */
  #report(): WriterError | undefined {
    let first: WriterError | undefined;
    for (let m = receiveMessageOnPort(this.#logPort); m !== undefined; m = receiveMessageOnPort(this.#logPort)) {
      const e = m.message as WriterError;
      first ??= e;
      this.#log.error(e, 'flight DB write failed');
    }
    return first;
  }
}

export class FlightStore {
  readonly flightDb: FlightDb;
  readonly #log: Logger;
  readonly #maxBatchSamples: number;
  /** Samples of the next batch, as columns at once (no row objects kept alive until the flush). */
  #samples = new NavSampleBatch(1024);
  /** A row the batch refused (not an integer time…): the whole batch fails at flush, as a failed insert would. */
  #badRow: Error | null = null;
  #badRows = 0;
  #counts = new Map<string, SentenceCountDelta>();
  /** The 'valid' entries of #counts by port and sentence. */
  #validCounts = new Map<string, Map<string, SentenceCountDelta>>();
  #traffic = new Map<string, { bytes: number; lines: number }>();
  #ops: FlightWriteOp[] = [];
  #samplesWritten = 0;
  #droppedSamples = 0;
  readonly #maxInFlight: number;
  #thread: WriterThread | null = null;
  /** The last flush failed transiently: its batch is queued, waiting for the next flush() call. */
  #isRetrying = false;

  constructor(flightDb: FlightDb, options: FlightStoreOptions) {
    this.flightDb = flightDb;
    this.#log = options.log;
    this.#maxBatchSamples = options.maxBatchSamples ?? 20_000;
    this.#maxInFlight = Math.max(1, options.maxBatchesInFlight ?? 3);
    if (options.writer === 'thread') this.#thread = new WriterThread(flightDb.path, options.log);
  }

  /** Samples committed so far by this store (with a writer thread: by the batches done so far; drain() first for all). */
  get samplesWritten(): number {
    return this.#samplesWritten + (this.#thread?.written ?? 0);
  }

  /** Samples waiting for the next flush. */
  get pendingSamples(): number {
    return this.#samples.length + this.#badRows;
  }

  /** Samples given up after a non-transient DB error (they remain in the raw log). */
  get droppedSamples(): number {
    return this.#droppedSamples + (this.#thread?.dropped ?? 0);
  }

  /**
   * Creates or updates a port row (counters are kept) before any later sample refers to it: inline
   * at once; with a writer thread as the first write of the next batch it commits (batches are
   * written in order, port rows first), so the decoding never waits for the writer nor competes
   * with it for the write lock.
   */
  ensurePort(port: Omit<PortRow, 'bytesReceived' | 'linesReceived'>): void {
    if (this.#thread === null) {
      upsertPort(this.flightDb, port);
      return;
    }
    this.#ops.push({ type: 'port', port });
  }

  addSample(row: NavSampleInsert): void {
    try {
      this.#samples.add(row);
    } catch (err) {
      this.#badRow ??= err as Error;
      this.#badRows++;
    }
    // After a transient failure (the DB busy past busy_timeout) only the caller's next flush()
    // retries: retrying here would block the calling thread for busy_timeout on every sample, and
    // the agent's main thread is the one reading the serial ports.
    if (this.#samples.length + this.#badRows >= this.#maxBatchSamples && !this.#isRetrying) this.flush();
  }

  count(port: string, sentence: string | null, status: SentenceStatus, reason: string | null = null, n = 1): void {
    if (status === 'valid' && sentence !== null && reason === null) {
      // The per-line hot case: found without building the key string.
      let bySentence = this.#validCounts.get(port);
      if (bySentence === undefined) this.#validCounts.set(port, (bySentence = new Map()));
      let c = bySentence.get(sentence);
      if (c === undefined) {
        c = { port, sentence, status, reason: '', count: 0 };
        bySentence.set(sentence, c);
        this.#counts.set(`${port}\u0000${sentence}\u0000${status}\u0000`, c);
      }
      c.count += n;
      return;
    }
    const key = `${port}\u0000${sentence ?? ''}\u0000${status}\u0000${reason ?? ''}`;
    const c = this.#counts.get(key);
    if (c) c.count += n;
    else this.#counts.set(key, { port, sentence: sentence ?? '', status, reason: reason ?? '', count: n });
  }

  addTraffic(port: string, bytes: number, lines: number): void {
    const t = this.#traffic.get(port);
    if (t) {
      t.bytes += bytes;
      t.lines += lines;
    } else this.#traffic.set(port, { bytes, lines });
  }

  setPortStatus(port: string, status: PortStatus, tUs: number, lastError: string | null): void {
    this.#ops.push({ type: 'status', port, status, tUs, lastError });
  }

  recordEvent(event: EventInsert): void {
    this.#ops.push({ type: 'event', event });
  }

  addClockFit(fit: ClockFitInsert): void {
    this.#ops.push({ type: 'fit', fit });
  }

  /**
   * Commits everything queued in one transaction ('thread': hands it to the writer thread, which
   * retries transient errors itself). Inline, on a transient error the batch is kept for the next flush.
   */
  flush(): void {
    const sampleCount = this.#samples.length + this.#badRows;
    if (sampleCount === 0 && this.#counts.size === 0 && this.#ops.length === 0 && this.#traffic.size === 0) return;
    let batch: FlightWriteBatch | null = null;
    try {
      if (this.#badRow !== null) throw this.#badRow;
      batch = {
        samples: this.#samples.columns(),
        counts: [...this.#counts.values()],
        traffic: [...this.#traffic].map(([port, t]): [string, number, number] => [port, t.bytes, t.lines]),
        ops: this.#ops,
      };
      if (this.#thread) this.#thread.post(batch, this.#maxInFlight);
      else {
        writeFlightBatch(this.flightDb, batch);
        this.#samplesWritten += sampleCount;
      }
    } catch (err) {
      if (this.#thread && batch !== null && (err as Error).message.startsWith('flight DB writer thread failed')) throw err;
      const code = (err as { code?: string }).code ?? '';
      const isTransient = isTransientCode(code);
      this.#log.error({ err: (err as Error).message, code, samples: sampleCount, isTransient }, 'flight DB write failed');
      if (isTransient) {
        this.#isRetrying = true;
        return; // everything stays queued; the next flush retries
      }
      this.#droppedSamples += sampleCount;
    }
    this.#isRetrying = false;
    this.#samples = new NavSampleBatch(Math.min(this.#maxBatchSamples, 1 << 16));
    this.#badRow = null;
    this.#badRows = 0;
    this.#counts.clear();
    this.#validCounts.clear();
    this.#ops = [];
    this.#traffic.clear();
  }

  /** Flushes and waits until every batch is committed (or given up). Inline: the same as flush(). */
  drain(): void {
    this.flush();
    this.#thread?.drain();
  }

  /** Drains and ends the writer thread (closing its connection); the store must not be used after. */
  close(): void {
    this.flush();
    const thread = this.#thread;
    this.#thread = null;
    if (thread) {
      thread.close();
      this.#samplesWritten += thread.written;
      this.#droppedSamples += thread.dropped;
    }
  }
}
