// runAgent in-process with a source that adds samples to the store every 10 ms (as the serial
// ports do, without PTYs), while a second process holds the flight DB's write lock: the agent's
// main thread (the one reading the serial ports) is never held for the lock, and a stop while the
// lock is held briefly still stores every sample, the agent-stop event and the flight's end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFlightDb, readEvents, readFlight, readNavSamples, type NavSampleInsert } from '@flysnap/shared';
import { runAgent } from '../../src/agent/index.js';
import { parseConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/log/index.js';
import type { CaptureSource, SourceFactory } from '../../src/sources/index.js';
import { holdWriteLock, killLockHolders } from './lock-holder.js';

const T0 = Date.UTC(2024, 5, 1, 8) * 1000;
const MONO0 = 3_600_000_000;
/** Separates the defect (a flush blocked until the other connection let go: ~2 s here) from the fix. */
const STALL_BOUND_MS = 500;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-agentlock-'));
});
afterEach(() => {
  killLockHolders();
  rmSync(dir, { recursive: true, force: true });
});

function row(i: number): NavSampleInsert {
  return {
    sample: { kind: 'position', sentence: 'GGA', talker: 'GP', tUs: T0 + i * 100_000, latDeg: 48, lonDeg: 11.5, altitudeM: 500, fixQuality: 1, satellites: 9, hdop: 0.9 },
    tUs: T0 + i * 100_000,
    tSource: 'sentence',
    port: 'synthetic',
    rawOffset: null,
    receivedMonoUs: MONO0 + i * 100_000,
    flags: [],
  };
}

describe('runAgent while another connection holds the flight DB write lock', () => {
  it('keeps the main thread free during a 2 s lock, and a stop during a lock stores everything once', async () => {
    const array = join(dir, 'array');
    const config = parseConfig({ array, ports: [], dbFlushMs: 100 }, join(dir, 'agent.json'), dir);
    let next = 0;
    let timer: NodeJS.Timeout | undefined;
    const synthetic: SourceFactory = (ctx) => {
      ctx.store.ensurePort({ name: 'synthetic', role: 'gps', path: '/dev/null', baudRate: 115200, status: 'open', lastError: null, statusTUs: T0 });
      const source: CaptureSource = {
        name: 'synthetic',
        start(): void {
          timer = setInterval(() => {
            ctx.store.addSample(row(next++));
            ctx.store.addSample(row(next++));
          }, 10);
        },
        async stop(): Promise<void> {
          clearInterval(timer);
        },
      };
      return [source];
    };
    const abort = new AbortController();
    let onReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (onReady = resolve));
    const run = runAgent({ config, log: silentLogger(), signal: abort.signal, sourceFactories: [synthetic], onReady: () => onReady() });
    try {
      await ready;
      const path = join(array, 'flight.db');
      // Measured from before the lock is taken: the agent's timers run all along, and a flush may
      // block before this test even sees the other process say it holds the lock.
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      const lock = await holdWriteLock(path, { holdMs: 2000 });
      await lock.released;
      await sleep(300);
      loop.disable();
      expect(loop.max / 1e6).toBeLessThan(STALL_BOUND_MS);

      // Stop while another lock is held for 1 s: the shutdown waits for it.
      const second = await holdWriteLock(path, { holdMs: 1000, label: 'at stop' });
      abort.abort();
      const summary = await run;
      await second.released;
      expect(summary.samplesWritten).toBe(next);

      const db = openFlightDb(path, { readonly: true });
      try {
        const stored = readNavSamples(db).map((s) => ((s.receivedMonoUs ?? Number.NaN) - MONO0) / 100_000).sort((a, b) => a - b);
        expect(stored).toEqual(Array.from({ length: next }, (_, i) => i));
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
});
