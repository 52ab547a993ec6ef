// When is a camera file finished? A pure decision over what the watcher observed; no I/O here.
//
// Folder watching alone cannot tell (an `add` arrives while a large copy is still running, chokidar
// #675; awaitWriteFinish is not applied to files present at start, #594), so the watcher polls each
// candidate file and hands this function three facts: how long its size has been unchanged, whether
// a local process still holds it open for writing, and whether its format's ending is intact.

/** Does a local process still hold the file open? 'unknown' when /proc could not answer for every process. */
export type WriterState = 'open' | 'closed' | 'unknown';

/**
 * The format's own end marker, checked where it is cheap: a JPEG ends with FF D9; an MP4/MOV's
 * top-level boxes tile the file and include `moov`. 'unknown' for formats we cannot check.
 */
export type FormatEnding = 'valid' | 'invalid' | 'unknown';

export interface FileObservation {
  sizeBytes: number;
  /** How long size and mtime have been unchanged, as seen by our own polling, ms. */
  stableForMs: number;
  writer: WriterState;
  ending: FormatEnding;
}

export interface CompletenessPolicy {
  /**
   * Size-stable time when the writer's closing cannot be proven (writer 'unknown', or an ending
   * we cannot check), ms. Long enough to outlast a camera's pause between chunks.
   */
  settleMs: number;
  /**
   * Size-stable time when closing is proven (no local writer holds it and the ending is valid), ms.
   * Short: it only guards against a writer that closes and reopens to append.
   */
  closedSettleMs: number;
  /**
   * A file that has not changed for this long and still cannot be called complete (bad ending,
   * empty, or held open without growing) is recorded as incomplete rather than waited on forever, ms.
   */
  incompleteAfterMs: number;
}

export type PendingReason =
  /** Size or mtime changed at the last look. */
  | 'growing'
  /** A local process holds it open for writing. */
  | 'writer-open'
  /** Stable, but not for long enough yet. */
  | 'settling'
  /** Stable, but the format's end marker is missing (e.g. no FF D9): maybe a writer that died. */
  | 'bad-ending'
  | 'empty';

export type IncompleteReason = 'bad-ending' | 'empty' | 'stalled-open';

export type CompletenessDecision =
  | { state: 'pending'; reason: PendingReason }
  | { state: 'complete'; reason: 'closed-and-valid' | 'stable' }
  | { state: 'incomplete'; reason: IncompleteReason };

/** Decides whether an observed file is complete, still being written, or half-written and abandoned. */
export function decideCompleteness(obs: FileObservation, policy: CompletenessPolicy): CompletenessDecision {
  const stable = obs.stableForMs;
  const abandoned = stable >= policy.incompleteAfterMs;
  if (obs.sizeBytes === 0) {
    return abandoned ? { state: 'incomplete', reason: 'empty' } : { state: 'pending', reason: 'empty' };
  }
  if (stable <= 0) return { state: 'pending', reason: 'growing' };
  if (obs.writer === 'open') {
    // A video recorder holds its file open while it grows; one that holds it open and never writes
    // again (hung or lost power mid-file on a network share) must not be waited on forever.
    return abandoned ? { state: 'incomplete', reason: 'stalled-open' } : { state: 'pending', reason: 'writer-open' };
  }
  if (obs.ending === 'invalid') {
    return abandoned ? { state: 'incomplete', reason: 'bad-ending' } : { state: 'pending', reason: 'bad-ending' };
  }
  if (obs.writer === 'closed' && obs.ending === 'valid') {
    return stable >= policy.closedSettleMs
      ? { state: 'complete', reason: 'closed-and-valid' }
      : { state: 'pending', reason: 'settling' };
  }
  return stable >= policy.settleMs ? { state: 'complete', reason: 'stable' } : { state: 'pending', reason: 'settling' };
}

