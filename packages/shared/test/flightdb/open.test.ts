import Database from 'better-sqlite3';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
  openFlightDb,
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
