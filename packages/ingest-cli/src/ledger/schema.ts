// The ledger's schema as an ordered list of migrations, like the flight DB's: migration N brings
// `PRAGMA user_version` from N-1 to N in one transaction. Never edit a released migration: each
// link of the chain (upload, tape, wipe) appends its own.
//
// Times are INTEGER µs since the epoch, UTC. Tables are STRICT.
//
// What is recorded, and why so:
// - flight: one row per flight ever seen (id and aircraft from the array's marker and flight DB).
//   `state` is a summary recomputed from the facts below (see states.ts): it is shown, never trusted
//   by a gate; `wipe` decides from the facts themselves.
// - archive: one row per archive that was written AND verified (a failed or interrupted archive
//   never gets a row, only a failed step). `verify_status` is the outcome of the latest
//   `ingest-cli verify` of it; `tape_wanted` = 0 when made with --no-tape.
// - step: every step's outcome with its time and error (the flight's history): archive, verify,
//   and the later links' steps. `step` is free text on purpose (checked in code), so a later link
//   adds a step without a table rebuild.

/** `PRAGMA application_id` of a ledger ('FLLG'): tells a ledger from any other SQLite file. */
export const LEDGER_APPLICATION_ID = 0x464c4c47;

export interface LedgerMigration {
  version: number;
  description: string;
  sql: string;
}

const V1 = /* sql */ `
CREATE TABLE flight (
  id               TEXT PRIMARY KEY NOT NULL,
  aircraft         TEXT,
  started_t_us     INTEGER,
  ended_t_us       INTEGER,
  first_seen_t_us  INTEGER NOT NULL,
  last_seen_t_us   INTEGER NOT NULL,
  last_array_path  TEXT,
  state            TEXT NOT NULL CHECK (state IN ('seen', 'archived', 'uploaded', 'on-tape', 'wiped')),
  state_t_us       INTEGER NOT NULL
) STRICT;

CREATE TABLE archive (
  id                   INTEGER PRIMARY KEY,
  flight_id            TEXT NOT NULL REFERENCES flight(id),
  path                 TEXT NOT NULL,
  manifest_path        TEXT NOT NULL,
  size_bytes           INTEGER NOT NULL CHECK (size_bytes > 0),
  sha256               TEXT NOT NULL CHECK (length(sha256) = 64),
  manifest_sha256      TEXT NOT NULL CHECK (length(manifest_sha256) = 64),
  file_count           INTEGER NOT NULL,
  content_bytes        INTEGER NOT NULL,
  mismatch_count       INTEGER NOT NULL,
  accepted_mismatches  INTEGER NOT NULL CHECK (accepted_mismatches IN (0, 1)),
  array_path           TEXT NOT NULL,
  created_t_us         INTEGER NOT NULL,
  verified_t_us        INTEGER NOT NULL,
  verify_status        TEXT NOT NULL CHECK (verify_status IN ('verified', 'failed')),
  verify_t_us          INTEGER NOT NULL,
  tape_wanted          INTEGER NOT NULL CHECK (tape_wanted IN (0, 1)),
  UNIQUE (path)
) STRICT;
CREATE INDEX archive_flight ON archive (flight_id, id);

CREATE TABLE step (
  id            INTEGER PRIMARY KEY,
  flight_id     TEXT NOT NULL REFERENCES flight(id),
  archive_id    INTEGER REFERENCES archive(id),
  step          TEXT NOT NULL,
  outcome       TEXT NOT NULL CHECK (outcome IN ('running', 'ok', 'failed', 'refused')),
  started_t_us  INTEGER NOT NULL,
  ended_t_us    INTEGER,
  who           TEXT NOT NULL,
  error         TEXT,
  data          TEXT CHECK (data IS NULL OR json_valid(data))
) STRICT;
CREATE INDEX step_flight ON step (flight_id, id);

PRAGMA application_id = ${LEDGER_APPLICATION_ID};
`;

/** Every migration, in order; `LEDGER_MIGRATIONS[i].version === i + 1`. */
export const LEDGER_MIGRATIONS: readonly LedgerMigration[] = [
  { version: 1, description: 'flight, archive, step', sql: V1 },
];

export const LEDGER_SCHEMA_VERSION: number = LEDGER_MIGRATIONS.length;
