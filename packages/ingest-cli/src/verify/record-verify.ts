// A `verify` of an archive the ledger knows is recorded: a failed verify takes the archive's
// `archived` fact away (wipe then refuses), a passing one gives it back.
import { existsSync } from 'node:fs';
import { openLedger } from '../ledger/ledger.js';
import type { StatePaths } from '../state/paths.js';

/** Records the outcome when the ledger knows `archivePath`; true when it did. */
export function recordVerifyOutcome(state: StatePaths, archivePath: string, isOk: boolean): boolean {
  if (!existsSync(state.ledger)) return false;
  const ledger = openLedger(state.ledger, { create: false });
  try {
    const a = ledger.archiveByPath(archivePath);
    if (a === null) return false;
    ledger.transaction(() => {
      ledger.setArchiveVerify(a.id, isOk ? 'verified' : 'failed');
      ledger.recordStep({ flightId: a.flightId, archiveId: a.id, step: 'verify', outcome: isOk ? 'ok' : 'failed', ...(isOk ? {} : { error: 'the archive differs from its manifest' }) });
      ledger.refreshState(a.flightId);
    });
    return true;
  } finally {
    ledger.close();
  }
}
