// Feeds a recorded log into the capture pipeline, as fast as it can be read. Two formats:
// - the agent's own raw log (shared rawlog v2, v1 read too): every entry keeps its monotonic and
//   UTC receive times and its byte offset, and a piece cut at maxLineBytes is fed as cut, as it
//   was live; the port name (and role) come from the header;
// - a plain device log (bytes as the instrument sent them): framed like a live port, receive
//   times derived from the sentence times (see PortPipeline).
import { closeSync, openSync, readSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { PORT_ROLES, RawLogDecoder, isRawLog, type PortRole, type RawLogItem } from '@flysnap/shared';
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
  /** Read size, bytes. Default 1 MiB. */
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
}

/** A file name turned into a safe port name: `ublox-8.log` → `ublox-8`. */
export function portNameFromFile(file: string): string {
  const base = basename(file, extname(file)).replace(/[^A-Za-z0-9_.-]/g, '-').replace(/\.\.+/g, '.').slice(0, 64);
  return base === '' || base === '.' ? 'log' : base;
}

function asRole(value: string | undefined): PortRole | null {
  return value !== undefined && (PORT_ROLES as readonly string[]).includes(value) ? (value as PortRole) : null;
}

export function readLogIntoPipeline(file: string, pipeline: CapturePipeline, options: ReadLogOptions): ReadLogResult {
  const fd = openSync(file, 'r');
  const chunk = Buffer.allocUnsafe(options.chunkBytes ?? 1 << 20);
  const result: ReadLogResult = { format: 'plain', lines: 0, bytes: 0, corruptLines: 0, ports: [] };
  try {
    let n = readSync(fd, chunk, 0, chunk.length, null);
    result.format = n > 0 && isRawLog(chunk.subarray(0, Math.min(n, 64))) ? 'raw' : 'plain';
    if (result.format === 'raw') {
      const decoder = new RawLogDecoder();
      let port: PortPipeline | null = null;
      const take = (items: RawLogItem[]): void => {
        for (const item of items) {
          if (item.type === 'header') {
            const name = options.portName ?? item.header.port;
            port = pipeline.ports.get(name) ?? null;
            if (port === null) {
              port = options.onPort({
                name,
                role: options.role ?? asRole(item.header.extra['role']) ?? 'gps',
                path: item.header.extra['path'] ?? file,
                baudRate: Number(item.header.extra['baud'] ?? 0) || 0,
              });
              result.ports.push(name);
            }
          } else if (item.type === 'entry' || (item.type === 'truncated' && item.entry !== null)) {
            const entry = item.type === 'entry' ? item.entry : item.entry!;
            if (port === null) {
              result.corruptLines++;
              continue;
            }
            result.lines++;
            // The bytes received: the LF only where the piece had one (not after a cut or partial
            // line, nor on a last line cut by a crash of the writer, whose end is unknown).
            result.bytes += entry.bytes.length + (item.type === 'entry' && entry.hasLf ? 1 : 0);
            port.line({ bytes: entry.bytes, monoUs: entry.monoUs, isCut: entry.isCut, recordedUtcUs: entry.utcUs, rawOffset: item.offset });
          } else if (item.type === 'rejected' || item.type === 'truncated') {
            result.corruptLines++;
          }
        }
      };
      while (n > 0) {
        take(decoder.push(chunk.subarray(0, n)));
        n = readSync(fd, chunk, 0, chunk.length, null);
      }
      take(decoder.end());
    } else {
      const name = options.portName ?? portNameFromFile(file);
      const port = pipeline.ports.get(name) ?? options.onPort({ name, role: options.role ?? 'gps', path: file, baudRate: 0 });
      result.ports.push(name);
      const splitter = new LineSplitter(options.maxLineBytes ?? 4096, (bytes, isCut) => {
        result.lines++;
        result.bytes += bytes.length;
        port.line({ bytes, monoUs: null, isCut });
      });
      while (n > 0) {
        // The splitter keeps references into the chunk for a partial line: give it its own copy.
        splitter.push(Buffer.from(chunk.subarray(0, n)));
        n = readSync(fd, chunk, 0, chunk.length, null);
      }
      splitter.flush();
    }
  } finally {
    closeSync(fd);
  }
  return result;
}
