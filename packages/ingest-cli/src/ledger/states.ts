// The flight's state in the chain of custody, as a pure function of the facts the ledger holds.
// A state is only ever reached through a verified fact; the order is the chain's:
//   seen → archived → uploaded → on-tape → wiped
// A later link's fact without the earlier ones does not skip ahead (an archive on tape but not
// uploaded is still 'archived'): the summary says how far the chain holds without a gap.

export const FLIGHT_STATES = ['seen', 'archived', 'uploaded', 'on-tape', 'wiped'] as const;
export type FlightState = (typeof FLIGHT_STATES)[number];

/** How an upload was verified (strongest first). */
export type UploadVerification = 'sha256-remote' | 'download' | 'size-only';

export interface FlightFacts {
  /** The newest archive whose latest verification passed, or null. */
  verifiedArchive: { archiveId: number; tUs: number } | null;
  /** A verified upload of that archive, or null. */
  verifiedUpload: { how: UploadVerification; tUs: number } | null;
  /** A verified tape copy of that archive, or null. */
  verifiedTape: { label: string; tUs: number } | null;
  /** When the array was wiped, or null. */
  wipedTUs: number | null;
}

export const NO_FACTS: FlightFacts = { verifiedArchive: null, verifiedUpload: null, verifiedTape: null, wipedTUs: null };

export function deriveFlightState(facts: FlightFacts): FlightState {
  if (facts.wipedTUs !== null) return 'wiped';
  if (facts.verifiedArchive === null) return 'seen';
  if (facts.verifiedUpload === null) return 'archived';
  if (facts.verifiedTape === null) return 'uploaded';
  return 'on-tape';
}
