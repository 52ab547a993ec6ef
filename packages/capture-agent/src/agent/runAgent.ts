// The agent's life: lock the array, open (or continue) the flight, start every source around one
// store and pipeline, flush raw logs and the DB on timers, and on stop hand everything to disk.
import { mkdirSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { FLIGHT_DB_BUSY_TIMEOUT_MS, arrayPaths, currentBootId, setFlightEnded } from '@flysnap/shared';
import type { AgentConfig } from '../config/index.js';
import { isMountPoint, openOrCreateFlight, FlightOpenError } from '../flight/index.js';
import { acquireArrayLock } from '../lock/index.js';
import type { Logger } from '../log/index.js';
import { CapturePipeline } from '../pipeline/index.js';
import { monoNowUs } from '../serial/monoClock.js';
import { DEFAULT_SOURCE_FACTORIES, type CaptureSource, type SourceContext, type SourceFactory } from '../sources/index.js';
import { FlightStore, MAIN_THREAD_LOCK_WAIT_MS, setBusyTimeout } from '../store/index.js';
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
}

export interface RunningAgent {
  flightId: string;
  isNewFlight: boolean;
  sources: string[];
}

export interface RunSummary extends RunningAgent {
  samplesWritten: number;
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
    // Start-up is done (it may wait the connection's full 5 s for the lock). From here on this
    // thread reads the serial ports: every write on this connection (the store's flushes wait even
    // less by themselves; the camera catch-up's pass) waits at most MAIN_THREAD_LOCK_WAIT_MS for
    // another connection's lock, then fails and is retried by its own timer (see the store).
    setBusyTimeout(flightDb, MAIN_THREAD_LOCK_WAIT_MS);

    let startError = null as Error | null;
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
      // Every source has stopped: nothing reads a port any more, so the last writes may wait for
      // the lock (drain() retries for up to 15 s, then the flight is marked ended).
      setBusyTimeout(flightDb, FLIGHT_DB_BUSY_TIMEOUT_MS);
      options.lastFlushSignal?.removeEventListener('abort', onLastFlush);
      flushRaw();
      pipeline.finish();
      if (startError === null) {
        store.recordEvent({ tUs: Date.now() * 1000, monoUs: monoNowUs(), level: 'info', source: 'agent', code: 'agent-stop', message: 'agent stopped cleanly', data: { pid: process.pid } });
        store.drain();
        setFlightEnded(flightDb, flight.id, Date.now() * 1000);
      } else {
        // Not a stop of a flight that was captured: the flight stays open (not ended) for the next start.
        const message = `agent failed to start: ${startError.message}`;
        agentLog.error({ err: startError.message }, message);
        store.recordEvent({ tUs: Date.now() * 1000, monoUs: monoNowUs(), level: 'error', source: 'agent', code: 'agent-start-failed', message, data: { pid: process.pid } });
        store.drain();
      }
      flightDb.close();
    }
    return { flightId: flight.id, isNewFlight: isNew, sources: sources.map((s) => s.name), samplesWritten: store.samplesWritten };
  } finally {
    lock.release();
  }
}
