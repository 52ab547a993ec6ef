// pnpm bench: replay-decode speed into the flight DB (sentences/s end to end: read, frame, decode,
// clock, batched SQLite inserts) and its peak RSS, beside nmea-simple's raw parse rate
// (parseNmeaSentence, no storage) on the same lines in the same run. Not a test: prints figures.
//
// Input: a synthetic flight generated here (no big files in the repo): GPS at 10 Hz (GGA, RMC, VTG;
// GSA and ZDA at 1 Hz), compass HDT at 10 Hz, altimeter PGRMZ at 1 Hz, written as the agent's raw
// logs (monotonic + UTC receive times, as `run` writes them). Default 4 h: BENCH_HOURS=0.5 for less.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NmeaDecoder, nmeaSentence } from '@flysnap/shared';
import { RawLogWriter } from '../dist/rawlog/index.js';

const HOURS = Number(process.env.BENCH_HOURS ?? 4);
const HZ = 10;
const TARGET_PER_S = 200_000;

// nmea-simple is the shared package's dependency (the baseline here: the decoder no longer runs it
// since it parses the raw fields itself); resolve it from there rather than declaring it twice.
const requireFromShared = createRequire(fileURLToPath(import.meta.resolve('@flysnap/shared')));
const { parseNmeaSentence } = requireFromShared('nmea-simple');

function pad(n, w) {
  return String(n).padStart(w, '0');
}
function ddmm(deg, degDigits) {
  const a = Math.abs(deg);
  const d = Math.floor(a);
  const m = (a - d) * 60;
  return `${pad(d, degDigits)}${m.toFixed(5).padStart(8, '0')}`;
}

/** One synthetic survey flight: straight lines at ~60 m/s with turns, times at 10 Hz. */
function* epochs(count, startUs) {
  let lat = 48.1;
  let lon = 11.5;
  let headingDeg = 90;
  for (let i = 0; i < count; i++) {
    const tUs = startUs + i * (1e6 / HZ);
    if (i % 3000 === 0) headingDeg = (headingDeg + 180) % 360;
    const speedMps = 60;
    lat += (speedMps / HZ) * Math.cos((headingDeg * Math.PI) / 180) / 111_320;
    lon += (speedMps / HZ) * Math.sin((headingDeg * Math.PI) / 180) / (111_320 * Math.cos((lat * Math.PI) / 180));
    yield { i, tUs, lat, lon, headingDeg, speedMps, altM: 1500 + 20 * Math.sin(i / 500) };
  }
}

function generate(dir) {
  const count = Math.round(HOURS * 3600 * HZ);
  const startUs = Date.UTC(2024, 5, 1, 8, 0, 0) * 1000;
  const monoStartUs = 3_600_000_000;
  const gps = new RawLogWriter(join(dir, 'gps.log'), { port: 'gps', header: { role: 'gps' } });
  const compass = new RawLogWriter(join(dir, 'compass.log'), { port: 'compass', header: { role: 'compass' } });
  const alt = new RawLogWriter(join(dir, 'altimeter.log'), { port: 'altimeter', header: { role: 'altimeter' } });
  const lines = [];
  const keepForBaseline = (s) => {
    if (lines.length < 2_000_000) lines.push(s);
  };
  for (const e of epochs(count, startUs)) {
    const d = new Date(e.tUs / 1000);
    const hhmmss = `${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds() / 10, 2)}`;
    const ddmmyy = `${pad(d.getUTCDate(), 2)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCFullYear() % 100, 2)}`;
    const lat = `${ddmm(e.lat, 2)},${e.lat >= 0 ? 'N' : 'S'}`;
    const lon = `${ddmm(e.lon, 3)},${e.lon >= 0 ? 'E' : 'W'}`;
    const kn = (e.speedMps / 0.514444).toFixed(2);
    const sentences = [
      nmeaSentence(`GPGGA,${hhmmss},${lat},${lon},1,12,0.8,${e.altM.toFixed(1)},M,47.0,M,,`),
      nmeaSentence(`GPRMC,${hhmmss},A,${lat},${lon},${kn},${e.headingDeg.toFixed(1)},${ddmmyy},2.1,E,A`),
      nmeaSentence(`GPVTG,${e.headingDeg.toFixed(1)},T,,M,${kn},N,${(e.speedMps * 3.6).toFixed(2)},K,A`),
    ];
    if (e.i % HZ === 0) {
      sentences.push(nmeaSentence('GPGSA,A,3,01,02,03,04,05,06,07,08,09,10,11,12,1.5,0.8,1.2'));
      sentences.push(nmeaSentence(`GPZDA,${hhmmss},${pad(d.getUTCDate(), 2)},${pad(d.getUTCMonth() + 1, 2)},${d.getUTCFullYear()},00,00`));
    }
    const monoUs = monoStartUs + (e.tUs - startUs) + 15_000; // arrives 15 ms after the epoch
    sentences.forEach((s, k) => {
      gps.append(monoUs + k * 2000, e.tUs + 15_000 + k * 2000, Buffer.from(`${s}\r`, 'latin1'));
      keepForBaseline(s);
    });
    const hdt = nmeaSentence(`HCHDT,${((e.headingDeg + 2) % 360).toFixed(1)},T`);
    compass.append(monoUs + 5000, e.tUs + 20_000, Buffer.from(`${hdt}\r`, 'latin1'));
    keepForBaseline(hdt);
    if (e.i % HZ === 0) {
      const z = nmeaSentence(`PGRMZ,${Math.round(e.altM / 0.3048)},f,3`);
      alt.append(monoUs + 40_000, e.tUs + 55_000, Buffer.from(`${z}\r`, 'latin1'));
      keepForBaseline(z);
    }
  }
  for (const w of [gps, compass, alt]) w.close();
  return { files: [gps.path, compass.path, alt.path], lines };
}

function baseline(lines) {
  let ok = 0;
  let failed = 0;
  const start = process.hrtime.bigint();
  for (const line of lines) {
    try {
      parseNmeaSentence(line);
      ok++;
    } catch {
      failed++; // PGRMZ is not in nmea-simple
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { perS: lines.length / seconds, ok, failed, seconds };
}

/** The shared decoder alone on the same lines (no pipeline, no storage): where the time goes. */
function decoderAlone(lines) {
  const decoder = new NmeaDecoder();
  const start = process.hrtime.bigint();
  for (const line of lines) decoder.decode(line);
  return lines.length / (Number(process.hrtime.bigint() - start) / 1e9);
}

const dir = mkdtempSync(join(tmpdir(), 'capture-agent-bench-'));
try {
  process.stdout.write(`generating ${HOURS} h of 10 Hz navigation data…\n`);
  const { files, lines } = generate(dir);
  const bytes = files.reduce((n, f) => n + statSync(f).size, 0);

  const child = fileURLToPath(new URL('./replay-child.mjs', import.meta.url));
  const r = JSON.parse(execFileSync(process.execPath, [child, join(dir, 'array'), ...files], { encoding: 'utf8' }));
  const base = baseline(lines);
  const decodePerS = decoderAlone(lines);
  const perS = r.lines / r.seconds;
  const mb = (n) => `${(n / 2 ** 20).toFixed(0)} MiB`;
  process.stdout.write(
    [
      `input            ${r.lines.toLocaleString('en')} sentences in 3 raw logs (${mb(bytes)}), ${HOURS} h at ${HZ} Hz`,
      `replay → DB      ${Math.round(perS).toLocaleString('en')} sentences/s  (${r.seconds.toFixed(2)} s, ${r.samples.toLocaleString('en')} samples, peak RSS ${mb(r.maxRssBytes)})`,
      `nmea-simple      ${Math.round(base.perS).toLocaleString('en')} sentences/s  parseNmeaSentence alone, same lines (${lines.length.toLocaleString('en')}), no storage`,
      `shared decoder   ${Math.round(decodePerS).toLocaleString('en')} sentences/s  NmeaDecoder.decode alone, same lines, no storage`,
      `ratio            replay end to end / nmea-simple parse = ${(perS / base.perS).toFixed(2)}`,
      `target           ${TARGET_PER_S.toLocaleString('en')} sentences/s: ${perS >= TARGET_PER_S ? 'met' : 'NOT met'} (4 h at 10 Hz would take ${((r.lines / perS) * (4 / HOURS)).toFixed(2)} s)`,
    ].join('\n') + '\n',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
