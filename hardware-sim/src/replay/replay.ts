// `hardware-sim replay`: plays recorded logs into virtual serial ports, each log into its own
// port, all against one clock so that several logs interleave in time order.
import { playPort, lingerUntilRead, nowMs, type PlayResult, type PortAction } from '../ports/player.js';
import { PtyPort } from '../ports/pty.js';
import { SimError } from '../errors.js';
import { loadLog, type LoadedLog } from './log-source.js';
import { loopGapUs, scheduleUs, type Pacing } from './schedule.js';

/** Default time the ports stay after the last byte, for the reader to take the tail. */
export const DEFAULT_LINGER_MS = 3000;

export interface ReplayPortSpec {
  /** Path of the port the agent opens (a symlink we create). */
  path: string;
  /** Log file to play into it. */
  log: string;
}

export interface ReplayOptions {
  ports: ReplayPortSpec[];
  pacing: Pacing;
  /** Start again at the end, until `signal` aborts. Default false. */
  loop?: boolean;
  /** After the last byte, keep the ports this long for the reader (ms, default 3000; see lingerUntilRead). */
  lingerMs?: number;
  /** Hold the data back until a reader has opened every port (default false). */
  waitForReader?: boolean;
  /** Stops the replay (Ctrl-C); the report then says what was sent until then. */
  signal?: AbortSignal;
  /** Called once the ports exist (before waiting for readers). */
  onPortsReady?: (ports: ReadonlyArray<{ path: string; devicePath: string }>) => void;
}

export interface ReplayPortReport extends PlayResult {
  path: string;
  log: string;
  format: LoadedLog['format'];
  /** Bytes of one pass through the log. */
  logBytes: number;
  /** Lines of one pass through the log. */
  logLines: number;
}

export interface ReplayReport {
  pacing: Pacing;
  isLoop: boolean;
  /** True when stopped by the signal before the end. */
  isAborted: boolean;
  ports: ReplayPortReport[];
}

/** The writes of one log, lazily, forever when looping. */
export function* replayActions(log: LoadedLog, pacing: Pacing, loop: boolean): Generator<PortAction> {
  const offsets = scheduleUs(
    log.lines.map((l) => l.timeUs),
    log.clock,
    pacing,
  );
  const passUs = (offsets[offsets.length - 1] ?? 0) + loopGapUs(pacing);
  for (let pass = 0; ; pass++) {
    for (let i = 0; i < log.lines.length; i++) {
      const line = log.lines[i];
      if (line) yield { kind: 'write', atUs: pass * passUs + (offsets[i] ?? 0), bytes: line.bytes };
    }
    if (!loop || log.lines.length === 0) return;
  }
}

export async function runReplay(options: ReplayOptions): Promise<ReplayReport> {
  if (options.ports.length === 0) throw new SimError('BAD_INPUT', 'replay needs at least one --port PATH=LOG');
  const seen = new Set<string>();
  for (const p of options.ports) {
    if (seen.has(p.path)) throw new SimError('BAD_INPUT', `port path ${p.path} is given twice: one log per port`);
    seen.add(p.path);
  }
  const logs = await Promise.all(options.ports.map((p) => loadLog(p.log)));
  const ports: PtyPort[] = [];
  try {
    for (const spec of options.ports) ports.push(await PtyPort.open({ path: spec.path, waitForReader: options.waitForReader ?? false }));
    options.onPortsReady?.(ports.map((p) => ({ path: p.path, devicePath: p.devicePath })));
    if (options.waitForReader) await Promise.race([Promise.all(ports.map((p) => p.readerReady())), aborted(options.signal)]);
    const startMs = nowMs();
    const loop = options.loop ?? false;
    const results = await Promise.all(
      ports.map((port, i) => playPort(port, replayActions(logs[i] as LoadedLog, options.pacing, loop), startMs, options.signal)),
    );
    if (!options.signal?.aborted) await lingerUntilRead(ports, options.lingerMs ?? DEFAULT_LINGER_MS, options.signal);
    return {
      pacing: options.pacing,
      isLoop: loop,
      isAborted: options.signal?.aborted ?? false,
      ports: results.map((r, i) => {
        const log = logs[i] as LoadedLog;
        return { path: ports[i]?.path ?? '', log: log.file, format: log.format, logBytes: log.sizeBytes, logLines: log.lines.length, ...r };
      }),
    };
  } finally {
    await Promise.all(ports.map((p) => p.close()));
  }
}

function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
