// Structured logs: JSON lines on stdout for systemd's journal; a short readable line per record
// when stdout is a terminal. One child logger per module: `ns: 'capture:serial:gps'`.
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Minimum level logged. Default 'info'. */
  level?: LevelWithSilent;
  /** Readable lines instead of JSON. Default: stdout is a TTY. */
  isPretty?: boolean;
  /** Where lines go. Default process.stdout. */
  out?: NodeJS.WritableStream;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
/** Fields shown by position in the readable line, not as key=value. */
const FRAMED_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'ns']);

/** Turns one pino JSON record into "12:00:00.123 INFO  capture:serial:gps port open path=/dev/x". */
export function formatReadable(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const time = typeof rec['time'] === 'number' ? new Date(rec['time']).toISOString().slice(11, 23) : '';
  const level = LEVEL_NAMES[rec['level'] as number] ?? String(rec['level']);
  const ns = typeof rec['ns'] === 'string' ? `${rec['ns']} ` : '';
  const extras = Object.entries(rec)
    .filter(([k]) => !FRAMED_KEYS.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${time} ${level} ${ns}${String(rec['msg'] ?? '')}${extras ? ` ${extras}` : ''}`;
}

function readableStream(out: NodeJS.WritableStream): DestinationStream {
  return { write: (msg: string) => void out.write(`${formatReadable(msg)}\n`) };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const out = options.out ?? process.stdout;
  const isPretty = options.isPretty ?? Boolean((out as NodeJS.WriteStream).isTTY);
  const dest: DestinationStream = isPretty
    ? readableStream(out)
    : out === process.stdout
      ? pino.destination({ fd: 1, sync: true })
      : { write: (msg: string) => void out.write(msg) };
  return pino({ level: options.level ?? 'info', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.epochTime }, dest);
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
