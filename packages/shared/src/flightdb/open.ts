// Opening a flight DB: pragmas, version checks, migrations.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { FlightDbError } from './errors.js';
import { FLIGHT_DB_APPLICATION_ID, FLIGHT_DB_SCHEMA_VERSION, MIGRATIONS, WRITER_INDEXES_SQL } from './schema.js';
import type { Migration } from './schema.js';

/** The better-sqlite3 connection type. */
export type SqliteDatabase = Database.Database;
/** A better-sqlite3 prepared statement. */
export type SqliteStatement = Database.Statement;

/** Default wait on a locked DB (reader vs writer checkpoints, two writers), ms. */
export const FLIGHT_DB_BUSY_TIMEOUT_MS = 5000;

export interface OpenFlightDbOptions {
  /** Open read-only: never migrates, never writes; refuses an outdated or newer schema. Default false. */
  readonly?: boolean;
  /** Create the file if missing (writable only). Default false: a missing file is 'not-found'. */
  create?: boolean;
  /** busy_timeout, ms. Default FLIGHT_DB_BUSY_TIMEOUT_MS. */
  busyTimeoutMs?: number;
}

/** An open flight DB. `db` is the better-sqlite3 connection, for queries the helpers lack. */
export class FlightDb {
  readonly db: SqliteDatabase;
  readonly path: string;
  readonly readonly: boolean;
  /** user_version after opening (== FLIGHT_DB_SCHEMA_VERSION). */
  readonly schemaVersion: number;

  /** Use openFlightDb(). */
  constructor(db: SqliteDatabase, path: string, readonly: boolean, schemaVersion: number) {
    this.db = db;
    this.path = path;
    this.readonly = readonly;
    this.schemaVersion = schemaVersion;
  }

  get open(): boolean {
    return this.db.open;
  }

  /**
   * Closes the connection. Idempotent. A writer first checkpoints the WAL and switches the file
   * back to journal_mode=DELETE (best effort, skipped when another connection has the DB open;
   * `keepWal` skips it): a cleanly closed flight DB is then ONE self-contained file that a
   * read-only reader opens without creating `-wal`/`-shm` beside it, even on read-only media
   * (SQLite cannot open a WAL database read-only there when the `-shm` file is missing). The
   * next writable open switches it to WAL again.
   */
  close(options: { keepWal?: boolean } = {}): void {
    if (!this.db.open) return;
    if (!this.readonly && !options.keepWal) {
      try {
        this.db.pragma('busy_timeout = 0');
        this.db.pragma('wal_checkpoint(TRUNCATE)');
        this.db.pragma('journal_mode = DELETE');
      } catch {
        // Another connection holds the DB: it stays in WAL mode, which is just as safe.
      }
    }
    this.db.close();
  }
}

function sqliteCode(e: unknown): string | undefined {
  return (e as { code?: string }).code;
}

/**
 * Opens (and when writable, creates/migrates) the flight DB at `path`.
 *
 * Writable: journal_mode=WAL, synchronous=FULL, foreign_keys=ON, busy_timeout; pending
 * migrations run each in its own IMMEDIATE transaction. Read-only: busy_timeout, foreign_keys,
 * query_only; no migration.
 *
 * Throws FlightDbError: 'not-found', 'not-a-flight-db', 'schema-too-new' (the file is left
 * untouched), 'schema-outdated' (read-only only), 'migration-failed', 'bad-options', 'open-failed'.
 */
export function openFlightDb(path: string, options: OpenFlightDbOptions = {}): FlightDb {
  const readonly = options.readonly ?? false;
  const create = options.create ?? false;
  const busyTimeoutMs = options.busyTimeoutMs ?? FLIGHT_DB_BUSY_TIMEOUT_MS;
  if (readonly && create) {
    throw new FlightDbError('bad-options', `flight DB ${path}: readonly and create cannot be combined`);
  }
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new FlightDbError('bad-options', `flight DB ${path}: busyTimeoutMs ${busyTimeoutMs} is not a non-negative integer`);
  }
  if (path === '' || path === ':memory:') {
    throw new FlightDbError('bad-options', `flight DB path ${JSON.stringify(path)}: a flight DB is a file`);
  }
  if (!create && !existsSync(path)) {
    throw new FlightDbError('not-found', `flight DB ${path} does not exist`);
  }

  let db: SqliteDatabase;
  try {
    db = new Database(path, { readonly, fileMustExist: !create });
  } catch (e) {
    if (sqliteCode(e) === 'SQLITE_CANTOPEN' && !existsSync(path)) {
      throw new FlightDbError('not-found', `flight DB ${path} does not exist`, { cause: e });
    }
    throw new FlightDbError('open-failed', `flight DB ${path}: cannot open (${(e as Error).message})`, { cause: e });
  }

  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Look before touching anything (setting WAL would already write to the file).
    let version: number;
    let appId: number;
    let objects: number;
    try {
      version = db.pragma('user_version', { simple: true }) as number;
      appId = db.pragma('application_id', { simple: true }) as number;
      objects = (db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n;
    } catch (e) {
      if (sqliteCode(e) === 'SQLITE_NOTADB') {
        throw new FlightDbError('not-a-flight-db', `${path} is not an SQLite database`, { cause: e });
      }
      throw e;
    }
    if (version > 0 && appId !== FLIGHT_DB_APPLICATION_ID) {
      throw new FlightDbError(
        'not-a-flight-db',
        `${path} is an SQLite database but not a flight DB (application_id ${appId})`,
      );
    }
    if (version === 0 && objects > 0) {
      throw new FlightDbError('not-a-flight-db', `${path} is an SQLite database with other tables, not a flight DB`);
    }
    if (version > FLIGHT_DB_SCHEMA_VERSION) {
      throw new FlightDbError(
        'schema-too-new',
        `flight DB ${path} has schema version ${version}, newer than this code knows ` +
          `(${FLIGHT_DB_SCHEMA_VERSION}): refusing to open it; update the software`,
      );
    }

    if (readonly) {
      if (version < FLIGHT_DB_SCHEMA_VERSION) {
        throw new FlightDbError(
          'schema-outdated',
          version === 0
            ? `flight DB ${path} is empty (schema version 0): nothing to read`
            : `flight DB ${path} has schema version ${version} (written by an older version), older than ` +
                `${FLIGHT_DB_SCHEMA_VERSION}; it is read only after an upgrade, which a writable open does in one ` +
                `transaction (capture-agent run on this array does it at start); nothing was changed`,
        );
      }
      db.pragma('foreign_keys = ON');
      db.pragma('query_only = ON');
      return new FlightDb(db, path, true, version);
    }

    const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
    if (String(mode).toLowerCase() !== 'wal') {
      throw new FlightDbError('open-failed', `flight DB ${path}: could not switch to WAL (journal_mode is ${mode})`);
    }
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    const after = applyMigrations(db, MIGRATIONS, path);
    db.exec(WRITER_INDEXES_SQL);
    return new FlightDb(db, path, false, after);
  } catch (e) {
    db.close();
    if (e instanceof FlightDbError) throw e;
    throw new FlightDbError('open-failed', `flight DB ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Applies the pending steps of `migrations` (ordered, `version` = index + 1), each in one
 * IMMEDIATE transaction that also sets user_version; returns the final user_version. A failing
 * step is rolled back (earlier steps stay) and reported as FlightDbError('migration-failed').
 * openFlightDb calls it with MIGRATIONS; exported for tests and tools.
 */
export function applyMigrations(db: SqliteDatabase, migrations: readonly Migration[], label: string = db.name): number {
  const path = label;
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new FlightDbError('migration-failed', `migration list: entry ${i} has version ${m.version}, expected ${i + 1}`);
    }
  });
  for (const m of migrations) {
    const step = db.transaction((): void => {
      // Re-read inside the write lock: another writer may have migrated meanwhile.
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current >= m.version) return;
      if (current !== m.version - 1) {
        throw new FlightDbError(
          'migration-failed',
          `flight DB ${path}: at version ${current}, cannot apply migration ${m.version}`,
        );
      }
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    });
    try {
      step.immediate();
    } catch (e) {
      if (e instanceof FlightDbError) throw e;
      throw new FlightDbError(
        'migration-failed',
        `flight DB ${path}: migration ${m.version} (${m.description}) failed and was rolled back: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
  return db.pragma('user_version', { simple: true }) as number;
}
