// Checks a recorded demo flight against the simulator's ground truth and prints one JSON object:
// every picture the simulator finished is an asset exactly once, its SHA-256 matches the file,
// and the pose error (position, heading wrap-aware, GPS altitude) is within the bounds.
// A picture may lack a pose only when its pose quality says why (e.g. 'gap-too-large' while the
// GPS was unplugged): a missing pose without a reason is a failure.
//
// Usage: node scripts/demo-check.mjs FLIGHT_DIR   (FLIGHT_DIR = hardware-sim flight --out)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { arrayPaths, assetPath, openFlightDb, readAssets, sha256File } from '../packages/shared/dist/index.js';

/** Bounds from issue 5: 0.5 m position, 0.5° heading, 1 m altitude. */
const MAX_POSITION_ERROR_M = 0.5;
const MAX_HEADING_ERROR_DEG = 0.5;
const MAX_ALTITUDE_ERROR_M = 1;
const EARTH_RADIUS_M = 6_371_008.8;

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node scripts/demo-check.mjs FLIGHT_DIR\n');
  process.exit(2);
}
const arrayRoot = join(dir, 'array');
const truth = readFileSync(join(dir, 'truth/triggers.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l))
  .filter((t) => t.isComplete);

const db = openFlightDb(arrayPaths(arrayRoot).flightDb, { readonly: true });
const assets = readAssets(db).filter((a) => a.status === 'complete');
db.close();

const rad = (d) => (d * Math.PI) / 180;
function distanceM(lat1, lon1, lat2, lon2) {
  const dLat = rad(lat2 - lat1);
  const dLon = rad(lon2 - lon1);
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(a));
}
const angleDiffDeg = (a, b) => Math.abs(((a - b + 540) % 360) - 180);

const problems = [];
let missing = 0;
let duplicated = 0;
let recorded = 0;
/** Pictures without a pose, by the reason their pose quality gives. */
const withoutPose = {};
let maxPositionErrorM = 0;
let maxHeadingErrorDeg = 0;
let maxAltitudeErrorM = 0;
for (const t of truth) {
  const rows = assets.filter((a) => a.device === t.device && a.relPath === t.relPath);
  if (rows.length === 0) {
    missing++;
    problems.push(`${t.device}/${t.relPath} not recorded`);
    continue;
  }
  if (rows.length > 1) {
    duplicated++;
    problems.push(`${t.device}/${t.relPath} recorded ${rows.length} times`);
  }
  const a = rows[0];
  const onDisk = await sha256File(assetPath(arrayRoot, a.device, a.relPath));
  if (onDisk.sha256 !== a.sha256 || onDisk.sizeBytes !== a.sizeBytes) {
    problems.push(`${t.device}/${t.relPath}: recorded hash/size differ from the file`);
    continue;
  }
  recorded++;
  if (a.latDeg === null || a.lonDeg === null || a.headingDeg === null || a.altitudeM === null) {
    const missing = a.poseQuality?.missing ?? {};
    const field = a.latDeg === null ? 'latDeg' : a.headingDeg === null ? 'headingDeg' : 'altitudeM';
    const reason = missing[field];
    if (typeof reason !== 'string' || a.poseQuality?.isAwaitingData) {
      problems.push(`${t.device}/${t.relPath}: no pose and no final reason (${JSON.stringify(a.poseQuality)})`);
    }
    withoutPose[reason ?? 'none'] = (withoutPose[reason ?? 'none'] ?? 0) + 1;
    continue;
  }
  maxPositionErrorM = Math.max(maxPositionErrorM, distanceM(a.latDeg, a.lonDeg, t.latDeg, t.lonDeg));
  maxHeadingErrorDeg = Math.max(maxHeadingErrorDeg, angleDiffDeg(a.headingDeg, t.headingDeg));
  maxAltitudeErrorM = Math.max(maxAltitudeErrorM, Math.abs(a.altitudeM - t.altitudeM));
}
if (truth.length === 0) problems.push('the simulator took no pictures');
if (maxPositionErrorM > MAX_POSITION_ERROR_M) problems.push(`position error ${maxPositionErrorM.toFixed(3)} m`);
if (maxHeadingErrorDeg > MAX_HEADING_ERROR_DEG) problems.push(`heading error ${maxHeadingErrorDeg.toFixed(3)} deg`);
if (maxAltitudeErrorM > MAX_ALTITUDE_ERROR_M) problems.push(`altitude error ${maxAltitudeErrorM.toFixed(3)} m`);

process.stdout.write(
  JSON.stringify({
    ok: problems.length === 0,
    pictures: truth.length,
    recorded,
    missing,
    duplicated,
    withoutPose,
    maxPositionErrorM,
    maxHeadingErrorDeg,
    maxAltitudeErrorM,
    problems,
  }) + '\n',
);
