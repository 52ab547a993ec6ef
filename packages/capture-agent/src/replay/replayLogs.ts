// `replay`: recorded logs straight into the array's flight DB through the capture pipeline, as
// fast as the machine allows. Nothing is written to serial/ (the logs are already recorded).
// Agent raw logs are read together, merged by receive time per session (readRawLogsIntoPipeline);
// plain device logs one after another.
import { existsSync, mkdirSync } from 'node:fs';
import { arrayPaths, type PortRole } from '@flysnap/shared';
import { openOrCreateFlight } from '../flight/index.js';
import { acquireArrayLock } from '../lock/index.js';
import type { Logger } from '../log/index.js';
import { CapturePipeline, type PortPipeline } from '../pipeline/index.js';
import { FlightStore } from '../store/index.js';
import { readLogIntoPipeline, readRawLogsIntoPipeline, sniffLogFormat, type LogPortInfo, type RawLogSpec, type ReadLogResult } from './readLog.js';

export interface ReplayLogSpec {
  file: string;
  /** Port name (default: raw log header, or the file name). */
  port?: string;
  role?: PortRole;
}

export interface ReplayOptions {
  arrayRoot: string;
  logs: readonly ReplayLogSpec[];
  /** Aircraft for a new flight. Default 'replay'. */
  aircraft?: string;
  log: Logger;
  /** UTC reference for week-rollover correction; default off (old logs are legitimate). */
  rolloverReferenceUs?: number | null;
}

export interface ReplayResult {
  flightId: string;
  files: (ReadLogResult & { file: string })[];
  lines: number;
  bytes: number;
  samples: number;
}

export async function replayLogs(options: ReplayOptions): Promise<ReplayResult> {
  const root = options.arrayRoot;
  if (!existsSync(root)) mkdirSync(root, { recursive: true });
  const lock = acquireArrayLock(arrayPaths(root).lock);
  try {
    const { flightDb, flight } = await openOrCreateFlight(root, options.aircraft ?? 'replay');
    try {
      // Batches are committed on a writer thread while this thread decodes the next ones.
      const store = new FlightStore(flightDb, { log: options.log.child({ ns: 'capture:store' }), writer: 'thread' });
      try {
        const pipeline = new CapturePipeline({
          store,
          log: options.log.child({ ns: 'capture:clock' }),
          rolloverReferenceUs: options.rolloverReferenceUs ?? null,
        });
        const result: ReplayResult = { flightId: flight.id, files: [], lines: 0, bytes: 0, samples: 0 };
        const onPort = (info: LogPortInfo): PortPipeline => {
          store.ensurePort({ name: info.name, role: info.role, path: info.path, baudRate: info.baudRate, status: 'closed', lastError: null, statusTUs: Date.now() * 1000 });
          return pipeline.addPort({ name: info.name, role: info.role, latencyMs: 0, checksumPolicy: 'accept-flag' }, null);
        };
        // The agent's raw logs are read together, merged by receive time session by session (see
        // readRawLogsIntoPipeline), at the place of the first of them; plain logs one after another.
        const formats = options.logs.map((spec) => sniffLogFormat(spec.file));
        const reads: (ReadLogResult | undefined)[] = new Array<ReadLogResult | undefined>(options.logs.length);
        options.logs.forEach((spec, i) => {
          if (formats[i] === 'raw') {
            if (reads[i] !== undefined) return;
            const rawIdx = options.logs.map((_, k) => k).filter((k) => formats[k] === 'raw');
            const merged = readRawLogsIntoPipeline(
              rawIdx.map((k) => {
                const s = options.logs[k]!;
                const r: RawLogSpec = { file: s.file };
                if (s.port !== undefined) r.portName = s.port;
                if (s.role !== undefined) r.role = s.role;
                return r;
              }),
              pipeline,
              { onPort },
            );
            rawIdx.forEach((k, j) => (reads[k] = merged.files[j]!));
            return;
          }
          reads[i] = readLogIntoPipeline(spec.file, pipeline, {
            ...(spec.port === undefined ? {} : { portName: spec.port }),
            ...(spec.role === undefined ? {} : { role: spec.role }),
            onPort,
          });
        });
        options.logs.forEach((spec, i) => {
          const read = reads[i]!;
          result.files.push({ file: spec.file, ...read });
          result.lines += read.lines;
          result.bytes += read.bytes;
        });
        pipeline.finish();
        store.recordEvent({
          tUs: Date.now() * 1000,
          level: 'info',
          source: 'replay',
          code: 'replay',
          message: `replayed ${options.logs.length} log(s), ${result.lines} line(s)`,
          data: { files: result.files.map((f) => ({ file: f.file, format: f.format, lines: f.lines, corruptLines: f.corruptLines, ports: f.ports })) },
        });
        store.close();
        result.samples = store.samplesWritten;
        return result;
      } finally {
        // Ends the writer thread before the connection closes (a no-op after the close above); on
        // the way out of an error, the first error is the one reported.
        try {
          store.close();
        } catch {}
      }
    } finally {
      flightDb.close();
    }
  } finally {
    lock.release();
  }
}
