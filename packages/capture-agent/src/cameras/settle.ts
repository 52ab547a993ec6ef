// Our own stability polling: every candidate file is stat-ed, whenever a look can decide it, until
// the completeness rule calls it complete or incomplete. Replaces chokidar's awaitWriteFinish, which
// is not applied to files present at start (#594) and can fire before a copy has finished (#675).
import { EventEmitter } from 'node:events';
import { stat } from 'node:fs/promises';
import { decideCompleteness, type CompletenessDecision, type CompletenessPolicy, type FormatEnding, type WriterState } from './completeness.js';
import { checkFormatEnding } from './format-ending.js';
import { scanWriters, type ProcessTableOptions } from './open-writers.js';
import { monoNowUs } from '../serial/monoClock.js';

/** The parts of a stat the tracker uses (fs.Stats has them). */
export interface FileStat {
  size: number;
  mtimeMs: number;
  birthtimeMs: number;
}

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
  /** How a settling file is stat'ed. Default fs.promises.stat (tests count the looks). */
  statFile?: (path: string) => Promise<FileStat>;
}

const DEFAULT_POLL_MS = 50;
/**
 * Shortest gap between two polls, ms. A poll's early look for each file whose wait runs out (see
 * #nextDelayMs) would otherwise mean one poll (a stat of each file due and a /proc scan) per file
 * at a few hundred files/s: the waits are coalesced instead.
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
  readonly #statFile: (path: string) => Promise<FileStat>;
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
  /** Files the watcher reported written to since their last look (see watch, #nextLookUs). */
  readonly #hinted = new Set<SettlingFile>();

  constructor(options: SettleTrackerOptions = {}) {
    super();
    this.#pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.#isProcScanEnabled = options.isProcScanEnabled ?? process.platform === 'linux';
    this.#processTable = { procRoot: options.procRoot ?? '/proc', notWriters: new Set(options.notWriters ?? []) };
    this.#statFile = options.statFile ?? stat;
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

  /**
   * Starts (or keeps) tracking a file. `seen`: a stat of it just taken (the watcher's), its first
   * observation, so that the first poll need not stat it again. For a file already tracked this is
   * a hint that it was written to: it is looked at as soon as its shortest wait allows, not only
   * when a scan or settleMs could decide it (see #nextLookUs).
   */
  watch(device: string, path: string, seen?: FileStat): void {
    const known = this.#files.get(path);
    if (known) {
      this.#hinted.add(known);
      return;
    }
    const now = monoNowUs();
    const f: SettlingFile = {
      device,
      path,
      sizeBytes: -1,
      mtimeMs: -1,
      appearedMonoUs: now,
      lastChangeMonoUs: now,
      ending: null,
      writer: 'unknown',
    };
    if (seen) this.#observe(f, seen, now);
    this.#files.set(path, f);
    this.#schedule();
  }

  forget(path: string): void {
    const f = this.#files.get(path);
    if (f) this.#hinted.delete(f);
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
   * The poll period, or less when a file can be decided sooner (see #nextLookUs): the next look is
   * then right at that moment instead of up to one period after it (the same stable time is still
   * required; only the wait for the next look after it is cut).
   */
  #nextDelayMs(): number {
    const now = monoNowUs();
    let delayMs = this.#pollMs;
    for (const f of this.#files.values()) {
      if (!this.#policies.has(f.device)) continue;
      const dueMs = (this.#nextLookUs(f) - now) / 1000;
      if (dueMs > 0 && dueMs < delayMs) delayMs = dueMs;
    }
    return Math.max(MIN_POLL_GAP_MS, Math.ceil(delayMs));
  }

  /** One look at every settling file that a look can decide now. Public for tests that drive time themselves. */
  async poll(): Promise<void> {
    if (this.#isPolling) return;
    this.#isPolling = true;
    try {
      const now = monoNowUs();
      const needWriter: SettlingFile[] = [];
      // Only files that a look may decide now are looked at (see #nextLookUs); the others keep
      // their last observation until then.
      const looked: SettlingFile[] = [];
      for (const f of this.#files.values()) if (this.#nextLookUs(f) <= now) looked.push(f);
      for (const f of looked) this.#hinted.delete(f);
      const seen = new Set<SettlingFile>();
      await Promise.all(
        looked.map(async (f) => {
          let st;
          try {
            st = await this.#statFile(f.path);
          } catch {
            if (this.#files.get(f.path) === f) {
              this.#files.delete(f.path);
              this.#hinted.delete(f);
              this.emit('vanished', f);
            }
            return;
          }
          const policy = this.#policy(f.device);
          // Changed less than closedSettleMs ago: nothing to decide yet (and its ending unchecked).
          if (this.#observe(f, st, now) && f.lastChangeMonoUs > now - policy.closedSettleMs * 1000) return;
          // Decided only once its ending was looked at for what it is now (when it can be checked).
          seen.add(f);
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
      for (const f of seen) {
        if (this.#files.get(f.path) !== f) continue; // forgotten meanwhile
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
        this.#hinted.delete(f);
        this.emit('settled', { ...f, decision, settledMonoUs: monoNowUs() });
      }
    } finally {
      this.#isPolling = false;
    }
  }

  /**
   * Takes a stat of `f`, begun at monotonic `lookUs`, as its latest observation; true when its
   * size or mtime changed (or it is the first). The change happened at its mtime, not when we
   * looked: it is dated there (the wall and monotonic clocks read together once the stat is back,
   * so a stat that waited in the thread pool does not count its wait as stable time), but never
   * more than the short closed-file settle time (nor settleMs) before the look began, so a
   * clock-skewed mtime (network share) cannot stand in for the longer waits. Files present at
   * start settle at their first look.
   */
  #observe(f: SettlingFile, st: FileStat, lookUs: number): boolean {
    const nowUs = monoNowUs();
    const nowWallMs = Date.now();
    if (f.sizeBytes === -1) {
      f.appearedMonoUs = f.appearedMonoUs === null ? null : appearanceMonoUs(st, f.appearedMonoUs, this.#startedWallMs, nowUs, nowWallMs);
    }
    if (st.size === f.sizeBytes && st.mtimeMs === f.mtimeMs) return false;
    const policy = this.#policy(f.device);
    f.sizeBytes = st.size;
    f.mtimeMs = st.mtimeMs;
    const changedAtUs = nowUs - Math.round(Math.max(0, nowWallMs - st.mtimeMs) * 1000);
    f.lastChangeMonoUs = Math.max(changedAtUs, lookUs - Math.min(policy.closedSettleMs, policy.settleMs) * 1000);
    f.ending = null;
    f.writer = 'unknown';
    return true;
  }

  /**
   * The monotonic time (µs) from which a look at `f` (a stat, maybe its ending, maybe a /proc scan)
   * can decide it; a time not later than now means at this poll. Until then it is not looked at:
   * - Never seen: now.
   * - Seen, and as of that look unchanged for less than the shortest wait of any outcome
   *   (decideCompleteness needs at least closedSettleMs, settleMs or incompleteAfterMs of
   *   stability for each): when that wait ends. Also the most a file waits once the watcher
   *   reported a write to it since (hinted), whatever the rest below says.
   * - A valid ending and stable past closedSettleMs, but not settleMs: only a /proc scan showing no
   *   writer can end the wait early, so at the next scan the gap allows (or at settleMs). Without
   *   scans, and for an ending that cannot be checked, at settleMs.
   * - Anything else (held open, empty, a bad or not yet checked ending): at every poll once the
   *   shortest wait has run out. (A growing file is thus looked at every closedSettleMs.)
   * Not looking in between loses nothing: mtime only moves forward, so the stat at the end of the
   * wait tells whether it changed meanwhile, and when (a change found late is credited at most
   * closedSettleMs and settleMs, so it only ever waits longer, and a look that finds a change
   * decides nothing before its ending was checked); a write the watcher reports is looked at anyway.
   * At full speed, looking at every settling file at every poll was ~7 stats per picture, most of
   * the settle polling's cost; on a machine where no scan can prove a file closed (settleMs waits),
   * about 20.
   */
  #nextLookUs(f: SettlingFile): number {
    if (f.sizeBytes === -1) return -Infinity;
    const p = this.#policy(f.device);
    const youngUntil = f.lastChangeMonoUs + Math.min(p.closedSettleMs, p.settleMs, p.incompleteAfterMs) * 1000;
    const settledAt = f.lastChangeMonoUs + p.settleMs * 1000;
    if (this.#hinted.has(f) || f.writer !== 'unknown' || f.sizeBytes === 0) return youngUntil;
    if (f.ending === 'valid') {
      if (!this.#isProcScanEnabled) return Math.max(youngUntil, settledAt);
      return Math.max(youngUntil, Math.min(this.#lastScanMonoUs + this.#scanGapMs * 1000, settledAt));
    }
    if (f.ending === 'unknown') return Math.max(youngUntil, settledAt);
    return youngUntil;
  }

  #policy(device: string): CompletenessPolicy {
    const p = this.#policies.get(device);
    if (!p) throw new Error(`SettleTracker: no completeness policy for device ${JSON.stringify(device)}`);
    return p;
  }
}
