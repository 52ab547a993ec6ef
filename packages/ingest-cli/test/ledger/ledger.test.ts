// The ledger: schema and migrations, flights, archives, steps, facts → state, and refusal of
// files that are not a ledger.
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../src/ledger/ledger.js';
import { LEDGER_APPLICATION_ID, LEDGER_SCHEMA_VERSION } from '../../src/ledger/schema.js';
import { deriveFlightState, NO_FACTS } from '../../src/ledger/states.js';
import { tempDir } from '../helpers/arrays.js';

const dir = tempDir('ledger');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('deriveFlightState', () => {
  const archived = { archiveId: 1, tUs: 1 };
  const uploaded = { how: 'sha256-remote' as const, tUs: 2 };
  const tape = { label: 'T1', tUs: 3 };
  it('is reached only through every earlier verified fact', () => {
    expect(deriveFlightState(NO_FACTS)).toBe('seen');
    expect(deriveFlightState({ ...NO_FACTS, verifiedArchive: archived })).toBe('archived');
    expect(deriveFlightState({ ...NO_FACTS, verifiedArchive: archived, verifiedUpload: uploaded })).toBe('uploaded');
    expect(deriveFlightState({ ...NO_FACTS, verifiedArchive: archived, verifiedUpload: uploaded, verifiedTape: tape })).toBe('on-tape');
    // On tape but never uploaded: still 'archived' (the chain has a gap).
    expect(deriveFlightState({ ...NO_FACTS, verifiedArchive: archived, verifiedTape: tape })).toBe('archived');
    // Without a verified archive, nothing later counts.
    expect(deriveFlightState({ ...NO_FACTS, verifiedUpload: uploaded, verifiedTape: tape })).toBe('seen');
    expect(deriveFlightState({ ...NO_FACTS, wipedTUs: 5 })).toBe('wiped');
  });
});

describe('openLedger', () => {
  it('creates a STRICT, WAL, synchronous=FULL ledger with its application id, and reopens it', () => {
    const path = join(dir, 'a', 'ledger.db');
    const l = openLedger(path);
    expect(l.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(l.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(l.db.pragma('application_id', { simple: true })).toBe(LEDGER_APPLICATION_ID);
    expect(l.db.pragma('user_version', { simple: true })).toBe(LEDGER_SCHEMA_VERSION);
    const sql = (l.db.prepare("SELECT sql FROM sqlite_master WHERE name = 'archive'").get() as { sql: string }).sql;
    expect(sql).toMatch(/STRICT/);
    l.close();
    openLedger(path).close();
  });

  it('refuses another SQLite file and a newer schema, naming the file', () => {
    const other = join(dir, 'other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE t (x)');
    db.close();
    expect(() => openLedger(other)).toThrow(/other\.db is an SQLite database but not an ingest ledger/);
    const newer = join(dir, 'newer.db');
    openLedger(newer).close();
    const n = new Database(newer);
    n.pragma(`user_version = ${LEDGER_SCHEMA_VERSION + 1}`);
    n.close();
    expect(() => openLedger(newer)).toThrow(/newer than this ingest-cli knows/);
  });

  it('records flights, steps and archives; a failed verify takes the archived state away', () => {
    const l = openLedger(join(dir, 'b', 'ledger.db'));
    l.recordFlightSeen({ id: 'F1', aircraft: null, startedTUs: null, endedTUs: null, arrayPath: '/mnt/a' });
    l.recordFlightSeen({ id: 'F1', aircraft: 'D-ABCD', startedTUs: 10, endedTUs: 20, arrayPath: '/mnt/b' });
    expect(l.flight('F1')).toMatchObject({ aircraft: 'D-ABCD', startedTUs: 10, lastArrayPath: '/mnt/b', state: 'seen' });
    const step = l.startStep({ flightId: 'F1', step: 'archive' });
    expect(l.closeAbandonedSteps('F1')).toBe(1);
    expect(l.history('F1')[0]).toMatchObject({ step: 'archive', outcome: 'failed' });
    expect(l.history('F1')[0]?.error).toMatch(/abandoned/);
    void step;
    const id = l.insertArchive({
      flightId: 'F1', path: '/x/F1.tar', manifestPath: '/x/F1.tar.manifest.json', sizeBytes: 100, sha256: 'a'.repeat(64), manifestSha256: 'b'.repeat(64),
      fileCount: 3, contentBytes: 90, mismatchCount: 0, isMismatchAccepted: false, arrayPath: '/mnt/b', createdTUs: 1, verifiedTUs: 2, isTapeWanted: true,
    });
    expect(l.refreshState('F1')).toBe('archived');
    expect(l.facts('F1').verifiedArchive).toEqual({ archiveId: id, tUs: 2 });
    l.setArchiveVerify(id, 'failed', 3);
    expect(l.refreshState('F1')).toBe('seen');
    expect(l.facts('F1').verifiedArchive).toBeNull();
    l.setArchiveVerify(id, 'verified', 4);
    expect(l.refreshState('F1')).toBe('archived');
    expect(l.archiveByPath('/x/F1.tar')?.verifiedTUs).toBe(4);
    l.close();
  });
});
