// FlightStore (inline, as the agent uses it on its main thread) while another connection holds
// the flight DB's write lock longer than the store waits for it (lockWaitMs, 25 ms), as the
// camera asset writer thread could (a slow fsync on a busy array): the flush is refused with
// SQLITE_BUSY, nothing may be lost or written twice, and a batch grown past maxBatchSamples must
// not be retried on every sample added (each try holds the agent's main thread, which reads the
// serial ports, for the lock wait): it is cut and held for the next timed flush instead.
// The other connection is a real second process on the same real DB file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFlightDb, readEvents } from '@flysnap/shared';
import { FlightStore } from '../../src/store/index.js';
import { debugLog } from './debug-log.js';
import { holdWriteLock, killLockHolders } from './lock-holder.js';
import { T0, positionRow, storedIndexes } from './samples.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-busy-'));
});
afterEach(() => {
  killLockHolders();
  rmSync(dir, { recursive: true, force: true });
});

describe('FlightStore while another connection holds the write lock past the lock wait', () => {
  it('keeps every sample held through SQLITE_BUSY, says so quietly in the log, and writes each exactly once when the lock is free', async () => {
    const path = join(dir, 'flight.db');
    const db = openFlightDb(path, { create: true });
    const log = debugLog();
    try {
      const store = new FlightStore(db, { log: log.log, maxBatchSamples: 50 });
      store.ensurePort({ name: 'gps', role: 'gps', path: '/dev/ttyUSB0', baudRate: 38400, status: 'open', lastError: null, statusTUs: T0 });
      for (let i = 0; i < 20; i++) store.addSample(positionRow(i));
      store.flush();
      expect(store.samplesWritten).toBe(20);

      const lock = await holdWriteLock(path);
      // The timer's flushes, and batches that grow past maxBatchSamples meanwhile: all refused.
      for (let i = 20; i < 130; i++) store.addSample(positionRow(i));
      store.recordEvent({ tUs: T0 + 1, monoUs: null, level: 'info', source: 'test', code: 'queued', message: 'queued while busy', data: null });
      store.flush();
      expect(store.samplesWritten).toBe(20);
      expect(store.pendingSamples).toBe(110);
      expect(store.droppedSamples).toBe(0);
      const refused = log.records().filter((l) => l['msg'] === 'flight DB busy: batch held for the next flush');
      // Tried once when the batch reached maxBatchSamples, once by the flush() call; not once per
      // sample added after that (each try holds the calling thread, the agent's serial reader,
      // for the lock wait).
      expect(refused).toHaveLength(2);
      expect(refused[0]).toMatchObject({ code: 'SQLITE_BUSY', level: 20, heldSamples: 50, failures: 1 });
      expect(refused[1]).toMatchObject({ code: 'SQLITE_BUSY', level: 20, heldSamples: 110, failures: 2 });
      // Quiet: another connection holding the lock a while is routine, no warning or error.
      expect(log.records().filter((l) => (l['level'] as number) >= 40)).toEqual([]);

      await lock.release();
      store.flush();
      expect(store.pendingSamples).toBe(0);
      expect(store.samplesWritten).toBe(130);
      expect(store.droppedSamples).toBe(0);
      expect(storedIndexes(db)).toEqual(Array.from({ length: 130 }, (_, i) => i));
      expect(readEvents(db).map((e) => e.code).sort()).toEqual(['held', 'queued']);
    } finally {
      db.close();
    }
  });
});
