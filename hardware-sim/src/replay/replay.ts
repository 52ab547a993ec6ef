// `hardware-sim replay`: plays recorded logs into virtual serial ports, each log into its own
// port, all against one clock so that several logs interleave in time order.
import { playPort, lingerUntilRead, nowMs, type PlayResult, type PortAction } from '../ports/player.js';
import { PtyPort } from '../ports/pty.js';
import { SimError } from '../errors.js';
import { loadLog, type LoadedLog } from './log-source.js';
import { commonOriginUs, firstTimeUs, loopGapUs, scheduleUs, type Pacing } from './schedule.js';

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

/** When each line of one log is written (wall µs from the start) and how long one pass lasts with --loop. */
export interface LogSchedule {
  offsetsUs: number[];
  passUs: number;
}

/**
 * Schedules several logs against one clock. With log-time pacing, logs on the same time base
 * (agent raw logs: their recorded monoUs; device logs: their NMEA UTC times of day) are counted
 * from the earliest first time among them, so they stay aligned as recorded (a GPS log starting
 * 2 s after a compass log starts 2 s into the replay), and they share one pass length so that they
 * stay aligned over --loop too. Logs on different time bases (raw logs vs device logs) have no
 * common clock: each group starts at the start of the replay. A log without any time (a device
 * log of HDT/PGRMZ only) has no time of its own: it is written from the start as fast as the
 * reader takes it (as with --fast). --rate and --fast ignore the times: every log starts at once.
 */
export function scheduleLogs(logs: readonly LoadedLog[], pacing: Pacing): LogSchedule[] {
  const times = logs.map((log) => log.lines.map((l) => l.timeUs));
  const firsts = times.map((t) => firstTimeUs(t));
  const isAligned = (i: number): boolean => pacing.mode === 'log-time' && firsts[i] !== null;
  const sameBase = (i: number): number[] => logs.flatMap((other, j) => (isAligned(j) && other.clock === logs[i]?.clock ? [j] : []));
  const offsets = logs.map((log, i) => {
    const origin = isAligned(i) ? commonOriginUs(sameBase(i).map((j) => firsts[j] ?? null), log.clock) : null;
    return scheduleUs(times[i] ?? [], log.clock, pacing, origin);
  });
  const lastUs = (i: number): number => offsets[i]?.[offsets[i].length - 1] ?? 0;
  return logs.map((_, i) => {
    const endUs = isAligned(i) ? Math.max(...sameBase(i).map(lastUs)) : lastUs(i);
    return { offsetsUs: offsets[i] ?? [], passUs: endUs + loopGapUs(pacing) };
  });
}

/** The writes of one log, lazily, forever when looping (a log alone: `schedule` from scheduleLogs([log])). */
export function* replayActions(log: LoadedLog, pacing: Pacing, loop: boolean, schedule?: LogSchedule): Generator<PortAction> {
  const { offsetsUs: offsets, passUs } = schedule ?? (scheduleLogs([log], pacing)[0] as LogSchedule);
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
    const schedules = scheduleLogs(logs, options.pacing);
    const results = await Promise.all(
      ports.map((port, i) => playPort(port, replayActions(logs[i] as LoadedLog, options.pacing, loop, schedules[i]), startMs, options.signal)),
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
