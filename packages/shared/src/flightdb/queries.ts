// Typed SQL helpers over a flight DB that both the capture agent (writes) and the ingest CLI /
// status command (reads) use. All SQL of the flight DB lives in this folder.
import type { DecodeFlag, DecodedSentence, NavSample, SampleKind, TimedSample } from '../nav/types.js';
import { currentBootId, isBootId } from './boot.js';
import { FlightDbError } from './errors.js';
import { FlightDb } from './open.js';
import type { SqliteDatabase, SqliteStatement } from './open.js';
import { EVENT_LEVELS, SAMPLE_KINDS, SENTENCE_STATUSES } from './rows.js';
import type {
  AssetInsert,
  AssetRow,
  AssetStatus,
  ClockFitInsert,
  ClockFitRow,
  EventInsert,
  EventLevel,
  EventRow,
  FlightRow,
  FlightSummary,
  NavSampleInsert,
  PortRow,
  PortStatus,
  SampleTimeSource,
  SentenceCountDelta,
  SentenceCountRow,
  SentenceStatus,
  StoredNavSample,
} from './rows.js';

/** Helpers accept an open FlightDb or its raw better-sqlite3 connection. */
export type FlightDbLike = FlightDb | SqliteDatabase;

function conn(db: FlightDbLike): SqliteDatabase {
  return db instanceof FlightDb ? db.db : db;
}

const cache = new WeakMap<SqliteDatabase, Map<string, SqliteStatement>>();
/** A prepared statement, cached per connection. */
function stmt(db: SqliteDatabase, sql: string): SqliteStatement {
  let m = cache.get(db);
  if (!m) {
    m = new Map();
    cache.set(db, m);
  }
  let s = m.get(sql);
  if (!s) {
    s = db.prepare(sql);
    m.set(sql, s);
  }
  return s;
}

function int(value: number, field: string): number {
  if (!Number.isSafeInteger(value)) throw new FlightDbError('bad-row', `${field} ${value} is not an integer`);
  return value;
}
function intOrNull(value: number | null | undefined, field: string): number | null {
  return value === null || value === undefined ? null : int(value, field);
}
function json(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  try {
    const text = JSON.stringify(value);
    if (text === undefined) throw new Error('not serialisable');
    return text;
  } catch (e) {
    throw new FlightDbError('bad-row', `${field} is not JSON-serialisable: ${(e as Error).message}`);
  }
}
function parseJson(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown);
}

/**
 * Runs `fn` in one IMMEDIATE write transaction (commit on return, rollback on throw); nested
 * calls and the batched helpers inside become savepoints. Use it to flush samples, counters and
 * port traffic together.
 */
export function writeTransaction<T>(db: FlightDbLike, fn: () => T): T {
  return conn(db).transaction(fn).immediate();
}

// ---------------------------------------------------------------- flight

interface FlightSql {
  id: string;
  aircraft: string | null;
  started_t_us: number;
  ended_t_us: number | null;
  layout_version: number;
  created_by: string;
}

/** Inserts the flight row (once per DB). */
export function insertFlight(db: FlightDbLike, flight: FlightRow): void {
  stmt(
    conn(db),
    `INSERT INTO flight (id, aircraft, started_t_us, ended_t_us, layout_version, created_by)
     VALUES (@id, @aircraft, @started, @ended, @layout, @createdBy)`,
  ).run({
    id: flight.id,
    aircraft: flight.aircraft,
    started: int(flight.startedTUs, 'startedTUs'),
    ended: intOrNull(flight.endedTUs, 'endedTUs'),
    layout: int(flight.layoutVersion, 'layoutVersion'),
    createdBy: flight.createdBy,
  });
}

/** The flight row, or null when none was written yet. */
export function readFlight(db: FlightDbLike): FlightRow | null {
  const r = stmt(conn(db), 'SELECT * FROM flight ORDER BY rowid LIMIT 1').get() as FlightSql | undefined;
  if (!r) return null;
  return {
    id: r.id,
    aircraft: r.aircraft,
    startedTUs: r.started_t_us,
    endedTUs: r.ended_t_us,
    layoutVersion: r.layout_version,
    createdBy: r.created_by,
  };
}

/** Sets (or clears, with null) the flight's end time. */
export function setFlightEnded(db: FlightDbLike, flightId: string, endedTUs: number | null): void {
  const res = stmt(conn(db), 'UPDATE flight SET ended_t_us = ? WHERE id = ?').run(
    intOrNull(endedTUs, 'endedTUs'),
    flightId,
  );
  if (res.changes !== 1) throw new FlightDbError('bad-row', `flight ${JSON.stringify(flightId)} does not exist`);
}

// ---------------------------------------------------------------- port

interface PortSql {
  name: string;
  role: PortRow['role'];
  path: string;
  baud_rate: number;
  status: PortStatus;
  last_error: string | null;
  status_t_us: number;
  bytes_received: number;
  lines_received: number;
}
function portFromSql(r: PortSql): PortRow {
  return {
    name: r.name,
    role: r.role,
    path: r.path,
    baudRate: r.baud_rate,
    status: r.status,
    lastError: r.last_error,
    statusTUs: r.status_t_us,
    bytesReceived: r.bytes_received,
    linesReceived: r.lines_received,
  };
}

/**
 * Inserts a port or updates its configuration and status; counters are kept on update
 * (set only on insert, default 0).
 */
export function upsertPort(
  db: FlightDbLike,
  port: Omit<PortRow, 'bytesReceived' | 'linesReceived'> & Partial<Pick<PortRow, 'bytesReceived' | 'linesReceived'>>,
): void {
  stmt(
    conn(db),
    `INSERT INTO port (name, role, path, baud_rate, status, last_error, status_t_us, bytes_received, lines_received)
     VALUES (@name, @role, @path, @baud, @status, @lastError, @statusTUs, @bytes, @lines)
     ON CONFLICT (name) DO UPDATE SET role = excluded.role, path = excluded.path, baud_rate = excluded.baud_rate,
       status = excluded.status, last_error = excluded.last_error, status_t_us = excluded.status_t_us`,
  ).run({
    name: port.name,
    role: port.role,
    path: port.path,
    baud: int(port.baudRate, 'baudRate'),
    status: port.status,
    lastError: port.lastError,
    statusTUs: int(port.statusTUs, 'statusTUs'),
    bytes: int(port.bytesReceived ?? 0, 'bytesReceived'),
    lines: int(port.linesReceived ?? 0, 'linesReceived'),
  });
}

/** Changes a port's status (and last error: pass null to clear, omit to keep). */
export function setPortStatus(
  db: FlightDbLike,
  name: string,
  status: PortStatus,
  statusTUs: number,
  lastError?: string | null,
): void {
  const c = conn(db);
  const res =
    lastError === undefined
      ? stmt(c, 'UPDATE port SET status = ?, status_t_us = ? WHERE name = ?').run(status, int(statusTUs, 'statusTUs'), name)
      : stmt(c, 'UPDATE port SET status = ?, status_t_us = ?, last_error = ? WHERE name = ?').run(
          status,
          int(statusTUs, 'statusTUs'),
          lastError,
          name,
        );
  if (res.changes !== 1) throw new FlightDbError('bad-row', `port ${JSON.stringify(name)} does not exist`);
}

/** Adds to a port's byte and line counters. */
export function addPortTraffic(db: FlightDbLike, name: string, bytes: number, lines: number): void {
  const res = stmt(
    conn(db),
    'UPDATE port SET bytes_received = bytes_received + ?, lines_received = lines_received + ? WHERE name = ?',
  ).run(int(bytes, 'bytes'), int(lines, 'lines'), name);
  if (res.changes !== 1) throw new FlightDbError('bad-row', `port ${JSON.stringify(name)} does not exist`);
}

export function readPorts(db: FlightDbLike): PortRow[] {
  return (stmt(conn(db), 'SELECT * FROM port ORDER BY name').all() as PortSql[]).map(portFromSql);
}

// ---------------------------------------------------------------- nav_sample

const NAV_COLUMNS = [
  'kind', 't_us', 't_source', 'port', 'sentence', 'talker', 'raw_offset', 'received_mono_us', 'flags',
  'lat_deg', 'lon_deg', 'altitude_m', 'fix_quality', 'satellites', 'hdop', 'speed_mps', 'track_deg',
  'heading_deg', 'heading_ref', 'pressure_altitude_m', 'fix_mode', 'pdop', 'vdop',
] as const;
type NavColumn = (typeof NAV_COLUMNS)[number];
type NavParams = Record<NavColumn, string | number | null>;
const NAV_WIDTH = NAV_COLUMNS.length;

// A batch of samples is kept as columns: the numeric columns in one Float64Array (NaN = NULL, as
// SQLite itself stores a bound NaN), the text columns as codes into a per-batch dictionary. It
// is cheap to fill (no object per row), cheap to hand to another thread (two transferable
// buffers and a short string list), and turns into positional parameters without lookups by name.
/** NAV_COLUMNS index of each numeric column, in the order of a row's numbers. */
const NUM_COLS = [1, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 21, 22] as const;
/** NAV_COLUMNS index of each text column, in the order of a row's codes. */
const STR_COLS = [0, 2, 3, 4, 5, 8, 18] as const;
const NUM_WIDTH = NUM_COLS.length;
const STR_WIDTH = STR_COLS.length;
/** Text code of NULL. */
const NULL_CODE = 0xffff;

/** A batch of samples as columns; what NavSampleBatch.columns() gives and insertNavSampleColumns() takes. */
export interface NavSampleColumns {
  length: number;
  /** length × 16 numbers, row-major (t_us, raw_offset, received_mono_us, lat … vdop); NaN = NULL. */
  numbers: Float64Array;
  /** length × 7 codes into `dictionary`, row-major (kind, t_source, port, sentence, talker, flags, heading_ref); 0xFFFF = NULL. */
  strings: Uint16Array;
  dictionary: string[];
}

/**
 * Samples to insert, collected as columns. `add` validates what the types cannot promise (integer
 * times and offsets) and throws FlightDbError('bad-row') at the row that is wrong.
 */
export class NavSampleBatch {
  #length = 0;
  #numbers: Float64Array;
  #strings: Uint16Array;
  #dictionary: string[] = [];
  #codes = new Map<string, number>();

  constructor(capacity = 1024) {
    const rows = Math.max(1, capacity);
    this.#numbers = new Float64Array(rows * NUM_WIDTH);
    this.#strings = new Uint16Array(rows * STR_WIDTH);
  }

  get length(): number {
    return this.#length;
  }

  #code(text: string): number {
    let c = this.#codes.get(text);
    if (c === undefined) {
      c = this.#dictionary.length;
      if (c >= NULL_CODE) throw new FlightDbError('bad-row', 'more than 65,534 distinct texts in one sample batch');
      this.#dictionary.push(text);
      this.#codes.set(text, c);
    }
    return c;
  }

  add(row: NavSampleInsert): void {
    const i = this.#length;
    if ((i + 1) * NUM_WIDTH > this.#numbers.length) {
      const numbers = new Float64Array(this.#numbers.length * 2);
      numbers.set(this.#numbers);
      this.#numbers = numbers;
      const strings = new Uint16Array(this.#strings.length * 2);
      strings.set(this.#strings);
      this.#strings = strings;
    }
    const s: NavSample = row.sample;
    const n = this.#numbers;
    const o = i * NUM_WIDTH;
    n[o] = int(row.tUs, 'tUs');
    n[o + 1] = row.rawOffset === null || row.rawOffset === undefined ? NaN : int(row.rawOffset, 'rawOffset');
    n[o + 2] = row.receivedMonoUs === null || row.receivedMonoUs === undefined ? NaN : int(row.receivedMonoUs, 'receivedMonoUs');
    n.fill(NaN, o + 3, o + NUM_WIDTH);
    let headingRef = NULL_CODE;
    switch (s.kind) {
      case 'position':
        n[o + 3] = s.latDeg;
        n[o + 4] = s.lonDeg;
        n[o + 5] = s.altitudeM ?? NaN;
        n[o + 6] = s.fixQuality;
        n[o + 7] = s.satellites ?? NaN;
        n[o + 8] = s.hdop ?? NaN;
        break;
      case 'velocity':
        n[o + 9] = s.speedMps ?? NaN;
        n[o + 10] = s.trackDeg ?? NaN;
        break;
      case 'heading':
        n[o + 11] = s.headingDeg;
        headingRef = this.#code(s.reference);
        break;
      case 'pressure-altitude':
        n[o + 12] = s.altitudeM;
        break;
      case 'dop':
        n[o + 8] = s.hdop ?? NaN;
        n[o + 13] = s.fixMode;
        n[o + 14] = s.pdop ?? NaN;
        n[o + 15] = s.vdop ?? NaN;
        break;
      case 'time':
        break;
    }
    const t = this.#strings;
    const so = i * STR_WIDTH;
    t[so] = this.#code(s.kind);
    t[so + 1] = this.#code(row.tSource);
    t[so + 2] = this.#code(row.port);
    t[so + 3] = this.#code(s.sentence);
    t[so + 4] = this.#code(s.talker);
    t[so + 5] = this.#code(row.flags === undefined || row.flags.length === 0 ? '' : row.flags.join(','));
    t[so + 6] = headingRef;
    this.#length = i + 1;
  }

  /** The rows so far as columns (trimmed copies: the batch can go on or be dropped). */
  columns(): NavSampleColumns {
    const n = this.#length;
    return {
      length: n,
      numbers: this.#numbers.slice(0, n * NUM_WIDTH),
      strings: this.#strings.slice(0, n * STR_WIDTH),
      dictionary: [...this.#dictionary],
    };
  }
}

/** Rows per INSERT statement: one statement execution per this many rows (the per-row cost is binding, not stepping). */
const NAV_ROWS_PER_INSERT = 50;
const NAV_INSERT_SQL: string[] = [];
/** The multi-row positional INSERT for `rows` rows (SQL text cached; statements are cached per connection by stmt()). */
function navInsertSql(rows: number): string {
  let sql = NAV_INSERT_SQL[rows];
  if (sql === undefined) {
    const one = `(${NAV_COLUMNS.map(() => '?').join(', ')})`;
    sql = `INSERT INTO nav_sample (${NAV_COLUMNS.join(', ')}) VALUES ${new Array<string>(rows).fill(one).join(', ')}`;
    NAV_INSERT_SQL[rows] = sql;
  }
  return sql;
}

/** Writes row `i` of `cols` as positional parameters into `out` from `at`. */
function putNavRow(cols: NavSampleColumns, i: number, out: (string | number | null)[], at: number): void {
  const { numbers, strings, dictionary } = cols;
  const no = i * NUM_WIDTH;
  for (let k = 0; k < NUM_WIDTH; k++) {
    const v = numbers[no + k]!;
    out[at + NUM_COLS[k]!] = v === v ? v : null; // NaN → NULL
  }
  const so = i * STR_WIDTH;
  for (let k = 0; k < STR_WIDTH; k++) {
    const c = strings[so + k]!;
    out[at + STR_COLS[k]!] = c === NULL_CODE ? null : dictionary[c]!;
  }
}

/** The column values of one sample (pure; exported for tests and for bulk importers). */
export function navSampleParams(row: NavSampleInsert): NavParams {
  const batch = new NavSampleBatch(1);
  batch.add(row);
  const values: (string | number | null)[] = new Array<string | number | null>(NAV_WIDTH);
  putNavRow(batch.columns(), 0, values, 0);
  return Object.fromEntries(NAV_COLUMNS.map((c, k) => [c, values[k]!])) as NavParams;
}

/**
 * Inserts a column batch in ONE transaction (all or nothing; a savepoint inside an open one),
 * NAV_ROWS_PER_INSERT rows per statement. Returns the number inserted.
 */
export function insertNavSampleColumns(db: FlightDbLike, cols: NavSampleColumns): number {
  if (cols.length === 0) return 0;
  const c = conn(db);
  c.transaction((): void => insertNavColumnsUnwrapped(c, cols)).immediate();
  return cols.length;
}

/**
 * The inserts alone, for a caller that holds the transaction (writeFlightBatch): no savepoint,
 * whose sub-journal would copy every page the batch touches (MBs per batch, spilled to a temp file).
 */
function insertNavColumnsUnwrapped(c: SqliteDatabase, cols: NavSampleColumns): void {
  const n = cols.length;
  const textIds = cols.dictionary.map(navTextId);
  for (let i = 0; i < n; i += NAV_ROWS_PER_INSERT) insertNavChunk(c, cols, i, Math.min(n, i + NAV_ROWS_PER_INSERT), textIds);
}

// Binding is most of an insert's cost, and most of a row's 23 columns are either NULL for its kind
// or one of a few texts (kind, time source, port, sentence, talker, flags). A chunk's statement
// therefore binds, per row, only the times, offsets and the column groups the row has a value in;
// the texts are SQL literals and the other columns NULL literals. A row's class is its shape (the
// groups with a value) plus those texts; the statement depends on the chunk's sequence of classes.
// A capture is periodic (the same sentences every epoch), so a few dozen statements serve a whole
// flight (~25 for the bench's). Up to NAV_SHAPED_MAX statements are prepared per connection (and
// NAV_CLASSES_MAX classes, NAV_TEXTS_MAX texts kept); any other chunk binds every column.
/** Optional columns (NAV_COLUMNS indices) in groups that are NULL or not together, by kind. */
const NAV_GROUPS: readonly (readonly number[])[] = [
  [9, 10, 11, 12, 13, 14], // position
  [15, 16], // velocity
  [17, 18], // heading
  [19], // pressure altitude
  [14, 20, 21, 22], // dop (hdop shared with position)
];
/** NAV_COLUMNS index → the bits of the groups that contain it (0: in every row). */
const NAV_COL_GROUPS: number[] = NAV_COLUMNS.map((_, k) => NAV_GROUPS.reduce((m, g, gi) => (g.includes(k) ? m | (1 << gi) : m), 0));
/** Text columns written as literals (NAV_COLUMNS indices: kind, t_source, port, sentence, talker, flags); also STR_COLS[0..5]. */
const NAV_LITERAL_COLS = [0, 2, 3, 4, 5, 8] as const;
const NAV_SHAPED_MAX = 256;
const NAV_CLASSES_MAX = 4096;
const NAV_TEXTS_MAX = 256;

/** A row class: which columns are bound ('?') and the literal texts. */
interface NavRowClass {
  /** NAV_COLUMNS indices bound, in order. */
  bound: number[];
  /** The row's tuple in the statement. */
  tuple: string;
}
const navTextIds = new Map<string, number>();
const navClassIds = new Map<number, number>();
const navClasses: NavRowClass[] = [];

function sqlText(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function navTextId(text: string): number {
  let id = navTextIds.get(text);
  if (id === undefined) {
    if (navTextIds.size >= NAV_TEXTS_MAX) return -1;
    id = navTextIds.size;
    navTextIds.set(text, id);
  }
  return id;
}

/** The class of row `i` (`textIds`: the batch dictionary's text ids), or -1 when none can be kept. */
function navRowClass(cols: NavSampleColumns, i: number, textIds: readonly number[]): number {
  const { numbers, strings } = cols;
  const no = i * NUM_WIDTH;
  let shape = 0;
  for (let k = 3; k < NUM_WIDTH; k++) {
    const v = numbers[no + k]!;
    if (v === v) shape |= NAV_COL_GROUPS[NUM_COLS[k]!]!;
  }
  const so = i * STR_WIDTH;
  if (strings[so + 6] !== NULL_CODE) shape |= NAV_COL_GROUPS[18]!; // heading_ref
  // shape (5 bits) and six 8-bit text ids: 53 bits, exact in a double
  let packed = shape;
  for (let j = 0; j < NAV_LITERAL_COLS.length; j++) {
    const code = strings[so + j]!;
    const id = code === NULL_CODE ? -1 : textIds[code]!;
    if (id < 0) return -1;
    packed = packed * 256 + id;
  }
  let cls = navClassIds.get(packed);
  if (cls === undefined) {
    if (navClasses.length >= NAV_CLASSES_MAX) return -1;
    const bound: number[] = [];
    const terms = NAV_COLUMNS.map((_, k) => {
      const lit = (NAV_LITERAL_COLS as readonly number[]).indexOf(k);
      if (lit >= 0) return sqlText(cols.dictionary[strings[so + lit]!]!);
      if (NAV_COL_GROUPS[k] === 0 || (NAV_COL_GROUPS[k]! & shape) !== 0) {
        bound.push(k);
        return '?';
      }
      return 'NULL';
    });
    cls = navClasses.length;
    navClasses.push({ bound, tuple: `(${terms.join(', ')})` });
    navClassIds.set(packed, cls);
  }
  return cls;
}

/** A shaped statement and its parameter array (reused: a statement runs to completion before the next). */
interface ShapedInsert {
  stmt: SqliteStatement;
  params: (string | number | null)[];
}
const shapedCache = new WeakMap<SqliteDatabase, Map<string, ShapedInsert>>();

/** Value of NAV_COLUMNS column `k` of row `i` (NaN and the NULL code → null). */
function navValue(cols: NavSampleColumns, i: number, k: number): string | number | null {
  const pos = NUM_POS[k]!;
  if (pos >= 0) {
    const v = cols.numbers[i * NUM_WIDTH + pos]!;
    return v === v ? v : null;
  }
  const code = cols.strings[i * STR_WIDTH + STR_POS[k]!]!;
  return code === NULL_CODE ? null : cols.dictionary[code]!;
}
/** NAV_COLUMNS index → position among the row's numbers / codes (-1: not one of them). */
const NUM_POS: number[] = NAV_COLUMNS.map((_, k) => (NUM_COLS as readonly number[]).indexOf(k));
const STR_POS: number[] = NAV_COLUMNS.map((_, k) => (STR_COLS as readonly number[]).indexOf(k));

/** Inserts rows [from, to) with one statement: shaped when one is (or can be) prepared, else all columns bound. */
function insertNavChunk(c: SqliteDatabase, cols: NavSampleColumns, from: number, to: number, textIds: readonly number[]): void {
  let cache = shapedCache.get(c);
  if (cache === undefined) shapedCache.set(c, (cache = new Map()));
  let key = '';
  for (let i = from; i < to; i++) {
    const cls = navRowClass(cols, i, textIds);
    if (cls < 0) break;
    key += String.fromCharCode(0x100 + cls);
  }
  let shaped = key.length === to - from ? cache.get(key) : undefined;
  if (shaped === undefined && key.length === to - from && cache.size < NAV_SHAPED_MAX) {
    const tuples: string[] = [];
    let count = 0;
    for (let r = 0; r < key.length; r++) {
      const cls = navClasses[key.charCodeAt(r) - 0x100]!;
      count += cls.bound.length;
      tuples.push(cls.tuple);
    }
    const sql = `INSERT INTO nav_sample (${NAV_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`;
    shaped = { stmt: c.prepare(sql), params: new Array<string | number | null>(count).fill(null) };
    cache.set(key, shaped);
  }
  if (shaped !== undefined) {
    const params = shaped.params;
    let at = 0;
    for (let i = from; i < to; i++) {
      for (const k of navClasses[key.charCodeAt(i - from) - 0x100]!.bound) params[at++] = navValue(cols, i, k);
    }
    shaped.stmt.run(params);
    return;
  }
  const rows = to - from;
  const params: (string | number | null)[] = new Array<string | number | null>(rows * NAV_WIDTH);
  for (let r = 0; r < rows; r++) putNavRow(cols, from + r, params, r * NAV_WIDTH);
  stmt(c, navInsertSql(rows)).run(params);
}

/**
 * Inserts samples in ONE transaction (all or nothing), several rows per statement.
 * Returns the number inserted. Throws FlightDbError('bad-row') on a non-integer time, or the
 * SQLite error (e.g. SQLITE_CONSTRAINT_FOREIGNKEY for an unknown port) — nothing is inserted then.
 */
export function insertNavSamples(db: FlightDbLike, rows: readonly NavSampleInsert[]): number {
  if (rows.length === 0) return 0;
  const batch = new NavSampleBatch(rows.length);
  for (const r of rows) batch.add(r);
  return insertNavSampleColumns(db, batch.columns());
}

interface NavSql {
  id: number;
  kind: SampleKind;
  t_us: number;
  t_source: SampleTimeSource;
  port: string;
  sentence: string;
  talker: string;
  raw_offset: number | null;
  received_mono_us: number | null;
  flags: string;
  lat_deg: number | null;
  lon_deg: number | null;
  altitude_m: number | null;
  fix_quality: number | null;
  satellites: number | null;
  hdop: number | null;
  speed_mps: number | null;
  track_deg: number | null;
  heading_deg: number | null;
  heading_ref: 'true' | 'magnetic' | null;
  pressure_altitude_m: number | null;
  fix_mode: number | null;
  pdop: number | null;
  vdop: number | null;
}

function sampleFromSql(r: NavSql): TimedSample {
  const base = { sentence: r.sentence as DecodedSentence, talker: r.talker, tUs: r.t_us };
  switch (r.kind) {
    case 'position':
      return {
        ...base,
        kind: 'position',
        latDeg: r.lat_deg ?? NaN,
        lonDeg: r.lon_deg ?? NaN,
        altitudeM: r.altitude_m,
        fixQuality: r.fix_quality ?? 0,
        satellites: r.satellites,
        hdop: r.hdop,
      };
    case 'velocity':
      return { ...base, kind: 'velocity', speedMps: r.speed_mps, trackDeg: r.track_deg };
    case 'heading':
      return { ...base, kind: 'heading', headingDeg: r.heading_deg ?? NaN, reference: r.heading_ref ?? 'true' };
    case 'pressure-altitude':
      return { ...base, kind: 'pressure-altitude', altitudeM: r.pressure_altitude_m ?? NaN };
    case 'dop':
      return { ...base, kind: 'dop', fixMode: r.fix_mode ?? 1, pdop: r.pdop, hdop: r.hdop, vdop: r.vdop };
    case 'time':
      return { ...base, kind: 'time' };
  }
}

function storedFromSql(r: NavSql): StoredNavSample {
  return {
    id: r.id,
    sample: sampleFromSql(r),
    tSource: r.t_source,
    port: r.port,
    rawOffset: r.raw_offset,
    receivedMonoUs: r.received_mono_us,
    flags: r.flags === '' ? [] : (r.flags.split(',') as DecodeFlag[]),
  };
}

export interface NavSampleQuery {
  /** Only these kinds (default all). */
  kinds?: readonly SampleKind[];
  /** t_us >= fromTUs. */
  fromTUs?: number;
  /** t_us <= toTUs. */
  toTUs?: number;
  port?: string;
  limit?: number;
}

/** Stored samples in time order (t_us, then id), lazily: for large flights. */
export function iterateNavSamples(db: FlightDbLike, query: NavSampleQuery = {}): IterableIterator<StoredNavSample> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (query.kinds) {
    if (query.kinds.length === 0) return [][Symbol.iterator]();
    where.push(`kind IN (${query.kinds.map(() => '?').join(', ')})`);
    params.push(...query.kinds);
  }
  if (query.fromTUs !== undefined) {
    where.push('t_us >= ?');
    params.push(int(query.fromTUs, 'fromTUs'));
  }
  if (query.toTUs !== undefined) {
    where.push('t_us <= ?');
    params.push(int(query.toTUs, 'toTUs'));
  }
  if (query.port !== undefined) {
    where.push('port = ?');
    params.push(query.port);
  }
  let sql = `SELECT * FROM nav_sample${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY t_us, id`;
  if (query.limit !== undefined) {
    sql += ' LIMIT ?';
    params.push(int(query.limit, 'limit'));
  }
  const it = conn(db).prepare(sql).iterate(...params) as IterableIterator<NavSql>;
  function* map(): IterableIterator<StoredNavSample> {
    for (const r of it) yield storedFromSql(r);
  }
  return map();
}

/** Stored samples in time order (t_us, then id). */
export function readNavSamples(db: FlightDbLike, query: NavSampleQuery = {}): StoredNavSample[] {
  return [...iterateNavSamples(db, query)];
}

// ---------------------------------------------------------------- sentence_count

/** Adds the deltas to the counters (insert or add), in one transaction. Zero counts are skipped. */
export function upsertSentenceCounts(db: FlightDbLike, deltas: readonly SentenceCountDelta[]): void {
  if (deltas.length === 0) return;
  const c = conn(db);
  const up = stmt(
    c,
    `INSERT INTO sentence_count (port, sentence, status, reason, count) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (port, sentence, status, reason) DO UPDATE SET count = count + excluded.count`,
  );
  c.transaction((list: readonly SentenceCountDelta[]): void => {
    for (const d of list) {
      if (int(d.count, 'count') === 0) continue;
      up.run(d.port, d.sentence ?? '', d.status, d.reason ?? '', d.count);
    }
  }).immediate(deltas);
}

export function readSentenceCounts(db: FlightDbLike): SentenceCountRow[] {
  return stmt(
    conn(db),
    'SELECT port, sentence, status, reason, count FROM sentence_count ORDER BY port, status, sentence, reason',
  ).all() as SentenceCountRow[];
}

// ---------------------------------------------------------------- clock_fit

interface ClockFitSql {
  id: number;
  fitted_mono_us: number;
  fitted_t_us: number;
  offset_us: number;
  drift_ppm: number;
  uncertainty_us: number;
  pairs: number;
  port: string | null;
  boot_id: string | null;
}
function clockFitFromSql(r: ClockFitSql): ClockFitRow {
  return {
    id: r.id,
    fittedMonoUs: r.fitted_mono_us,
    fittedTUs: r.fitted_t_us,
    offsetUs: r.offset_us,
    driftPpm: r.drift_ppm,
    uncertaintyUs: r.uncertainty_us,
    pairs: r.pairs,
    port: r.port,
    bootId: r.boot_id,
  };
}

/** A boot id to store, checked (FlightDbError 'bad-row' names the field). */
function bootIdOrNull(value: string | null, field: string): string | null {
  if (value !== null && !isBootId(value)) throw new FlightDbError('bad-row', `${field} ${JSON.stringify(value)} is not a boot id`);
  return value;
}

/** Records a clock fit; returns its id. */
export function insertClockFit(db: FlightDbLike, fit: ClockFitInsert): number {
  const res = stmt(
    conn(db),
    `INSERT INTO clock_fit (fitted_mono_us, fitted_t_us, offset_us, drift_ppm, uncertainty_us, pairs, port, boot_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    int(fit.fittedMonoUs, 'fittedMonoUs'),
    int(fit.fittedTUs, 'fittedTUs'),
    int(fit.offsetUs, 'offsetUs'),
    fit.driftPpm,
    int(fit.uncertaintyUs, 'uncertaintyUs'),
    int(fit.pairs, 'pairs'),
    fit.port,
    bootIdOrNull(fit.bootId ?? null, 'bootId'),
  );
  return Number(res.lastInsertRowid);
}

/** The most recent fit (highest id) of any boot, or null: for showing, never for converting a stored time. */
export function readLastClockFit(db: FlightDbLike): ClockFitRow | null {
  const r = stmt(conn(db), 'SELECT * FROM clock_fit ORDER BY id DESC LIMIT 1').get() as ClockFitSql | undefined;
  return r ? clockFitFromSql(r) : null;
}

/**
 * The most recent fit of boot `bootId`, or null: the only fits a monotonic time of that boot may be
 * converted through. Fits of unknown boot (NULL) never match.
 */
export function readLastClockFitOfBoot(db: FlightDbLike, bootId: string): ClockFitRow | null {
  const r = stmt(conn(db), 'SELECT * FROM clock_fit WHERE boot_id = ? ORDER BY id DESC LIMIT 1').get(bootId) as
    | ClockFitSql
    | undefined;
  return r ? clockFitFromSql(r) : null;
}

/** All fits in order. */
export function readClockFits(db: FlightDbLike): ClockFitRow[] {
  return (stmt(conn(db), 'SELECT * FROM clock_fit ORDER BY id').all() as ClockFitSql[]).map(clockFitFromSql);
}

// ---------------------------------------------------------------- asset

interface AssetSql {
  id: number;
  device: string;
  rel_path: string;
  size_bytes: number;
  sha256: string;
  capture_t_us: number | null;
  time_source: AssetRow['timeSource'];
  appeared_t_us: number | null;
  appeared_mono_us: number | null;
  appeared_boot_id: string | null;
  recorded_t_us: number;
  status: AssetStatus;
  lat_deg: number | null;
  lon_deg: number | null;
  altitude_m: number | null;
  pressure_altitude_m: number | null;
  heading_deg: number | null;
  speed_mps: number | null;
  track_deg: number | null;
  pose_quality: string | null;
}
function assetFromSql(r: AssetSql): AssetRow {
  return {
    id: r.id,
    device: r.device,
    relPath: r.rel_path,
    sizeBytes: r.size_bytes,
    sha256: r.sha256,
    captureTUs: r.capture_t_us,
    timeSource: r.time_source,
    appearedTUs: r.appeared_t_us,
    appearedMonoUs: r.appeared_mono_us,
    appearedBootId: r.appeared_boot_id,
    recordedTUs: r.recorded_t_us,
    status: r.status,
    latDeg: r.lat_deg,
    lonDeg: r.lon_deg,
    altitudeM: r.altitude_m,
    pressureAltitudeM: r.pressure_altitude_m,
    headingDeg: r.heading_deg,
    speedMps: r.speed_mps,
    trackDeg: r.track_deg,
    poseQuality: parseJson(r.pose_quality),
  };
}

/**
 * Records an asset. Idempotent on (device, relPath, sizeBytes, sha256): when that row exists,
 * nothing changes and `inserted` is false (agent restarts re-scan folders safely).
 * `appearedBootId` omitted with an appearedMonoUs: this process's currentBootId() (see AssetInsert).
 */
export function insertAsset(db: FlightDbLike, a: AssetInsert): { id: number; inserted: boolean } {
  const c = conn(db);
  const ins = stmt(
    c,
    `INSERT INTO asset (device, rel_path, size_bytes, sha256, capture_t_us, time_source, appeared_t_us,
       appeared_mono_us, appeared_boot_id, recorded_t_us, status, lat_deg, lon_deg, altitude_m, pressure_altitude_m,
       heading_deg, speed_mps, track_deg, pose_quality)
     VALUES (@device, @relPath, @size, @sha256, @capture, @timeSource, @appeared, @appearedMono, @appearedBoot, @recorded,
       @status, @lat, @lon, @alt, @palt, @heading, @speed, @track, @quality)
     ON CONFLICT (device, rel_path, size_bytes, sha256) DO NOTHING`,
  );
  const appearedMono = intOrNull(a.appearedMonoUs, 'appearedMonoUs');
  const appearedBoot =
    a.appearedBootId === undefined ? (appearedMono === null ? null : currentBootId()) : bootIdOrNull(a.appearedBootId, 'appearedBootId');
  const find = stmt(c, 'SELECT id FROM asset WHERE device = ? AND rel_path = ? AND size_bytes = ? AND sha256 = ?');
  return c.transaction((): { id: number; inserted: boolean } => {
    const res = ins.run({
      device: a.device,
      relPath: a.relPath,
      size: int(a.sizeBytes, 'sizeBytes'),
      sha256: a.sha256,
      capture: intOrNull(a.captureTUs, 'captureTUs'),
      timeSource: a.timeSource,
      appeared: intOrNull(a.appearedTUs, 'appearedTUs'),
      appearedMono,
      appearedBoot,
      recorded: int(a.recordedTUs, 'recordedTUs'),
      status: a.status,
      lat: a.latDeg,
      lon: a.lonDeg,
      alt: a.altitudeM,
      palt: a.pressureAltitudeM,
      heading: a.headingDeg,
      speed: a.speedMps,
      track: a.trackDeg,
      quality: json(a.poseQuality, 'poseQuality'),
    });
    if (res.changes === 1) return { id: Number(res.lastInsertRowid), inserted: true };
    const row = find.get(a.device, a.relPath, a.sizeBytes, a.sha256) as { id: number };
    return { id: row.id, inserted: false };
  }).immediate();
}

export function setAssetStatus(db: FlightDbLike, id: number, status: AssetStatus): void {
  const res = stmt(conn(db), 'UPDATE asset SET status = ? WHERE id = ?').run(status, int(id, 'id'));
  if (res.changes !== 1) throw new FlightDbError('bad-row', `asset ${id} does not exist`);
}

/** Assets in (device, rel_path, id) order, lazily. */
export function iterateAssets(db: FlightDbLike): IterableIterator<AssetRow> {
  const it = conn(db).prepare('SELECT * FROM asset ORDER BY device, rel_path, id').iterate() as IterableIterator<AssetSql>;
  function* map(): IterableIterator<AssetRow> {
    for (const r of it) yield assetFromSql(r);
  }
  return map();
}

export function readAssets(db: FlightDbLike): AssetRow[] {
  return [...iterateAssets(db)];
}

// ---------------------------------------------------------------- event

interface EventSql {
  id: number;
  t_us: number;
  mono_us: number | null;
  level: EventLevel;
  source: string;
  code: string;
  message: string;
  data: string | null;
}
function eventFromSql(r: EventSql): EventRow {
  return {
    id: r.id,
    tUs: r.t_us,
    monoUs: r.mono_us,
    level: r.level,
    source: r.source,
    code: r.code,
    message: r.message,
    data: parseJson(r.data),
  };
}

/** Records an event; returns its id. */
export function recordEvent(db: FlightDbLike, e: EventInsert): number {
  const res = stmt(
    conn(db),
    'INSERT INTO event (t_us, mono_us, level, source, code, message, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ).run(
    int(e.tUs, 'tUs'),
    intOrNull(e.monoUs, 'monoUs'),
    e.level,
    e.source,
    e.code,
    e.message,
    json(e.data, 'data'),
  );
  return Number(res.lastInsertRowid);
}

/** Events in (t_us, id) order; `minLevel` 'warn' = warn and error. */
export function readEvents(db: FlightDbLike, query: { minLevel?: EventLevel; limit?: number } = {}): EventRow[] {
  const levels = EVENT_LEVELS.slice(EVENT_LEVELS.indexOf(query.minLevel ?? 'info'));
  const limit = query.limit === undefined ? -1 : int(query.limit, 'limit');
  return (
    stmt(
      conn(db),
      `SELECT * FROM event WHERE level IN (SELECT value FROM json_each(?)) ORDER BY t_us, id LIMIT ?`,
    ).all(JSON.stringify(levels), limit) as EventSql[]
  ).map(eventFromSql);
}

// ---------------------------------------------------------------- summary

/** Everything `status` and the ingest CLI show, read in one read transaction (a consistent snapshot). */
export function readFlightSummary(db: FlightDbLike): FlightSummary {
  const c = conn(db);
  return c.transaction((): FlightSummary => {
    const byKind = Object.fromEntries(SAMPLE_KINDS.map((k) => [k, 0])) as Record<SampleKind, number>;
    let total = 0;
    for (const r of stmt(c, 'SELECT kind, count(*) AS n FROM nav_sample GROUP BY kind').all() as {
      kind: SampleKind;
      n: number;
    }[]) {
      byKind[r.kind] = r.n;
      total += r.n;
    }
    const range = stmt(c, 'SELECT min(t_us) AS first, max(t_us) AS last FROM nav_sample').get() as {
      first: number | null;
      last: number | null;
    };

    const rows = readSentenceCounts(c);
    const byStatus = Object.fromEntries(SENTENCE_STATUSES.map((s) => [s, 0])) as Record<SentenceStatus, number>;
    const rejectedByReason: Record<string, number> = {};
    for (const r of rows) {
      byStatus[r.status] += r.count;
      if (r.status === 'rejected') rejectedByReason[r.reason] = (rejectedByReason[r.reason] ?? 0) + r.count;
    }

    const fix = stmt(
      c,
      `SELECT t_us, port, lat_deg, lon_deg, altitude_m, fix_quality, satellites, hdop FROM nav_sample
       WHERE kind = 'position' AND fix_quality > 0 ORDER BY t_us DESC, id DESC LIMIT 1`,
    ).get() as
      | {
          t_us: number;
          port: string;
          lat_deg: number;
          lon_deg: number;
          altitude_m: number | null;
          fix_quality: number;
          satellites: number | null;
          hdop: number | null;
        }
      | undefined;

    const a = stmt(
      c,
      `SELECT count(*) AS total, coalesce(sum(status = 'complete'), 0) AS complete,
         coalesce(sum(status = 'incomplete'), 0) AS incomplete, coalesce(sum(size_bytes), 0) AS bytes,
         coalesce(sum(capture_t_us IS NULL), 0) AS untimed, max(capture_t_us) AS last FROM asset`,
    ).get() as { total: number; complete: number; incomplete: number; bytes: number; untimed: number; last: number | null };

    const events = Object.fromEntries(EVENT_LEVELS.map((l) => [l, 0])) as Record<EventLevel, number>;
    for (const r of stmt(c, 'SELECT level, count(*) AS n FROM event GROUP BY level').all() as {
      level: EventLevel;
      n: number;
    }[]) {
      events[r.level] = r.n;
    }
    const lastError = stmt(c, "SELECT * FROM event WHERE level = 'error' ORDER BY t_us DESC, id DESC LIMIT 1").get() as
      | EventSql
      | undefined;

    return {
      schemaVersion: c.pragma('user_version', { simple: true }) as number,
      flight: readFlight(c),
      samples: { total, byKind, firstTUs: range.first, lastTUs: range.last },
      sentences: { byStatus, rejectedByReason, rows },
      ports: readPorts(c),
      lastFix: fix
        ? {
            tUs: fix.t_us,
            port: fix.port,
            latDeg: fix.lat_deg,
            lonDeg: fix.lon_deg,
            altitudeM: fix.altitude_m,
            fixQuality: fix.fix_quality,
            satellites: fix.satellites,
            hdop: fix.hdop,
          }
        : null,
      lastClockFit: readLastClockFit(c),
      assets: {
        total: a.total,
        complete: a.complete,
        incomplete: a.incomplete,
        totalBytes: a.bytes,
        withoutCaptureTime: a.untimed,
        lastCaptureTUs: a.last,
      },
      events: { ...events, lastError: lastError ? eventFromSql(lastError) : null },
    };
  })();
}

/** `PRAGMA integrity_check`: 'ok' or the problems SQLite lists. */
export function checkFlightDbIntegrity(db: FlightDbLike): { ok: boolean; problems: string[] } {
  const rows = conn(db).pragma('integrity_check') as { integrity_check: string }[];
  const problems = rows.map((r) => r.integrity_check).filter((t) => t !== 'ok');
  const fk = conn(db).pragma('foreign_key_check') as unknown[];
  if (fk.length > 0) problems.push(`${fk.length} foreign key violation(s)`);
  return { ok: problems.length === 0, problems };
}

// ---------------------------------------------------------------- one batch of a capture

/** A queued write of the capture (besides samples, counters and traffic) for writeFlightBatch. */
export type FlightWriteOp =
  /** Create or update a port row (upsertPort); written before the batch's samples, which may refer to it. */
  | { type: 'port'; port: Omit<PortRow, 'bytesReceived' | 'linesReceived'> }
  | { type: 'status'; port: string; status: PortStatus; tUs: number; lastError: string | null }
  | { type: 'event'; event: EventInsert }
  | { type: 'fit'; fit: ClockFitInsert };

/**
 * What the capture agent commits at once: samples (as columns), counter increments, port traffic
 * and the other writes, in order. Plain data: it can be posted to a writer thread as is.
 */
export interface FlightWriteBatch {
  samples: NavSampleColumns;
  counts: SentenceCountDelta[];
  /** [port, bytes, lines] added to the port's counters. */
  traffic: [string, number, number][];
  ops: FlightWriteOp[];
}

/** Writes one batch in ONE IMMEDIATE transaction: all of it or (on a throw) none of it. Port rows first, then samples, counters, traffic, the other ops in order. */
export function writeFlightBatch(db: FlightDbLike, batch: FlightWriteBatch): void {
  const c = conn(db);
  c.transaction((): void => {
    for (const op of batch.ops) if (op.type === 'port') upsertPort(c, op.port);
    if (batch.samples.length > 0) insertNavColumnsUnwrapped(c, batch.samples);
    upsertSentenceCounts(c, batch.counts);
    for (const [port, bytes, lines] of batch.traffic) addPortTraffic(c, port, bytes, lines);
    for (const op of batch.ops) {
      if (op.type === 'status') setPortStatus(c, op.port, op.status, op.tUs, op.lastError);
      else if (op.type === 'event') recordEvent(c, op.event);
      else if (op.type === 'fit') insertClockFit(c, op.fit);
    }
  }).immediate();
}
