import Database from 'better-sqlite3';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FLIGHT_DB_APPLICATION_ID,
  FLIGHT_DB_SCHEMA_VERSION,
  FlightDbError,
  MIGRATIONS,
  applyMigrations,
  checkFlightDbIntegrity,
  currentBootId,
  insertClockFit,
  openFlightDb,
  readAssets,
  readClockFits,
  readLastClockFitOfBoot,
} from '../../src/flightdb/index.js';
import type { FlightDb } from '../../src/flightdb/index.js';

const dirs: string[] = [];
const open: FlightDb[] = [];
function tmpDb(): string {
  const d = mkdtempSync(join(tmpdir(), 'flysnap-fdb-'));
  dirs.push(d);
  return join(d, 'flight.db');
}
function track(db: FlightDb): FlightDb {
  open.push(db);
  return db;
}
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FlightDbError);
    return (e as FlightDbError).code;
  }
  return undefined;
}

const TABLES = ['asset', 'clock_fit', 'event', 'flight', 'nav_sample', 'port', 'sentence_count'];

describe('openFlightDb', () => {
  it('creates, migrates, and reopens idempotently', () => {
    const path = tmpDb();
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    const a = track(openFlightDb(path, { create: true }));
    expect(a.schemaVersion).toBe(FLIGHT_DB_SCHEMA_VERSION);
    expect(a.readonly).toBe(false);
    const names = (a.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[]).map((r) => r.name);
    expect(names).toEqual(TABLES);
    const schemaBefore = a.db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all();
    a.close();

    const b = track(openFlightDb(path));
    expect(b.schemaVersion).toBe(FLIGHT_DB_SCHEMA_VERSION);
    expect(b.db.pragma('user_version', { simple: true })).toBe(FLIGHT_DB_SCHEMA_VERSION);
    expect(b.db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all()).toEqual(schemaBefore);
    b.close();
    const c = track(openFlightDb(path, { create: true }));
    expect(c.db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all()).toEqual(schemaBefore);
  });

  it('a writable open adds the writer-only indexes to a DB without them, keeping its schema version; readers open it either way', () => {
    const path = tmpDb();
    track(openFlightDb(path, { create: true })).close();
    const raw = new Database(path);
    raw.exec('DROP INDEX asset_awaiting_pose'); // as a DB written before the index existed
    raw.close();
    const index = (d: FlightDb): unknown => d.db.prepare("SELECT name FROM sqlite_master WHERE name = 'asset_awaiting_pose'").get();
    const reader = track(openFlightDb(path, { readonly: true }));
    expect(index(reader)).toBeUndefined();
    reader.close();
    const writer = track(openFlightDb(path));
    expect(index(writer)).toEqual({ name: 'asset_awaiting_pose' });
    expect(writer.db.pragma('user_version', { simple: true })).toBe(FLIGHT_DB_SCHEMA_VERSION);
    writer.close();
    expect(track(openFlightDb(path, { readonly: true })).schemaVersion).toBe(FLIGHT_DB_SCHEMA_VERSION);
  });

  it('sets WAL, synchronous=FULL, foreign keys, busy timeout, application id', () => {
    const db = track(openFlightDb(tmpDb(), { create: true, busyTimeoutMs: 1234 }));
    expect(db.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.db.pragma('busy_timeout', { simple: true })).toBe(1234);
    expect(db.db.pragma('application_id', { simple: true })).toBe(FLIGHT_DB_APPLICATION_ID);
    expect(checkFlightDbIntegrity(db)).toEqual({ ok: true, problems: [] });
    expect(db.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('refuses a missing file unless create, and contradicting options', () => {
    const path = tmpDb();
    expect(errorCode(() => openFlightDb(path))).toBe('not-found');
    expect(errorCode(() => openFlightDb(path, { readonly: true }))).toBe('not-found');
    expect(existsSync(path)).toBe(false);
    expect(errorCode(() => openFlightDb(path, { readonly: true, create: true }))).toBe('bad-options');
    expect(errorCode(() => openFlightDb(':memory:', { create: true }))).toBe('bad-options');
  });

  it('refuses a DB with a newer schema version and leaves it untouched', () => {
    const path = tmpDb();
    track(openFlightDb(path, { create: true })).close();
    const raw = new Database(path);
    raw.pragma('journal_mode = DELETE');
    raw.pragma(`user_version = ${FLIGHT_DB_SCHEMA_VERSION + 1}`);
    raw.close();
    const before = readFileSync(path);
    const mtime = statSync(path).mtimeMs;
    for (const opts of [{}, { create: true }, { readonly: true }]) {
      let err: unknown;
      try {
        track(openFlightDb(path, opts));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FlightDbError);
      expect((err as FlightDbError).code).toBe('schema-too-new');
      expect((err as Error).message).toContain(path);
    }
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(statSync(path).mtimeMs).toBe(mtime);
    // Still in rollback-journal mode: the refusal did not switch it to WAL.
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('refuses files that are not flight DBs', () => {
    const junk = tmpDb();
    writeFileSync(junk, 'this is not sqlite'.repeat(100));
    expect(errorCode(() => openFlightDb(junk))).toBe('not-a-flight-db');
    const other = tmpDb();
    const raw = new Database(other);
    raw.exec('CREATE TABLE t (x)');
    raw.close();
    expect(errorCode(() => openFlightDb(other))).toBe('not-a-flight-db');
    const foreign = tmpDb();
    const raw2 = new Database(foreign);
    raw2.pragma('user_version = 1');
    raw2.close();
    expect(errorCode(() => openFlightDb(foreign))).toBe('not-a-flight-db');
  });

  it('read-only open refuses an empty DB and never writes', () => {
    const path = tmpDb();
    new Database(path).close(); // a zero-byte file
    expect(errorCode(() => openFlightDb(path, { readonly: true }))).toBe('schema-outdated');
    track(openFlightDb(path, { create: true })).close();
    const ro = track(openFlightDb(path, { readonly: true }));
    expect(ro.readonly).toBe(true);
    expect(() => ro.db.exec("INSERT INTO event (t_us, level, source, code, message) VALUES (1, 'info', 'a', 'b', 'c')")).toThrow();
  });

  it('applies migrations in order, one transaction each; a failing step is rolled back', () => {
    const path = tmpDb();
    const raw = new Database(path);
    const steps = [
      { version: 1, description: 'one', sql: 'CREATE TABLE a (x INTEGER);' },
      { version: 2, description: 'two', sql: 'CREATE TABLE b (x INTEGER); CREATE TABLE a (y INTEGER);' },
    ];
    let err: unknown;
    try {
      applyMigrations(raw, steps, path);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'migration-failed' });
    expect((err as Error).message).toContain('migration 2 (two)');
    expect(raw.pragma('user_version', { simple: true })).toBe(1);
    const names = (raw.prepare("SELECT name FROM sqlite_master ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    expect(names).toEqual(['a']); // b was rolled back with the failing step
    const fixed = [steps[0]!, { version: 2, description: 'two', sql: 'CREATE TABLE b (x INTEGER);' }];
    expect(applyMigrations(raw, fixed, path)).toBe(2);
    expect(applyMigrations(raw, fixed, path)).toBe(2); // idempotent
    expect(() => applyMigrations(raw, [fixed[1]!], path)).toThrow(FlightDbError);
    raw.close();
  });
});

describe('migration v1 → v2 (boot ids)', () => {
  /** Written by the schema v1 code (see fixtures/make-flight-v1.mjs), before migration 2 existed. */
  const V1_FIXTURE = fileURLToPath(new URL('./fixtures/flight-v1.db', import.meta.url));

  function v1Copy(): string {
    const path = tmpDb();
    copyFileSync(V1_FIXTURE, path);
    return path;
  }

  /** Every row of every table but the columns v2 added, in a stable order. */
  function v1Rows(db: Database.Database): Record<string, unknown[]> {
    const out: Record<string, unknown[]> = {};
    for (const t of TABLES) {
      const rows = db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all() as Record<string, unknown>[];
      out[t] = rows.map(({ boot_id: _b, appeared_boot_id: _a, ...rest }) => rest);
    }
    return out;
  }

  it('opens a v1 file written by the old code, migrates it, and keeps every row; v1 rows get a NULL (unknown) boot', () => {
    const path = v1Copy();
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(1);
    const before = v1Rows(raw);
    raw.close();
    expect(before['asset']).toHaveLength(3);
    expect(before['clock_fit']).toHaveLength(2);
    expect(before['nav_sample']).toHaveLength(3);

    // A reader cannot use it before a writer migrated it (and leaves it untouched).
    expect(errorCode(() => openFlightDb(path, { readonly: true }))).toBe('schema-outdated');

    const db = track(openFlightDb(path));
    expect(db.schemaVersion).toBe(FLIGHT_DB_SCHEMA_VERSION);
    expect(FLIGHT_DB_SCHEMA_VERSION).toBe(2);
    expect(v1Rows(db.db)).toEqual(before);
    expect(checkFlightDbIntegrity(db)).toEqual({ ok: true, problems: [] });
    expect(readClockFits(db).map((f) => f.bootId)).toEqual([null, null]);
    expect(readAssets(db).map((a) => [a.relPath, a.appearedMonoUs, a.appearedBootId])).toEqual([
      ['clock.mp4', 6_500_000, null],
      ['exif.jpg', 6_200_000, null],
      ['untimed.mp4', 4_000_000, null],
    ]);
    // Unknown is never any boot: no fit is found for the boot that is running now.
    expect(readLastClockFitOfBoot(db, currentBootId())).toBeNull();

    // New rows carry their boot next to the old ones; the same schema as a DB created at v2.
    insertClockFit(db, { fittedMonoUs: 9, fittedTUs: 10, offsetUs: 1, driftPpm: 0, uncertaintyUs: 1, pairs: 3, port: 'gps', bootId: 'boot-B' });
    expect(readLastClockFitOfBoot(db, 'boot-B')?.fittedMonoUs).toBe(9);
    const schema = (d: FlightDb): unknown => d.db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all();
    const fresh = track(openFlightDb(tmpDb(), { create: true }));
    expect(schema(db)).toEqual(schema(fresh));
    db.close();
    expect(track(openFlightDb(path, { readonly: true })).schemaVersion).toBe(FLIGHT_DB_SCHEMA_VERSION);
  });

  it('migrates a v1 DB made by migration 1 alone, in one step that is rolled back on failure', () => {
    const path = tmpDb();
    const raw = new Database(path);
    raw.pragma('journal_mode = WAL');
    expect(applyMigrations(raw, MIGRATIONS.slice(0, 1), path)).toBe(1);
    raw.exec(`INSERT INTO clock_fit (fitted_mono_us, fitted_t_us, offset_us, drift_ppm, uncertainty_us, pairs) VALUES (1, 2, 1, 0, 5, 3)`);
    // A failing v2 (its index already exists) leaves the DB at v1 with its columns unchanged.
    raw.exec('CREATE INDEX clock_fit_boot ON clock_fit (id)');
    expect(() => applyMigrations(raw, MIGRATIONS, path)).toThrow(/migration 2 \(boot ids/);
    expect(raw.pragma('user_version', { simple: true })).toBe(1);
    expect((raw.prepare('SELECT * FROM clock_fit').get() as Record<string, unknown>)['boot_id']).toBeUndefined();
    raw.exec('DROP INDEX clock_fit_boot');
    expect(applyMigrations(raw, MIGRATIONS, path)).toBe(FLIGHT_DB_SCHEMA_VERSION);
    expect(raw.prepare('SELECT boot_id FROM clock_fit').all()).toEqual([{ boot_id: null }]);
    raw.close();
  });
});

/** Byte 18 of an SQLite file: 1 = rollback journal, 2 = WAL. */
function fileJournalByte(path: string): number {
  return readFileSync(path)[18]!;
}

describe('clean close and read-only media', () => {
  it('a clean writer close leaves one self-contained file; a reader creates nothing beside it', () => {
    const path = tmpDb();
    const w = track(openFlightDb(path, { create: true }));
    w.db.exec("INSERT INTO event (t_us, level, source, code, message) VALUES (1, 'info', 'a', 'b', 'c')");
    expect(fileJournalByte(path)).toBe(2);
    w.close();
    expect(readdirSync(dirname(path))).toEqual(['flight.db']);
    expect(fileJournalByte(path)).toBe(1);
    const r = track(openFlightDb(path, { readonly: true }));
    expect((r.db.prepare('SELECT count(*) AS n FROM event').get() as { n: number }).n).toBe(1);
    r.close();
    expect(readdirSync(dirname(path))).toEqual(['flight.db']);
    const w2 = track(openFlightDb(path));
    expect(w2.db.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('closing the writer while a reader is open keeps WAL and loses nothing', () => {
    const path = tmpDb();
    const w = track(openFlightDb(path, { create: true }));
    w.db.exec("INSERT INTO event (t_us, level, source, code, message) VALUES (1, 'info', 'a', 'b', 'c')");
    const r = track(openFlightDb(path, { readonly: true }));
    r.db.exec('BEGIN');
    expect((r.db.prepare('SELECT count(*) AS n FROM event').get() as { n: number }).n).toBe(1);
    w.close();
    r.db.exec('COMMIT');
    r.close();
    const again = track(openFlightDb(path, { readonly: true }));
    expect((again.db.prepare('SELECT count(*) AS n FROM event').get() as { n: number }).n).toBe(1);
    expect(w.open).toBe(false);
    w.close(); // idempotent
  });

  // A read-only bind mount in a user+mount namespace: the array as the ingest bay may mount it.
  const canUnshare =
    process.platform === 'linux' && spawnSync('unshare', ['-rm', 'true'], { stdio: 'ignore' }).status === 0;
  const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
  const canUseDist = existsSync(dist);

  it.skipIf(!canUnshare || !canUseDist)('a reader opens the DB on a read-only mount, after a clean close and after kill -9', () => {
    const write = (dir: string, kill: boolean): void => {
      const script = `
        const S = await import(${JSON.stringify(dist)});
        const w = S.openFlightDb(${JSON.stringify(join(dir, 'flight.db'))}, { create: true });
        S.recordEvent(w, { tUs: 1, level: 'info', source: 'a', code: 'b', message: 'c' });
        ${kill ? "process.kill(process.pid, 'SIGKILL');" : 'w.close();'}`;
      spawnSync(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
    };
    const read = (dir: string): string => {
      const script = `
        const S = await import(${JSON.stringify(dist)});
        try {
          const r = S.openFlightDb(${JSON.stringify(join(dir, 'flight.db'))}, { readonly: true });
          console.log(S.readEvents(r).length);
        } catch (e) { console.log(e.code + ' ' + e.message); }`;
      const sh = `mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && exec "$2" --input-type=module -e "$3"`;
      return execFileSync('unshare', ['-rm', 'sh', '-c', sh, 'sh', dir, process.execPath, script], {
        encoding: 'utf8',
      }).trim();
    };
    for (const kill of [false, true]) {
      const dir = dirname(tmpDb());
      write(dir, kill);
      expect(existsSync(join(dir, 'flight.db-wal'))).toBe(kill);
      expect(read(dir)).toBe('1');
    }
  });
});
