// Benchmark of `ingest-cli report` on a 4-hour flight: 10 Hz GPS (RMC + GGA + VTG), 10 Hz compass,
// 1 Hz altimeter and GSA — ~600,000 samples — and 3 cameras every 3 s (14,400 pictures), written
// straight into a flight DB with @flysnap/shared's write helpers (flying 4 h would take 4 h).
// The report runs in a child process so its peak RSS is its own; it prints each phase and, as the
// baseline of the same run, a bare better-sqlite3 scan of every nav_sample row.
//
// Usage: node bench/report.mjs   (after pnpm exec tsc -b; BENCH_KEEP=1 keeps the files)
import { ARRAY_LAYOUT_VERSION, insertAsset, insertClockFit, insertFlight, NavSampleBatch, insertNavSampleColumns, openFlightDb, upsertPort, writeTransaction } from '@flysnap/shared';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HOURS = 4;
const GPS_HZ = 10;
const CAMERAS = ['cam1', 'cam2', 'cam3'];
const PICTURE_INTERVAL_S = 3;
const T0_US = Date.UTC(2026, 5, 1, 8) * 1000;
const LAT0 = 50.1;
const LON0 = 8.6;

/** Survey lines 6 km long, 150 m apart, at 60 m/s, joined by turns (enough shape for the drawing). */
function positionAt(s) {
  const lineS = 6000 / 60;
  const line = Math.floor(s / lineS);
  const along = ((s % lineS) / lineS) * 6000;
  const east = line % 2 === 0 ? along : 6000 - along;
  const north = (line % 40) * 150 + Math.sin(s / 7) * 3;
  return { latDeg: LAT0 + north / 111_195, lonDeg: LON0 + east / (111_195 * Math.cos((LAT0 * Math.PI) / 180)) };
}

function generate(arrayRoot) {
  const db = openFlightDb(join(arrayRoot, 'flight.db'), { create: true });
  const seconds = HOURS * 3600;
  const endUs = T0_US + seconds * 1e6;
  let samples = 0;
  let pictures = 0;
  writeTransaction(db, () => {
    insertFlight(db, { id: 'BENCH-4H', aircraft: 'D-BNCH', startedTUs: T0_US, endedTUs: endUs, layoutVersion: ARRAY_LAYOUT_VERSION, createdBy: 'report bench' });
    for (const [name, role] of [['gps', 'gps'], ['compass', 'compass'], ['alt', 'altimeter']]) upsertPort(db, { name, role, path: `/dev/${name}`, baudRate: 38400, status: 'closed', lastError: null, statusTUs: endUs });
  });
  const base = { rawOffset: null, receivedMonoUs: null };
  for (let fromS = 0; fromS < seconds; fromS += 600) {
    const batch = new NavSampleBatch(80_000);
    for (let k = fromS * GPS_HZ; k < Math.min(seconds, fromS + 600) * GPS_HZ; k++) {
      const s = k / GPS_HZ;
      const tUs = T0_US + k * (1e6 / GPS_HZ);
      // A GPS dropout of 20 s every hour, as a weak antenna would give.
      const isDropout = s % 3600 > 1800 && s % 3600 < 1820;
      if (!isDropout) {
        const { latDeg, lonDeg } = positionAt(s);
        batch.add({ ...base, sample: { kind: 'position', sentence: 'GGA', talker: 'GP', tUs, latDeg, lonDeg, altitudeM: 900 + Math.sin(s / 300) * 20, fixQuality: 1, satellites: 8 + (k % 5), hdop: 0.8 + (s % 1000 < 30 ? 3 : 0) }, tUs, tSource: 'sentence', port: 'gps' });
        batch.add({ ...base, sample: { kind: 'position', sentence: 'RMC', talker: 'GP', tUs, latDeg, lonDeg, altitudeM: null, fixQuality: 1, satellites: null, hdop: null }, tUs, tSource: 'sentence', port: 'gps' });
        batch.add({ ...base, sample: { kind: 'velocity', sentence: 'VTG', talker: 'GP', tUs, speedMps: 60, trackDeg: 90 }, tUs, tSource: 'sentence', port: 'gps' });
      }
      batch.add({ ...base, sample: { kind: 'heading', sentence: 'HDT', talker: 'HE', tUs: null, headingDeg: 90, reference: 'true' }, tUs: tUs + 2000, tSource: 'flight-clock', port: 'compass' });
      if (k % GPS_HZ === 0) {
        batch.add({ ...base, sample: { kind: 'pressure-altitude', sentence: 'PGRMZ', talker: '', tUs: null, altitudeM: 880 + Math.sin(s / 300) * 20 }, tUs: tUs + 4000, tSource: 'flight-clock', port: 'alt' });
        batch.add({ ...base, sample: { kind: 'dop', sentence: 'GSA', talker: 'GP', tUs: null, fixMode: 3, pdop: 1.5, hdop: 0.8, vdop: 1.2 }, tUs, tSource: 'flight-clock', port: 'gps' });
      }
    }
    samples += insertNavSampleColumns(db, batch.columns());
  }
  writeTransaction(db, () => {
    for (let s = 10; s < seconds; s += 10) insertClockFit(db, { fittedMonoUs: s * 1e6, fittedTUs: T0_US + s * 1e6, offsetUs: T0_US, driftPpm: 2 + Math.sin(s / 1000), uncertaintyUs: 900 + (s % 700), pairs: 60, port: 'gps' });
    let n = 0;
    for (let s = 1; s < seconds; s += PICTURE_INTERVAL_S) {
      for (const device of CAMERAS) {
        n += 1;
        const tUs = T0_US + Math.round(s * 1e6);
        const isDropout = s % 3600 > 1800 && s % 3600 < 1820;
        const p = positionAt(s);
        insertAsset(db, {
          device, relPath: `IMG_${String(n).padStart(6, '0')}.jpg`, sizeBytes: 5_000_000, sha256: n.toString(16).padStart(64, '0'),
          captureTUs: tUs, timeSource: 'exif', appearedTUs: tUs, appearedMonoUs: null, recordedTUs: tUs, status: 'complete',
          latDeg: isDropout ? null : p.latDeg, lonDeg: isDropout ? null : p.lonDeg, altitudeM: isDropout ? null : 900, pressureAltitudeM: 880,
          headingDeg: 90, speedMps: 60, trackDeg: 90,
          poseQuality: isDropout ? { isAwaitingData: false, missing: { latDeg: 'gap', lonDeg: 'gap' } } : { isAwaitingData: false, missing: {} },
        });
        pictures += 1;
      }
    }
  });
  db.close();
  return { samples, pictures };
}

const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;

async function child(arrayRoot, outDir) {
  const { openArrayFlightDb } = await import(dist('report/open-db.js'));
  const { extractFlightData } = await import(dist('report/extract.js'));
  const { buildReportFiles } = await import(dist('report/build.js'));
  const { custodyFromFacts } = await import(dist('report/custody.js'));
  const { writeReportFiles } = await import(dist('report/write.js'));
  const t0 = performance.now();
  const opened = openArrayFlightDb(arrayRoot);
  const data = extractFlightData(opened.db);
  opened.close();
  const t1 = performance.now();
  const files = buildReportFiles({ data, custody: custodyFromFacts(null), source: { arrayPath: arrayRoot, isCopy: false }, generatedTUs: Date.now() * 1000, generator: 'bench' });
  const t2 = performance.now();
  writeReportFiles(outDir, files);
  const t3 = performance.now();
  // Baseline: every nav_sample row read by a bare SELECT, nothing else.
  const db = openFlightDb(join(arrayRoot, 'flight.db'), { readonly: true });
  const b0 = performance.now();
  let rows = 0;
  for (const _ of db.db.prepare('SELECT * FROM nav_sample ORDER BY t_us, id').iterate()) rows += 1;
  const b1 = performance.now();
  db.close();
  process.stdout.write(JSON.stringify({ extractMs: t1 - t0, buildMs: t2 - t1, writeMs: t3 - t2, totalMs: t3 - t0, maxRssMiB: process.resourceUsage().maxRSS / 1024, baselineScanMs: b1 - b0, baselineRows: rows, trackPoints: data.track.length }));
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4]);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'report-bench-'));
  try {
    const g0 = performance.now();
    const { samples, pictures } = generate(dir);
    const genS = (performance.now() - g0) / 1000;
    const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', dir, join(dir, 'report')], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`report child failed: ${run.stderr}`);
    const r = JSON.parse(run.stdout);
    const size = (f) => (statSync(join(dir, 'report', f)).size / 1024 / 1024).toFixed(1);
    process.stdout.write(
      `report of a ${HOURS} h flight (${samples.toLocaleString('en')} samples, ${pictures.toLocaleString('en')} pictures, ${r.trackPoints.toLocaleString('en')} GPS epochs; DB made in ${genS.toFixed(1)} s): ` +
        `${(r.totalMs / 1000).toFixed(2)} s (read ${(r.extractMs / 1000).toFixed(2)} s, figures + page + exports ${(r.buildMs / 1000).toFixed(2)} s, write ${(r.writeMs / 1000).toFixed(2)} s), ` +
        `peak RSS ${r.maxRssMiB.toFixed(0)} MiB; report.html ${size('report.html')} MiB, track.geojson ${size('track.geojson')} MiB, flight.kml ${size('flight.kml')} MiB; ` +
        `baseline: bare scan of ${r.baselineRows.toLocaleString('en')} nav_sample rows ${(r.baselineScanMs / 1000).toFixed(2)} s\n`,
    );
  } finally {
    if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`kept ${dir}\n`);
  }
}
