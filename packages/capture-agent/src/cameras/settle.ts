// Our own stability polling: every candidate file is stat-ed on a short period until the
// completeness rule calls it complete or incomplete. Replaces chokidar's awaitWriteFinish, which
// is not applied to files present at start (#594) and can fire before a copy has finished (#675).
import { EventEmitter } from 'node:events';
import { stat } from 'node:fs/promises';
import { decideCompleteness, type CompletenessDecision, type CompletenessPolicy, type FormatEnding, type WriterState } from './completeness.js';
import { checkFormatEnding } from './format-ending.js';
import { scanWriters, type ProcessTableOptions } from './open-writers.js';
import { monoNowUs } from '../serial/monoClock.js';

/** What we know of one file while it settles. */
export interface SettlingFile {
  device: string;
  /** Absolute path. */
  path: string;
  sizeBytes: number;
  mtimeMs: number;
  /**
   * Monotonic time the file appeared (from its birth time when the file system has one, else when
   * we first saw it), µs; null when unknown: born before this boot (a monotonic time of this boot
   * cannot say when), or no birth time and already there before we watched (see appearanceMonoUs).
   */
  appearedMonoUs: number | null;
  /** Monotonic time of the last size/mtime change we saw, µs. */
  lastChangeMonoUs: number;
  /** Format ending for the current (size, mtime), when checked. */
  ending: FormatEnding | null;
  writer: WriterState;
}

export interface SettledFile extends SettlingFile {
  decision: Exclude<CompletenessDecision, { state: 'pending' }>;
  /** Monotonic time of the decision, µs. */
  settledMonoUs: number;
}

export interface SettleTrackerEvents {
  settled: [file: SettledFile];
  /** A candidate vanished before it settled (renamed away, deleted). */
  vanished: [file: SettlingFile];
}

export interface SettleTrackerOptions {
  /** Poll period, ms. Default 50. */
  pollMs?: number;
  /** Whether /proc is consulted for open writers. Default true (Linux). */
  isProcScanEnabled?: boolean;
  /** Where the process table is read. Default /proc. */
  procRoot?: string;
  /** Names of processes that never write camera files (see ProcessTableOptions.notWriters). */
  notWriters?: readonly string[];
}

const DEFAULT_POLL_MS = 50;
/**
 * Shortest gap between two polls, ms. A poll's early look for each file whose closed-settle time
 * runs out (see #nextDelayMs) would otherwise mean one poll (a stat of every settling file and a
 * /proc scan) per file at a few hundred files/s: the waits are coalesced instead.
 */
const MIN_POLL_GAP_MS = 10;
/**
 * Shortest gap between two /proc scans, ms, and how many times its own duration a scan waits at
 * least before the next. A scan reads every process's descriptor table (~2 ms with 70 processes
 * here, longer on a busy machine) and answers for all settling files at once; at full speed
 * (hundreds of files/s) scanning at every 10 ms poll was the biggest single cost on the agent's
 * main thread. With the gap a scan takes at most ~1/SCAN_GAP_FACTOR of the thread, however many
 * processes the machine runs; a file that needs the answer between two scans waits for the next.
 */
const MIN_SCAN_GAP_MS = 40;
const SCAN_GAP_FACTOR = 10;
/**
 * Shortest gap after a scan that met a process it could not inspect, ms. While that process stays
 * hidden no scan can prove a file closed, and every file falls back to its settleMs (1 s images,
 * 5 s videos) anyway: scanning every 40 ms for nothing was up to 1/SCAN_GAP_FACTOR of the main
 * thread all flight, on every machine where the agent cannot see everything (an unprivileged
 * service). A hidden process that ends is noticed within this.
 */
const BLIND_SCAN_GAP_MS = 1000;

/**
 * Monotonic µs at which a file was born, from its birth time on the wall clock: a number, or
 * 'before-boot' when that is before this boot's monotonic zero (CLOCK_MONOTONIC counts from boot),
 * or null when unknown (no birth time, or one in the future: the wall clock stepped back).
 */
export function bornMonoUs(birthtimeMs: number, nowMonoUs: number, nowWallMs: number = Date.now()): number | 'before-boot' | null {
  if (!(birthtimeMs > 0)) return null;
  const ageUs = (nowWallMs - birthtimeMs) * 1000;
  if (ageUs < 0) return null;
  const born = Math.round(nowMonoUs - ageUs);
  return born < 0 ? 'before-boot' : born;
}

/**
 * When did a file appear, on this boot's monotonic clock? From its birth time when the file system
 * has one; null when that is before this boot. Without a (believable) birth time, the moment we
 * first saw it, but only for a file last modified after we started watching: one that was already
 * there (a restart, a rescan after a reboot) appeared at a time nobody knows, and a guess would be
 * timed and posed as if it were the truth.
 */
export function appearanceMonoUs(
  st: { birthtimeMs: number; mtimeMs: number },
  firstSeenMonoUs: number,
  watchingSinceWallMs: number,
  nowMonoUs: number,
  nowWallMs: number = Date.now(),
): number | null {
  const born = bornMonoUs(st.birthtimeMs, nowMonoUs, nowWallMs);
  if (born === 'before-boot') return null;
  if (born !== null) return born;
  return st.mtimeMs >= watchingSinceWallMs ? firstSeenMonoUs : null;
}

export class SettleTracker extends EventEmitter<SettleTrackerEvents> {
  readonly #files = new Map<string, SettlingFile>();
  readonly #policies = new Map<string, CompletenessPolicy>();
  readonly #pollMs: number;
  readonly #isProcScanEnabled: boolean;
  readonly #processTable: ProcessTableOptions;
  #timer: NodeJS.Timeout | null = null;
  #isPolling = false;
  /** False after stop(): a poll in flight then does not schedule the next, nor does watch(). */
  #isStarted = false;
  /** Wall clock when this tracker was made: files changed before it were there before us. */
  readonly #startedWallMs = Date.now();
  /** Monotonic time of the last /proc scan, µs. */
  #lastScanMonoUs = -Infinity;
  /** Gap to keep after the last scan, ms (MIN_SCAN_GAP_MS, or more after a slow scan). */
  #scanGapMs = MIN_SCAN_GAP_MS;

  constructor(options: SettleTrackerOptions = {}) {
    super();
    this.#pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.#isProcScanEnabled = options.isProcScanEnabled ?? process.platform === 'linux';
    this.#processTable = { procRoot: options.procRoot ?? '/proc', notWriters: new Set(options.notWriters ?? []) };
  }

  /** Sets the completeness policy of a device's files. */
  setPolicy(device: string, policy: CompletenessPolicy): void {
    this.#policies.set(device, policy);
  }

  /** Files still settling. */
  get pendingCount(): number {
    return this.#files.size;
  }

  has(path: string): boolean {
    return this.#files.has(path);
  }

  /** Starts (or keeps) tracking a file; a known one is looked at again on the next poll. */
  watch(device: string, path: string): void {
    if (this.#files.has(path)) return;
    const now = monoNowUs();
    this.#files.set(path, {
      device,
      path,
      sizeBytes: -1,
      mtimeMs: -1,
      appearedMonoUs: now,
      lastChangeMonoUs: now,
      ending: null,
      writer: 'unknown',
    });
    this.#schedule();
  }

  forget(path: string): void {
    this.#files.delete(path);
  }

  start(): void {
    this.#isStarted = true;
    this.#schedule();
  }

  stop(): void {
    this.#isStarted = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Whether /proc is asked who holds a file open (Linux, unless disabled). */
  get isProcScanEnabled(): boolean {
    return this.#isProcScanEnabled;
  }

  /** Whether polling runs (between start() and stop()). */
  get isStarted(): boolean {
    return this.#isStarted;
  }

  #schedule(): void {
    if (!this.#isStarted || this.#timer || this.#files.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.poll().finally(() => this.#schedule());
    }, this.#nextDelayMs());
    this.#timer.unref?.();
  }

  /**
   * The poll period, or less when a file's closed-settle time runs out sooner: the next look is
   * then right at that moment instead of up to one period after it (the same `closedSettleMs` of
   * unchanged size is still required; only the wait for the next look after it is cut).
   */
  #nextDelayMs(): number {
    const now = monoNowUs();
    let delayMs = this.#pollMs;
    for (const f of this.#files.values()) {
      const policy = this.#policies.get(f.device);
      if (!policy || f.sizeBytes <= 0 || f.ending === 'invalid') continue;
      let dueMs = (f.lastChangeMonoUs - now) / 1000 + policy.closedSettleMs;
      // Due already, and waiting for a /proc scan that the scan gap held back: look again when
      // the next scan is allowed.
      if (dueMs <= 0 && f.writer === 'unknown' && this.#isProcScanEnabled) dueMs = (this.#lastScanMonoUs - now) / 1000 + this.#scanGapMs;
      if (dueMs > 0 && dueMs < delayMs) delayMs = dueMs;
    }
    return Math.max(MIN_POLL_GAP_MS, Math.ceil(delayMs));
  }

  /** One look at every settling file. Public for tests that drive time themselves. */
  async poll(): Promise<void> {
    if (this.#isPolling) return;
    this.#isPolling = true;
    try {
      const now = monoNowUs();
      const needWriter: SettlingFile[] = [];
      await Promise.all(
        [...this.#files.values()].map(async (f) => {
          let st;
          try {
            st = await stat(f.path);
          } catch {
            if (this.#files.get(f.path) === f) {
              this.#files.delete(f.path);
              this.emit('vanished', f);
            }
            return;
          }
          if (f.sizeBytes === -1) {
            f.appearedMonoUs = f.appearedMonoUs === null ? null : appearanceMonoUs(st, f.appearedMonoUs, this.#startedWallMs, now);
          }
          const policy = this.#policy(f.device);
          if (st.size !== f.sizeBytes || st.mtimeMs !== f.mtimeMs) {
            f.sizeBytes = st.size;
            f.mtimeMs = st.mtimeMs;
            // The change happened at its mtime, not when we looked: credit that age, but never more
            // than the short closed-file settle time, so a clock-skewed mtime (network share)
            // cannot stand in for the longer waits. Files present at start settle in one poll.
            const creditMs = Math.min(Math.max(0, Date.now() - st.mtimeMs), policy.closedSettleMs);
            f.lastChangeMonoUs = now - Math.round(creditMs * 1000);
            f.ending = null;
            f.writer = 'unknown';
            if (creditMs < policy.closedSettleMs) return;
          }
          if (f.ending === null) f.ending = await checkFormatEnding(f.path, f.sizeBytes);
          // Only ask /proc when the answer can make the file complete now.
          const stableMs = (now - f.lastChangeMonoUs) / 1000;
          if (f.ending === 'valid' && stableMs >= policy.closedSettleMs && stableMs < policy.settleMs) needWriter.push(f);
          else if (stableMs >= policy.settleMs) needWriter.push(f);
        }),
      );
      if (needWriter.length > 0 && this.#isProcScanEnabled) {
        if (now - this.#lastScanMonoUs >= this.#scanGapMs * 1000) {
          this.#lastScanMonoUs = now;
          const scanStartUs = monoNowUs();
          const scan = scanWriters(new Set(needWriter.map((f) => f.path)), this.#processTable);
          for (const f of needWriter) f.writer = scan.stateOf(f.path);
          this.#scanGapMs = Math.max(scan.isComplete ? MIN_SCAN_GAP_MS : BLIND_SCAN_GAP_MS, ((monoNowUs() - scanStartUs) / 1000) * SCAN_GAP_FACTOR);
        }
        // else: their writer state is the last scan's (at most one gap old) or 'unknown' if they
        // changed since; they keep settling until a poll that may scan. (A file can only take the
        // closed-and-valid way out at a poll that scanned it: needWriter holds exactly those.)
      } else {
        for (const f of needWriter) f.writer = 'unknown';
      }
      for (const f of [...this.#files.values()]) {
        if (f.sizeBytes === -1) continue;
        const decision = decideCompleteness(
          {
            sizeBytes: f.sizeBytes,
            stableForMs: (now - f.lastChangeMonoUs) / 1000,
            writer: f.writer,
            ending: f.ending ?? 'unknown',
          },
          this.#policy(f.device),
        );
        if (decision.state === 'pending') continue;
        this.#files.delete(f.path);
        this.emit('settled', { ...f, decision, settledMonoUs: monoNowUs() });
      }
    } finally {
      this.#isPolling = false;
    }
  }

  #policy(device: string): CompletenessPolicy {
    const p = this.#policies.get(device);
    if (!p) throw new Error(`SettleTracker: no completeness policy for device ${JSON.stringify(device)}`);
    return p;
  }
}
