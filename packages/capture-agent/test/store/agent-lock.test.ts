// runAgent in-process with a source that adds samples to the store every 10 ms (as the serial
// ports do, without PTYs), while a second process holds the flight DB's write lock: the agent's
// main thread (the one reading the serial ports) is never held for the lock (its timed flushes are
// refused and retried, which a flush waiting the connection's 5 s busy_timeout through a 2 s hold
// never is), and a stop while the lock is held briefly still stores every sample, the agent-stop
// event and the flight's end. A stop while the lock is held throughout ends within finalWaitMs:
// runAgent resolves (an unclean stop), the DB is closed, the flight stays not ended. No duration is
// asserted (docs/CONVENTIONS.md).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFlightDb, readEvents, readFlight, type FlightDb } from '@flysnap/shared';
import { runAgent } from '../../src/agent/index.js';
import { parseConfig } from '../../src/config/index.js';
import type { CaptureSource, SourceFactory } from '../../src/sources/index.js';
import type { RunAgentOptions, RunSummary } from '../../src/agent/index.js';
import { debugLog } from './debug-log.js';
import { holdWriteLock, killLockHolders } from './lock-holder.js';
import { BUSY_MSG, T0, positionRow, storedIndexes } from './samples.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-agentlock-'));
});
afterEach(() => {
  killLockHolders();
  rmSync(dir, { recursive: true, force: true });
});

/** A source that adds two samples every 10 ms (as serial ports do); `next` counts them. */
function syntheticSource(): { factory: SourceFactory; next: () => number; flightDb: () => FlightDb | undefined } {
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  let flightDb: FlightDb | undefined;
  const factory: SourceFactory = (ctx) => {
    flightDb = ctx.flightDb;
    ctx.store.ensurePort({ name: 'synthetic', role: 'gps', path: '/dev/null', baudRate: 115200, status: 'open', lastError: null, statusTUs: T0 });
    const source: CaptureSource = {
      name: 'synthetic',
      start(): void {
        timer = setInterval(() => {
          ctx.store.addSample(positionRow(next++, { port: 'synthetic', rawOffset: null }));
          ctx.store.addSample(positionRow(next++, { port: 'synthetic', rawOffset: null }));
        }, 10);
      },
      async stop(): Promise<void> {
        clearInterval(timer);
      },
    };
    return [source];
  };
  return { factory, next: () => next, flightDb: () => flightDb };
}

/** The agent on a fresh array with only the synthetic source, flushing every 100 ms; `ready` once it captures. */
function startAgent(extra: Partial<RunAgentOptions> = {}): {
  array: string;
  synthetic: ReturnType<typeof syntheticSource>;
  log: ReturnType<typeof debugLog>;
  abort: AbortController;
  ready: Promise<void>;
  run: Promise<RunSummary>;
} {
  const array = join(dir, 'array');
  const config = parseConfig({ array, ports: [], dbFlushMs: 100 }, join(dir, 'agent.json'), dir);
  const synthetic = syntheticSource();
  const log = debugLog();
  const abort = new AbortController();
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const run = runAgent({ config, log: log.log, signal: abort.signal, sourceFactories: [synthetic.factory], onReady: () => onReady(), ...extra });
  return { array, synthetic, log, abort, ready, run };
}

describe('runAgent while another connection holds the flight DB write lock', () => {
  it('keeps the main thread free during a 2 s lock (timed flushes refused, not waiting), and a stop during a lock stores everything once', async () => {
    const { array, synthetic, log, abort, ready, run } = startAgent();
    try {
      await ready;
      const path = join(array, 'flight.db');
      const lock = await holdWriteLock(path, { holdMs: 2000 });
      await lock.released;
      await sleep(300);
      // The agent's timed flushes (every 100 ms) were refused during the hold and retried: a flush
      // waiting the connection's 5 s would have waited the 2 s out and written instead.
      const busy = log.records().filter((r) => r['msg'] === BUSY_MSG && r['ns'] === 'capture:store');
      expect(busy.length).toBeGreaterThanOrEqual(5);

      // Stop while another lock is held for 1 s: the shutdown waits for it.
      const second = await holdWriteLock(path, { holdMs: 1000, label: 'at stop' });
      abort.abort();
      const summary = await run;
      await second.released;
      const next = synthetic.next();
      expect(summary).toMatchObject({ samplesWritten: next, droppedSamples: 0, isFlightEnded: true, isCleanStop: true });

      const db = openFlightDb(path, { readonly: true });
      try {
        expect(storedIndexes(db)).toEqual(Array.from({ length: next }, (_, i) => i));
        expect(readEvents(db).map((e) => e.code)).toContain('agent-stop');
        expect(readFlight(db)?.endedTUs).not.toBeNull();
      } finally {
        db.close();
      }
    } finally {
      abort.abort();
      await run.catch(() => undefined);
    }
  });

  it('a stop while the lock is held throughout ends within finalWaitMs: runAgent resolves with an unclean stop, the DB is closed, the held samples are dropped and the flight stays not ended', async () => {
    const { array, synthetic, log, abort, ready, run } = startAgent({ finalWaitMs: 300 });
    let summary: RunSummary | undefined;
    let runError: unknown;
    try {
      await ready;
      const path = join(array, 'flight.db');
      await sleep(300); // a few samples stored before the lock
      const lock = await holdWriteLock(path); // until released below
      await sleep(300); // refused timed flushes: samples held
      abort.abort();
      // Resolves (does not reject with SQLITE_BUSY) while the other connection still holds the lock.
      summary = await run.catch((err: unknown) => {
        runError = err;
        return undefined;
      });
      expect(runError).toBeUndefined();
      const next = synthetic.next();
      expect(summary).toMatchObject({ isFlightEnded: false, isCleanStop: false });
      expect(summary!.droppedSamples).toBeGreaterThan(0);
      expect(summary!.samplesWritten + summary!.droppedSamples).toBe(next);
      // The agent's connection is closed even so.
      expect(synthetic.flightDb()?.db.open).toBe(false);

      // The shutdown tried a bounded number of times, then gave up, and said so.
      const records = log.records();
      const stopAt = records.findIndex((r) => r['msg'] === 'stopping: flushing and closing');
      expect(stopAt).toBeGreaterThan(-1);
      const after = records.slice(stopAt);
      const tries = after.filter((r) => r['msg'] === BUSY_MSG).length;
      expect(tries).toBeGreaterThanOrEqual(1);
      expect(tries).toBeLessThanOrEqual(5);
      expect(after.filter((r) => String(r['msg']).includes('still refuses writes'))).toHaveLength(1);
      const notEnded = after.filter((r) => String(r['msg']).includes('could not be marked ended'));
      expect(notEnded).toHaveLength(1);
      expect(notEnded[0]).toMatchObject({ level: 50, code: 'SQLITE_BUSY' });
      expect(after.filter((r) => String(r['msg']).includes(`${summary!.droppedSamples} sample(s) not stored`))).toHaveLength(1);

      await lock.release();
      const db = openFlightDb(path, { readonly: true });
      try {
        expect(readFlight(db)?.endedTUs).toBeNull();
        expect(storedIndexes(db)).toEqual(Array.from({ length: summary!.samplesWritten }, (_, i) => i));
        expect(readEvents(db).map((e) => e.code)).not.toContain('agent-stop');
      } finally {
        db.close();
      }
    } finally {
      abort.abort();
      await run.catch(() => undefined);
    }
  });
});
