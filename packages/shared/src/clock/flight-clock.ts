// The flight clock: maps the capture machine's monotonic clock (`monoUs`) to UTC (`tUs`) from
// pairs (monotonic receive time of a GPS sentence, GPS time carried by that sentence).
//
// Model: tUs = monoUs + offsetUs + driftPpm·1e-6·(monoUs − fittedAtMonoUs).
//
// Serial latency only ever makes a line arrive LATER, so every pair's y = gpsTUs − monoUs lies on
// or BELOW the true line (a late arrival means a larger monoUs for the same GPS time). The fit is
// therefore the upper envelope of y over the window (the least-delayed lines), after a robust
// Theil–Sen + MAD pass has removed outliers. A constant part of the latency cannot be seen in
// the data: configure it per port (`latencyUs`, `portLatencyUs`).
//
// A step of the GPS time (receiver clock stepping, restart) is detected against the current fit:
// suspect pairs are held out of the window; when `jumpConfirmPairs` consecutive suspects agree,
// the jump is reported and the window restarts from them. A lone suspect is an outlier.
// A step BACK (suspects below the fit) looks exactly like lines arriving late for a while (a
// stalled USB-serial adapter, a busy machine), so it is confirmed only once the agreeing suspects
// also span `jumpConfirmSpanUs` of monotonic time; a step forward cannot be produced by latency
// and is confirmed by the pair count alone. A step back's suspects must also stay level (a delay
// that keeps growing is late lines). Suspects that stop agreeing or return to the model
// were outliers (late lines), never a jump: the fit keeps the model meanwhile.
// A reset of the monotonic clock (capture machine restart) is the caller's to handle: create a
// new FlightClock or call reset(); until then such pairs are refused as 'mono-backwards'.

import {
  MAD_TO_SIGMA,
  madOf,
  medianOf,
  theilSenSlope,
  upperEnvelopeLine,
  type Line,
} from './robust.js';

export interface FlightClockOptions {
  /** Sliding window of pairs kept for the fit, on the monotonic clock, µs. Default 120_000_000 (120 s). */
  windowUs?: number;
  /** Most pairs kept in the window, oldest dropped first. Default 600. */
  maxPairs?: number;
  /** Pairs needed in the window before a fit exists (at least 2). Default 3. */
  minPairs?: number;
  /** Receive latency subtracted from every pair's monotonic receive time, µs. Default 0. */
  latencyUs?: number;
  /** Receive latency by port name, µs; overrides `latencyUs` for pairs given that port. Default {}. */
  portLatencyUs?: Readonly<Record<string, number>>;
  /** A pair off the fit's prediction by more than this (plus the fit's uncertainty there) is a jump suspect, µs. Default 500_000. */
  jumpThresholdUs?: number;
  /** Consecutive agreeing suspect pairs that confirm a jump. Default 3. */
  jumpConfirmPairs?: number;
  /** A step back (consistent with late lines) is confirmed only when its agreeing suspects also span this much monotonic time, µs. Default 10_000_000 (10 s). */
  jumpConfirmSpanUs?: number;
  /** Suspects agree when their offsets from the fit are within this of each other, µs. Default 200_000. */
  jumpAgreementUs?: number;
  /** Largest plausible drift of the monotonic clock against UTC, ppm; steeper slopes are not believed. Default 1000. */
  maxDriftPpm?: number;
  /** Below this span of pairs the drift is not fitted but taken from the previous regime (after a jump) or 0, µs. Default 10_000_000 (10 s). */
  minDriftSpanUs?: number;
  /** Outlier rejection: pairs EARLIER than the robust median line by more than this many robust spreads are outliers. Default 3. */
  earlyOutlierSpreads?: number;
  /** Outlier rejection: pairs LATER than the robust median line by more than this many robust spreads are outliers. Default 4. */
  lateOutlierSpreads?: number;
  /** Smallest robust spread used for outlier rejection (time resolution, scheduling noise), µs. Default 2_000. */
  minSpreadUs?: number;
  /** Smallest uncertainty ever reported, µs. Default 1_000. */
  minUncertaintyUs?: number;
  /** A pair more than this before the newest monotonic time seen is refused as 'mono-backwards' (machine restart), µs. Default 1_000_000. */
  monoBackwardsToleranceUs?: number;
}

/** The fitted model, valid over the window it was fitted on (extrapolation costs uncertainty). */
export interface ClockFit {
  /** tUs − monoUs at `fittedAtMonoUs`, µs (rounded). */
  offsetUs: number;
  /** Rate of change of (tUs − monoUs), ppm: µs of offset gained per second of monotonic time. */
  driftPpm: number;
  /**
   * Estimated error of the prediction inside the window, µs (≥ minUncertaintyUs): about a 90 %
   * bound in simulation (uniform, exponential and gamma delays); rarely exceeded by more than 2×.
   */
  uncertaintyUs: number;
  /** Estimated error of driftPpm, ppm; prediction outside the window adds driftUncertaintyPpm·1e-6·distance. */
  driftUncertaintyPpm: number;
  /** Pairs used (inliers). */
  pairs: number;
  /** Pairs in the window rejected as outliers. */
  rejected: number;
  /** Median arrival delay of the inliers behind the envelope, µs (the jitter above the configured latency). */
  medianDelayUs: number;
  /** Robust spread (1.4826·MAD) of those delays, µs. */
  spreadUs: number;
  /** Monotonic time of the oldest / newest pair in the window (receive time − latency), µs. */
  fromMonoUs: number;
  toMonoUs: number;
  /** Monotonic time at which offsetUs applies: the newest pair of the window, µs. */
  fittedAtMonoUs: number;
}

/** A step of the GPS time against the monotonic clock, confirmed by several agreeing pairs. */
export interface ClockJump {
  /** Monotonic time of the first pair of the new regime (receive time − latency), µs. */
  atMonoUs: number;
  /** Monotonic time of the pair that confirmed it, µs. */
  confirmedAtMonoUs: number;
  /** New GPS time minus the old model's prediction, µs (positive: GPS time jumped forward). */
  stepUs: number;
  /** Pairs that confirmed it (they start the new window). */
  pairs: number;
  /** The fit of the old regime when the jump was confirmed. */
  previousFit: ClockFit;
}

export type ClockPairStatus =
  /** Used in the fit. */
  | 'accepted'
  /** Kept in the window; not enough pairs for a fit yet. */
  | 'warming-up'
  /** Kept in the window but rejected by the robust fit (late line, glitch). */
  | 'outlier'
  /** Off the prediction by more than the jump threshold; held back until confirmed or dropped. */
  | 'jump-suspect'
  /** This pair confirmed a jump: the window restarted from the agreeing suspects. */
  | 'jump-confirmed'
  /** Monotonic time went backwards: the capture machine restarted; create a new clock or reset(). */
  | 'mono-backwards'
  /** A non-finite number was given. */
  | 'invalid-input';

export interface ClockObservation {
  /** True when the pair is used by the fit now (status 'accepted' or 'jump-confirmed', or 'warming-up'). */
  accepted: boolean;
  status: ClockPairStatus;
  /** GPS time minus the prediction of the fit before this pair, µs; negative = the line came late. Null without a fit. */
  residualUs: number | null;
  /** Set when this pair confirmed a time jump. */
  jump?: ClockJump;
}

/** Prediction of UTC from a fit at a monotonic time, with its uncertainty (grows outside the window). */
export function clockFitToUtc(fit: ClockFit, monoUs: number): { tUs: number; uncertaintyUs: number } {
  const tUs = Math.round(monoUs + fit.offsetUs + fit.driftPpm * 1e-6 * (monoUs - fit.fittedAtMonoUs));
  const outsideUs = Math.max(0, fit.fromMonoUs - monoUs, monoUs - fit.toMonoUs);
  const uncertaintyUs = Math.round(fit.uncertaintyUs + fit.driftUncertaintyPpm * 1e-6 * outsideUs);
  return { tUs, uncertaintyUs };
}

interface Pair {
  /** Monotonic time of the GPS time mark: receive time − latency, µs. */
  x: number;
  /** gpsTUs − x, µs. */
  y: number;
}

interface Envelope {
  line: Line;
  /** Pairs used. */
  m: number;
  inSpan: number;
  meanX: number;
  fixedSlope: number | null;
  /** Delay of every window pair behind the line (negative: above it), µs. */
  delays: number[];
  medianDelayUs: number;
  spreadUs: number;
  uncertaintyUs: number;
}

/** MAD-based rejection needs this many pairs in the window. */
const MAD_REJECT_MIN_PAIRS = 5;
/** The split-half uncertainty check needs this many pairs. */
const SPLIT_CHECK_MIN_PAIRS = 8;
/** Rounds of single-pair envelope outlier removal per fit. */
const ENVELOPE_OUTLIER_ROUNDS = 3;
/** The single-pair check needs this many pairs (below, every pair legitimately moves the fit). */
const ENVELOPE_CHECK_MIN_PAIRS = 10;

interface Suspect extends Pair {
  /** y minus the fit's prediction, µs. */
  r: number;
}

/** A step back's suspects may change level by at most this fraction of jumpAgreementUs across their span. */
const JUMP_LEVEL_FRACTION = 0.25;

/**
 * How much the least-delayed suspect moves between the oldest and the newest third of the
 * suspects (sorted by x), µs: about 0 for a step (delays are one-sided, the least-delayed pairs
 * sit at the step), the delay's growth for lines getting later and later.
 */
function levelChangeUs(suspects: readonly Suspect[]): number {
  const third = Math.max(1, Math.floor(suspects.length / 3));
  let oldest = Number.NEGATIVE_INFINITY;
  let newest = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < third; i++) {
    oldest = Math.max(oldest, suspects[i]!.r);
    newest = Math.max(newest, suspects[suspects.length - 1 - i]!.r);
  }
  return Math.abs(newest - oldest);
}

const DEFAULTS: Required<Omit<FlightClockOptions, 'portLatencyUs'>> = {
  windowUs: 120_000_000,
  maxPairs: 600,
  minPairs: 3,
  latencyUs: 0,
  jumpThresholdUs: 500_000,
  jumpConfirmPairs: 3,
  jumpConfirmSpanUs: 10_000_000,
  jumpAgreementUs: 200_000,
  maxDriftPpm: 1000,
  minDriftSpanUs: 10_000_000,
  earlyOutlierSpreads: 3,
  lateOutlierSpreads: 4,
  minSpreadUs: 2_000,
  minUncertaintyUs: 1_000,
  monoBackwardsToleranceUs: 1_000_000,
};

export class FlightClock {
  readonly #opts: Required<Omit<FlightClockOptions, 'portLatencyUs'>>;
  readonly #portLatencyUs: Readonly<Record<string, number>>;
  /** Window, sorted by x. */
  #pairs: Pair[] = [];
  /** Parallel to #pairs: inlier of the current fit. */
  #inlier: boolean[] = [];
  #pending: Suspect[] = [];
  #fit: ClockFit | null = null;
  /** Drift (and its uncertainty, and the jitter) carried over a jump while the new regime is too short to fit them. */
  #priorDrift: { ppm: number; uncertaintyPpm: number; delayBoundUs: number } | null = null;
  #maxRawMonoUs = Number.NEGATIVE_INFINITY;
  #jumps: ClockJump[] = [];

  constructor(opts: FlightClockOptions = {}) {
    const merged = { ...DEFAULTS };
    for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
      const v = opts[key];
      if (v !== undefined) merged[key] = v;
    }
    merged.minPairs = Math.max(2, Math.floor(merged.minPairs));
    merged.jumpConfirmPairs = Math.max(1, Math.floor(merged.jumpConfirmPairs));
    merged.maxPairs = Math.max(merged.minPairs, Math.floor(merged.maxPairs));
    this.#opts = merged;
    this.#portLatencyUs = { ...(opts.portLatencyUs ?? {}) };
  }

  /**
   * Adds a pair: `monoUs` = monotonic receive time of a GPS sentence, `gpsTUs` = the UTC time it
   * carries; `port` selects a per-port latency. Never throws.
   */
  addPair(monoUs: number, gpsTUs: number, port?: string): ClockObservation {
    if (!Number.isFinite(monoUs) || !Number.isFinite(gpsTUs)) {
      return { accepted: false, status: 'invalid-input', residualUs: null };
    }
    if (monoUs < this.#maxRawMonoUs - this.#opts.monoBackwardsToleranceUs) {
      return { accepted: false, status: 'mono-backwards', residualUs: null };
    }
    this.#maxRawMonoUs = Math.max(this.#maxRawMonoUs, monoUs);

    const latency = (port !== undefined ? this.#portLatencyUs[port] : undefined) ?? this.#opts.latencyUs;
    const x = monoUs - latency;
    const y = gpsTUs - x;
    const before = this.#fit;
    let residualUs: number | null = null;

    if (before !== null) {
      const predicted = before.offsetUs + before.driftPpm * 1e-6 * (x - before.fittedAtMonoUs);
      const r = y - predicted;
      residualUs = Math.round(r);
      const { uncertaintyUs } = clockFitToUtc(before, x);
      if (Math.abs(r) > this.#opts.jumpThresholdUs + uncertaintyUs) {
        return this.#suspect({ x, y, r }, before, residualUs);
      }
    }
    // A pair that fits the current regime: any pending suspects were lone outliers.
    this.#pending = [];
    this.#insert({ x, y });
    this.#prune();
    this.#refit();
    // The pair may have been pruned at once (far older than the window): then it is not used.
    const position = this.#pairs.findIndex((p) => p.x === x && p.y === y);
    if (this.#fit === null) {
      return { accepted: position >= 0, status: position >= 0 ? 'warming-up' : 'outlier', residualUs };
    }
    const used = position >= 0 && this.#inlier[position] === true;
    return { accepted: used, status: used ? 'accepted' : 'outlier', residualUs };
  }

  /** UTC at a monotonic time (no latency applied: an event's own time) with its uncertainty; null without a fit. */
  toUtc(monoUs: number): { tUs: number; uncertaintyUs: number } | null {
    if (this.#fit === null || !Number.isFinite(monoUs)) return null;
    return clockFitToUtc(this.#fit, monoUs);
  }

  /** The current fit, or null until `minPairs` pairs spanning some time exist. */
  fit(): ClockFit | null {
    return this.#fit;
  }

  /** Every jump confirmed since construction or the last reset(), oldest first. */
  jumps(): readonly ClockJump[] {
    return this.#jumps;
  }

  /** Forgets everything (capture machine restarted: monotonic clock reset). Options are kept. */
  reset(): void {
    this.#pairs = [];
    this.#inlier = [];
    this.#pending = [];
    this.#fit = null;
    this.#priorDrift = null;
    this.#maxRawMonoUs = Number.NEGATIVE_INFINITY;
    this.#jumps = [];
  }

  #suspect(s: Suspect, before: ClockFit, residualUs: number): ClockObservation {
    const ref = this.#pending.reduce((m, p) => Math.max(m, p.r), Number.NEGATIVE_INFINITY);
    if (this.#pending.length > 0 && Math.abs(s.r - ref) > this.#opts.jumpAgreementUs) {
      this.#pending = []; // the earlier suspects were outliers of another kind
    }
    this.#pending.push(s);
    this.#pending.sort((a, b) => a.x - b.x);
    const mayBeLate = this.#pending.some((p) => p.r < 0);
    if (mayBeLate) {
      // Below the fit, the suspects may be late lines. A step stays level; a delay that keeps
      // growing (or shrinking) does not: the oldest suspects off the current level are dropped
      // as late lines, so that a steady drift of the delay never spans jumpConfirmSpanUs.
      const tolerance = this.#opts.jumpAgreementUs * JUMP_LEVEL_FRACTION;
      while (this.#pending.length > 1 && levelChangeUs(this.#pending) > tolerance) this.#pending.shift();
    }
    if (this.#pending.length < this.#opts.jumpConfirmPairs) {
      return { accepted: false, status: 'jump-suspect', residualUs };
    }
    const suspects = this.#pending.slice();
    const first = suspects[0]!;
    // ... and they must persist for jumpConfirmSpanUs of monotonic time, not only jumpConfirmPairs.
    if (mayBeLate && suspects[suspects.length - 1]!.x - first.x < this.#opts.jumpConfirmSpanUs) {
      return { accepted: false, status: 'jump-suspect', residualUs };
    }
    const jump: ClockJump = {
      atMonoUs: first.x,
      confirmedAtMonoUs: s.x,
      stepUs: Math.round(suspects.reduce((m, p) => Math.max(m, p.r), Number.NEGATIVE_INFINITY)),
      pairs: suspects.length,
      previousFit: before,
    };
    this.#jumps.push(jump);
    this.#priorDrift = {
      ppm: before.driftPpm,
      uncertaintyPpm: before.driftUncertaintyPpm,
      delayBoundUs: before.medianDelayUs + before.spreadUs,
    };
    this.#pairs = suspects.map(({ x, y }) => ({ x, y }));
    this.#pending = [];
    this.#prune();
    this.#refit();
    return { accepted: true, status: 'jump-confirmed', residualUs, jump };
  }

  #insert(p: Pair): void {
    let i = this.#pairs.length;
    while (i > 0 && this.#pairs[i - 1]!.x > p.x) i--;
    this.#pairs.splice(i, 0, p);
  }

  #prune(): void {
    const { windowUs, maxPairs, minPairs } = this.#opts;
    const newest = this.#pairs[this.#pairs.length - 1];
    if (newest === undefined) return;
    let drop = 0;
    const n = this.#pairs.length;
    while (n - drop > maxPairs) drop++;
    while (n - drop > minPairs && this.#pairs[drop]!.x < newest.x - windowUs) drop++;
    if (drop > 0) this.#pairs.splice(0, drop);
  }

  #refit(): void {
    const o = this.#opts;
    const pairs = this.#pairs;
    const n = pairs.length;
    this.#inlier = new Array<boolean>(n).fill(false);
    this.#fit = null;
    if (n < o.minPairs) return;
    const ref = pairs[n - 1]!;
    // Relative coordinates keep the arithmetic small and exact.
    const xs = pairs.map((p) => p.x - ref.x);
    const ys = pairs.map((p) => p.y - ref.y);
    const span = xs[n - 1]! - xs[0]!;
    if (span <= 0) return;
    const maxSlope = o.maxDriftPpm * 1e-6;

    // 1. Robust median line (Theil–Sen slope, median intercept) and MAD outlier rejection.
    const prelimSlope = theilSenSlope(xs, ys, maxSlope) ?? (this.#priorDrift?.ppm ?? 0) * 1e-6;
    const resid = xs.map((x, i) => ys[i]! - prelimSlope * x);
    const center = medianOf(resid);
    const spread = Math.max(o.minSpreadUs, MAD_TO_SIGMA * madOf(resid, center));
    const lo = center - o.lateOutlierSpreads * spread;
    const hi = center + o.earlyOutlierSpreads * spread;
    // With very few pairs a MAD says nothing: keep them all (the envelope still prefers the best).
    let inlier = resid.map((r) => n < MAD_REJECT_MIN_PAIRS || (r >= lo && r <= hi));
    let inliers = 0;
    for (const isIn of inlier) if (isIn) inliers++;
    if (inliers < 2) inlier = inlier.map(() => true);

    // 2. Upper envelope of the inliers (least-delayed lines); drift from a prior when too short.
    //    An early pair that survived step 1 would lift the envelope on its own: a pair whose
    //    removal lowers the envelope by more than the fit's uncertainty is an outlier too.
    let env: Envelope | null = null;
    for (let round = 0; round <= ENVELOPE_OUTLIER_ROUNDS; round++) {
      env = this.#envelope(xs, ys, inlier);
      if (env === null) return;
      if (round === ENVELOPE_OUTLIER_ROUNDS || env.m < ENVELOPE_CHECK_MIN_PAIRS) break;
      const e = env;
      const touching: number[] = []; // (a loop: flatMap here was most of a refit's time)
      for (let i = 0; i < e.delays.length; i++) if (e.delays[i]! <= 0.01 && inlier[i]) touching.push(i);
      if (touching.length > 2) break; // several pairs support the line: none stands alone
      const tolerance = Math.max(o.minSpreadUs, e.uncertaintyUs);
      let removed = false;
      for (const i of touching) {
        const without = inlier.slice();
        without[i] = false;
        const other = this.#envelope(xs, ys, without);
        if (other === null) continue;
        const meanX = e.meanX;
        const drop =
          e.line.intercept + e.line.slope * meanX - (other.line.intercept + other.line.slope * meanX);
        if (drop > tolerance) {
          inlier = without;
          removed = true;
          break;
        }
      }
      if (!removed) break;
    }
    if (env === null) return;
    const { line, m, inSpan, fixedSlope, medianDelayUs, spreadUs } = env;
    // 3. Uncertainty: the larger of the delay-based bound and the disagreement of two independent
    //    half-fits (alternate pairs), which also sees a poorly determined drift.
    let uncertaintyUs = env.uncertaintyUs;
    let driftUncertaintyPpm =
      fixedSlope !== null
        ? (this.#priorDrift?.uncertaintyPpm ?? o.maxDriftPpm)
        : ((2 * uncertaintyUs) / Math.max(inSpan, 1)) * 1e6;
    if (m < SPLIT_CHECK_MIN_PAIRS) {
      // Too few pairs to know how close to the envelope they came: assume no better than the
      // largest delay seen, or the previous regime's usual delays (median + spread).
      const inDelays = env.delays.filter((_, i) => inlier[i]);
      uncertaintyUs = Math.max(uncertaintyUs, ...inDelays, this.#priorDrift?.delayBoundUs ?? 0);
    } else {
      let k = 0;
      const even = inlier.map((v) => v && k++ % 2 === 0);
      const odd = inlier.map((v, i) => v && !even[i]);
      const a = this.#envelope(xs, ys, even);
      const b = this.#envelope(xs, ys, odd);
      if (a !== null && b !== null) {
        const at = (l: Line, x: number): number => l.intercept + l.slope * x;
        const ends = [xs[0]!, xs[n - 1]!];
        const split = Math.max(...ends.map((x) => Math.abs(at(a.line, x) - at(b.line, x))));
        uncertaintyUs = Math.max(uncertaintyUs, 1.5 * split);
        if (fixedSlope === null) {
          const splitDrift = Math.abs(a.line.slope - b.line.slope) * 1e6;
          driftUncertaintyPpm = Math.max(
            driftUncertaintyPpm,
            splitDrift,
            ((2 * uncertaintyUs) / Math.max(inSpan, 1)) * 1e6,
          );
        }
      }
    }
    driftUncertaintyPpm = Math.min(o.maxDriftPpm, driftUncertaintyPpm);

    this.#inlier = inlier;
    this.#fit = {
      offsetUs: Math.round(ref.y + line.intercept),
      driftPpm: line.slope * 1e6,
      uncertaintyUs: Math.round(uncertaintyUs),
      driftUncertaintyPpm,
      pairs: m,
      rejected: n - m,
      medianDelayUs: Math.round(medianDelayUs),
      spreadUs: Math.round(spreadUs),
      fromMonoUs: pairs[0]!.x,
      toMonoUs: ref.x,
      fittedAtMonoUs: ref.x,
    };
  }

  /** Upper envelope of the flagged pairs, with the delays behind it and the derived uncertainty. */
  #envelope(xs: readonly number[], ys: readonly number[], inlier: readonly boolean[]): Envelope | null {
    const o = this.#opts;
    const inX: number[] = [];
    const inY: number[] = [];
    for (let i = 0; i < xs.length; i++) {
      if (inlier[i]) {
        inX.push(xs[i]!);
        inY.push(ys[i]!);
      }
    }
    const m = inX.length;
    if (m < 2) return null;
    const inSpan = inX[m - 1]! - inX[0]!;
    const fixedSlope = inSpan < o.minDriftSpanUs ? (this.#priorDrift?.ppm ?? 0) * 1e-6 : null;
    const line = upperEnvelopeLine(inX, inY, { maxAbsSlope: o.maxDriftPpm * 1e-6, fixedSlope });
    if (line === null) return null;
    // Delays of every pair (not only inliers) so that indices match the window.
    const delays: number[] = new Array<number>(xs.length);
    const inDelays: number[] = [];
    for (let i = 0; i < xs.length; i++) {
      const d = line.intercept + line.slope * xs[i]! - ys[i]!;
      delays[i] = d;
      if (inlier[i]) inDelays.push(d);
    }
    const medianDelayUs = medianOf(inDelays);
    const spreadUs = MAD_TO_SIGMA * madOf(inDelays, medianDelayUs);
    // The envelope sits within about the smallest delays of the pairs: a conservative bound.
    const uncertaintyUs = Math.max(o.minUncertaintyUs, (3 * medianDelayUs) / Math.sqrt(m));
    const meanX = inX.reduce((a, b) => a + b, 0) / m;
    return { line, m, inSpan, meanX, fixedSlope, delays, medianDelayUs, spreadUs, uncertaintyUs };
  }
}
