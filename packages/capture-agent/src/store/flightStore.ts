// Batched writer of the flight DB. The pipeline hands it samples, counters, clock fits, port
// status changes and events as they happen; flush() writes all of it in ONE transaction, so a
// crash leaves the DB at the last flush, never half a batch. The agent flushes on a timer
// (dbFlushMs) and whenever a batch grows large (replay).
import {
  addPortTraffic,
  insertClockFit,
  insertNavSamples,
  recordEvent,
  setPortStatus,
  upsertPort,
  upsertSentenceCounts,
  type ClockFitInsert,
  type EventInsert,
  type FlightDb,
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
  log: Logger;
}

type Op =
  | { type: 'status'; port: string; status: PortStatus; tUs: number; lastError: string | null }
  | { type: 'event'; event: EventInsert }
  | { type: 'fit'; fit: ClockFitInsert };

/** SQLite errors worth retrying at the next flush (the batch is kept). */
const TRANSIENT_CODES = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR'];

type Traffic = [string, { bytes: number; lines: number }][];

/** Writes one batch; each helper's own transaction becomes a savepoint inside this one. */
function makeBatchWriter(flightDb: FlightDb) {
  const db = flightDb.db;
  return db.transaction((samples: NavSampleInsert[], counts: SentenceCountDelta[], ops: Op[], traffic: Traffic): void => {
    insertNavSamples(db, samples);
    upsertSentenceCounts(db, counts);
    for (const [port, t] of traffic) addPortTraffic(db, port, t.bytes, t.lines);
    for (const op of ops) {
      if (op.type === 'status') setPortStatus(db, op.port, op.status, op.tUs, op.lastError);
      else if (op.type === 'event') recordEvent(db, op.event);
      else insertClockFit(db, op.fit);
    }
  });
}

export class FlightStore {
  readonly flightDb: FlightDb;
  readonly #log: Logger;
  readonly #maxBatchSamples: number;
  #samples: NavSampleInsert[] = [];
  #counts = new Map<string, SentenceCountDelta>();
  #traffic = new Map<string, { bytes: number; lines: number }>();
  #ops: Op[] = [];
  #samplesWritten = 0;
  #droppedSamples = 0;
  readonly #writeBatch: ReturnType<typeof makeBatchWriter>;

  constructor(flightDb: FlightDb, options: FlightStoreOptions) {
    this.flightDb = flightDb;
    this.#log = options.log;
    this.#maxBatchSamples = options.maxBatchSamples ?? 20_000;
    this.#writeBatch = makeBatchWriter(flightDb);
  }

  /** Samples committed so far by this store. */
  get samplesWritten(): number {
    return this.#samplesWritten;
  }

  /** Samples waiting for the next flush. */
  get pendingSamples(): number {
    return this.#samples.length;
  }

  /** Samples given up after a non-transient DB error (they remain in the raw log). */
  get droppedSamples(): number {
    return this.#droppedSamples;
  }

  /** Creates or updates a port row at once (so later rows can refer to it). Counters are kept. */
  ensurePort(port: Omit<PortRow, 'bytesReceived' | 'linesReceived'>): void {
    upsertPort(this.flightDb, port);
  }

  addSample(row: NavSampleInsert): void {
    this.#samples.push(row);
    if (this.#samples.length >= this.#maxBatchSamples) this.flush();
  }

  count(port: string, sentence: string | null, status: SentenceStatus, reason: string | null = null, n = 1): void {
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

  /** Commits everything queued in one transaction. On a transient error the batch is kept for the next flush. */
  flush(): void {
    if (this.#samples.length === 0 && this.#counts.size === 0 && this.#ops.length === 0 && this.#traffic.size === 0) return;
    const samples = this.#samples;
    const counts = [...this.#counts.values()];
    const ops = this.#ops;
    const traffic = [...this.#traffic];
    try {
      this.#writeBatch.immediate(samples, counts, ops, traffic);
      this.#samplesWritten += samples.length;
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      const isTransient = TRANSIENT_CODES.some((c) => code.startsWith(c));
      this.#log.error({ err: (err as Error).message, code, samples: samples.length, isTransient }, 'flight DB write failed');
      if (isTransient) return; // everything stays queued; the next flush retries
      this.#droppedSamples += samples.length;
    }
    this.#samples = [];
    this.#counts.clear();
    this.#ops = [];
    this.#traffic.clear();
  }
}
