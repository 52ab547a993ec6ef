// The ledger: one SQLite file in the state folder recording every flight seen, every archive
// made of it and every step's outcome. WAL + synchronous=FULL: a step marked done survives a
// power cut. All SQL of the ledger lives in this folder.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname } from 'node:path';
import { IngestError } from '../errors.js';
import { LEDGER_APPLICATION_ID, LEDGER_MIGRATIONS, LEDGER_SCHEMA_VERSION } from './schema.js';
import { deriveFlightState, NO_FACTS } from './states.js';
import type { FlightFacts, FlightState } from './states.js';

export type SqliteDatabase = Database.Database;

/** Wait on a ledger locked by another ingest-cli's short transaction, ms. */
const BUSY_TIMEOUT_MS = 10_000;

export type StepOutcome = 'running' | 'ok' | 'failed' | 'refused';

export interface FlightRecord {
  id: string;
  aircraft: string | null;
  startedTUs: number | null;
  endedTUs: number | null;
  firstSeenTUs: number;
  lastSeenTUs: number;
  lastArrayPath: string | null;
  state: FlightState;
  stateTUs: number;
}

export interface ArchiveRecord {
  id: number;
  flightId: string;
  path: string;
  manifestPath: string;
  sizeBytes: number;
  sha256: string;
  manifestSha256: string;
  fileCount: number;
  contentBytes: number;
  mismatchCount: number;
  isMismatchAccepted: boolean;
  arrayPath: string;
  createdTUs: number;
  verifiedTUs: number;
  verifyStatus: 'verified' | 'failed';
  verifyTUs: number;
  isTapeWanted: boolean;
}

export type ArchiveInsert = Omit<ArchiveRecord, 'id' | 'verifyStatus' | 'verifyTUs'>;

export interface StepRecord {
  id: number;
  flightId: string;
  archiveId: number | null;
  step: string;
  outcome: StepOutcome;
  startedTUs: number;
  endedTUs: number | null;
  who: string;
  error: string | null;
  data: unknown;
}

/** `user@host` of this process, for the history ("who and when"). */
export function whoAmI(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry (containers): keep 'unknown' */
  }
  return `${user}@${hostname()}`;
}

export function nowUs(): number {
  return Date.now() * 1000;
}

/**
 * A link's contribution to a flight's facts (upload, tape): given the ledger and the verified
 * archive, it fills its part. Registered by each link's module with registerFactSource().
 */
export type FactSource = (ledger: Ledger, flightId: string, facts: FlightFacts) => FlightFacts;
const factSources: FactSource[] = [];
export function registerFactSource(source: FactSource): void {
  if (!factSources.includes(source)) factSources.push(source);
}

interface FlightRow {
  id: string;
  aircraft: string | null;
  started_t_us: number | null;
  ended_t_us: number | null;
  first_seen_t_us: number;
  last_seen_t_us: number;
  last_array_path: string | null;
  state: FlightState;
  state_t_us: number;
}
interface ArchiveRow {
  id: number;
  flight_id: string;
  path: string;
  manifest_path: string;
  size_bytes: number;
  sha256: string;
  manifest_sha256: string;
  file_count: number;
  content_bytes: number;
  mismatch_count: number;
  accepted_mismatches: number;
  array_path: string;
  created_t_us: number;
  verified_t_us: number;
  verify_status: 'verified' | 'failed';
  verify_t_us: number;
  tape_wanted: number;
}
interface StepRow {
  id: number;
  flight_id: string;
  archive_id: number | null;
  step: string;
  outcome: StepOutcome;
  started_t_us: number;
  ended_t_us: number | null;
  who: string;
  error: string | null;
  data: string | null;
}

function flightFromRow(r: FlightRow): FlightRecord {
  return {
    id: r.id,
    aircraft: r.aircraft,
    startedTUs: r.started_t_us,
    endedTUs: r.ended_t_us,
    firstSeenTUs: r.first_seen_t_us,
    lastSeenTUs: r.last_seen_t_us,
    lastArrayPath: r.last_array_path,
    state: r.state,
    stateTUs: r.state_t_us,
  };
}
function archiveFromRow(r: ArchiveRow): ArchiveRecord {
  return {
    id: r.id,
    flightId: r.flight_id,
    path: r.path,
    manifestPath: r.manifest_path,
    sizeBytes: r.size_bytes,
    sha256: r.sha256,
    manifestSha256: r.manifest_sha256,
    fileCount: r.file_count,
    contentBytes: r.content_bytes,
    mismatchCount: r.mismatch_count,
    isMismatchAccepted: r.accepted_mismatches === 1,
    arrayPath: r.array_path,
    createdTUs: r.created_t_us,
    verifiedTUs: r.verified_t_us,
    verifyStatus: r.verify_status,
    verifyTUs: r.verify_t_us,
    isTapeWanted: r.tape_wanted === 1,
  };
}
function stepFromRow(r: StepRow): StepRecord {
  return {
    id: r.id,
    flightId: r.flight_id,
    archiveId: r.archive_id,
    step: r.step,
    outcome: r.outcome,
    startedTUs: r.started_t_us,
    endedTUs: r.ended_t_us,
    who: r.who,
    error: r.error,
    data: r.data === null ? null : (JSON.parse(r.data) as unknown),
  };
}

export class Ledger {
  readonly db: SqliteDatabase;
  readonly path: string;
  constructor(db: SqliteDatabase, path: string) {
    this.db = db;
    this.path = path;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs `fn` in one IMMEDIATE transaction. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Records (or refreshes) a flight seen on an array. */
  recordFlightSeen(f: {
    id: string;
    aircraft: string | null;
    startedTUs: number | null;
    endedTUs: number | null;
    arrayPath: string;
    tUs?: number;
  }): FlightRecord {
    const t = f.tUs ?? nowUs();
    this.db
      .prepare(
        `INSERT INTO flight (id, aircraft, started_t_us, ended_t_us, first_seen_t_us, last_seen_t_us, last_array_path, state, state_t_us)
         VALUES (@id, @aircraft, @started, @ended, @t, @t, @path, 'seen', @t)
         ON CONFLICT (id) DO UPDATE SET
           aircraft = coalesce(excluded.aircraft, aircraft),
           started_t_us = coalesce(excluded.started_t_us, started_t_us),
           ended_t_us = coalesce(excluded.ended_t_us, ended_t_us),
           last_seen_t_us = excluded.last_seen_t_us,
           last_array_path = excluded.last_array_path`,
      )
      .run({ id: f.id, aircraft: f.aircraft, started: f.startedTUs, ended: f.endedTUs, t, path: f.arrayPath });
    return this.flight(f.id) as FlightRecord;
  }

  flight(id: string): FlightRecord | null {
    const r = this.db.prepare('SELECT * FROM flight WHERE id = ?').get(id) as FlightRow | undefined;
    return r === undefined ? null : flightFromRow(r);
  }

  flights(): FlightRecord[] {
    return (this.db.prepare('SELECT * FROM flight ORDER BY first_seen_t_us, id').all() as FlightRow[]).map(flightFromRow);
  }

  /** Opens a step (outcome 'running'); returns its id. */
  startStep(s: { flightId: string; step: string; archiveId?: number | null; data?: unknown; tUs?: number }): number {
    const r = this.db
      .prepare(
        `INSERT INTO step (flight_id, archive_id, step, outcome, started_t_us, who, data)
         VALUES (?, ?, ?, 'running', ?, ?, ?)`,
      )
      .run(s.flightId, s.archiveId ?? null, s.step, s.tUs ?? nowUs(), whoAmI(), s.data === undefined ? null : JSON.stringify(s.data));
    return Number(r.lastInsertRowid);
  }

  /** Closes a step with its outcome (and the error line / data, when given). */
  finishStep(stepId: number, outcome: Exclude<StepOutcome, 'running'>, extra: { error?: string; data?: unknown; archiveId?: number; tUs?: number } = {}): void {
    this.db
      .prepare(
        `UPDATE step SET outcome = ?, ended_t_us = ?, error = ?, data = coalesce(?, data), archive_id = coalesce(?, archive_id) WHERE id = ?`,
      )
      .run(
        outcome,
        extra.tUs ?? nowUs(),
        extra.error ?? null,
        extra.data === undefined ? null : JSON.stringify(extra.data),
        extra.archiveId ?? null,
        stepId,
      );
  }

  /** One step recorded at once (a refusal, an override). */
  recordStep(s: { flightId: string; step: string; outcome: Exclude<StepOutcome, 'running'>; archiveId?: number | null; error?: string; data?: unknown }): number {
    const id = this.startStep(s);
    this.finishStep(id, s.outcome, { ...(s.error === undefined ? {} : { error: s.error }), ...(s.data === undefined ? {} : { data: s.data }) });
    return id;
  }

  history(flightId: string): StepRecord[] {
    return (this.db.prepare('SELECT * FROM step WHERE flight_id = ? ORDER BY id').all(flightId) as StepRow[]).map(stepFromRow);
  }

  /**
   * Steps left 'running' by a process that died (killed, power cut) are closed as failed, so the
   * history never shows a step as under way that nobody runs. Called under the flight's lock.
   */
  closeAbandonedSteps(flightId: string): number {
    return this.db
      .prepare(`UPDATE step SET outcome = 'failed', ended_t_us = ?, error = 'abandoned: the process running it ended before it finished' WHERE flight_id = ? AND outcome = 'running'`)
      .run(nowUs(), flightId).changes;
  }

  insertArchive(a: ArchiveInsert): number {
    const r = this.db
      .prepare(
        `INSERT INTO archive (flight_id, path, manifest_path, size_bytes, sha256, manifest_sha256, file_count, content_bytes,
           mismatch_count, accepted_mismatches, array_path, created_t_us, verified_t_us, verify_status, verify_t_us, tape_wanted)
         VALUES (@flightId, @path, @manifestPath, @sizeBytes, @sha256, @manifestSha256, @fileCount, @contentBytes,
           @mismatchCount, @accepted, @arrayPath, @createdTUs, @verifiedTUs, 'verified', @verifiedTUs, @tapeWanted)`,
      )
      .run({
        ...a,
        accepted: a.isMismatchAccepted ? 1 : 0,
        tapeWanted: a.isTapeWanted ? 1 : 0,
      });
    return Number(r.lastInsertRowid);
  }

  archive(id: number): ArchiveRecord | null {
    const r = this.db.prepare('SELECT * FROM archive WHERE id = ?').get(id) as ArchiveRow | undefined;
    return r === undefined ? null : archiveFromRow(r);
  }

  archiveByPath(path: string): ArchiveRecord | null {
    const r = this.db.prepare('SELECT * FROM archive WHERE path = ?').get(path) as ArchiveRow | undefined;
    return r === undefined ? null : archiveFromRow(r);
  }

  /** Every archive of a flight, oldest first. */
  archivesOf(flightId: string): ArchiveRecord[] {
    return (this.db.prepare('SELECT * FROM archive WHERE flight_id = ? ORDER BY id').all(flightId) as ArchiveRow[]).map(archiveFromRow);
  }

  /** The archive a flight's later links work on: its newest one. */
  currentArchive(flightId: string): ArchiveRecord | null {
    const r = this.db.prepare('SELECT * FROM archive WHERE flight_id = ? ORDER BY id DESC LIMIT 1').get(flightId) as ArchiveRow | undefined;
    return r === undefined ? null : archiveFromRow(r);
  }

  /** Records the outcome of a later `verify` of an archive. */
  setArchiveVerify(archiveId: number, status: 'verified' | 'failed', tUs = nowUs()): void {
    this.db
      .prepare(`UPDATE archive SET verify_status = ?, verify_t_us = ?, verified_t_us = CASE WHEN ? = 'verified' THEN ? ELSE verified_t_us END WHERE id = ?`)
      .run(status, tUs, status, tUs, archiveId);
  }

  /** The verified facts about a flight (its current archive, and what the later links add). */
  facts(flightId: string): FlightFacts {
    let facts: FlightFacts = { ...NO_FACTS };
    const current = this.currentArchive(flightId);
    if (current !== null && current.verifyStatus === 'verified') {
      facts.verifiedArchive = { archiveId: current.id, tUs: current.verifiedTUs };
    }
    const wiped = this.db
      .prepare(`SELECT max(ended_t_us) AS t FROM step WHERE flight_id = ? AND step = 'wipe' AND outcome = 'ok'`)
      .get(flightId) as { t: number | null };
    facts.wipedTUs = wiped.t;
    for (const source of factSources) facts = source(this, flightId, facts);
    return facts;
  }

  /** Recomputes the flight's summary state from its facts; returns it. */
  refreshState(flightId: string, tUs = nowUs()): FlightState {
    const state = deriveFlightState(this.facts(flightId));
    this.db.prepare('UPDATE flight SET state = ?, state_t_us = ? WHERE id = ? AND state <> ?').run(state, tUs, flightId, state);
    return state;
  }
}

export interface OpenLedgerOptions {
  /** Create the folder and the file when missing. Default true. */
  create?: boolean;
  /** Open read-only (status on a state folder one may not write). Default false. */
  readonly?: boolean;
}

/**
 * Opens the ledger at `path` (creating it and its folder unless told not to) and brings it to the
 * current schema. Throws IngestError('ledger') naming the file for anything unusable: not a
 * ledger, newer than this code, unwritable folder.
 */
export function openLedger(path: string, options: OpenLedgerOptions = {}): Ledger {
  const create = options.create ?? true;
  const readonly = options.readonly ?? false;
  if (create && !readonly) {
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
    } catch (err) {
      throw new IngestError('ledger', `state folder ${dirname(path)}: cannot create (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
    }
  }
  let db: SqliteDatabase;
  try {
    db = new Database(path, { readonly, fileMustExist: !create || readonly });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_CANTOPEN') throw new IngestError('not-found', `ledger ${path} does not exist or cannot be opened (no flight recorded in this state folder yet?)`, { cause: err });
    throw new IngestError('ledger', `ledger ${path}: cannot open (${(err as Error).message})`, { cause: err });
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    let version: number;
    let appId: number;
    let objects: number;
    try {
      version = db.pragma('user_version', { simple: true }) as number;
      appId = db.pragma('application_id', { simple: true }) as number;
      objects = (db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n;
    } catch (err) {
      throw new IngestError('ledger', `${path} is not an SQLite database (${(err as Error).message})`, { cause: err });
    }
    if ((version > 0 && appId !== LEDGER_APPLICATION_ID) || (version === 0 && objects > 0)) {
      throw new IngestError('ledger', `${path} is an SQLite database but not an ingest ledger`);
    }
    if (version > LEDGER_SCHEMA_VERSION) {
      throw new IngestError('ledger', `ledger ${path} has schema version ${version}, newer than this ingest-cli knows (${LEDGER_SCHEMA_VERSION}): update the software`);
    }
    if (readonly) {
      if (version < LEDGER_SCHEMA_VERSION) throw new IngestError('ledger', `ledger ${path} has an older schema (${version}); open it writable once to upgrade`);
      db.pragma('query_only = ON');
      return new Ledger(db, path);
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    for (const m of LEDGER_MIGRATIONS) {
      db.transaction((): void => {
        const current = db.pragma('user_version', { simple: true }) as number;
        if (current >= m.version) return;
        db.exec(m.sql);
        db.pragma(`user_version = ${m.version}`);
      }).immediate();
    }
    return new Ledger(db, path);
  } catch (err) {
    db.close();
    if (err instanceof IngestError) throw err;
    throw new IngestError('ledger', `ledger ${path}: ${(err as Error).message}`, { cause: err });
  }
}
