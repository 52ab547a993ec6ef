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
//
// Inline, the calling thread is the agent's MAIN thread, which also reads the serial ports, runs
// their watchdogs and the camera watcher. So a flush never waits long for another connection's
// write lock (the camera side's asset writer thread, a catch-up pass, an operator's sqlite3
// shell): it waits at most `lockWaitMs` (MAIN_THREAD_LOCK_WAIT_MS, 25 ms) instead of the
// connection's busy_timeout (5 s), and a batch refused for the lock (or a full disk, an I/O
// error) is HELD in memory, in order, and retried by the next flush. Nothing held is lost or
// written twice (a batch is one transaction: all of it or none of it). While held, batches are
// cut at maxBatchSamples, and after a long lock a flush writes them for about `flushBudgetMs`
// then leaves the rest to the next one, so catching up never blocks the thread for long either.
// Memory is bounded: past `maxHeldSamples` newer samples are not held (the raw logs keep every
// line), which is reported once per episode (log + event), as is the recovery. drain()/close()
// (shutdown) wait for the lock, but only until one monotonic deadline (finalWaitMs, or the
// caller's): nothing time-critical runs on the thread any more, yet the stop must end in time.
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import {
  FLIGHT_DB_BUSY_TIMEOUT_MS,
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

/**
 * The longest an inline (main-thread) flush waits for another connection's write lock, ms: the
 * connection's busy_timeout during the flush. Why 25 ms and not the connection's 5 s: the main
 * thread also reads the serial ports, and at 115,200 baud a port delivers ~11.5 kB/s, so a 5 s
 * stall leaves ~57 kB per port waiting in the kernel, about the 64 KiB its tty flip buffers were
 * limited to for years (bytes past the limit are lost), and delays the watchdogs and the camera
 * watcher as long; 25 ms is ~290 bytes. It still rides out short holds (another connection's small
 * commit and its fsync); a longer one costs only a retry at the next timed flush (dbFlushMs, 500
 * ms). SQLite's busy handler sleeps 1, 2, 5, 10, 7 ms between tries here: 6 tries in 25 ms.
 * runAgent gives the same wait to every other main-thread write on the agent's connection.
 */
export const MAIN_THREAD_LOCK_WAIT_MS = 25;

/**
 * Inline batch size (maxBatchSamples) by default: ~11 ms of inserts at the ~450,000 rows/s the
 * replay benchmark measures (763,200 rows in ~1.7 s), plus one commit, so even a flush that writes
 * a full batch (or a held one, after a long lock) holds the main thread only briefly. The agent's
 * timed flush carries far fewer (~50 samples per 500 ms).
 */
export const INLINE_BATCH_SAMPLES = 5_000;

/**
 * Samples held in memory while the DB refuses writes, by default, before newer ones are no longer
 * held: ~1 h of the bench flight's ~53 samples/s (GPS, compass and altimeter at 10 Hz), ~28 MB as
 * columns (142 bytes a sample). Samples past it are still in the raw logs.
 */
export const MAX_HELD_SAMPLES = 200_000;

/** After a long lock, a timed flush writes held batches for about this long, ms, then leaves the rest to the next one. */
export const FLUSH_BUDGET_MS = 50;

/**
 * drain()/close() keep retrying a refused write this long, ms, before they give up (the samples
 * are in the raw logs): one bound for the whole shutdown write, however many batches are held
 * (each try waits for the lock at most the time left). runAgent's whole shutdown DB phase (drain
 * and marking the flight ended) stays within it too. Below systemd's TimeoutStopSec=30s, which
 * also covers stopping the sources.
 */
export const FINAL_WAIT_MS = 15_000;

export interface FlightStoreOptions {
  /**
   * Flush as soon as this many samples wait; inline, also the most samples of one held batch.
   * Default 20,000 with a writer thread, INLINE_BATCH_SAMPLES (5,000) inline.
   */
  maxBatchSamples?: number;
  /** 'inline' (default) or 'thread': commit batches on a writer thread (see above). */
  writer?: 'inline' | 'thread';
  /** Thread writer: batches posted but not yet committed before flush() waits. Default 3. */
  maxBatchesInFlight?: number;
  /** Inline: the longest flush() waits for another connection's write lock, ms. Default MAIN_THREAD_LOCK_WAIT_MS (25). */
  lockWaitMs?: number;
  /** Inline: most samples held while the DB refuses writes; newer ones are dropped (and reported). Default MAX_HELD_SAMPLES. */
  maxHeldSamples?: number;
  /** Inline: time a flush spends writing held batches before it leaves the rest to the next, ms. Default FLUSH_BUDGET_MS (50). */
  flushBudgetMs?: number;
  /** Inline: how long drain()/close() retry refused writes before giving up, ms. Default FINAL_WAIT_MS (15,000). */
  finalWaitMs?: number;
  log: Logger;
}

/**
 * Sets the busy_timeout of `flightDb`'s connection (how long any statement on it waits for another
 * connection's lock) and returns the previous one, ms.
 */
export function setBusyTimeout(flightDb: FlightDb, ms: number): number {
  if (!Number.isInteger(ms) || ms < 0) throw new RangeError(`busy timeout ${ms} ms is not a non-negative integer`);
  const previous = flightDb.db.pragma('busy_timeout', { simple: true }) as number;
  if (previous !== ms) flightDb.db.pragma(`busy_timeout = ${ms}`);
  return previous;
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

/** Another connection has the lock: routine (the camera writer commits often), retried quietly. */
const isLockCode = (code: string): boolean => code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');

/** Whether `e` is SQLite refusing for another connection's lock (SQLITE_BUSY*, SQLITE_LOCKED*). */
export function isFlightDbLockError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && isLockCode(code);
}

const sleepSync = (ms: number): void => {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** A batch cut from the queue while the DB refused writes, waiting for its turn (inline). */
interface HeldBatch {
  batch: FlightWriteBatch;
  samples: number;
}

/**
 * One stretch of time during which the DB refused the inline writes (transiently): from the first
 * refused flush until everything held is written.
 */
interface RefusalEpisode {
  /** performance.now() when the first write was refused (monotonic: a clock step does not change it). */
  startedMs: number;
  /** Writes refused so far (one per flush at most). */
  failures: number;
  lastCode: string;
  lastError: string;
  /** Most samples waiting at once. */
  peakHeldSamples: number;
  /** Samples not held because maxHeldSamples was reached. */
  droppedSamples: number;
  /** The maxHeldSamples report was made (once per episode). */
  isLimitReported: boolean;
  /** A refusal other than a lock (disk full, I/O error) was logged as an error (once per episode). */
  isErrorLogged: boolean;
}

export class FlightStore {
  readonly flightDb: FlightDb;
  readonly #log: Logger;
  readonly #maxBatchSamples: number;
  /** Samples of the next batch, as columns at once (no row objects kept alive until the flush). */
  #samples: NavSampleBatch;
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
  readonly #lockWaitMs: number;
  readonly #maxHeldSamples: number;
  readonly #flushBudgetMs: number;
  readonly #finalWaitMs: number;
  /** Inline: batches cut while the DB refused writes, oldest first; always written before the open one. */
  #held: HeldBatch[] = [];
  #heldBatchSamples = 0;
  /** Inline: the DB refuses writes now (null: the last write went through and nothing is held). */
  #episode: RefusalEpisode | null = null;

  constructor(flightDb: FlightDb, options: FlightStoreOptions) {
    this.flightDb = flightDb;
    this.#log = options.log;
    const isThread = options.writer === 'thread';
    this.#maxBatchSamples = Math.max(1, options.maxBatchSamples ?? (isThread ? 20_000 : INLINE_BATCH_SAMPLES));
    this.#samples = this.#newSampleBatch();
    this.#maxInFlight = Math.max(1, options.maxBatchesInFlight ?? 3);
    this.#lockWaitMs = options.lockWaitMs ?? MAIN_THREAD_LOCK_WAIT_MS;
    this.#maxHeldSamples = Math.max(1, options.maxHeldSamples ?? MAX_HELD_SAMPLES);
    this.#flushBudgetMs = options.flushBudgetMs ?? FLUSH_BUDGET_MS;
    this.#finalWaitMs = options.finalWaitMs ?? FINAL_WAIT_MS;
    if (!Number.isInteger(this.#lockWaitMs) || this.#lockWaitMs < 0) throw new RangeError(`lockWaitMs ${this.#lockWaitMs} is not a non-negative integer`);
    if (isThread) this.#thread = new WriterThread(flightDb.path, options.log);
  }

  /** Samples committed so far by this store (with a writer thread: by the batches done so far; drain() first for all). */
  get samplesWritten(): number {
    return this.#samplesWritten + (this.#thread?.written ?? 0);
  }

  /** Samples waiting for a flush: the next batch's and (inline) those held while the DB refused writes. */
  get pendingSamples(): number {
    return this.#heldBatchSamples + this.#openSamples;
  }

  /**
   * Samples not stored in the DB (they remain in the raw log): given up after a non-transient DB
   * error, not held past maxHeldSamples, or still refused when drain()/close() gave up.
   */
  get droppedSamples(): number {
    return this.#droppedSamples + (this.#thread?.dropped ?? 0);
  }

  get #openSamples(): number {
    return this.#samples.length + this.#badRows;
  }

  /**
   * Creates or updates a port row (counters are kept) before any later sample refers to it: inline
   * at once, waiting up to the connection's busy_timeout (a start-up call: sources are made before
   * any port is read, and runAgent shortens the wait only after that); with a writer thread as the
   * first write of the next batch it commits (batches are written in order, port rows first), so the
   * decoding never waits for the writer nor competes with it for the write lock.
   */
  ensurePort(port: Omit<PortRow, 'bytesReceived' | 'linesReceived'>): void {
    if (this.#thread === null) {
      upsertPort(this.flightDb, port);
      return;
    }
    this.#ops.push({ type: 'port', port });
  }

  addSample(row: NavSampleInsert): void {
    const episode = this.#episode;
    if (episode !== null && this.pendingSamples >= this.#maxHeldSamples) {
      this.#dropOverLimit(episode);
      return;
    }
    try {
      this.#samples.add(row);
    } catch (err) {
      this.#badRow ??= err as Error;
      this.#badRows++;
    }
    if (this.#openSamples < this.#maxBatchSamples) return;
    // While the DB refuses writes only the caller's next (timed) flush() retries: retrying here
    // would try (and wait) on every sample. The batch is cut and held instead, so held batches
    // stay small enough to be written one by one without a long block when the lock is free.
    if (episode !== null) this.#holdOpenBatch();
    else this.flush();
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
   * Commits everything queued. 'thread': hands it to the writer thread (which retries transient
   * errors itself). Inline: held batches first, then the open one, each in one transaction,
   * waiting at most lockWaitMs for another connection's lock; a transient refusal keeps the batch
   * (in order) for the next flush; after a long refusal, held batches are written for about
   * flushBudgetMs per call. A non-transient error drops that batch (logged; the raw log has it).
   */
  flush(): void {
    if (this.#thread !== null) this.#postToThread(this.#thread);
    else this.#writeInline(this.#lockWaitMs, this.#flushBudgetMs);
  }

  /**
   * Flushes and waits until every batch is committed (or given up). Inline: retries refused writes,
   * waiting for the lock, until `deadlineMs` (a performance.now() time; default finalWaitMs from
   * now), each try waiting at most the time left (shutdown: a longer wait is fine there); what is
   * still refused then is dropped (counted in droppedSamples) and logged. True when everything
   * queued is committed, false when something was given up at the deadline.
   */
  drain(deadlineMs: number = performance.now() + this.#finalWaitMs): boolean {
    if (this.#thread === null) return this.#writeAllInline(deadlineMs);
    const dropped = this.droppedSamples;
    this.flush();
    this.#thread.drain();
    return this.droppedSamples === dropped;
  }

  /** Drains (inline: for up to finalWaitMs) and ends the writer thread (closing its connection); the store must not be used after. */
  close(): void {
    if (this.#thread === null) {
      this.#writeAllInline(performance.now() + this.#finalWaitMs);
      return;
    }
    this.flush();
    const thread = this.#thread;
    this.#thread = null;
    thread.close();
    this.#samplesWritten += thread.written;
    this.#droppedSamples += thread.dropped;
  }

  #newSampleBatch(): NavSampleBatch {
    return new NavSampleBatch(Math.min(this.#maxBatchSamples, 1 << 16));
  }

  #isOpenEmpty(): boolean {
    return this.#openSamples === 0 && this.#counts.size === 0 && this.#ops.length === 0 && this.#traffic.size === 0;
  }

  /** The open batch as one write (copies of its samples and counters; the ops list itself). */
  #buildOpen(): FlightWriteBatch {
    return {
      samples: this.#samples.columns(),
      counts: [...this.#counts.values()],
      traffic: [...this.#traffic].map(([port, t]): [string, number, number] => [port, t.bytes, t.lines]),
      ops: this.#ops,
    };
  }

  #resetOpen(): void {
    this.#samples = this.#newSampleBatch();
    this.#badRow = null;
    this.#badRows = 0;
    this.#counts.clear();
    this.#validCounts.clear();
    this.#ops = [];
    this.#traffic.clear();
  }

  /**
   * The open batch as a FlightWriteBatch, and the queue starts afresh; null when it had a bad row:
   * then it is dropped and logged, as a failed insert of it would be.
   */
  #takeOpen(): HeldBatch | null {
    const samples = this.#openSamples;
    const bad = this.#badRow;
    const batch = bad === null ? this.#buildOpen() : null;
    this.#resetOpen();
    if (batch === null) {
      this.#drop(bad, samples);
      return null;
    }
    return { batch, samples };
  }

  #drop(err: unknown, samples: number): void {
    const code = (err as { code?: string } | null)?.code ?? '';
    this.#log.error({ err: (err as Error | null)?.message, code, samples, isTransient: false }, 'flight DB write failed');
    this.#droppedSamples += samples;
  }

  /** Inline: cuts the open batch and queues it behind the held ones (the DB refuses writes now). */
  #holdOpenBatch(): void {
    const held = this.#takeOpen();
    if (held === null) return;
    this.#held.push(held);
    this.#heldBatchSamples += held.samples;
  }

  /** Thread: posts the open batch (the thread retries transient errors itself, for up to 30 s). */
  #postToThread(thread: WriterThread): void {
    if (this.#isOpenEmpty()) return;
    const held = this.#takeOpen();
    if (held === null) return;
    try {
      thread.post(held.batch, this.#maxInFlight);
    } catch (err) {
      if ((err as Error).message.startsWith('flight DB writer thread failed')) throw err;
      this.#drop(err, held.samples);
    }
  }

  /**
   * Writes one batch in one transaction. True when done with it (written, or dropped after a
   * non-transient error); false when refused transiently (it must be kept and retried).
   */
  #commit(held: HeldBatch): boolean {
    try {
      writeFlightBatch(this.flightDb, held.batch);
      this.#samplesWritten += held.samples;
      return true;
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (!isTransientCode(code)) {
        this.#drop(err, held.samples);
        return true;
      }
      this.#refused(err as Error, code);
      return false;
    }
  }

  /**
   * Inline write: held batches in order, then the open one, each waiting at most `waitMs` for the
   * lock; held batches only while under `budgetMs` (at least one per call). With `deadlineMs` (a
   * performance.now() time; shutdown), each batch instead waits at most the time left until it (and
   * at most `waitMs`), set just before its commit, and none is tried once it has passed.
   */
  #writeInline(waitMs: number, budgetMs: number, deadlineMs?: number): void {
    if (this.#held.length === 0 && this.#isOpenEmpty()) return;
    const startedMs = performance.now();
    const previousWaitMs = setBusyTimeout(this.flightDb, waitMs);
    // Before each commit: false when the deadline has passed (nothing more is tried).
    const mayTry = (): boolean => {
      if (deadlineMs === undefined) return true;
      const leftMs = Math.floor(deadlineMs - performance.now());
      if (leftMs <= 0) return false;
      setBusyTimeout(this.flightDb, Math.min(leftMs, waitMs));
      return true;
    };
    try {
      while (this.#held.length > 0) {
        if (!mayTry() || !this.#commit(this.#held[0]!)) return;
        this.#heldBatchSamples -= this.#held.shift()!.samples;
        if (this.#held.length > 0 && performance.now() - startedMs >= budgetMs) return;
      }
      if (!this.#isOpenEmpty()) {
        if (this.#badRow !== null) this.#takeOpen(); // dropped and logged
        else {
          // Built without resetting the queue: refused, the open batch goes on growing.
          if (!mayTry() || !this.#commit({ batch: this.#buildOpen(), samples: this.#openSamples })) return;
          this.#resetOpen();
        }
      }
      if (this.#episode !== null) this.#recovered(this.#episode);
    } finally {
      setBusyTimeout(this.flightDb, previousWaitMs);
    }
  }

  /**
   * Inline, at shutdown: writes everything, retrying refused writes until `deadlineMs` (a
   * performance.now() time: monotonic, so a clock step at shutdown neither stretches nor cuts the
   * wait), each batch's try waiting for the lock at most the time left (and at most
   * FLIGHT_DB_BUSY_TIMEOUT_MS). Blocking here is fine: the sources have stopped (or the caller wants
   * everything on disk before it goes on), nothing time-critical runs on the thread. What is still
   * not written at the deadline is dropped and logged (the raw logs have it); false then.
   */
  #writeAllInline(deadlineMs: number): boolean {
    const startedMs = performance.now();
    for (;;) {
      this.#writeInline(FLIGHT_DB_BUSY_TIMEOUT_MS, Number.POSITIVE_INFINITY, deadlineMs);
      // Empty: all written. Not empty without a refusal: the recovery report just queued.
      if (this.#held.length === 0 && this.#isOpenEmpty()) return true;
      const leftMs = deadlineMs - performance.now();
      if (leftMs <= 0) break;
      if (this.#episode !== null) sleepSync(Math.min(100, Math.floor(leftMs))); // a full disk refuses at once: do not spin
    }
    const samples = this.pendingSamples;
    const episode = this.#episode;
    const waitedMs = Math.round(performance.now() - startedMs);
    this.#log.error(
      { samples, waitedMs, heldForMs: episode === null ? 0 : Math.round(performance.now() - episode.startedMs), failures: episode?.failures ?? 0, code: episode?.lastCode, err: episode?.lastError, finalWaitMs: this.#finalWaitMs },
      `flight DB still refuses writes after waiting ${waitedMs} ms at shutdown: ${samples} sample(s) and the counters and events with them are not stored (the raw logs keep every line)`,
    );
    this.#droppedSamples += samples;
    this.#held = [];
    this.#heldBatchSamples = 0;
    this.#resetOpen();
    this.#episode = null;
    return false;
  }

  /** A write was refused transiently: the batch stays; a lock quietly, other causes once per episode as an error. */
  #refused(err: Error, code: string): void {
    const episode = (this.#episode ??= {
      startedMs: performance.now(),
      failures: 0,
      lastCode: code,
      lastError: err.message,
      peakHeldSamples: 0,
      droppedSamples: 0,
      isLimitReported: false,
      isErrorLogged: false,
    });
    episode.failures++;
    episode.lastCode = code;
    episode.lastError = err.message;
    episode.peakHeldSamples = Math.max(episode.peakHeldSamples, this.pendingSamples);
    const data = { err: err.message, code, heldSamples: this.pendingSamples, failures: episode.failures, heldForMs: Math.round(performance.now() - episode.startedMs) };
    if (isLockCode(code)) this.#log.debug(data, 'flight DB busy: batch held for the next flush');
    else if (!episode.isErrorLogged) {
      episode.isErrorLogged = true;
      this.#log.error({ ...data, samples: this.pendingSamples, isTransient: true }, 'flight DB write failed');
    } else this.#log.debug(data, 'flight DB write refused again: batch held for the next flush');
  }

  /** A sample arrived while maxHeldSamples are held: not stored in the DB; reported once per episode. */
  #dropOverLimit(episode: RefusalEpisode): void {
    this.#droppedSamples++;
    episode.droppedSamples++;
    if (episode.isLimitReported) return;
    episode.isLimitReported = true;
    const heldForMs = Math.round(performance.now() - episode.startedMs);
    const message =
      `flight DB has refused writes for ${(heldForMs / 1000).toFixed(1)} s (${episode.lastCode}): ${this.pendingSamples} samples held in ` +
      `memory, the limit; newer samples are not stored in the DB until it accepts writes again (the raw logs keep every line)`;
    this.#report('error', 'flight-db-backlog-full', message, {
      heldSamples: this.pendingSamples,
      maxHeldSamples: this.#maxHeldSamples,
      heldForMs,
      failures: episode.failures,
      sqliteCode: episode.lastCode,
      err: episode.lastError,
    });
  }

  /** Everything held is written: the episode ends; reported when it was (limit, or an error logged). */
  #recovered(episode: RefusalEpisode): void {
    this.#episode = null;
    const heldForMs = Math.round(performance.now() - episode.startedMs);
    const data = {
      heldForMs,
      failures: episode.failures,
      peakHeldSamples: episode.peakHeldSamples,
      droppedSamples: episode.droppedSamples,
      sqliteCode: episode.lastCode,
    };
    if (!episode.isLimitReported && !episode.isErrorLogged) {
      this.#log.debug(data, 'flight DB accepts writes again: held batches written');
      return;
    }
    const dropped = episode.droppedSamples > 0 ? `; ${episode.droppedSamples} sample(s) arrived past the limit and are in the raw logs only` : '';
    this.#report(
      'info',
      'flight-db-recovered',
      `flight DB accepts writes again after ${(heldForMs / 1000).toFixed(1)} s (${episode.failures} refused flushes, ${episode.lastCode}): every held sample is stored${dropped}`,
      data,
    );
  }

  /** A log record and an event (stored with the next batch, so after the held ones). */
  #report(level: 'info' | 'error', code: string, message: string, data: Record<string, unknown>): void {
    if (level === 'error') this.#log.error({ ...data, code }, message);
    else this.#log.info({ ...data, code }, message);
    this.recordEvent({ tUs: Date.now() * 1000, monoUs: null, level, source: 'flight-db', code, message, data });
  }
}
