// FlightStore (inline): what happens to the batches it holds while the flight DB refuses writes.
// - After a long refusal, the held batches are written in their order, a budget's worth per
//   timed flush (each one transaction), so catching up never blocks the main thread for long, and
//   nothing is written twice.
// - A refusal that is not a lock (disk full) is an error, logged once per episode rather than at
//   every flush, and its recovery is reported (log + event).
// Real SQLite files, a real second connection in another process, a real full tmpfs (root only).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFlightDb, readEvents, readNavSamples } from '@flysnap/shared';
import { canMount as isRoot, fillUp, TmpfsMounts } from '../helpers/disk.js';
import { FlightStore } from '../../src/store/index.js';
import { debugLog } from './debug-log.js';
import { holdWriteLock, killLockHolders } from './lock-holder.js';
import { GPS_PORT, MONO0, T0, positionRow } from './samples.js';

let dir: string;
const mounts = new TmpfsMounts();
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-held-'));
});
afterEach(() => {
  killLockHolders();
  mounts.umountAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('FlightStore held batches', () => {
  it('after a long refusal writes the held batches in order, a budget per flush (here one batch), each sample once', async () => {
    const path = join(dir, 'flight.db');
    const db = openFlightDb(path, { create: true });
    const log = debugLog();
    try {
      // A zero budget: every flush writes exactly one held batch (at least one is always written).
      const store = new FlightStore(db, { log: log.log, maxBatchSamples: 1000, flushBudgetMs: 0 });
      store.ensurePort(GPS_PORT);
      const lock = await holdWriteLock(path);
      for (let i = 0; i < 10_500; i++) {
        store.addSample(positionRow(i));
        if (i === 499) store.flush(); // refused: the episode begins, batches are cut at 1,000 from here
      }
      expect(store.pendingSamples).toBe(10_500);
      await lock.release();

      const writtenPerFlush: number[] = [];
      for (let n = 0; store.pendingSamples > 0 && n < 50; n++) {
        const before = store.samplesWritten;
        store.flush();
        writtenPerFlush.push(store.samplesWritten - before);
      }
      // 10 held batches of 1,000 (cut when the open batch reached maxBatchSamples), one per flush;
      // the last flush writes the open batch (500) behind the last held one.
      expect(writtenPerFlush).toEqual([1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1500]);
      expect(store.droppedSamples).toBe(0);
      store.close();
      // In order (id order is insert order) and once each.
      const stored = (db.db.prepare('SELECT received_mono_us AS m FROM nav_sample ORDER BY id').all() as { m: number }[]).map((r) => (r.m - MONO0) / 100_000);
      expect(stored).toEqual(Array.from({ length: 10_500 }, (_, i) => i));
    } finally {
      db.close();
    }
  });

  it.skipIf(!isRoot)('a full disk is logged as an error once per episode, the samples are held, and the recovery is reported when there is room again', () => {
    mkdirSync(join(dir, 'mnt'));
    const mnt = mounts.mount(join(dir, 'mnt'), '2m');
    mkdirSync(join(mnt, 'array'));
    const path = join(mnt, 'array', 'flight.db');
    const db = openFlightDb(path, { create: true });
    const log = debugLog();
    try {
      const store = new FlightStore(db, { log: log.log });
      store.ensurePort(GPS_PORT);
      store.flush();
      const filler = join(mnt, 'filler');
      fillUp(filler);
      let next = 0;
      for (let flush = 0; flush < 5; flush++) {
        for (let k = 0; k < 1000; k++) store.addSample(positionRow(next++));
        store.flush();
      }
      expect(store.samplesWritten).toBe(0);
      expect(store.pendingSamples).toBe(5000);
      const errors = log.records().filter((r) => r['msg'] === 'flight DB write failed');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ level: 50, isTransient: true });
      expect(String(errors[0]!['code'])).toMatch(/^SQLITE_(FULL|IOERR)/);

      rmSync(filler);
      store.flush();
      expect(store.pendingSamples).toBe(0);
      expect(store.samplesWritten).toBe(5000);
      const recovered = log.records().filter((r) => r['code'] === 'flight-db-recovered');
      expect(recovered).toHaveLength(1);
      expect(recovered[0]).toMatchObject({ level: 30, droppedSamples: 0 });
      store.close();
      expect(readNavSamples(db)).toHaveLength(5000);
      expect(readEvents(db).map((e) => e.code)).toEqual(['flight-db-recovered']);
    } finally {
      db.close();
    }
  });
});
