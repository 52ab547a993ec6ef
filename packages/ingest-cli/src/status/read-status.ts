// `ingest-cli status`: what the ledger knows, as data (for --json) and as text a person reads at
// a glance. Each link adds its column through the ledger's facts; history comes from the steps.
import type { ArchiveRecord, FlightRecord, Ledger, StepRecord } from '../ledger/ledger.js';
import type { FlightFacts } from '../ledger/states.js';

export interface FlightStatus {
  flight: FlightRecord;
  facts: FlightFacts;
  archives: ArchiveRecord[];
  history: StepRecord[];
}

export function readFlightStatus(ledger: Ledger, flightId: string): FlightStatus | null {
  const flight = ledger.flight(flightId);
  if (flight === null) return null;
  return { flight, facts: ledger.facts(flightId), archives: ledger.archivesOf(flightId), history: ledger.history(flightId) };
}

export function readAllStatus(ledger: Ledger): FlightStatus[] {
  return ledger.flights().map((f) => readFlightStatus(ledger, f.id) as FlightStatus);
}
