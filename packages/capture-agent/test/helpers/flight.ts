// Test-side views of an array: config files, the flight DB read as an outsider, raw logs decoded.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NmeaDecoder, decodeRawLog, openFlightDb, rawLogEntryBytes, readEvents, readFlightSummary, type EventRow, type FlightSummary } from '@flysnap/shared';

export function fixture(name: string): Buffer {
  return readFileSync(fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url)));
}

export interface TestPort {
  name: string;
  role: 'gps' | 'compass' | 'altimeter' | 'other';
  path: string;
  [option: string]: unknown;
}

export function writeConfig(dir: string, array: string, ports: TestPort[], extra: Record<string, unknown> = {}): string {
  const file = join(dir, 'agent-config.json');
  writeFileSync(file, JSON.stringify({ array, aircraft: 'TEST-1', ports: ports.map((p) => ({ baudRate: 38400, ...p })), cameras: [], ...extra }, null, 2));
  return file;
}

export function readSummary(array: string): FlightSummary & { events_: EventRow[]; integrity: string } {
  const db = openFlightDb(join(array, 'flight.db'), { readonly: true });
  try {
    const integrity = (db.db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join(',');
    return { ...readFlightSummary(db), events_: readEvents(db), integrity };
  } finally {
    db.close();
  }
}

/** Lines as a port frames them: split after each LF, terminator kept; a last piece without LF too. */
export function splitLines(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, start)) {
    out.push(bytes.subarray(start, i + 1));
    start = i + 1;
  }
  if (start < bytes.length) out.push(bytes.subarray(start));
  return out;
}

/** What the decoder alone makes of a log: the oracle the agent's DB is checked against (samples as stored: see the pipeline's row rule). */
export function expectedFromLog(bytes: Buffer): { valid: Record<string, number>; unknown: Record<string, number>; rejected: Record<string, number>; samplesByKind: Record<string, number>; lines: number } {
  const decoder = new NmeaDecoder();
  const samplesByKind: Record<string, number> = {};
  const lines = splitLines(bytes);
  for (const line of lines) {
    const r = decoder.decode(line);
    if (r.status !== 'accepted') continue;
    for (const s of r.samples) {
      // The agent stores a sentence's time sample only when no other sample of it has that time.
      if (s.kind === 'time' && r.samples.some((o) => o !== s && o.tUs === s.tUs)) continue;
      samplesByKind[s.kind] = (samplesByKind[s.kind] ?? 0) + 1;
    }
  }
  const stats = decoder.stats();
  const rejected = Object.fromEntries(Object.entries(stats.rejected).filter(([, n]) => n > 0));
  return { valid: stats.valid, unknown: stats.unknown, rejected, samplesByKind, lines: lines.length };
}

/** Sentence type per line from the address field alone (an independent count; null = no `$xx…,`). */
export function addressTypeCounts(bytes: Buffer): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of splitLines(bytes)) {
    const m = /^[$!]([A-Z0-9]{2,6}),/.exec(line.toString('latin1'));
    if (!m) continue;
    const addr = m[1]!;
    const type = addr.startsWith('P') ? addr : addr.slice(2);
    counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

/** The bytes a raw log says were received (entries re-joined with their framing LF, where they had one). */
export function rawLogBytes(file: string): { bytes: Buffer; headers: number; entries: number } {
  const decoded = decodeRawLog(readFileSync(file));
  const parts: Buffer[] = [];
  for (const e of decoded.entries) parts.push(rawLogEntryBytes(e));
  const headers = decoded.items.filter((i) => i.type === 'header').length;
  return { bytes: Buffer.concat(parts), headers, entries: decoded.entries.length };
}

export function add(into: Record<string, number>, from: Record<string, number>): Record<string, number> {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
  return into;
}
