// `status`: the flight's state read from the array, safe while the agent writes (the DB is opened
// read-only; WAL lets a reader see the last committed batch without blocking the writer).
import { statfsSync } from 'node:fs';
import {
  arrayPaths,
  formatBytes,
  openFlightDb,
  readArrayMarkerSync,
  readFlightSummary,
  type FlightSummary,
  type PortRow,
  type SampleKind,
} from '@flysnap/shared';
import { readCameraStatus, type CameraStatus } from '../cameras/asset-store.js';
import { isOwnerAlive, readLock } from '../lock/index.js';

export interface AgentStatus {
  array: string;
  flight: FlightSummary['flight'];
  /** The agent holding the array's lock, if it is running. */
  agent: { isRunning: boolean; pid: number | null };
  ports: PortRow[];
  sentences: {
    /** Accepted sentences per type, talker stripped: {"RMC": n, "GGA": n, …}. */
    valid: Record<string, number>;
    /** Well-formed sentences of types not decoded, per type. */
    unknown: Record<string, number>;
    /** Rejected lines per reason. */
    rejected: Record<string, number>;
  };
  /** Samples per kind. */
  samples: Record<SampleKind, number>;
  samplesTotal: number;
  samplesFirstTUs: number | null;
  samplesLastTUs: number | null;
  /** The latest stored fit (any boot); `bootId` null = unknown (schema v1 rows, replays). */
  clock: {
    offsetUs: number;
    driftPpm: number;
    uncertaintyUs: number;
    pairs: number;
    fittedTUs: number;
    port: string | null;
    bootId: string | null;
  } | null;
  lastFix: FlightSummary['lastFix'];
  events: { info: number; warn: number; error: number; lastError: { tUs: number; source: string; code: string; message: string } | null };
  /** Camera assets (filled by the camera side). */
  assets: FlightSummary['assets'];
  /** Camera side: assets per device, incomplete files, assets without pose and why, changed/missing files. */
  cameras: CameraStatus;
  disk: { freeBytes: number; totalBytes: number };
}

export function readAgentStatus(arrayRoot: string): AgentStatus {
  const paths = arrayPaths(arrayRoot);
  readArrayMarkerSync(arrayRoot); // throws ArrayLayoutError when this is not an array
  const owner = readLock(paths.lock);
  const isRunning = owner !== null && isOwnerAlive(owner);
  const flightDb = openFlightDb(paths.flightDb, { readonly: true });
  let summary: FlightSummary;
  let cameras: CameraStatus;
  try {
    summary = readFlightSummary(flightDb);
    cameras = readCameraStatus(flightDb);
  } finally {
    flightDb.close();
  }
  const valid: Record<string, number> = {};
  const unknown: Record<string, number> = {};
  for (const row of summary.sentences.rows) {
    if (row.status === 'valid') valid[row.sentence] = (valid[row.sentence] ?? 0) + row.count;
    else if (row.status === 'unknown') unknown[row.sentence] = (unknown[row.sentence] ?? 0) + row.count;
  }
  const fs = statfsSync(arrayRoot);
  const fit = summary.lastClockFit;
  const lastError = summary.events.lastError;
  return {
    array: arrayRoot,
    flight: summary.flight,
    agent: { isRunning, pid: isRunning ? (owner?.pid ?? null) : null },
    ports: summary.ports,
    sentences: { valid, unknown, rejected: { ...summary.sentences.rejectedByReason } },
    samples: summary.samples.byKind,
    samplesTotal: summary.samples.total,
    samplesFirstTUs: summary.samples.firstTUs,
    samplesLastTUs: summary.samples.lastTUs,
    clock: fit
      ? {
          offsetUs: fit.offsetUs,
          driftPpm: fit.driftPpm,
          uncertaintyUs: fit.uncertaintyUs,
          pairs: fit.pairs,
          fittedTUs: fit.fittedTUs,
          port: fit.port,
          bootId: fit.bootId,
        }
      : null,
    lastFix: summary.lastFix,
    events: {
      info: summary.events.info,
      warn: summary.events.warn,
      error: summary.events.error,
      lastError: lastError ? { tUs: lastError.tUs, source: lastError.source, code: lastError.code, message: lastError.message } : null,
    },
    assets: summary.assets,
    cameras,
    disk: { freeBytes: Number(fs.bavail) * Number(fs.bsize), totalBytes: Number(fs.blocks) * Number(fs.bsize) },
  };
}

function iso(tUs: number | null | undefined): string {
  return tUs === null || tUs === undefined ? '-' : new Date(Math.floor(tUs / 1000)).toISOString();
}

function counts(rec: Record<string, number>): string {
  const entries = Object.entries(rec).filter(([, n]) => n > 0);
  return entries.length === 0 ? 'none' : entries.map(([k, n]) => `${k || '?'}=${n}`).join(' ');
}

/** The status for a person at a terminal. */
export function formatAgentStatus(s: AgentStatus): string {
  const lines: string[] = [];
  lines.push(`array    ${s.array}   disk free ${formatBytes(s.disk.freeBytes)} of ${formatBytes(s.disk.totalBytes)}`);
  lines.push(`flight   ${s.flight?.id ?? '-'}  aircraft ${s.flight?.aircraft ?? '-'}  started ${iso(s.flight?.startedTUs)}  ended ${iso(s.flight?.endedTUs)}`);
  lines.push(`agent    ${s.agent.isRunning ? `running (pid ${s.agent.pid})` : 'not running'}`);
  for (const p of s.ports) {
    lines.push(`port     ${p.name.padEnd(12)} ${p.role.padEnd(9)} ${p.status.padEnd(12)} ${p.linesReceived} lines ${p.bytesReceived} bytes  since ${iso(p.statusTUs)}${p.lastError ? `  last error: ${p.lastError}` : ''}`);
  }
  lines.push(`valid    ${counts(s.sentences.valid)}`);
  lines.push(`unknown  ${counts(s.sentences.unknown)}`);
  lines.push(`rejected ${counts(s.sentences.rejected)}`);
  lines.push(`samples  ${s.samplesTotal}: ${counts(s.samples)}  from ${iso(s.samplesFirstTUs)} to ${iso(s.samplesLastTUs)}`);
  lines.push(
    s.clock
      ? `clock    offset ${s.clock.offsetUs} µs  drift ${s.clock.driftPpm.toFixed(3)} ppm  ±${s.clock.uncertaintyUs} µs  (${s.clock.pairs} pairs, ${s.clock.port ?? '-'}, at ${iso(s.clock.fittedTUs)}, boot ${s.clock.bootId ?? 'unknown'})`
      : 'clock    no fit yet',
  );
  const f = s.lastFix;
  lines.push(f ? `last fix ${iso(f.tUs)}  ${f.latDeg.toFixed(6)}, ${f.lonDeg.toFixed(6)}  alt ${f.altitudeM ?? '-'} m  quality ${f.fixQuality}  sats ${f.satellites ?? '-'}` : 'last fix none');
  lines.push(`assets   ${s.assets.total} (${s.assets.complete} complete, ${s.assets.incomplete} incomplete, ${formatBytes(s.assets.totalBytes)})`);
  for (const [device, d] of Object.entries(s.cameras.devices)) {
    lines.push(
      `camera   ${device.padEnd(12)} ${d.assets} assets (${d.incomplete} incomplete)  time exif ${d.byTimeSource.exif} flight-clock ${d.byTimeSource['flight-clock']} none ${d.byTimeSource.none}  without pose ${d.withoutPose}  last ${iso(d.lastCaptureTUs)}`,
    );
  }
  for (const f of s.cameras.incompleteFiles) lines.push(`incomplete ${f.device}/${f.relPath} ${f.sizeBytes} bytes (${f.reason ?? 'unknown'})`);
  if (Object.keys(s.cameras.withoutPoseByReason).length > 0) lines.push(`no pose  ${counts(s.cameras.withoutPoseByReason)}`);
  if (Object.keys(s.cameras.withoutCaptureTimeByReason).length > 0) lines.push(`no time  ${counts(s.cameras.withoutCaptureTimeByReason)}`);
  if (s.cameras.changedAfterRecord + s.cameras.missingFromDisk > 0) {
    lines.push(`files    ${s.cameras.changedAfterRecord} changed after recording, ${s.cameras.missingFromDisk} missing from disk (see events)`);
  }
  lines.push(`events   info ${s.events.info}  warn ${s.events.warn}  error ${s.events.error}${s.events.lastError ? `  last error: ${s.events.lastError.message}` : ''}`);
  return lines.join('\n');
}
