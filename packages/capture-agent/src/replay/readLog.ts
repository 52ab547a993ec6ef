// Feeds a recorded log into the capture pipeline, as fast as it can be read. Two formats:
// - the agent's own raw log (shared rawlog v2, v1 read too): every entry keeps its monotonic and
//   UTC receive times and its byte offset, and a piece cut at maxLineBytes is fed as cut, as it
//   was live; the port name (and role) come from the header. Several raw logs are read together
//   (readRawLogsIntoPipeline): within a session their entries are merged by receive time, so the
//   pipeline sees the lines in the order they were received live, and each new session (a header:
//   agent restart or reboot, the monotonic clock may have restarted) starts with a fresh flight
//   clock, so one session's fit never places another session's samples;
// - a plain device log (bytes as the instrument sent them): framed like a live port, receive
//   times derived from the sentence times (see PortPipeline).
import { closeSync, openSync, readSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { PORT_ROLES, RawLogDecoder, isBootId, isRawLog, type PortRole, type RawLogEntry, type RawLogHeader, type RawLogItem } from '@flysnap/shared';
import type { CapturePipeline, PortPipeline } from '../pipeline/index.js';
import { LineSplitter } from '../serial/lineSplitter.js';

export interface LogPortInfo {
  name: string;
  role: PortRole;
  /** The device path or log file the lines came from (port row). */
  path: string;
  baudRate: number;
}

export interface ReadLogOptions {
  /** Port name for a plain log (default: the file name without extension). Ignored for a raw log's own header unless set. */
  portName?: string;
  /** Role for the port (default: the raw log header's `role`, else 'gps' so time sentences discipline the clock). */
  role?: PortRole;
  /** Cut plain-log lines at this length, bytes. Default 4096. */
  maxLineBytes?: number;
  /** Read size, bytes. Default 1 MiB (a plain log); 256 KiB per file for raw logs read together. */
  chunkBytes?: number;
  /** Called before the first line of each port (create its DB row). */
  onPort: (info: LogPortInfo) => PortPipeline;
}

export interface ReadLogResult {
  format: 'raw' | 'plain';
  lines: number;
  bytes: number;
  /** Raw log lines that did not decode (corrupt log), not fed. */
  corruptLines: number;
  ports: string[];
  /** Sessions (headers) read, raw logs only. */
  sessions?: number;
}

/** A file name turned into a safe port name: `ublox-8.log` → `ublox-8`. */
export function portNameFromFile(file: string): string {
  const base = basename(file, extname(file)).replace(/[^A-Za-z0-9_.-]/g, '-').replace(/\.\.+/g, '.').slice(0, 64);
  return base === '' || base === '.' ? 'log' : base;
}

function asRole(value: string | undefined): PortRole | null {
  return value !== undefined && (PORT_ROLES as readonly string[]).includes(value) ? (value as PortRole) : null;
}

/** 'raw' when the file starts with a raw log header, else 'plain' (an empty file is plain). */
export function sniffLogFormat(file: string): 'raw' | 'plain' {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(64);
    const n = readSync(fd, head, 0, head.length, 0);
    return n > 0 && isRawLog(head.subarray(0, n)) ? 'raw' : 'plain';
  } finally {
    closeSync(fd);
  }
}

export function readLogIntoPipeline(file: string, pipeline: CapturePipeline, options: ReadLogOptions): ReadLogResult {
  if (sniffLogFormat(file) === 'raw') {
    const spec: RawLogSpec = { file };
    if (options.portName !== undefined) spec.portName = options.portName;
    if (options.role !== undefined) spec.role = options.role;
    const read = readRawLogsIntoPipeline([spec], pipeline, options);
    return read.files[0]!;
  }
  const fd = openSync(file, 'r');
  const chunk = Buffer.allocUnsafe(options.chunkBytes ?? 1 << 20);
  const result: ReadLogResult = { format: 'plain', lines: 0, bytes: 0, corruptLines: 0, ports: [] };
  try {
    const name = options.portName ?? portNameFromFile(file);
    const port = pipeline.ports.get(name) ?? options.onPort({ name, role: options.role ?? 'gps', path: file, baudRate: 0 });
    result.ports.push(name);
    const splitter = new LineSplitter(options.maxLineBytes ?? 4096, (bytes, isCut) => {
      result.lines++;
      result.bytes += bytes.length;
      port.line({ bytes, monoUs: null, isCut });
    });
    let n = readSync(fd, chunk, 0, chunk.length, null);
    while (n > 0) {
      // The splitter keeps references into the chunk for a partial line: give it its own copy.
      splitter.push(Buffer.from(chunk.subarray(0, n)));
      n = readSync(fd, chunk, 0, chunk.length, null);
    }
    splitter.flush();
  } finally {
    closeSync(fd);
  }
  return result;
}

export interface RawLogSpec {
  file: string;
  /** Port name instead of the header's. */
  portName?: string;
  /** Role instead of the header's `role` (default 'gps'). */
  role?: PortRole;
}

export interface ReadRawLogsResult {
  /** One per given file, in the given order. */
  files: ReadLogResult[];
  /** Sessions replayed (groups of matched headers); the flight clock was reset between them. */
  sessions: number;
}

/**
 * Headers of different files whose `session` start times (written by the agent at start, ISO UTC
 * of the capture machine) are at most this far apart belong to the same session.
 */
export const SESSION_MATCH_TOLERANCE_MS = 10_000;

type EntryItem = { type: 'entry'; offset: number; entry: RawLogEntry } | { type: 'truncated'; offset: number; entry: RawLogEntry | null };

/** One raw log read item by item, one chunk of decoded items in memory at a time. */
class RawLogStream {
  readonly spec: RawLogSpec;
  readonly result: ReadLogResult = { format: 'raw', lines: 0, bytes: 0, corruptLines: 0, ports: [], sessions: 0 };
  port: PortPipeline | null = null;
  readonly #decoder = new RawLogDecoder();
  readonly #chunk: Buffer;
  #fd: number | null;
  #items: RawLogItem[] = [];
  #i = 0;

  constructor(spec: RawLogSpec, chunkBytes: number) {
    this.spec = spec;
    this.#chunk = Buffer.allocUnsafe(chunkBytes);
    this.#fd = openSync(spec.file, 'r');
  }

  /** The next item, or null at the end of the file. */
  peek(): RawLogItem | null {
    while (this.#i >= this.#items.length) {
      if (this.#fd === null) return null;
      const n = readSync(this.#fd, this.#chunk, 0, this.#chunk.length, null);
      if (n > 0) this.#items = this.#decoder.push(this.#chunk.subarray(0, n));
      else {
        this.close();
        this.#items = this.#decoder.end();
      }
      this.#i = 0;
    }
    return this.#items[this.#i]!;
  }

  shift(): void {
    this.#i++;
  }

  /**
   * Skips what is not a line to feed (comments; corrupt lines, counted) and returns the entry at
   * the head, or null when the head is a header (next session) or the end of the file.
   */
  headEntry(): EntryItem | null {
    for (let item = this.peek(); item !== null; item = this.peek()) {
      if (item.type === 'header') return null;
      if (item.type === 'entry' || (item.type === 'truncated' && item.entry !== null)) {
        if (this.port !== null) return item;
        this.result.corruptLines++; // an entry before any header
      } else if (item.type === 'rejected' || item.type === 'truncated') {
        this.result.corruptLines++;
      }
      this.shift();
    }
    return null;
  }

  close(): void {
    if (this.#fd !== null) {
      closeSync(this.#fd);
      this.#fd = null;
    }
  }
}

function sessionStartMs(header: RawLogHeader): number {
  const text = header.extra['session'];
  return text === undefined ? Number.NaN : Date.parse(text);
}

/**
 * The streams whose next header starts the next session. Matched by the headers' `session` start
 * times when every waiting header has one (the earliest, and those within
 * SESSION_MATCH_TOLERANCE_MS of it; a log that has no header for that session waits for its own):
 * a port added or missing in one run is then still matched right. Without start times, by order:
 * the n-th header of every log is session n.
 */
function nextSessionGroup(waiting: RawLogStream[]): RawLogStream[] {
  const starts = waiting.map((s) => sessionStartMs((s.peek() as Extract<RawLogItem, { type: 'header' }>).header));
  if (starts.some((t) => !Number.isFinite(t))) return waiting;
  const earliest = Math.min(...starts);
  return waiting.filter((_, k) => starts[k]! <= earliest + SESSION_MATCH_TOLERANCE_MS);
}

/**
 * Replays agent raw logs of the same flight together. Session by session (see nextSessionGroup),
 * the entries of all logs are merged by monotonic receive time (ties: the given file order; each
 * file's own order is kept), so lines reach the pipeline in the order they were received live and
 * samples without their own time are placed by the fit of that moment, whatever the file order.
 * Between sessions the pipeline's flight clock is reset (CapturePipeline.newSession). Memory: one
 * read chunk of decoded items per file.
 */
export function readRawLogsIntoPipeline(
  specs: readonly RawLogSpec[],
  pipeline: CapturePipeline,
  options: Pick<ReadLogOptions, 'chunkBytes' | 'onPort'>,
): ReadRawLogsResult {
  const streams: RawLogStream[] = [];
  let sessions = 0;
  try {
    for (const spec of specs) streams.push(new RawLogStream(spec, options.chunkBytes ?? 1 << 18));
    for (;;) {
      // Every stream not at its end is at a header here (its next session).
      const waiting: RawLogStream[] = [];
      for (const s of streams) {
        // Skips comments and corrupt lines; never stops at an entry here (before a stream's first
        // header its port is null, so entries there are counted corrupt).
        s.headEntry();
        if (s.peek() !== null) waiting.push(s);
      }
      if (waiting.length === 0) break;
      const group = nextSessionGroup(waiting);
      const headers = group.map((s) => (s.peek() as Extract<RawLogItem, { type: 'header' }>).header);
      // The session's boot, when its headers agree on one (`boot=`, written by agents that record
      // it): its fits are stored with it, so files timed by the live agent on that boot can be
      // timed by them.
      const boots = new Set(headers.map((h) => h.extra['boot']));
      const [boot] = boots;
      const sessionBoot = boots.size === 1 && isBootId(boot) ? boot : null;
      if (sessions > 0) {
        pipeline.newSession(
          { session: sessions + 1, files: group.map((s) => s.spec.file), start: headers[0]!.extra['session'] ?? null },
          sessionBoot,
        );
      } else {
        pipeline.setSessionBoot(sessionBoot);
      }
      sessions++;
      for (const s of group) {
        const item = s.peek() as Extract<RawLogItem, { type: 'header' }>;
        s.shift();
        s.result.sessions!++;
        const name = s.spec.portName ?? item.header.port;
        let port = pipeline.ports.get(name) ?? null;
        if (port === null) {
          port = options.onPort({
            name,
            role: s.spec.role ?? asRole(item.header.extra['role']) ?? 'gps',
            path: item.header.extra['path'] ?? s.spec.file,
            baudRate: Number(item.header.extra['baud'] ?? 0) || 0,
          });
        }
        if (!s.result.ports.includes(name)) s.result.ports.push(name);
        s.port = port;
      }
      mergeSession(group);
    }
  } finally {
    for (const s of streams) s.close();
  }
  return { files: streams.map((s) => s.result), sessions };
}

/** Feeds one session's entries of every stream in the group, by receive time. */
function mergeSession(group: RawLogStream[]): void {
  const active: RawLogStream[] = [];
  const heads: EntryItem[] = [];
  for (const s of group) {
    const h = s.headEntry();
    if (h !== null) {
      active.push(s);
      heads.push(h);
    }
  }
  while (active.length > 0) {
    // k is small (one stream per port): a linear scan beats a heap here.
    let best = 0;
    let bestMono = heads[0]!.entry!.monoUs;
    for (let k = 1; k < active.length; k++) {
      const m = heads[k]!.entry!.monoUs;
      if (m < bestMono) {
        best = k;
        bestMono = m;
      }
    }
    const s = active[best]!;
    let item: EntryItem | null = heads[best]!;
    // Feed this stream while it stays at or before the next-earliest head (no rescan per line).
    let limit = Number.POSITIVE_INFINITY;
    for (let k = 0; k < active.length; k++) if (k !== best && heads[k]!.entry!.monoUs < limit) limit = heads[k]!.entry!.monoUs;
    do {
      feedEntry(s, item);
      s.shift();
      item = s.headEntry();
    } while (item !== null && item.entry!.monoUs < limit);
    if (item === null) {
      active.splice(best, 1);
      heads.splice(best, 1);
    } else heads[best] = item;
  }
}

function feedEntry(s: RawLogStream, item: EntryItem): void {
  const entry = item.entry!;
  s.result.lines++;
  // The bytes received: the LF only where the piece had one (not after a cut or partial
  // line, nor on a last line cut by a crash of the writer, whose end is unknown).
  s.result.bytes += entry.bytes.length + (item.type === 'entry' && entry.hasLf ? 1 : 0);
  s.port!.line({ bytes: entry.bytes, monoUs: entry.monoUs, isCut: entry.isCut, recordedUtcUs: entry.utcUs, rawOffset: item.offset });
}
