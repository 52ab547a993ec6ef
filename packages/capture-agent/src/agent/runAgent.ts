// The agent's life: lock the array, open (or continue) the flight, start every source around one
// store and pipeline, flush raw logs and the DB on timers, and on stop hand everything to disk.
import { mkdirSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FLIGHT_DB_BUSY_TIMEOUT_MS, arrayPaths, currentBootId, setFlightEnded } from '@flysnap/shared';
import type { FlightDb } from '@flysnap/shared';
import type { AgentConfig } from '../config/index.js';
import { isMountPoint, openOrCreateFlight, FlightOpenError } from '../flight/index.js';
import { acquireArrayLock } from '../lock/index.js';
import type { Logger } from '../log/index.js';
import { CapturePipeline } from '../pipeline/index.js';
import { monoNowUs } from '../serial/monoClock.js';
import { DEFAULT_SOURCE_FACTORIES, type CaptureSource, type SourceContext, type SourceFactory } from '../sources/index.js';
import { FINAL_WAIT_MS, FlightStore, MAIN_THREAD_LOCK_WAIT_MS, setBusyTimeout } from '../store/index.js';
import { AGENT_NAME_VERSION } from '../version.js';

export interface RunAgentOptions {
  config: AgentConfig;
  log: Logger;
  /** Aborting stops the agent cleanly (the CLI aborts on SIGTERM/SIGINT). */
  signal: AbortSignal;
  /**
   * Aborting writes and fsyncs every raw log once more, synchronously, in the abort call (the CLI
   * aborts it on a second signal, just before it exits without waiting for the stop).
   */
  lastFlushSignal?: AbortSignal;
  /** Source kinds to start. Default DEFAULT_SOURCE_FACTORIES (serial ports, then cameras). */
  sourceFactories?: readonly SourceFactory[];
  /** Called once everything is started (tests, readiness). */
  onReady?: (info: RunningAgent) => void;
  /**
   * The longest the shutdown's DB phase (the last writes, then marking the flight ended) waits for
   * another connection's write lock, ms, all of it together. Default FINAL_WAIT_MS (15 s).
   */
  finalWaitMs?: number;
}

export interface RunningAgent {
  flightId: string;
  isNewFlight: boolean;
  sources: string[];
}

export interface RunSummary extends RunningAgent {
  samplesWritten: number;
  /** Samples not stored in the DB (the raw logs have them): see FlightStore.droppedSamples. */
  droppedSamples: number;
  /** The flight was marked ended at the stop (false after a failed start, or when the DB refused it). */
  isFlightEnded: boolean;
  /**
   * The stop was clean: the sources started, every sample reached the DB (none dropped) and the
   * flight was marked ended. False says what the log details (the process should not exit 0).
   */
  isCleanStop: boolean;
}

export async function runAgent(options: RunAgentOptions): Promise<RunSummary> {
  const { config, log } = options;
  const root = config.array;
  const paths = arrayPaths(root);
  if (!existsSync(root)) {
    // Create the array folder itself, never its parents: a missing parent means the array is not mounted.
    if (!existsSync(dirname(root))) throw new FlightOpenError('ARRAY_MISSING', `array ${root}: its parent folder does not exist (array not mounted?)`);
    mkdirSync(root);
  }
  const lock = acquireArrayLock(paths.lock);
  const agentLog = log.child({ ns: 'capture:agent' });
  if (lock.tookOverFrom) {
    agentLog.warn({ stalePid: lock.tookOverFrom.pid, lock: paths.lock }, 'took over a stale lock: the previous agent died without releasing it');
  }
  try {
    const { flightDb, flight, isNew } = await openOrCreateFlight(root, config.aircraft);
    const store = new FlightStore(flightDb, { log: log.child({ ns: 'capture:store' }) });
    const pipeline = new CapturePipeline({
      store,
      log: log.child({ ns: 'capture:clock' }),
      clockFitMs: config.clockFitMs,
      rolloverReferenceUs: Date.now() * 1000,
      // Stored fits say which boot's monotonic clock they map, so a restart on the same boot can
      // time files through them and one after a reboot never does.
      bootId: currentBootId(),
    });
    const startTUs = Date.now() * 1000;
    store.recordEvent({
      tUs: startTUs,
      monoUs: monoNowUs(),
      level: isNew ? 'info' : 'warn',
      source: 'agent',
      code: isNew ? 'agent-start' : 'agent-restart',
      message: isNew ? `${AGENT_NAME_VERSION} started flight ${flight.id}` : `${AGENT_NAME_VERSION} continues flight ${flight.id} (restart)`,
      data: { pid: process.pid, tookOverLockFromPid: lock.tookOverFrom?.pid ?? null },
    });
    if (!isNew) setFlightEnded(flightDb, flight.id, null);
    if (!isMountPoint(root)) {
      const message = `array ${root} is not a mount point: the flight is written to the disk that holds ${dirname(root)} (is the array mounted?)`;
      agentLog.warn({ array: root }, message);
      store.recordEvent({ tUs: startTUs, monoUs: monoNowUs(), level: 'warn', source: 'agent', code: 'array-not-mount-point', message, data: { array: root } });
    }
    const ctx: SourceContext = { config, arrayRoot: root, flight, flightDb, store, pipeline, log };
    const sources: CaptureSource[] = [];
    try {
      for (const factory of options.sourceFactories ?? DEFAULT_SOURCE_FACTORIES) sources.push(...factory(ctx));
      store.flush();
    } catch (err) {
      // A source that cannot even be set up (e.g. its raw log cannot be created): close what was made.
      for (const s of sources) await s.stop().catch(() => undefined);
      flightDb.close();
      throw err;
    }

    const flushRaw = (): void => {
      for (const s of sources) {
        try {
          s.flush?.();
        } catch (err) {
          agentLog.error({ source: s.name, err: (err as Error).message }, 'raw log flush failed; retrying');
        }
      }
    };
    const flushDb = (): void => {
      pipeline.placePending(false);
      store.flush();
    };
    const rawTimer = setInterval(flushRaw, config.rawFlushMs);
    const dbTimer = setInterval(flushDb, config.dbFlushMs);
    const onLastFlush = (): void => flushRaw();
    options.lastFlushSignal?.addEventListener('abort', onLastFlush, { once: true });
    // The start-up writes before this point (the flight's restart mark, the port rows the sources'
    // factories create) may wait the connection's full 5 s for the lock: no port is read yet. (The
    // start-up store.flush() above already waited at most the store's own 25 ms: a refused batch
    // is held and written by a later flush.) From here on, from the sources' start() onward, this
    // thread reads the serial ports: every write on this connection (the store's flushes, which set
    // their own wait; the camera catch-up's pass) waits at most MAIN_THREAD_LOCK_WAIT_MS for another
    // connection's lock, then fails and is retried by its own timer (see the store).
    setBusyTimeout(flightDb, MAIN_THREAD_LOCK_WAIT_MS);

    let startError = null as Error | null;
    let isDrained = false;
    let isFlightEnded = false;
    try {
      try {
        for (const s of sources) await s.start();
      } catch (err) {
        startError = err as Error;
        throw err;
      }
      agentLog.info({ flight: flight.id, isNew, sources: sources.map((s) => s.name), array: root }, isNew ? 'capturing (new flight)' : 'capturing (flight continues)');
      options.onReady?.({ flightId: flight.id, isNewFlight: isNew, sources: sources.map((s) => s.name) });
      if (!options.signal.aborted) {
        await new Promise<void>((resolve) => options.signal.addEventListener('abort', () => resolve(), { once: true }));
      }
      agentLog.info('stopping: flushing and closing');
    } finally {
      // The flush timers keep running until every source has stopped: a source can take seconds
      // to stop (a camera hashing and syncing large files) while the serial ports still deliver,
      // and those lines must reach the disk within rawFlushMs like any other.
      for (const s of [...sources].reverse()) {
        try {
          await s.stop();
        } catch (err) {
          agentLog.error({ source: s.name, err: (err as Error).message }, 'source did not stop cleanly');
        }
      }
      clearInterval(rawTimer);
      clearInterval(dbTimer);
      options.lastFlushSignal?.removeEventListener('abort', onLastFlush);
      try {
        flushRaw();
        pipeline.finish();
        // Every source has stopped: nothing reads a port any more, so the last writes may wait for
        // the lock, but the whole DB phase (drain, then marking the flight ended) together for at
        // most finalWaitMs (15 s) from here, on the monotonic clock, so the stop stays within
        // systemd's TimeoutStopSec=30s whoever holds the lock. What the DB still refuses then is
        // logged, not thrown: the samples are in the raw logs, and the DB is closed below anyway.
        const deadlineMs = performance.now() + (options.finalWaitMs ?? FINAL_WAIT_MS);
        if (startError === null) {
          store.recordEvent({ tUs: Date.now() * 1000, monoUs: monoNowUs(), level: 'info', source: 'agent', code: 'agent-stop', message: 'agent stopped cleanly', data: { pid: process.pid } });
          isDrained = store.drain(deadlineMs);
          isFlightEnded = markFlightEnded(flightDb, flight.id, deadlineMs, agentLog);
        } else {
          // Not a stop of a flight that was captured: the flight stays open (not ended) for the next start.
          const message = `agent failed to start: ${startError.message}`;
          agentLog.error({ err: startError.message }, message);
          store.recordEvent({ tUs: Date.now() * 1000, monoUs: monoNowUs(), level: 'error', source: 'agent', code: 'agent-start-failed', message, data: { pid: process.pid } });
          isDrained = store.drain(deadlineMs);
        }
      } finally {
        flightDb.close();
      }
    }
    const droppedSamples = store.droppedSamples;
    if (!isDrained || droppedSamples > 0) {
      agentLog.error({ droppedSamples, samplesWritten: store.samplesWritten }, `stopped with ${droppedSamples} sample(s) not stored in the flight DB (the raw logs keep every line)`);
    }
    return {
      flightId: flight.id,
      isNewFlight: isNew,
      sources: sources.map((s) => s.name),
      samplesWritten: store.samplesWritten,
      droppedSamples,
      isFlightEnded,
      isCleanStop: isDrained && droppedSamples === 0 && isFlightEnded,
    };
  } finally {
    lock.release();
  }
}

/**
 * Marks the flight ended, waiting for another connection's write lock at most until `deadlineMs`
 * (performance.now() time), the rest of the shutdown's bound. False (logged) when the DB refused:
 * the flight then stays "not ended", as after a crash: `capture-agent status` shows "ended -" and
 * the next start on this array continues the same flight (an agent-restart event).
 */
function markFlightEnded(flightDb: FlightDb, flightId: string, deadlineMs: number, log: Logger): boolean {
  const waitMs = Math.max(0, Math.min(FLIGHT_DB_BUSY_TIMEOUT_MS, Math.floor(deadlineMs - performance.now())));
  try {
    setBusyTimeout(flightDb, waitMs);
    setFlightEnded(flightDb, flightId, Date.now() * 1000);
    return true;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    log.error(
      { err: (err as Error).message, code, flight: flightId, waitMs },
      `flight ${flightId} could not be marked ended at stop (${String(code ?? (err as Error).message)}, waited ${waitMs} ms for the flight DB): it stays "not ended", as after a crash; status shows "ended -" and the next start continues this flight`,
    );
    return false;
  }
}
