// report.html: one self-contained page. Every figure is inline SVG (the same text as its .svg
// file), the style is inline, there is no script, and the Content-Security-Policy forbids every
// request: a browser opening the file from a USB stick in the bay fetches nothing. Pure.
import type { Custody } from './custody.js';
import type { FigureName, Figures } from './figures.js';
import type { ClockFitPoint, FlightData, Gap, RejectedCount } from './model.js';
import { clockUtc, formatDurationUs, isoUtc } from './time.js';

/** Text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** No request of any kind: styles only inline, images only inline (the SVGs are inline elements anyway). */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** At most this many rows of clock fits in the table (evenly spread, first and last kept): a 4-hour flight has ~1,400 fits. */
export const CLOCK_TABLE_ROWS = 24;

export interface PageInput {
  data: FlightData;
  custody: Custody;
  figures: Figures;
  unposed: { device: string; reason: string; count: number }[];
  extraQualityFields: { field: string; count: number }[];
  /** Where the flight DB was read from, and whether a temporary copy was used. */
  source: { arrayPath: string; isCopy: boolean };
  generatedTUs: number;
  generator: string;
}

function table(headers: readonly string[], rows: readonly string[][], options: { className?: string; empty: string; rowAttrs?: readonly string[] }): string {
  if (rows.length === 0) return `<p class="empty">${escapeHtml(options.empty)}</p>`;
  const head = `<tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = rows.map((r, i) => `<tr${options.rowAttrs?.[i] ?? ''}>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table${options.className ? ` class="${options.className}"` : ''}><thead>${head}</thead><tbody>\n${body}\n</tbody></table>`;
}

function figure(figures: Figures, name: FigureName, caption: string): string {
  return `<figure id="fig-${escapeHtml(name.replace(/\.svg$/, ''))}">${figures[name]}<figcaption>${escapeHtml(caption)} <a href="${escapeHtml(name)}">${escapeHtml(name)}</a></figcaption></figure>`;
}

/** Evenly spread rows, first and last kept. */
export function spreadRows<T>(rows: readonly T[], max: number): T[] {
  if (rows.length <= max) return [...rows];
  const out: T[] = [];
  for (let k = 0; k < max; k++) out.push(rows[Math.round((k * (rows.length - 1)) / (max - 1))]!);
  return out;
}

function gapRows(gaps: readonly Gap[]): { rows: string[][]; attrs: string[] } {
  return {
    rows: gaps.map((g) => [
      escapeHtml(g.instrument),
      escapeHtml(g.port),
      g.kind === 'data' ? 'no data' : 'port down',
      escapeHtml(clockUtc(g.fromTUs)),
      escapeHtml(clockUtc(g.toTUs)),
      escapeHtml(formatDurationUs(g.toTUs - g.fromTUs)),
    ]),
    attrs: gaps.map((g) => ` data-instrument="${escapeHtml(g.instrument)}" data-kind="${g.kind}" data-from-t-us="${g.fromTUs}" data-to-t-us="${g.toTUs}"`),
  };
}

function rejectedRows(rejected: readonly RejectedCount[]): string[][] {
  return rejected.map((r) => [escapeHtml(r.port), escapeHtml(r.reason), String(r.count)]);
}

function clockRows(fits: readonly ClockFitPoint[]): string[][] {
  return spreadRows(fits, CLOCK_TABLE_ROWS).map((f) => [escapeHtml(clockUtc(f.fittedTUs)), f.driftPpm.toFixed(3), (f.uncertaintyUs / 1000).toFixed(3), String(f.pairs)]);
}

const STYLE = `
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 1.5em auto; max-width: 940px; color: #222; background: #fff; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
.meta { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.88em; margin: 0.4em 0; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; } th { background: #f3f3f3; }
figure { margin: 0.8em 0; } figcaption { font-size: 0.85em; color: #555; }
svg { max-width: 100%; height: auto; }
.verdict { font-size: 1.1em; font-weight: bold; padding: 0.4em 0.7em; display: inline-block; border-radius: 4px; }
.verdict.safe { background: #dff0d8; color: #255d25; } .verdict.unsafe { background: #f8d7da; color: #7a1c24; }
.empty { color: #555; font-style: italic; }
.numbers td:last-child { text-align: right; }
`;

export function buildPage(input: PageInput): string {
  const { data, custody, figures } = input;
  const posed = data.pictures.filter((p) => p.latDeg !== null && p.lonDeg !== null).length;
  const gaps = gapRows(data.gaps);
  const title = `Flight ${data.flightId}`;
  const lastTUs = data.endedTUs ?? data.track[data.track.length - 1]?.tUs ?? data.startedTUs;
  const custodyTable = table(
    ['link', 'done', 'how', 'when (UTC)'],
    custody.rows.map((r) => [escapeHtml(r.link), r.isDone ? 'yes' : 'no', escapeHtml(r.detail ?? '—'), r.tUs === null ? '—' : escapeHtml(isoUtc(r.tUs))]),
    { empty: 'No ledger in this state folder knows the flight: not archived.' },
  );
  const ports = table(
    ['port', 'role', 'lines received', 'status at the end'],
    data.ports.map((p) => [escapeHtml(p.name), escapeHtml(p.role), String(p.linesReceived), escapeHtml(p.status)]),
    { empty: 'No serial port recorded.' },
  );
  const sections = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="meta">aircraft ${escapeHtml(data.aircraft ?? 'unknown')} · ${escapeHtml(isoUtc(data.startedTUs))} → ${escapeHtml(data.endedTUs === null ? 'not ended' : isoUtc(data.endedTUs))} (${escapeHtml(formatDurationUs(lastTUs - data.startedTUs))}) · ` +
      `${data.pictures.length} pictures, <span id="posed-count">${posed}</span> with a position · ${data.track.length} GPS epochs with a fix · ${data.gaps.length} gaps<br>` +
      `read from ${escapeHtml(input.source.arrayPath)}${input.source.isCopy ? ' (a temporary copy of its flight DB and WAL: the media is read-only)' : ''} · made ${escapeHtml(isoUtc(input.generatedTUs))} by ${escapeHtml(input.generator)}</p>`,
    `<h2>Chain of custody</h2>`,
    `<p><span id="verdict" class="verdict ${custody.isSafeToWipe ? 'safe' : 'unsafe'}">${escapeHtml(custody.verdict)}</span></p>`,
    custodyTable,
    `<h2>Track and pictures</h2>`,
    figure(figures, 'track-map.svg', 'Track on a local projection (metres east and north of the survey centre; north up). Breaks in the track are GPS gaps (dashed red), orange stretches are compass or altimeter gaps; each dot is a picture, colored by camera.'),
    `<h2>Gaps and dropouts</h2>`,
    table(['instrument', 'port', 'what', 'from (UTC)', 'to (UTC)', 'how long'], gaps.rows, { className: 'gaps', empty: 'No gap in any instrument’s data.', rowAttrs: gaps.attrs }),
    `<h2>Altitude</h2>`,
    figure(figures, 'altitude.svg', 'GPS altitude above mean sea level (GGA) and pressure altitude (altimeter), metres.'),
    `<h2>GPS quality</h2>`,
    figure(figures, 'fix-quality.svg', 'Fix quality (GGA code: 1 GPS, 2 DGPS, 4 RTK fixed, 5 RTK float; lowest per time bucket).'),
    figure(figures, 'satellites.svg', 'Satellites used (fewest per time bucket).'),
    figure(figures, 'hdop.svg', `HDOP (highest per time bucket); above 3 shaded.`),
    `<h2>Pictures</h2>`,
    figure(figures, 'picture-intervals.svg', 'Time between consecutive pictures of each camera: a missed trigger or a skipped line shows as a spike.'),
    `<h3>Pictures without a position, by reason</h3>`,
    table(['camera', 'reason', 'pictures'], input.unposed.map((u) => [escapeHtml(u.device), escapeHtml(u.reason), String(u.count)]), { className: 'numbers unposed', empty: 'Every picture has a position.' }),
    ...(input.extraQualityFields.length > 0
      ? [`<h3>Further pose-quality fields recorded</h3>`, table(['field', 'pictures'], input.extraQualityFields.map((f) => [escapeHtml(f.field), String(f.count)]), { className: 'numbers', empty: '' }), `<p class="meta">As the capture side stored them; every value is in track.geojson (property poseQuality).</p>`]
      : []),
    `<h2>Rejected lines, by port and reason</h2>`,
    table(['port', 'reason', 'lines'], rejectedRows(data.rejected), { className: 'numbers rejected', empty: 'No line was rejected.' }),
    `<h2>Serial ports</h2>`,
    ports,
    `<h2>Flight clock</h2>`,
    figure(figures, 'clock-uncertainty.svg', 'Uncertainty of the flight clock (capture machine → UTC), ms.'),
    table(['fitted at (UTC)', 'drift (ppm)', 'uncertainty (ms)', 'pairs'], clockRows(data.clockFits), { className: 'numbers', empty: 'No clock fit: sample and picture times come from the capture machine’s own clock.' }),
    data.clockFits.length > CLOCK_TABLE_ROWS ? `<p class="meta">${CLOCK_TABLE_ROWS} of ${data.clockFits.length} fits, evenly spread.</p>` : '',
    `<h2>Exports</h2>`,
    `<p><a href="track.geojson">track.geojson</a> (RFC 7946: the track and one point per picture) · <a href="flight.kml">flight.kml</a> (gx:Track with times: Google Earth plays the flight)</p>`,
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(CONTENT_SECURITY_POLICY)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${sections.filter((s) => s !== '').join('\n')}
</body>
</html>
`;
}
