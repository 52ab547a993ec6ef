// ExifTool's geotagging as the reference for "linear interpolation in time between the two
// nearest fixes": its own test log and expected output (see ../fixtures/pose/PROVENANCE.md).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { TimedSample } from '../../src/nav/types.js';
import { PoseTrack } from '../../src/pose/index.js';

const dir = fileURLToPath(new URL('../fixtures/pose/', import.meta.url));
const log = readFileSync(`${dir}exiftool-Geotag2.log`, 'utf8');
const expectedOut = readFileSync(`${dir}exiftool-Geotag2.expected.out`, 'utf8');

const KNOT_MPS = 1852 / 3600;

/** ddmm.mmmm / dddmm.mmmm + hemisphere → signed degrees. */
function nmeaAngle(value: string, hemi: string): number {
  const dot = value.indexOf('.');
  const deg = Number(value.slice(0, dot - 2));
  const min = Number(value.slice(dot - 2));
  const v = deg + min / 60;
  return hemi === 'S' || hemi === 'W' ? -v : v;
}

/**
 * The RMC lines parsed by hand (not with the project's decoder), and the $PTNTHPR heading that
 * follows each RMC given that RMC's time, which is how ExifTool's expected Img Direction comes out.
 */
function parseLog(): { samples: TimedSample[]; rmcCount: number } {
  const samples: TimedSample[] = [];
  let lastRmcTUs: number | null = null;
  let rmcCount = 0;
  for (const line of log.split(/\r?\n/)) {
    const body = line.split('*')[0]!;
    const f = body.split(',');
    if (f[0] === '$GPRMC' && f[2] === 'A') {
      rmcCount++;
      const hhmmss = f[1]!;
      const ddmmyy = f[9]!;
      const tUs =
        Date.UTC(
          2000 + Number(ddmmyy.slice(4, 6)),
          Number(ddmmyy.slice(2, 4)) - 1,
          Number(ddmmyy.slice(0, 2)),
          Number(hhmmss.slice(0, 2)),
          Number(hhmmss.slice(2, 4)),
          0,
        ) *
          1000 +
        Math.round(Number(hhmmss.slice(4)) * 1e6);
      lastRmcTUs = tUs;
      const base = { sentence: 'RMC' as const, talker: 'GP', tUs };
      samples.push({
        ...base,
        kind: 'position',
        latDeg: nmeaAngle(f[3]!, f[4]!),
        lonDeg: nmeaAngle(f[5]!, f[6]!),
        altitudeM: null,
        fixQuality: 1,
        satellites: null,
        hdop: null,
      });
      samples.push({
        ...base,
        kind: 'velocity',
        speedMps: Number(f[7]) * KNOT_MPS,
        trackDeg: Number(f[8]),
      });
    } else if (f[0] === '$PTNTHPR' && lastRmcTUs !== null) {
      samples.push({
        kind: 'heading',
        sentence: 'HDT', // stands in for the proprietary compass sentence
        talker: 'P',
        tUs: lastRmcTUs,
        headingDeg: Number(f[1]),
        reference: 'true',
      });
    }
  }
  return { samples, rmcCount };
}

/** `50 deg 40' 16.53"` → arc seconds. */
function dmsToArcsec(text: string): number {
  const m = /(\d+) deg (\d+)' ([\d.]+)"/.exec(text);
  if (m === null) throw new Error(`not a DMS angle: ${text}`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

function expected(tag: string): string {
  const line = expectedOut.split('\n').find((l) => l.includes(`- ${tag}: `));
  if (line === undefined) throw new Error(`no ${tag} in the expected output`);
  return line.slice(line.indexOf(`- ${tag}: `) + tag.length + 4).trim();
}

// Geotime 2010:04:24 06:27:30-05:00 = 11:27:30 UTC.
const GEOTIME_US = Date.UTC(2010, 3, 24, 11, 27, 30) * 1000;
// ExifTool interpolates across up to GeoMaxIntSecs = 1800 s between fixes; here they are 19 s apart.
const EXIFTOOL_MAX_GAP_US = 1800 * 1_000_000;

describe('pose vs ExifTool geotagging (Geotag2.log, Geotag_8.out)', () => {
  const { samples, rmcCount } = parseLog();
  const track = new PoseTrack(samples, { maxGapUs: EXIFTOOL_MAX_GAP_US });
  const pose = track.poseAt(GEOTIME_US);

  it('reads the log', () => {
    expect(rmcCount).toBe(3);
    expect(expected('GPS Time Stamp')).toBe('11:27:30');
    expect(expected('GPS Date Stamp')).toBe('2010:04:24');
  });

  it('latitude and longitude to 0.01"', () => {
    expect(pose.position.reason).toBeNull();
    expect(expected('GPS Latitude Ref')).toBe('North');
    expect(expected('GPS Longitude Ref')).toBe('East');
    expect(Math.abs(pose.position.latDeg! * 3600 - dmsToArcsec(expected('GPS Latitude')))).toBeLessThanOrEqual(0.01);
    expect(Math.abs(pose.position.lonDeg! * 3600 - dmsToArcsec(expected('GPS Longitude')))).toBeLessThanOrEqual(0.01);
    // The fixes used are 7 s before and 12 s after.
    expect(pose.position.gapBeforeUs).toBe(7_000_000);
    expect(pose.position.gapAfterUs).toBe(12_000_000);
    expect(pose.position.fixQuality).toBe(1);
  });

  it('speed (knots) and track to 1e-3', () => {
    expect(expected('GPS Speed Ref')).toBe('knots');
    expect(Math.abs(pose.groundSpeedMps.value! / KNOT_MPS - Number(expected('GPS Speed')))).toBeLessThan(1e-3);
    expect(expected('GPS Track Ref')).toBe('True North');
    expect(Math.abs(pose.trackDeg.value! - Number(expected('GPS Track')))).toBeLessThan(1e-3);
  });

  it('heading from the compass sentence matches Img Direction', () => {
    expect(Math.abs(pose.headingDeg.value! - Number(expected('GPS Img Direction')))).toBeLessThan(1e-3);
  });

  it('with the default 2 s maximum gap the 19 s interval is not interpolated', () => {
    const strict = new PoseTrack(samples).poseAt(GEOTIME_US);
    expect(strict.position.reason).toBe('gap-too-large');
    expect(strict.trackDeg).toEqual({
      value: null,
      reason: 'gap-too-large',
      gapBeforeUs: 7_000_000,
      gapAfterUs: 12_000_000,
    });
  });
});
