export type FlightDbErrorCode =
  /** The file does not exist and `create` was not set (or a reader asked for it). */
  | 'not-found'
  /** The file is not an SQLite database, or an SQLite database that is not a flight DB. */
  | 'not-a-flight-db'
  /** user_version is newer than this code knows: refused, nothing was changed. */
  | 'schema-too-new'
  /** A read-only open of a DB whose schema is older than this code: open it writable to migrate. */
  | 'schema-outdated'
  /** A migration step failed; it was rolled back, the DB stays at the previous version. */
  | 'migration-failed'
  /** Contradicting options (e.g. readonly with create). */
  | 'bad-options'
  /** SQLite refused to open the file (permissions, locked, I/O error…). */
  | 'open-failed'
  /** A row given to a helper is invalid (names the field). */
  | 'bad-row';

export class FlightDbError extends Error {
  override readonly name = 'FlightDbError';
  readonly code: FlightDbErrorCode;
  constructor(code: FlightDbErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
