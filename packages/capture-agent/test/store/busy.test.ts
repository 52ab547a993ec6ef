// FlightStore (inline, as the agent uses it on its main thread) while another connection holds
// the flight DB's write lock longer than busy_timeout, as the camera asset writer thread could
// (a slow fsync on a busy array): the flush fails with SQLITE_BUSY, and nothing may be lost or
// written twice, and a batch grown past maxBatchSamples must not be retried on every sample added
// (each try blocks the agent's main thread, which reads the serial ports, for busy_timeout).
// The other connection is a real second process on the same real DB file.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFlightDb, readEvents, readNavSamples, type NavSampleInsert } from '@flysnap/shared';
import { capturedLog } from '../helpers/log.js';
import { FlightStore } from '../../src/store/index.js';
import { waitFor } from '../helpers/pty.js';

const T0 = Date.UTC(2024, 5, 1, 8) * 1000;
/** Short, so the test does not wait the agent's 5 s per attempt; the behaviour is the same. */
const BUSY_TIMEOUT_MS = 100;

let dir: string;
let holder: ChildProcess | null = null;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-busy-'));
});
afterEach(() => {
  holder?.kill('SIGKILL');
  holder = null;
  rmSync(dir, { recursive: true, force: true });
});

function row(i: number): NavSampleInsert {
  return {
    sample: { kind: 'position', sentence: 'GGA', talker: 'GP', tUs: T0 + i * 100_000, latDeg: 48 + i * 1e-5, lonDeg: 11.5, altitudeM: 500, fixQuality: 1, satellites: 9, hdop: 0.9 },
    tUs: T0 + i * 100_000,
    tSource: 'sentence',
    port: 'gps',
    rawOffset: i * 80,
    receivedMonoUs: 3_600_000_000 + i * 100_000,
    flags: [],
  };
}

/**
 * A second process that takes the DB's write lock (BEGIN IMMEDIATE), writes an event as the
 * camera side would, and holds the lock until told to commit (a line on its stdin).
 */
async function holdWriteLock(path: string): Promise<{ release: () => Promise<void> }> {
  const sharedUrl = pathToFileURL(createRequire(import.meta.url).resolve('@flysnap/shared')).href;
  const code = `
    const { openFlightDb, recordEvent } = await import(${JSON.stringify(sharedUrl)});
    const db = openFlightDb(${JSON.stringify(path)});
    db.db.exec('BEGIN IMMEDIATE');
    recordEvent(db, { tUs: ${T0}, monoUs: null, level: 'info', source: 'camera:test', code: 'held', message: 'camera transaction', data: null });
    process.stdout.write('held\\n');
    process.stdin.once('data', () => {
      db.db.exec('COMMIT');
      db.close();
      process.stdout.write('released\\n');
      process.exit(0);
    });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'pipe'] });
  holder = child;
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`lock holder exited: ${err}`);
    return out.includes('held');
  }, 'the second process holding the write lock');
  return {
    release: async () => {
      child.stdin!.write('go\n');
      await waitFor(() => out.includes('released'), 'the second process committing');
    },
  };
}

describe('FlightStore while another connection holds the write lock past busy_timeout', () => {
  it('keeps every sample queued through SQLITE_BUSY, says so in the log, and writes each exactly once when the lock is free', async () => {
    const path = join(dir, 'flight.db');
    const db = openFlightDb(path, { create: true, busyTimeoutMs: BUSY_TIMEOUT_MS });
    const log = capturedLog();
    try {
      const store = new FlightStore(db, { log: log.log, maxBatchSamples: 50 });
      store.ensurePort({ name: 'gps', role: 'gps', path: '/dev/ttyUSB0', baudRate: 38400, status: 'open', lastError: null, statusTUs: T0 });
      for (let i = 0; i < 20; i++) store.addSample(row(i));
      store.flush();
      expect(store.samplesWritten).toBe(20);

      const lock = await holdWriteLock(path);
      // The timer's flushes, and batches that grow past maxBatchSamples meanwhile: all refused.
      for (let i = 20; i < 130; i++) store.addSample(row(i));
      store.recordEvent({ tUs: T0 + 1, monoUs: null, level: 'info', source: 'test', code: 'queued', message: 'queued while busy', data: null });
      store.flush();
      expect(store.samplesWritten).toBe(20);
      expect(store.pendingSamples).toBe(110);
      expect(store.droppedSamples).toBe(0);
      const failed = log.lines().filter((l) => l['msg'] === 'flight DB write failed');
      // Tried once when the batch reached maxBatchSamples, once by the flush() call; not once per
      // sample added after that (each try holds the calling thread, the agent's serial reader,
      // for the whole busy_timeout).
      expect(failed).toHaveLength(2);
      expect(failed[0]).toMatchObject({ code: 'SQLITE_BUSY', isTransient: true, samples: 50 });
      expect(failed[1]).toMatchObject({ code: 'SQLITE_BUSY', isTransient: true, samples: 110 });

      await lock.release();
      store.flush();
      expect(store.pendingSamples).toBe(0);
      expect(store.samplesWritten).toBe(130);
      expect(store.droppedSamples).toBe(0);
      const stored = readNavSamples(db).map((s) => ((s.receivedMonoUs ?? Number.NaN) - 3_600_000_000) / 100_000);
      expect(stored.sort((a, b) => a - b)).toEqual(Array.from({ length: 130 }, (_, i) => i));
      expect(readEvents(db).map((e) => e.code).sort()).toEqual(['held', 'queued']);
    } finally {
      db.close();
    }
  });
});
