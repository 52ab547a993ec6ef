// Reading a log to replay: a raw device log (bytes exactly as the device sent them) or the
// agent's own raw serial log (one received line per entry, with its receive time).
import { readFile } from 'node:fs/promises';
import { decodeRawLog, isRawLog, rawLogEntryBytes } from '@flysnap/shared';
import { SimError } from '../errors.js';
import { nmeaTimeOfDayUs } from './nmea-time.js';
import type { LineClock } from './schedule.js';

export interface LogLine {
  /** The bytes to write, line terminator included. */
  bytes: Buffer;
  /** Time of the line on the log's clock (see `clock`), or null when it carries none. */
  timeUs: number | null;
}

export interface LoadedLog {
  file: string;
  format: 'device' | 'flysnap-rawlog';
  clock: LineClock;
  lines: LogLine[];
  /** Total bytes the replay of one pass writes. */
  sizeBytes: number;
}

/**
 * Splits bytes after each '\n', keeping everything: joining the pieces gives the input back
 * exactly (CR LF, LF, binary junk and a last line without terminator included).
 */
export function splitKeepingNewlines(data: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = data.indexOf(0x0a, start);
    if (nl < 0) break;
    pieces.push(data.subarray(start, nl + 1));
    start = nl + 1;
  }
  if (start < data.length) pieces.push(data.subarray(start));
  return pieces;
}

export function parseLog(file: string, data: Buffer): LoadedLog {
  const firstNl = data.indexOf(0x0a);
  if (isRawLog(data.subarray(0, firstNl < 0 ? data.length : firstNl))) {
    const decoded = decodeRawLog(data);
    // Each entry is one received piece: its payload, plus the LF only when it had one (a line cut
    // at the agent's maximum length or a partial line at unplug/stop had none; v1 logs cannot tell).
    const lines: LogLine[] = decoded.entries.map((e) => ({ bytes: rawLogEntryBytes(e), timeUs: e.monoUs }));
    // A line cut by a crash of the writer still carries what the device sent up to there (its
    // end is unknown: no LF is added).
    const cut = decoded.truncated?.entry;
    if (cut) lines.push({ bytes: Buffer.from(cut.bytes), timeUs: cut.monoUs });
    return { file, format: 'flysnap-rawlog', clock: 'monotonic', lines, sizeBytes: sum(lines) };
  }
  const lines = splitKeepingNewlines(data).map((bytes) => ({ bytes, timeUs: nmeaTimeOfDayUs(bytes) }));
  return { file, format: 'device', clock: 'time-of-day', lines, sizeBytes: data.length };
}

function sum(lines: LogLine[]): number {
  return lines.reduce((n, l) => n + l.bytes.length, 0);
}

export async function loadLog(file: string): Promise<LoadedLog> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new SimError('LOG_UNREADABLE', `cannot read log ${file} (${code})`, { cause: err });
  }
  return parseLog(file, data);
}
