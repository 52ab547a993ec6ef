// FlightStore, inline as the agent uses it on its MAIN thread (the thread that also reads the
// serial ports, runs the watchdogs and the camera watcher), while another connection holds the
// flight DB's write lock: the camera side's asset writer thread in a long transaction, a catch-up
// pass, an operator's sqlite3 shell. The other connection is a real second process on the same
// real DB file. What must hold:
// - a timed flush waits for the lock only briefly, never the connection's 5 s busy_timeout: the
//   held batch stays in memory and the next timed flush retries it;
// - no sample is lost or stored twice once the lock is free;
// - memory is bounded: past `maxHeldSamples` newer samples are not held (the raw logs keep every
//   line), reported once per episode, and the recovery is reported;
// - shutdown waits for the lock and stores everything, but only within its bound (finalWaitMs, on
//   the monotonic clock): past it the rest is counted as dropped and logged.
// No duration is asserted (docs/CONVENTIONS.md): that a flush does not wait for the lock shows as
// flushes REFUSED while the lock is held. The old behaviour (each flush waited the connection's
// 5 s busy_timeout, longer than the 2 s hold) could not refuse one: every flush blocked until the
// other connection let go, then wrote.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as setImmediateP, setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openFlightDb, readEvents, type FlightDb } from '@flysnap/shared';
import type { Logger } from '../../src/log/index.js';
import { FlightStore, type FlightStoreOptions } from '../../src/store/index.js';
import { debugLog } from './debug-log.js';
import { holdWriteLock, killLockHolders } from './lock-holder.js';
import { BUSY_MSG, GPS_PORT, T0, positionRow, storedIndexes } from './samples.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-lockwait-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  killLockHolders();
  rmSync(dir, { recursive: true, force: true });
});

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

function openStore(db: FlightDb, log: Logger, extra: Omit<FlightStoreOptions, 'log'> = {}): FlightStore {
  const store = new FlightStore(db, { log, ...extra });
  store.ensurePort(GPS_PORT);
  store.flush();
  return store;
}

describe('FlightStore (inline, main thread) while another connection holds the write lock', () => {
  it('a timed flush does not wait out the lock: during a 2 s hold several flushes are refused and their batches held, and every sample is stored exactly once after the release', async () => {
    const path = join(dir, 'flight.db');
    // Opened as the agent opens it: the connection's busy_timeout is the default 5 s.
    const db = openFlightDb(path, { create: true });
    const log = debugLog();
    try {
      const store = openStore(db, log.log);
      let next = 0;
      // Per timed flush: whether it was refused (a new busy record) and left its samples held.
      const refusedFlushes: number[] = [];
      const busyCount = (): number => log.records().filter((r) => r['msg'] === BUSY_MSG).length;
      // The other connection keeps the lock 2 s, then commits by itself (it needs nothing from
      // this process, so a blocked main thread here cannot shorten the hold).
      const lock = await holdWriteLock(path, { holdMs: 2000 });
      // Samples keep arriving (200/s) and the timer flushes every 100 ms, as the agent's would.
      const feeder = setInterval(() => {
        store.addSample(positionRow(next++));
        store.addSample(positionRow(next++));
      }, 10);
      const flusher = setInterval(() => {
        const before = busyCount();
        store.flush();
        if (busyCount() > before && store.pendingSamples > 0) refusedFlushes.push(store.pendingSamples);
      }, 100);
      try {
        await lock.released;
        await sleep(500); // a few timed flushes after the release store the held samples by themselves
      } finally {
        clearInterval(feeder);
        clearInterval(flusher);
      }
      // Several timed flushes returned while the other connection still held the lock (refused,
      // their samples held, more of them each time): none waited until it let go.
      expect(refusedFlushes.length).toBeGreaterThanOrEqual(5);
      for (let i = 1; i < refusedFlushes.length; i++) expect(refusedFlushes[i]).toBeGreaterThan(refusedFlushes[i - 1]!);
      const busy = log.records().filter((r) => r['msg'] === BUSY_MSG);
      expect(busy[0]).toMatchObject({ code: 'SQLITE_BUSY', level: 20 });
      // Quiet: a held batch is no error (the lock is routinely held by the camera writer).
      expect(log.records().filter((r) => (r['level'] as number) >= 40)).toEqual([]);

      // Everything since the last tick, then every sample once.
      store.flush();
      expect(store.pendingSamples).toBe(0);
      expect(store.droppedSamples).toBe(0);
      expect(store.samplesWritten).toBe(next);
      expect(storedIndexes(db)).toEqual(range(0, next));
    } finally {
      db.close();
    }
  });

  it('holds at most maxHeldSamples: passing it is reported once per episode (log + event), newer samples are counted as dropped, and the recovery is reported', async () => {
    const path = join(dir, 'flight.db');
    const db = openFlightDb(path, { create: true });
    const log = debugLog();
    try {
      const store = openStore(db, log.log, { maxHeldSamples: 100 });
      const full = (): Record<string, unknown>[] => log.records().filter((r) => r['code'] === 'flight-db-backlog-full');
      const recovered = (): Record<string, unknown>[] => log.records().filter((r) => r['code'] === 'flight-db-recovered');

      // Episode 1: 250 samples while the DB is locked, a timed flush every 25.
      let lock = await holdWriteLock(path, { label: 'episode 1' });
      for (let i = 0; i < 250; i++) {
        store.addSample(positionRow(i));
        if (i % 25 === 24) store.flush();
      }
      expect(store.pendingSamples).toBe(100);
      expect(store.droppedSamples).toBe(150);
      expect(store.samplesWritten).toBe(0);
      expect(full()).toHaveLength(1);
      expect(full()[0]).toMatchObject({ level: 50, heldSamples: 100, maxHeldSamples: 100 });
      expect(recovered()).toHaveLength(0);

      await lock.release();
      store.flush();
      expect(store.pendingSamples).toBe(0);
      expect(store.samplesWritten).toBe(100);
      expect(recovered()).toHaveLength(1);
      expect(recovered()[0]).toMatchObject({ droppedSamples: 150 });
      expect(full()).toHaveLength(1);

      // Episode 2: reported again, once.
      lock = await holdWriteLock(path, { label: 'episode 2' });
      for (let i = 250; i < 400; i++) {
        store.addSample(positionRow(i));
        if (i % 25 === 24) store.flush();
      }
      expect(store.droppedSamples).toBe(150 + 50);
      expect(full()).toHaveLength(2);
      await lock.release();
      store.close();
      expect(recovered()).toHaveLength(2);
      expect(store.pendingSamples).toBe(0);
      expect(store.samplesWritten).toBe(200);

      // Held samples stored exactly once; the reports are events in the DB too.
      expect(storedIndexes(db)).toEqual([...range(0, 100), ...range(250, 350)]);
      const codes = readEvents(db).map((e) => e.code);
      expect(codes.filter((c) => c === 'flight-db-backlog-full')).toHaveLength(2);
      expect(codes.filter((c) => c === 'flight-db-recovered')).toHaveLength(2);
      expect(readEvents(db).find((e) => e.code === 'flight-db-backlog-full')).toMatchObject({ level: 'error', source: 'flight-db' });
    } finally {
      db.close();
    }
  });

  it('close() at shutdown waits for a lock held briefly and stores everything, even on a connection with a short busy_timeout', async () => {
    const path = join(dir, 'flight.db');
    const db = openFlightDb(path, { create: true, busyTimeoutMs: 200 });
    const log = debugLog();
    try {
      const store = openStore(db, log.log);
      const lock = await holdWriteLock(path, { holdMs: 1500 });
      for (let i = 0; i < 50; i++) store.addSample(positionRow(i));
      store.flush(); // refused: held
      expect(store.pendingSamples).toBe(50);
      store.recordEvent({ tUs: T0, monoUs: null, level: 'info', source: 'agent', code: 'agent-stop', message: 'agent stopped cleanly', data: null });
      store.close();
      expect(store.pendingSamples).toBe(0);
      expect(store.droppedSamples).toBe(0);
      expect(store.samplesWritten).toBe(50);
      await lock.released;
      expect(storedIndexes(db)).toEqual(range(0, 50));
      expect(readEvents(db).map((e) => e.code).sort()).toEqual(['agent-stop', 'held']);
    } finally {
      db.close();
    }
  });

  it('close() at shutdown keeps to finalWaitMs on the monotonic clock: with the lock held and the wall clock stepped back, it gives up after a few tries and counts the held samples as dropped', async () => {
    const path = join(dir, 'flight.db');
    const db = openFlightDb(path, { create: true });
    const log = debugLog();
    try {
      const store = openStore(db, log.log, { finalWaitMs: 300 });
      // Held far longer than finalWaitMs (and released by itself, so a store that waits it out ends too).
      const lock = await holdWriteLock(path, { holdMs: 4000 });
      for (let i = 0; i < 50; i++) store.addSample(positionRow(i));
      store.flush(); // refused: held
      expect(store.pendingSamples).toBe(50);
      const triesBefore = log.records().filter((r) => r['msg'] === BUSY_MSG).length;
      // A GPS/chrony step of the wall clock at shutdown: right after close() starts, Date.now() is
      // an hour back. A deadline on the wall clock would never pass (and its waits be cut to 0).
      const realNow = Date.now.bind(Date);
      let calls = 0;
      vi.spyOn(Date, 'now').mockImplementation(() => realNow() - (calls++ === 0 ? 0 : 3_600_000));
      store.close();
      vi.restoreAllMocks();
      await setImmediateP(); // the log records written during close() reach the test's stream
      const tries = log.records().filter((r) => r['msg'] === BUSY_MSG).length - triesBefore;
      expect(tries).toBeGreaterThanOrEqual(1);
      expect(tries).toBeLessThanOrEqual(5);
      expect(store.pendingSamples).toBe(0);
      expect(store.droppedSamples).toBe(50);
      expect(store.samplesWritten).toBe(0);
      const gaveUp = log.records().filter((r) => String(r['msg']).includes('still refuses writes') && r['level'] === 50);
      expect(gaveUp).toHaveLength(1);
      expect(gaveUp[0]).toMatchObject({ samples: 50, code: 'SQLITE_BUSY', finalWaitMs: 300 });
      // Given up means not written later either.
      await lock.release();
      expect(storedIndexes(db)).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('drain(deadline) stops trying at the deadline it is given: with the lock held, a deadline already passed tries nothing and drops what is queued', async () => {
    const path = join(dir, 'flight.db');
    const db = openFlightDb(path, { create: true });
    const log = debugLog();
    try {
      const store = openStore(db, log.log);
      const lock = await holdWriteLock(path);
      for (let i = 0; i < 20; i++) store.addSample(positionRow(i));
      expect(store.drain(performance.now() - 1)).toBe(false);
      await setImmediateP();
      expect(log.records().filter((r) => r['msg'] === BUSY_MSG)).toEqual([]);
      expect(store.droppedSamples).toBe(20);
      expect(store.pendingSamples).toBe(0);
      await lock.release();
      // Nothing queued: drained at once.
      expect(store.drain()).toBe(true);
      expect(storedIndexes(db)).toEqual([]);
    } finally {
      db.close();
    }
  });
});
