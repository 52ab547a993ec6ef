// Gaps in one instrument's data: consecutive sample times further apart than the instrument's
// usual interval allows. Pure.
import type { Gap, Instrument } from './model.js';

/**
 * A gap is an interval longer than GAP_FACTOR × the median interval: one missing GPS epoch
 * doubles an interval, so 1.5 catches a single missed epoch while steady data never reaches it.
 */
export const GAP_FACTOR = 1.5;
/**
 * Samples timed by the flight clock at receipt (compass, altimeter: their sentences carry no time)
 * jitter by the capture machine's scheduling; a late read is not a gap. Sentence-timed samples
 * (GPS epochs) need no allowance: their times are exact.
 */
export const RECEIPT_JITTER_ALLOWANCE_US = 250_000;

export interface GapOptions {
  instrument: Instrument;
  port: string;
  /** True when the times come from the flight clock at receipt (add RECEIPT_JITTER_ALLOWANCE_US). */
  isReceiptTimed: boolean;
}

/** Median of the positive intervals between sorted times (0 when fewer than two). */
export function medianIntervalUs(sortedTUs: ArrayLike<number>): number {
  const d: number[] = [];
  for (let i = 1; i < sortedTUs.length; i++) {
    const dt = sortedTUs[i]! - sortedTUs[i - 1]!;
    if (dt > 0) d.push(dt);
  }
  if (d.length === 0) return 0;
  d.sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)]!;
}

/** The longest interval that is not a gap for these times. */
export function gapThresholdUs(sortedTUs: ArrayLike<number>, isReceiptTimed: boolean): number {
  const median = medianIntervalUs(sortedTUs);
  return Math.max(GAP_FACTOR * median, median + (isReceiptTimed ? RECEIPT_JITTER_ALLOWANCE_US : 0));
}

/** The gaps in sorted sample times (duplicates allowed: RMC and GGA of one epoch). */
export function findDataGaps(sortedTUs: ArrayLike<number>, options: GapOptions): Gap[] {
  if (sortedTUs.length < 3) return [];
  const threshold = gapThresholdUs(sortedTUs, options.isReceiptTimed);
  const gaps: Gap[] = [];
  for (let i = 1; i < sortedTUs.length; i++) {
    const from = sortedTUs[i - 1]!;
    const to = sortedTUs[i]!;
    if (to - from > threshold) gaps.push({ instrument: options.instrument, port: options.port, kind: 'data', fromTUs: from, toTUs: to });
  }
  return gaps;
}

/** The port events of a flight DB that matter here. */
export interface PortEvent {
  tUs: number;
  port: string;
  code: string;
  /** For 'port-reconnected': how long the port was down, ms (the agent measures it on its monotonic clock). */
  gapMs: number | null;
}

const DOWN_CODES = new Set(['port-lost', 'port-silent', 'port-missing']);

/**
 * Port-down stretches from the agent's events: a down event opens one, 'port-reconnected' closes
 * it (from its own gapMs when given: the down event may be older, e.g. a port missing at start).
 * A stretch still open at the end of the events ends at `endTUs`.
 */
export function portDownGaps(events: readonly PortEvent[], roleOf: (port: string) => Instrument, endTUs: number): Gap[] {
  const open = new Map<string, number>();
  const gaps: Gap[] = [];
  for (const e of [...events].sort((a, b) => a.tUs - b.tUs)) {
    if (DOWN_CODES.has(e.code)) {
      if (!open.has(e.port)) open.set(e.port, e.tUs);
    } else if (e.code === 'port-reconnected') {
      const since = open.get(e.port);
      open.delete(e.port);
      const fromTUs = e.gapMs !== null ? e.tUs - Math.round(e.gapMs * 1000) : (since ?? e.tUs);
      gaps.push({ instrument: roleOf(e.port), port: e.port, kind: 'port-down', fromTUs, toTUs: e.tUs });
    }
  }
  for (const [port, since] of open) {
    if (endTUs > since) gaps.push({ instrument: roleOf(port), port, kind: 'port-down', fromTUs: since, toTUs: endTUs });
  }
  return gaps;
}

/** Gaps sorted by start, then instrument. */
export function sortGaps(gaps: readonly Gap[]): Gap[] {
  return [...gaps].sort((a, b) => a.fromTUs - b.fromTUs || a.instrument.localeCompare(b.instrument) || a.kind.localeCompare(b.kind));
}
