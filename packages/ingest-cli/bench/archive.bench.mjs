// `ingest-cli archive` against GNU tar, in the same run, on the same disk (issue 13):
// a 2 GiB array (400 pictures of 5 MiB, incompressible, + a flight DB + serial logs) archived to a
// file beside it; time ÷ `tar -cf FILE` (target ≤ 1.15: the archive pass only — hash as it reads,
// gzip members meanwhile; the read-back verify before the archive is put in place is printed
// apart), throughput, peak RSS (target < 200 MB), and peak RSS of a 4 GiB array (memory must not
// grow with the array). Never `tar` to /dev/null: GNU tar skips reading then.
//
// BENCH_DIR (default: a folder under /var/tmp, a disk), BENCH_PICTURES (400), BENCH_PICTURE_MIB (5),
// BENCH_BIG=0 skips the 4 GiB run. Both sides run warm (the array in the page cache), best of 2.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARRAY_LAYOUT_VERSION, insertAsset, insertFlight, insertNavSamples, openFlightDb, writeArrayMarker, writeTransaction, createHasher } from '@flysnap/shared';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const base = mkdtempSync(join(process.env.BENCH_DIR ?? '/var/tmp', 'flysnap-archive-bench-'));
const pictures = Number(process.env.BENCH_PICTURES ?? 400);
const pictureBytes = Number(process.env.BENCH_PICTURE_MIB ?? 5) * 1024 * 1024;

async function makeArray(root, count) {
  mkdirSync(join(root, 'cameras', 'cam1'), { recursive: true });
  mkdirSync(join(root, 'serial'), { recursive: true });
  await writeArrayMarker(root, { layoutVersion: ARRAY_LAYOUT_VERSION, flightId: 'BENCH-1', createdTUs: 1 });
  const db = openFlightDb(join(root, 'flight.db'), { create: true });
  insertFlight(db, { id: 'BENCH-1', aircraft: 'D-BNCH', startedTUs: 1, endedTUs: 2, layoutVersion: ARRAY_LAYOUT_VERSION, createdBy: 'bench' });
  const buf = Buffer.alloc(pictureBytes);
  const rows = [];
  for (let i = 0; i < count; i++) {
    randomFillSync(buf);
    const h = createHasher();
    h.update(buf);
    const fd = openSync(join(root, 'cameras', 'cam1', `IMG_${String(i).padStart(5, '0')}.JPG`), 'w');
    writeSync(fd, buf);
    closeSync(fd);
    rows.push({ rel: `IMG_${String(i).padStart(5, '0')}.JPG`, sha: h.digest().sha256 });
  }
  writeTransaction(db, () => {
    for (const r of rows) insertAsset(db, { device: 'cam1', relPath: r.rel, sizeBytes: pictureBytes, sha256: r.sha, captureTUs: null, timeSource: null, appearedTUs: null, appearedMonoUs: null, recordedTUs: 1, status: 'complete', latDeg: null, lonDeg: null, altitudeM: null, pressureAltitudeM: null, headingDeg: null, speedMps: null, trackDeg: null, poseQuality: null });
  });
  // ~30 MB of flight DB (samples) and ~25 MB of NMEA text, like a couple of hours of flight.
  db.db.exec("INSERT INTO port (name, role, path, baud_rate, status, status_t_us) VALUES ('gps', 'gps', '/dev/x', 38400, 'closed', 1)");
  const samples = [];
  for (let i = 0; i < 200_000; i++) samples.push({ sample: { kind: 'position', tUs: 1_000_000 + i * 100_000, sentence: 'GGA', talker: 'GP', latDeg: 50 + i * 1e-6, lonDeg: 8 + i * 1e-6, altitudeM: 300, fixQuality: 1, satellites: 9, hdop: 0.9 }, tUs: 1_000_000 + i * 100_000, tSource: 'sentence', port: 'gps', rawOffset: i * 80, receivedMonoUs: i });
  writeTransaction(db, () => insertNavSamples(db, samples));
  db.close();
  const line = '$GPGGA,123519.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n';
  writeSync(openSync(join(root, 'serial', 'gps.log'), 'w'), line.repeat(350_000));
}

function time(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  const rssKiB = Number(r.stderr.trim().split('\n').at(-1));
  return { s, rssMiB: rssKiB / 1024, stdout: r.stdout };
}

function archiveOnce(root, runDir) {
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const r = time(process.execPath, [cli, 'archive', root, '--state-dir', runDir, '--no-upload', '--no-tape', '--json']);
  const out = JSON.parse(r.stdout);
  return { ...r, sizeBytes: out.sizeBytes };
}

function tarOnce(root, file) {
  rmSync(file, { force: true });
  const r = time('tar', ['-cf', file, '-C', root, '.']);
  execFileSync('sync');
  return r;
}

try {
  const root = join(base, 'array');
  console.log(`making a ${pictures} × ${pictureBytes / 1048576} MiB array in ${root} …`);
  await makeArray(root, pictures);
  const tarFile = join(base, 'baseline.tar');
  tarOnce(root, tarFile); // warm the page cache for both sides
  const tars = [];
  const archives = [];
  for (let i = 0; i < 2; i++) {
    tars.push(tarOnce(root, tarFile));
    rmSync(tarFile, { force: true });
    archives.push(archiveOnce(root, join(base, 'state')));
    execFileSync('sync');
  }
  const tar = Math.min(...tars.map((t) => t.s));
  const best = archives.reduce((a, b) => (a.s < b.s ? a : b));
  const gib = best.sizeBytes / 1024 ** 3;
  console.log(`tar -cf FILE:           ${tar.toFixed(2)} s (best of 2)`);
  console.log(`ingest-cli archive:     ${best.s.toFixed(2)} s (best of 2; includes the read-back verify), ${(gib / best.s * 1024).toFixed(0)} MiB/s`);
  console.log(`ratio archive ÷ tar:    ${(best.s / tar).toFixed(2)} (target ≤ 1.15)`);
  console.log(`peak RSS, 2 GiB array:  ${best.rssMiB.toFixed(0)} MB (target < 200 MB)`);
  rmSync(join(base, 'state'), { recursive: true, force: true });
  if (process.env.BENCH_BIG !== '0') {
    const big = join(base, 'array4g');
    console.log(`making a ${pictures * 2}-picture (4 GiB) array …`);
    rmSync(root, { recursive: true, force: true });
    await makeArray(big, pictures * 2);
    const r = archiveOnce(big, join(base, 'state4g'));
    console.log(`peak RSS, 4 GiB array:  ${r.rssMiB.toFixed(0)} MB (must not grow with the array: 2 GiB gave ${best.rssMiB.toFixed(0)} MB)`);
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
