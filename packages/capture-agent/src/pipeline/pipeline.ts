// The capture pipeline, the same for `run` and `replay`: one received line in → raw log entry,
// decoded samples placed on the UTC time line, counters, clock pairs and fits into the store.
//
// Sample time (`t_source`): the sentence's own UTC when it has one ('sentence'), else the flight
// clock's UTC at receipt minus the port's latency ('flight-clock'). A sample received before the
// clock has its first fit waits (in memory, bounded) until the fit exists, then is placed by it.
//
// Rows per sentence: every sample the decoder yields is stored, except a 'time' sample whose UTC
// time another sample of the same sentence already carries (RMC and GGA with a fix: the position
// row has the same t_us, t_source 'sentence', flags and raw_offset). A time row is stored when it is
// the sentence's only timed sample (ZDA, no-fix RMC/GGA, a fix without coordinates), so every line
// with a UTC time still has a row at that time. Time samples still feed the flight clock either way.
//
// The flight clock is fed from 'gps' ports: the first line of each new GPS second that carries a
// full UTC time and a valid fix gives a (monotonic receive time, GPS time) pair. One pair per second
// is plenty for a clock whose window is minutes long, and keeps the refit cost off the hot path.
//
// Stored fits carry the boot of the monotonic times they were fitted on (`bootId`): the camera side
// converts a file's monotonic appearance time only through a fit of its own boot. `run` passes
// the machine's current boot; replay does not know the recording machine's boot (null, unknown:
// its fits are then never used to convert a stored time), unless a session says which it was.
import {
  FlightClock,
  NmeaDecoder,
  type ClockFit,
  type DecodeFlag,
  type NavSample,
  type NavSampleInsert,
  type PortRole,
} from '@flysnap/shared';
import type { Logger } from '../log/index.js';
import type { RawLogWriter } from '../rawlog/index.js';
import type { FlightStore } from '../store/index.js';

export interface PipelinePortOptions {
  name: string;
  role: PortRole;
  /** Receive latency of the port, ms: subtracted from receipt times (clock pairs, untimed samples). */
  latencyMs: number;
  checksumPolicy: 'accept-flag' | 'reject';
}

export interface PipelineOptions {
  store: FlightStore;
  log: Logger;
  /** Store a clock fit at most this often, in monotonic time, ms. Default 10,000. */
  clockFitMs?: number;
  /** UTC reference for GPS week-rollover correction (the machine clock, live); null = off (replay). */
  rolloverReferenceUs?: number | null;
  /**
   * UTC for a monotonic time when no GPS fit ever comes (no GPS port, no fix): null = the capture
   * machine's system clock as sampled at start. Samples placed so get an event saying so.
   */
  fallbackOffsetUs?: number | null;
  /** Most samples held waiting for the clock's first fit before they are placed by the fallback. Default 100,000. */
  maxPendingSamples?: number;
  /**
   * The boot whose monotonic clock the receive times are on, stored with every fit: `run`, the
   * capture machine's currentBootId(). Default null = unknown (replay of logs from another boot or
   * machine): such fits are never used to convert a monotonic time stored elsewhere (asset times).
   */
  bootId?: string | null;
}

interface PendingSample {
  row: NavSampleInsert;
  /** Receipt time minus latency, on the monotonic clock. */
  atMonoUs: number;
  /** UTC recorded with the line (replay of an agent raw log), the best fallback. */
  recordedUtcUs: number | null;
  /** atMonoUs is a pseudo receive time that is itself UTC (plain device log), NaN before any time was seen. */
  isPseudo: boolean;
}

const US_PER_S = 1_000_000;

/** What one received line is, as the sources hand it over. */
export interface ReceivedLine {
  /** The line's bytes, with or without its terminating LF. */
  bytes: Buffer;
  /**
   * Monotonic receive time, µs; null when unknown (a plain device log): then the pipeline derives
   * a pseudo receive time from the sentence times seen on the port so far.
   */
  monoUs: number | null;
  /** The line was cut at maxLineBytes (no LF): counted as 'overlong', not decoded. */
  isCut?: boolean;
  /** UTC at receipt recorded with the line (agent raw log replay), or null. */
  recordedUtcUs?: number | null;
  /** Offset of the line in its raw log when not written by this pipeline (replay), or null. */
  rawOffset?: number | null;
}

export class CapturePipeline {
  readonly store: FlightStore;
  readonly clock: FlightClock;
  readonly #log: Logger;
  readonly #clockFitUs: number;
  readonly #rolloverReferenceUs: number | null;
  readonly #fallbackOffsetUs: number;
  readonly #maxPending: number;
  #pending: PendingSample[] = [];
  #lastStoredFitMonoUs = Number.NEGATIVE_INFINITY;
  #fitPort: string | null = null;
  #bootId: string | null;
  #fallbackPlaced = 0;
  #firstSentenceTUs: number | null = null;
  #lastSentenceTUs: number | null = null;
  readonly ports = new Map<string, PortPipeline>();

  constructor(options: PipelineOptions) {
    this.store = options.store;
    this.#log = options.log;
    this.#clockFitUs = (options.clockFitMs ?? 10_000) * 1000;
    this.#rolloverReferenceUs = options.rolloverReferenceUs ?? null;
    this.#fallbackOffsetUs = options.fallbackOffsetUs ?? Date.now() * 1000 - Number(process.hrtime.bigint() / 1000n);
    this.#maxPending = options.maxPendingSamples ?? 100_000;
    this.#bootId = options.bootId ?? null;
    // No per-port latency in the clock: each port subtracts its own before feeding a pair
    // (the clock copies its options at construction, before any port is added).
    this.clock = new FlightClock({ latencyUs: 0 });
  }

  /** Adds a port; `rawLog` = where its lines are appended (null: replay, lines are already on disk). */
  addPort(options: PipelinePortOptions, rawLog: RawLogWriter | null): PortPipeline {
    if (this.ports.has(options.name)) throw new Error(`pipeline: port ${options.name} added twice`);
    const decoder = new NmeaDecoder({ missingChecksum: options.checksumPolicy, rolloverReferenceUs: this.#rolloverReferenceUs });
    const port = new PortPipeline(this, options, decoder, rawLog);
    this.ports.set(options.name, port);
    return port;
  }

  /** The boot of the monotonic times fed now (stored with each fit), or null when not known. */
  get bootId(): string | null {
    return this.#bootId;
  }

  /** UTC at a monotonic time by the current fit, or null before the first fit. */
  utcAt(monoUs: number): number | null {
    return this.clock.toUtc(monoUs)?.tUs ?? null;
  }

  /** @internal A time pair from a gps port: `monoUs` already has the port's latency taken off. */
  feedClock(port: string, monoUs: number, gpsTUs: number): void {
    const hadFit = this.clock.fit() !== null;
    let obs = this.clock.addPair(monoUs, gpsTUs, port);
    if (obs.status === 'mono-backwards') {
      // A new session of a raw log (the capture machine rebooted): its monotonic clock restarted.
      this.placePending(true);
      this.clock.reset();
      this.#lastStoredFitMonoUs = Number.NEGATIVE_INFINITY;
      // A restarted monotonic clock is another boot, and which one is not known.
      this.#bootId = null;
      this.#event('info', 'clock', 'clock-reset', 'monotonic clock restarted (new session): flight clock refitted from scratch', { port, monoUs });
      obs = this.clock.addPair(monoUs, gpsTUs, port);
    }
    if (obs.jump) {
      const j = obs.jump;
      this.#event('warn', 'clock', 'clock-jump', `GPS time stepped by ${(j.stepUs / US_PER_S).toFixed(3)} s`, {
        port,
        stepUs: j.stepUs,
        atMonoUs: j.atMonoUs,
      });
    }
    const fit = this.clock.fit();
    if (fit === null) return;
    this.#fitPort = port;
    if (!hadFit) {
      this.#log.info({ offsetUs: fit.offsetUs, port }, 'flight clock has its first fit');
      this.placePending(false);
    }
    if (fit.fittedAtMonoUs - this.#lastStoredFitMonoUs >= this.#clockFitUs || obs.jump) this.#storeFit(fit);
  }

  /**
   * A new capture session begins (replay of agent raw logs: a session header, i.e. an agent restart
   * or reboot, whose monotonic clock may have restarted): the last fit is stored, samples still
   * waiting are placed (by this session's fit, else their recorded UTC), and the flight clock starts
   * from scratch, so one session's fit never places another session's samples. `run` never calls
   * this: a restarted agent is a new process with a new pipeline. `bootId`: the new session's boot
   * when the caller knows it (stored with its fits), else null (unknown).
   */
  newSession(data: Record<string, unknown>, bootId: string | null = null): void {
    this.storeCurrentFit();
    this.placePending(true);
    this.clock.reset();
    this.#lastStoredFitMonoUs = Number.NEGATIVE_INFINITY;
    this.#fitPort = null;
    this.#bootId = bootId;
    for (const p of this.ports.values()) p.newSession();
    this.#event('info', 'clock', 'clock-reset', 'new capture session: flight clock refitted from scratch', data);
  }

  /**
   * The boot of the monotonic times this session is fed (replay: the first session's raw log
   * header names it; later sessions pass it to newSession). Only before the session's first fit:
   * a fit made of one boot's times must never be stored as another's.
   */
  setSessionBoot(bootId: string | null): void {
    if (this.clock.fit() !== null) throw new Error('setSessionBoot: the flight clock already has a fit for this session');
    this.#bootId = bootId;
  }

  /** Stores the current fit now (at stop, so the last state is kept). */
  storeCurrentFit(): void {
    const fit = this.clock.fit();
    if (fit && fit.fittedAtMonoUs !== this.#lastStoredFitMonoUs) this.#storeFit(fit);
  }

  #storeFit(fit: ClockFit): void {
    this.#lastStoredFitMonoUs = fit.fittedAtMonoUs;
    this.store.addClockFit({
      fittedMonoUs: fit.fittedAtMonoUs,
      fittedTUs: fit.fittedAtMonoUs + fit.offsetUs,
      offsetUs: fit.offsetUs,
      driftPpm: fit.driftPpm,
      uncertaintyUs: fit.uncertaintyUs,
      pairs: fit.pairs,
      port: this.#fitPort,
      bootId: this.#bootId,
    });
  }

  /** @internal A sample without its own time, received before the clock's first fit. */
  holdSample(p: PendingSample): void {
    this.#pending.push(p);
    if (this.#pending.length >= this.#maxPending) this.placePending(true);
  }

  /**
   * Places held samples: by the clock when it has a fit; when `force` (stop, overflow, clock
   * reset) and it has none, by the line's recorded UTC or else the system clock.
   */
  placePending(force: boolean): void {
    if (this.#pending.length === 0) return;
    const hasFit = this.clock.fit() !== null;
    if (!hasFit && !force) return;
    let byFallback = 0;
    for (const p of this.#pending) {
      let tUs = hasFit && Number.isFinite(p.atMonoUs) ? this.utcAt(p.atMonoUs) : null;
      if (tUs === null) {
        if (p.recordedUtcUs !== null) tUs = p.recordedUtcUs;
        else if (p.isPseudo) tUs = Number.isFinite(p.atMonoUs) ? p.atMonoUs : (this.#firstSentenceTUs ?? Date.now() * 1000);
        else tUs = p.atMonoUs + this.#fallbackOffsetUs;
        byFallback++;
      }
      p.row.tUs = tUs;
      this.store.addSample(p.row);
    }
    this.#pending = [];
    if (byFallback > 0) {
      this.#fallbackPlaced += byFallback;
      this.#event('warn', 'clock', 'clock-undisciplined', `${byFallback} sample(s) without own time placed by the recorded/system clock: no GPS time fit`, {
        samples: byFallback,
      });
    }
  }

  /** @internal Latest sentence time seen on any port (pseudo receive times of plain logs), µs. */
  noteSentenceTime(tUs: number): number {
    if (this.#firstSentenceTUs === null) this.#firstSentenceTUs = tUs;
    if (this.#lastSentenceTUs === null || tUs > this.#lastSentenceTUs) this.#lastSentenceTUs = tUs;
    return this.#lastSentenceTUs;
  }

  /** @internal Latest sentence time seen on any port, or null. */
  get lastSentenceTUs(): number | null {
    return this.#lastSentenceTUs;
  }

  /** Samples placed without a GPS fit so far. */
  get fallbackPlacedSamples(): number {
    return this.#fallbackPlaced;
  }

  /** Flushes held samples (forced), stores the last fit; the caller then flushes the store. */
  finish(): void {
    for (const p of this.ports.values()) p.finish();
    this.placePending(true);
    this.storeCurrentFit();
  }

  #event(level: 'info' | 'warn' | 'error', source: string, code: string, message: string, data: unknown): void {
    const log = level === 'info' ? this.#log.info.bind(this.#log) : level === 'warn' ? this.#log.warn.bind(this.#log) : this.#log.error.bind(this.#log);
    log({ code, ...(data as object) }, message);
    this.store.recordEvent({ tUs: Date.now() * 1000, monoUs: null, level, source, code, message, data });
  }
}

/** Another sample of the same sentence carries `time`'s UTC time (so its time row would repeat it). */
function hasOtherTimedSample(samples: readonly NavSample[], time: NavSample): boolean {
  for (const s of samples) if (s !== time && s.tUs === time.tUs) return true;
  return false;
}

export class PortPipeline {
  readonly name: string;
  readonly #owner: CapturePipeline;
  readonly #store: FlightStore;
  readonly #decoder: NmeaDecoder;
  readonly #rawLog: RawLogWriter | null;
  readonly #isGps: boolean;
  readonly #latencyUs: number;
  /** The previous piece was cut: this one is the rest of an overlong line. */
  #isAfterCut = false;
  /** Second (UTC, s) of the last clock pair: one pair per GPS second. */
  #lastPairSecond = Number.NaN;
  #lines = 0;

  constructor(owner: CapturePipeline, options: PipelinePortOptions, decoder: NmeaDecoder, rawLog: RawLogWriter | null) {
    this.name = options.name;
    this.#owner = owner;
    this.#store = owner.store;
    this.#decoder = decoder;
    this.#rawLog = rawLog;
    this.#isGps = options.role === 'gps';
    this.#latencyUs = Math.round(options.latencyMs * 1000);
  }

  /** Lines handled so far. */
  get lineCount(): number {
    return this.#lines;
  }

  /** The decoder's counts (valid per type, unknown per type, rejected per reason). */
  decoderStats(): ReturnType<NmeaDecoder['stats']> {
    return this.#decoder.stats();
  }

  line(received: ReceivedLine): void {
    const { bytes } = received;
    const isCut = received.isCut === true;
    this.#lines++;
    const len = bytes.length;
    // The raw log records whether the piece ended with LF: a cut or a partial line at unplug/stop did not.
    const hasLf = !isCut && len > 0 && bytes[len - 1] === 0x0a;
    const payload = hasLf ? bytes.subarray(0, len - 1) : bytes;
    const name = this.name;
    const store = this.#store;
    store.addTraffic(name, len, 1);

    if (isCut || this.#isAfterCut) {
      this.#isAfterCut = isCut;
      const monoUs = received.monoUs ?? this.#owner.lastSentenceTUs ?? 0;
      this.#rawLog?.append(Math.max(0, monoUs), this.#owner.utcAt(monoUs), payload, hasLf, isCut);
      store.count(name, null, 'rejected', 'overlong');
      return;
    }

    const result = this.#decoder.decode(payload);
    const isPseudo = received.monoUs === null;
    const monoUs = isPseudo ? this.#pseudoMono(result) : (received.monoUs as number);
    const rawOffset = this.#rawLog ? this.#rawLog.append(Math.max(0, monoUs), this.#owner.utcAt(monoUs), payload, hasLf, false) : (received.rawOffset ?? null);

    if (result.status === 'rejected') {
      store.count(name, result.sentence, 'rejected', result.reason);
      return;
    }
    if (result.status === 'unknown') {
      store.count(name, result.sentence, 'unknown');
      return;
    }
    store.count(name, result.sentence, 'valid');
    const flags: readonly DecodeFlag[] = result.flags;
    const atMonoUs = monoUs - this.#latencyUs;
    let receiptUtcUs: number | undefined; // computed once, when a sample needs it
    const samples = result.samples;
    for (const sample of samples) {
      if (sample.tUs !== null) {
        if (sample.kind === 'time') {
          // The pair's monotonic side is when the sentence's time was true: receipt minus the port's
          // latency. A pseudo receive time (plain device log) is the sentence time itself.
          if (this.#isGps && !flags.includes('no-fix')) this.#maybePair(isPseudo ? monoUs : atMonoUs, sample.tUs);
          if (hasOtherTimedSample(samples, sample)) continue;
        }
        store.addSample({ sample, tUs: sample.tUs, tSource: 'sentence', port: name, rawOffset, receivedMonoUs: monoUs, flags });
        continue;
      }
      if (receiptUtcUs === undefined) receiptUtcUs = this.#owner.utcAt(atMonoUs) ?? Number.NaN;
      const row: NavSampleInsert = { sample, tUs: receiptUtcUs, tSource: 'flight-clock', port: name, rawOffset, receivedMonoUs: monoUs, flags };
      if (Number.isNaN(receiptUtcUs)) {
        this.#owner.holdSample({ row, atMonoUs: isPseudo && monoUs < 0 ? Number.NaN : atMonoUs, recordedUtcUs: received.recordedUtcUs ?? null, isPseudo });
      }
      else store.addSample(row);
    }
  }

  /** A new capture session (see CapturePipeline.newSession): no cut line or GPS second carries over. */
  newSession(): void {
    this.#isAfterCut = false;
    this.#lastPairSecond = Number.NaN;
  }

  /** End of input: nothing is held per port today (the splitter lives in the source). */
  finish(): void {
    this.#isAfterCut = false;
  }

  #maybePair(monoUs: number, tUs: number): void {
    const second = Math.floor(tUs / US_PER_S);
    if (second === this.#lastPairSecond) return;
    this.#lastPairSecond = second;
    this.#owner.feedClock(this.name, monoUs, tUs);
  }

  /**
   * A receive time for a line from a plain device log, which has none: the latest sentence time
   * seen so far (on any port), itself UTC µs, never going backwards; -1 before any. Sentences
   * without a time then get the time of the epoch they follow, which is what a receiver's stream
   * means. Fed to the clock like real receive times, it gives a fit of offset 0, drift 0.
   */
  #pseudoMono(result: ReturnType<NmeaDecoder['decode']>): number {
    if (result.status === 'accepted') {
      for (const s of result.samples) {
        if (s.kind === 'time') return this.#owner.noteSentenceTime(s.tUs);
      }
    }
    return this.#owner.lastSentenceTUs ?? -1;
  }
}
