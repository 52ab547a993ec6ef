// Text forms of the ledger for a terminal: a table of every flight, or one flight in detail.
import { formatBytes } from '@flysnap/shared';
import type { FlightStatus } from './read-status.js';

/** `2026-12-08 05:12:03Z` (UTC, to the second), or '-' for none. */
export function formatTime(tUs: number | null | undefined): string {
  if (tUs === null || tUs === undefined) return '-';
  return `${new Date(Math.floor(tUs / 1000)).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

/** One cell per link: "verified 2026-…Z", "how …", or '-'. */
function linkCells(s: FlightStatus): { archived: string; uploaded: string; tape: string; wiped: string } {
  const f = s.facts;
  return {
    archived: f.verifiedArchive ? formatTime(f.verifiedArchive.tUs) : s.archives.length > 0 ? 'VERIFY FAILED' : '-',
    uploaded: f.verifiedUpload ? `${formatTime(f.verifiedUpload.tUs)} (${f.verifiedUpload.how})` : '-',
    tape: f.verifiedTape ? `${f.verifiedTape.label} ${formatTime(f.verifiedTape.tUs)}` : '-',
    wiped: f.wipedTUs !== null ? formatTime(f.wipedTUs) : '-',
  };
}

export function formatStatusTable(all: readonly FlightStatus[]): string {
  if (all.length === 0) return 'No flight in this ledger yet: `ingest-cli archive ARRAY` records one.';
  const rows = [['FLIGHT', 'AIRCRAFT', 'FILES', 'SIZE', 'STATE', 'ARCHIVED', 'UPLOADED', 'ON TAPE', 'WIPED']];
  for (const s of all) {
    const a = s.archives.at(-1);
    const c = linkCells(s);
    rows.push([
      s.flight.id,
      s.flight.aircraft ?? '-',
      a ? String(a.fileCount) : '-',
      a ? formatBytes(a.sizeBytes) : '-',
      s.flight.state,
      c.archived,
      c.uploaded,
      c.tape,
      c.wiped,
    ]);
  }
  return table(rows);
}

export function formatFlightDetail(s: FlightStatus): string {
  const c = linkCells(s);
  const lines = [
    `flight     ${s.flight.id}`,
    `aircraft   ${s.flight.aircraft ?? '-'}`,
    `recorded   ${formatTime(s.flight.startedTUs)} to ${formatTime(s.flight.endedTUs)}`,
    `state      ${s.flight.state} (since ${formatTime(s.flight.stateTUs)})`,
    `array      ${s.flight.lastArrayPath ?? '-'} (last seen ${formatTime(s.flight.lastSeenTUs)})`,
    `archived   ${c.archived}`,
    `uploaded   ${c.uploaded}`,
    `on tape    ${c.tape}`,
    `wiped      ${c.wiped}`,
    '',
    'archives:',
  ];
  if (s.archives.length === 0) lines.push('  none');
  for (const a of s.archives) {
    lines.push(
      `  #${a.id} ${a.path}`,
      `     ${a.fileCount} files, ${formatBytes(a.sizeBytes)}, sha256 ${a.sha256}`,
      `     made ${formatTime(a.createdTUs)}; last verify ${a.verifyStatus} ${formatTime(a.verifyTUs)}` +
        (a.mismatchCount > 0 ? `; ${a.mismatchCount} mismatch(es) accepted` : '') +
        (a.isTapeWanted ? '' : '; not for tape (--no-tape)'),
    );
  }
  lines.push('', 'history:');
  for (const h of s.history) {
    lines.push(`  ${formatTime(h.startedTUs)}  ${h.step.padEnd(12)} ${h.outcome.padEnd(8)} ${h.who}${h.error ? `  ${h.error}` : ''}`);
  }
  return lines.join('\n');
}
