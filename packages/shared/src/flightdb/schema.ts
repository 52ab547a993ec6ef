// Flight DB schema as an ordered list of migrations. Migration N brings `PRAGMA user_version`
// from N-1 to N, in one transaction. Never edit a released migration: append a new one.
//
// Conventions: times are INTEGER µs; `*_t_us` = UTC since epoch, `*_mono_us` = the capture
// machine's monotonic clock. Tables are STRICT (types enforced), enumerations are CHECKed.
// Text "none" values in sentence_count are '' (they are part of the primary key).
//
// Boot ids (v2): the monotonic clock restarts at every boot, so a `*_mono_us` value that is later
// converted to UTC carries the boot it was read on (`*boot_id`, see boot.ts), and is only ever
// converted through a clock_fit of that same boot. NULL = unknown (rows written before v2, or by
// a writer that could not tell, e.g. a replay of logs recorded on another machine): such a fit is
// never used to convert, such an asset time is never converted. nav_sample.received_mono_us and
// event.mono_us have no boot id: they are kept for diagnosis only and never converted (sample
// times are placed at receipt, in the process that read them).

/** `PRAGMA application_id` of a flight DB ('FLSN'): tells a flight DB from any other SQLite file. */
export const FLIGHT_DB_APPLICATION_ID = 0x464c534e;

export interface Migration {
  /** The user_version after this migration. */
  version: number;
  description: string;
  sql: string;
}

const V1 = /* sql */ `
CREATE TABLE flight (
  id              TEXT PRIMARY KEY NOT NULL,
  aircraft        TEXT,
  started_t_us    INTEGER NOT NULL,
  ended_t_us      INTEGER,
  layout_version  INTEGER NOT NULL,
  created_by      TEXT NOT NULL
) STRICT;

CREATE TABLE port (
  name            TEXT PRIMARY KEY NOT NULL,
  role            TEXT NOT NULL CHECK (role IN ('gps', 'compass', 'altimeter', 'other')),
  path            TEXT NOT NULL,
  baud_rate       INTEGER NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('open', 'silent', 'reconnecting', 'closed', 'missing')),
  last_error      TEXT,
  status_t_us     INTEGER NOT NULL,
  bytes_received  INTEGER NOT NULL DEFAULT 0,
  lines_received  INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE nav_sample (
  id                  INTEGER PRIMARY KEY,
  kind                TEXT NOT NULL CHECK (kind IN ('position', 'velocity', 'heading', 'pressure-altitude', 'dop', 'time')),
  t_us                INTEGER NOT NULL,
  t_source            TEXT NOT NULL CHECK (t_source IN ('sentence', 'flight-clock')),
  port                TEXT NOT NULL REFERENCES port(name),
  sentence            TEXT NOT NULL,
  talker              TEXT NOT NULL,
  raw_offset          INTEGER,
  received_mono_us    INTEGER,
  flags               TEXT NOT NULL DEFAULT '',
  lat_deg             REAL,
  lon_deg             REAL,
  altitude_m          REAL,
  fix_quality         INTEGER,
  satellites          INTEGER,
  hdop                REAL,
  speed_mps           REAL,
  track_deg           REAL,
  heading_deg         REAL,
  heading_ref         TEXT CHECK (heading_ref IN ('true', 'magnetic')),
  pressure_altitude_m REAL,
  fix_mode            INTEGER,
  pdop                REAL,
  vdop                REAL,
  CHECK (kind <> 'position' OR (lat_deg IS NOT NULL AND lon_deg IS NOT NULL AND fix_quality IS NOT NULL)),
  CHECK (kind <> 'heading' OR (heading_deg IS NOT NULL AND heading_ref IS NOT NULL)),
  CHECK (kind <> 'pressure-altitude' OR pressure_altitude_m IS NOT NULL),
  CHECK (kind <> 'dop' OR fix_mode IS NOT NULL)
) STRICT;
CREATE INDEX nav_sample_kind_t ON nav_sample (kind, t_us);

CREATE TABLE sentence_count (
  port      TEXT NOT NULL REFERENCES port(name),
  sentence  TEXT NOT NULL,
  status    TEXT NOT NULL CHECK (status IN ('valid', 'unknown', 'rejected')),
  reason    TEXT NOT NULL DEFAULT '',
  count     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (port, sentence, status, reason)
) STRICT;

CREATE TABLE clock_fit (
  id              INTEGER PRIMARY KEY,
  fitted_mono_us  INTEGER NOT NULL,
  fitted_t_us     INTEGER NOT NULL,
  offset_us       INTEGER NOT NULL,
  drift_ppm       REAL NOT NULL,
  uncertainty_us  INTEGER NOT NULL,
  pairs           INTEGER NOT NULL,
  port            TEXT REFERENCES port(name)
) STRICT;

CREATE TABLE asset (
  id                  INTEGER PRIMARY KEY,
  device              TEXT NOT NULL,
  rel_path            TEXT NOT NULL,
  size_bytes          INTEGER NOT NULL CHECK (size_bytes >= 0),
  sha256              TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
  capture_t_us        INTEGER,
  time_source         TEXT CHECK (time_source IN ('exif', 'flight-clock')),
  appeared_t_us       INTEGER,
  appeared_mono_us    INTEGER,
  recorded_t_us       INTEGER NOT NULL,
  status              TEXT NOT NULL CHECK (status IN ('complete', 'incomplete')),
  lat_deg             REAL,
  lon_deg             REAL,
  altitude_m          REAL,
  pressure_altitude_m REAL,
  heading_deg         REAL,
  speed_mps           REAL,
  track_deg           REAL,
  pose_quality        TEXT CHECK (pose_quality IS NULL OR json_valid(pose_quality)),
  UNIQUE (device, rel_path, size_bytes, sha256),
  CHECK ((capture_t_us IS NULL) = (time_source IS NULL))
) STRICT;
CREATE INDEX asset_capture_t ON asset (capture_t_us);

CREATE TABLE event (
  id        INTEGER PRIMARY KEY,
  t_us      INTEGER NOT NULL,
  mono_us   INTEGER,
  level     TEXT NOT NULL CHECK (level IN ('info', 'warn', 'error')),
  source    TEXT NOT NULL,
  code      TEXT NOT NULL,
  message   TEXT NOT NULL,
  data      TEXT CHECK (data IS NULL OR json_valid(data))
) STRICT;
CREATE INDEX event_t ON event (t_us);

PRAGMA application_id = ${FLIGHT_DB_APPLICATION_ID};
`;

// v1 rows get NULL (unknown): nothing tells which boot they were on, and guessing "the current
// one" is exactly the conversion across a reboot that v2 exists to prevent.
const V2 = /* sql */ `
ALTER TABLE clock_fit ADD COLUMN boot_id TEXT CHECK (boot_id IS NULL OR length(boot_id) BETWEEN 1 AND 64);
ALTER TABLE asset ADD COLUMN appeared_boot_id TEXT
  CHECK (appeared_boot_id IS NULL OR (length(appeared_boot_id) BETWEEN 1 AND 64 AND appeared_mono_us IS NOT NULL));
CREATE INDEX clock_fit_boot ON clock_fit (boot_id, id);
`;

/** Every migration, in order; `MIGRATIONS[i].version === i + 1`. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'flight, port, nav_sample, sentence_count, clock_fit, asset, event', sql: V1 },
  { version: 2, description: 'boot ids: clock_fit.boot_id, asset.appeared_boot_id', sql: V2 },
];

/**
 * Indexes that only make a writer's own queries faster, made (IF NOT EXISTS) at every writable open
 * after the migrations. Not a migration on purpose: a new user_version would make every reader of
 * an older version refuse the DB (and a read-only open of an array not yet upgraded refuse it),
 * for a change no reader sees.
 *
 * asset_awaiting_pose: the pose catch-up (every 2 s, on the capture agent's main thread) looks for
 * assets still awaiting navigation data. Without it, that was a scan of every asset row with a JSON
 * lookup each: ~5 ms per pass at 50,000 assets, ~28 ms at 200,000, an event-loop stall growing all
 * flight. The partial index holds only the awaiting rows; the query names the same expression, so
 * SQLite uses it.
 */
export const WRITER_INDEXES_SQL = /* sql */ `
CREATE INDEX IF NOT EXISTS asset_awaiting_pose ON asset (id) WHERE json_extract(pose_quality, '$.isAwaitingData') = 1;
`;

/** The schema version this code writes and reads (`PRAGMA user_version`). */
export const FLIGHT_DB_SCHEMA_VERSION: number = MIGRATIONS.length;
