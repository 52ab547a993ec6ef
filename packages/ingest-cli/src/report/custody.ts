// The chain-of-custody part of the report: what the ledger knows, and the plain verdict.
//
// TODO(decideWipe): the verdict must come from the one function `wipe` uses to decide (the lead's
// pure decideWipe(...) in src/wipe/). Until it lands, this small pure function reads the same
// ledger facts (Ledger.facts → FlightFacts) in the chain's order; switch `custodyVerdict` to
// decideWipe's answer once it exists, keeping the rows.
import type { FlightFacts, FlightState } from '../ledger/states.js';
import { deriveFlightState } from '../ledger/states.js';

export interface CustodyRow {
  link: 'archived' | 'uploaded' | 'on tape' | 'wiped';
  isDone: boolean;
  /** How it was verified (upload), which tape, or null. */
  detail: string | null;
  /** When, UTC µs, or null. */
  tUs: number | null;
}

export interface Custody {
  /** False when no ledger in the state folder knows the flight. */
  isKnown: boolean;
  state: FlightState | 'not archived';
  rows: CustodyRow[];
  isSafeToWipe: boolean;
  /** One line: "safe to wipe", or what is missing. */
  verdict: string;
}

/** The custody table and verdict from the ledger's facts (null: no ledger knows the flight). */
export function custodyFromFacts(facts: FlightFacts | null): Custody {
  if (facts === null) {
    return {
      isKnown: false,
      state: 'not archived',
      rows: [],
      isSafeToWipe: false,
      verdict: 'not archived: no ledger in this state folder knows the flight; do not wipe',
    };
  }
  const rows: CustodyRow[] = [
    { link: 'archived', isDone: facts.verifiedArchive !== null, detail: facts.verifiedArchive ? `archive #${facts.verifiedArchive.archiveId}, verified` : null, tUs: facts.verifiedArchive?.tUs ?? null },
    { link: 'uploaded', isDone: facts.verifiedUpload !== null, detail: facts.verifiedUpload ? `verified by ${facts.verifiedUpload.how}` : null, tUs: facts.verifiedUpload?.tUs ?? null },
    { link: 'on tape', isDone: facts.verifiedTape !== null, detail: facts.verifiedTape ? `tape ${facts.verifiedTape.label}, read back` : null, tUs: facts.verifiedTape?.tUs ?? null },
    { link: 'wiped', isDone: facts.wipedTUs !== null, detail: null, tUs: facts.wipedTUs },
  ];
  const missing: string[] = [];
  if (facts.verifiedArchive === null) missing.push('a verified archive');
  if (facts.verifiedUpload === null) missing.push('a verified upload');
  if (facts.verifiedTape === null) missing.push('a verified tape copy');
  const isSafeToWipe = missing.length === 0 && facts.wipedTUs === null;
  let verdict: string;
  if (facts.wipedTUs !== null) verdict = 'already wiped';
  else if (isSafeToWipe) verdict = 'safe to wipe: archived, uploaded and on tape, each verified';
  else verdict = `not safe to wipe: missing ${missing.join(', ')}`;
  return { isKnown: true, state: deriveFlightState(facts), rows, isSafeToWipe, verdict };
}
