import { describe, expect, it } from 'vitest';
import type {
  HeadingSample,
  PositionSample,
  PressureAltitudeSample,
  TimedSample,
  VelocitySample,
} from '../../src/nav/types.js';
import { PoseTrack, type Pose, type PoseValue } from '../../src/pose/index.js';
import { prng } from '../helpers/prng.js';

// ---- sample builders ---------------------------------------------------------------------------

const T = Date.UTC(2024, 5, 1, 10, 0, 0) * 1000; // µs
const S = 1_000_000;

type Timed<X> = X & { tUs: number };

function pos(
  tUs: number,
  latDeg: number,
  lonDeg: number,
  extra: Partial<Omit<PositionSample, 'kind' | 'tUs'>> = {},
): Timed<PositionSample> {
  return {
    kind: 'position',
    sentence: 'GGA',
    talker: 'GP',
    tUs,
    latDeg,
    lonDeg,
    altitudeM: null,
    fixQuality: 1,
    satellites: null,
    hdop: null,
    ...extra,
  };
}
function hdg(tUs: number, headingDeg: number, reference: 'true' | 'magnetic' = 'true'): Timed<HeadingSample> {
  return { kind: 'heading', sentence: 'HDT', talker: 'HE', tUs, headingDeg, reference };
}
function vel(tUs: number, speedMps: number | null, trackDeg: number | null): Timed<VelocitySample> {
  return { kind: 'velocity', sentence: 'VTG', talker: 'GP', tUs, speedMps, trackDeg };
}
function palt(tUs: number, altitudeM: number): Timed<PressureAltitudeSample> {
  return { kind: 'pressure-altitude', sentence: 'PGRMZ', talker: 'P', tUs, altitudeM };
}

const val = (v: PoseValue): number | null => v.value;

// ---- tests -------------------------------------------------------------------------------------

describe('PoseTrack: hand-computed interpolation', () => {
  const track = new PoseTrack([
    pos(T, 50, 5, { altitudeM: 1000, hdop: 0.9, satellites: 12, fixQuality: 2 }),
    pos(T + S, 50.001, 5.002, { altitudeM: 1010, hdop: 1.3, satellites: 9, fixQuality: 1 }),
    palt(T, 950),
    palt(T + S, 970),
    hdg(T, 90),
    hdg(T + S, 100),
    vel(T, 60, 45),
    vel(T + S, 62, 47),
  ]);

  it('a quarter of the way', () => {
    const p = track.poseAt(T + S / 4);
    expect(p.tUs).toBe(T + S / 4);
    expect(p.position.latDeg).toBeCloseTo(50.00025, 12);
    expect(p.position.lonDeg).toBeCloseTo(5.0005, 12);
    expect(p.position.gapBeforeUs).toBe(250_000);
    expect(p.position.gapAfterUs).toBe(750_000);
    expect(val(p.gpsAltitudeM)).toBeCloseTo(1002.5, 9);
    expect(val(p.pressureAltitudeM)).toBeCloseTo(955, 9);
    expect(val(p.headingDeg)).toBeCloseTo(92.5, 9);
    expect(val(p.groundSpeedMps)).toBeCloseTo(60.5, 9);
    expect(val(p.trackDeg)).toBeCloseTo(45.5, 9);
  });

  it('quality of an interpolated position: lower fix, worse hdop, fewer satellites', () => {
    const p = track.poseAt(T + S / 2).position;
    expect(p.fixQuality).toBe(1);
    expect(p.hdop).toBe(1.3);
    expect(p.satellites).toBe(9);
  });

  it('a sample exactly at the time gives that sample', () => {
    for (const [t, i] of [
      [T, 0],
      [T + S, 1],
    ] as const) {
      const p = track.poseAt(t);
      expect(p.position.latDeg).toBe([50, 50.001][i]);
      expect(p.position.lonDeg).toBe([5, 5.002][i]);
      expect(p.position.gapBeforeUs).toBe(0);
      expect(p.position.gapAfterUs).toBe(0);
      expect(p.position.fixQuality).toBe([2, 1][i]);
      expect(p.position.hdop).toBe([0.9, 1.3][i]);
      expect(p.position.satellites).toBe([12, 9][i]);
      expect(val(p.headingDeg)).toBe([90, 100][i]);
      expect(val(p.gpsAltitudeM)).toBe([1000, 1010][i]);
    }
  });

  it('before and after the track: null with the reason and the distance to the track', () => {
    const before = track.poseAt(T - 300_000);
    expect(before.position).toEqual({
      latDeg: null,
      lonDeg: null,
      reason: 'before-track',
      gapBeforeUs: null,
      gapAfterUs: 300_000,
      fixQuality: null,
      hdop: null,
      satellites: null,
    });
    expect(before.headingDeg).toEqual({ value: null, reason: 'before-track', gapBeforeUs: null, gapAfterUs: 300_000 });
    const after = track.poseAt(T + S + 1);
    expect(after.trackDeg).toEqual({ value: null, reason: 'after-track', gapBeforeUs: 1, gapAfterUs: null });
    expect(after.position.reason).toBe('after-track');
  });

  it('an empty track: every field no-samples', () => {
    const p: Pose = new PoseTrack().poseAt(T);
    for (const f of [p.gpsAltitudeM, p.pressureAltitudeM, p.headingDeg, p.groundSpeedMps, p.trackDeg]) {
      expect(f).toEqual({ value: null, reason: 'no-samples', gapBeforeUs: null, gapAfterUs: null });
    }
    expect(p.position.reason).toBe('no-samples');
  });
});

describe('PoseTrack: angle wraps', () => {
  it('longitude across ±180 goes the short way', () => {
    const track = new PoseTrack([pos(T, -16, 179.9), pos(T + S, -16.2, -179.9)]);
    const mid = track.poseAt(T + S / 2).position;
    expect(Math.abs(mid.lonDeg!)).toBeCloseTo(180, 9);
    expect(mid.latDeg).toBeCloseTo(-16.1, 12);
    expect(track.poseAt(T + S / 4).position.lonDeg).toBeCloseTo(179.95, 9);
    expect(track.poseAt(T + (3 * S) / 4).position.lonDeg).toBeCloseTo(-179.95, 9);
    // Westbound too.
    const west = new PoseTrack([pos(T, 0, -179.9), pos(T + S, 0, 179.9)]);
    expect(west.poseAt(T + S / 4).position.lonDeg).toBeCloseTo(-179.95, 9);
  });

  it('heading 350 → 10: midpoint 0, not 180', () => {
    const track = new PoseTrack([hdg(T, 350), hdg(T + S, 10)]);
    expect(val(track.poseAt(T + S / 2).headingDeg)).toBe(0);
    expect(val(track.poseAt(T + S / 4).headingDeg)).toBeCloseTo(355, 9);
    expect(val(track.poseAt(T + (3 * S) / 4).headingDeg)).toBeCloseTo(5, 9);
    const back = new PoseTrack([hdg(T, 10), hdg(T + S, 350)]);
    expect(val(back.poseAt(T + S / 4).headingDeg)).toBeCloseTo(5, 9);
    expect(val(back.poseAt(T + (3 * S) / 4).headingDeg)).toBeCloseTo(355, 9);
  });

  it('track wraps like heading; values are in [0, 360)', () => {
    const track = new PoseTrack([vel(T, 50, 359), vel(T + S, 52, 3)]);
    expect(val(track.poseAt(T + S / 4).trackDeg)).toBeCloseTo(0, 9);
    expect(val(track.poseAt(T + S / 8).trackDeg)).toBeCloseTo(359.5, 9);
    expect(val(track.poseAt(T + S / 2).groundSpeedMps)).toBe(51);
    const odd = new PoseTrack([hdg(T, 360), hdg(T + S, -10)]); // out-of-range input normalised
    expect(val(odd.poseAt(T).headingDeg)).toBe(0);
    expect(val(odd.poseAt(T + S).headingDeg)).toBe(350);
  });
});

describe('PoseTrack: gaps', () => {
  it('samples further apart than maxGapUs (default 2 s) → gap-too-large', () => {
    const track = new PoseTrack([hdg(T, 10), hdg(T + 2 * S, 20), hdg(T + 4_500_000, 30)]);
    // Exactly the maximum is still interpolated.
    expect(val(track.poseAt(T + S).headingDeg)).toBe(15);
    const p = track.poseAt(T + 3 * S);
    expect(p.headingDeg).toEqual({ value: null, reason: 'gap-too-large', gapBeforeUs: S, gapAfterUs: 1_500_000 });
    // A sample exactly at the time is used even next to a large gap.
    expect(val(track.poseAt(T + 4_500_000).headingDeg)).toBe(30);
    expect(val(track.poseAt(T + 2 * S).headingDeg)).toBe(20);
  });

  it('maxGapUs and per-field overrides', () => {
    const samples = [hdg(T, 10), hdg(T + 5 * S, 20), pos(T, 1, 1), pos(T + 5 * S, 2, 2)];
    const wide = new PoseTrack(samples, { maxGapUs: 10 * S });
    expect(val(wide.poseAt(T + S).headingDeg)).toBe(12);
    expect(wide.poseAt(T + S).position.latDeg).toBeCloseTo(1.2, 12);
    const mixed = new PoseTrack(samples, { maxGapUsByField: { position: 10 * S } });
    expect(mixed.poseAt(T + S).headingDeg.reason).toBe('gap-too-large');
    expect(mixed.poseAt(T + S).position.latDeg).toBeCloseTo(1.2, 12);
  });
});

describe('PoseTrack: each field from its own samples', () => {
  // Heading at 20 Hz, positions at 5 Hz, pressure altitude at 1 Hz, velocity at 5 Hz offset by 100 ms.
  const samples: TimedSample[] = [];
  for (let k = 0; k <= 60; k++) samples.push(hdg(T + k * 50_000, (k * 3) % 360));
  for (let k = 0; k <= 15; k++) samples.push(pos(T + k * 200_000, 45 + k * 1e-4, 7 + k * 2e-4, { altitudeM: 500 + k }));
  for (let k = 0; k <= 3; k++) samples.push(palt(T + k * S, 480 + 10 * k));
  for (let k = 0; k < 15; k++) samples.push(vel(T + 100_000 + k * 200_000, 70 + k, 90));
  const track = new PoseTrack(samples);

  it('interpolates each field between its own neighbours', () => {
    const t = T + 1_234_000;
    const p = track.poseAt(t);
    // heading: samples at 1.200 s (k=24 → 72°) and 1.250 s (k=25 → 75°)
    expect(val(p.headingDeg)).toBeCloseTo(72 + 3 * (34 / 50), 9);
    expect(p.headingDeg.gapBeforeUs).toBe(34_000);
    expect(p.headingDeg.gapAfterUs).toBe(16_000);
    // position: 1.2 s (k=6) and 1.4 s (k=7)
    expect(p.position.latDeg).toBeCloseTo(45 + 6e-4 + 1e-4 * (34 / 200), 12);
    expect(p.position.gapBeforeUs).toBe(34_000);
    expect(p.position.gapAfterUs).toBe(166_000);
    expect(val(p.gpsAltitudeM)).toBeCloseTo(506 + 34 / 200, 9);
    // pressure altitude: 1 s and 2 s
    expect(val(p.pressureAltitudeM)).toBeCloseTo(490 + 10 * 0.234, 9);
    expect(p.pressureAltitudeM.gapBeforeUs).toBe(234_000);
    // velocity: 1.1 s (k=5 → 75) and 1.3 s (k=6 → 76)
    expect(val(p.groundSpeedMps)).toBeCloseTo(75 + 134 / 200, 9);
    expect(p.groundSpeedMps.gapAfterUs).toBe(66_000);
  });

  it('a field may be out of its track while others are not', () => {
    const p = track.poseAt(T + 50_000); // before the first velocity sample (100 ms)
    expect(p.groundSpeedMps.reason).toBe('before-track');
    expect(val(p.headingDeg)).toBe(3);
    const q = track.poseAt(T + 2_950_000); // after the last velocity sample (2.9 s)
    expect(q.trackDeg.reason).toBe('after-track');
    expect(q.position.reason).toBeNull();
  });

  it('coverage per field', () => {
    expect(track.coverage('headingDeg')).toEqual({ count: 61, firstTUs: T, lastTUs: T + 3 * S });
    expect(track.coverage('groundSpeedMps')).toEqual({ count: 15, firstTUs: T + 100_000, lastTUs: T + 2_900_000 });
    expect(new PoseTrack().coverage('position')).toEqual({ count: 0, firstTUs: null, lastTUs: null });
  });
});

describe('PoseTrack: which samples are used', () => {
  it('positions with fixQuality 0 are not used (nor their altitude)', () => {
    const track = new PoseTrack([
      pos(T, 10, 20, { altitudeM: 100 }),
      pos(T + S, 99 - 50, 0, { fixQuality: 0, altitudeM: 9999 }),
      pos(T + 2 * S, 10.2, 20.2, { altitudeM: 120 }),
    ]);
    const p = track.poseAt(T + S);
    expect(p.position.latDeg).toBeCloseTo(10.1, 12);
    expect(p.position.lonDeg).toBeCloseTo(20.1, 12);
    expect(val(p.gpsAltitudeM)).toBeCloseTo(110, 9);
    expect(track.coverage('position').count).toBe(2);
    expect(track.add(pos(T + 3 * S, 1, 1, { fixQuality: 0 }))).toBe(false);
    const onlyNoFix = new PoseTrack([pos(T, 1, 1, { fixQuality: 0 })]);
    expect(onlyNoFix.poseAt(T).position.reason).toBe('no-samples');
  });

  it('magnetic headings are not true headings', () => {
    const track = new PoseTrack([hdg(T, 10, 'magnetic'), hdg(T + S, 20, 'magnetic')]);
    expect(track.poseAt(T + S / 2).headingDeg.reason).toBe('no-samples');
  });

  it('velocity without track feeds speed only; position without altitude feeds position only', () => {
    const track = new PoseTrack([vel(T, 1, null), vel(T + S, 3, null), pos(T, 1, 1), pos(T + S, 1, 1)]);
    const p = track.poseAt(T + S / 2);
    expect(val(p.groundSpeedMps)).toBe(2);
    expect(p.trackDeg.reason).toBe('no-samples');
    expect(p.gpsAltitudeM.reason).toBe('no-samples');
    expect(p.position.hdop).toBeNull();
    expect(p.position.satellites).toBeNull();
  });

  it('hdop / satellites known on one side only are reported', () => {
    const track = new PoseTrack([pos(T, 1, 1, { hdop: 2 }), pos(T + S, 1, 1, { satellites: 7 })]);
    const p = track.poseAt(T + S / 2).position;
    expect(p.hdop).toBe(2);
    expect(p.satellites).toBe(7);
  });

  it('RMC and GGA of the same epoch merge: first position kept, quality completed', () => {
    const rmc = { ...pos(T, 10, 20), sentence: 'RMC' as const };
    const gga = pos(T, 10.0000001, 20, { fixQuality: 4, hdop: 0.6, satellites: 14, altitudeM: 300 });
    const track = new PoseTrack([rmc, gga]);
    const p = track.poseAt(T);
    expect(p.position.latDeg).toBe(10);
    expect(p.position.fixQuality).toBe(4);
    expect(p.position.hdop).toBe(0.6);
    expect(p.position.satellites).toBe(14);
    expect(val(p.gpsAltitudeM)).toBe(300);
    expect(track.coverage('position').count).toBe(1);
  });

  it('merging the same epoch keeps the BEST quality by rank, not the larger code', () => {
    // RMC (GPS, 1) + GGA dead reckoning (6) → 1; RTK fixed (4) + RTK float (5) → 4
    const merged = (a: number, b: number): number | null =>
      new PoseTrack([pos(T, 10, 20, { fixQuality: a }), pos(T, 10, 20, { fixQuality: b })]).poseAt(T).position.fixQuality;
    expect(merged(1, 6)).toBe(1);
    expect(merged(6, 1)).toBe(1);
    expect(merged(4, 5)).toBe(4);
    expect(merged(5, 4)).toBe(4);
  });

  it('between two fixes the quality is the WORSE neighbour by rank, not the smaller code', () => {
    const between = (a: number, b: number): number | null =>
      new PoseTrack([pos(T, 10, 20, { fixQuality: a }), pos(T + S, 10.001, 20, { fixQuality: b })]).poseAt(T + S / 2)
        .position.fixQuality;
    expect(between(4, 8)).toBe(8); // RTK fixed then simulation: simulated (min gave 4)
    expect(between(1, 6)).toBe(6); // GPS then dead reckoning: dead reckoning (min gave 1)
    expect(between(4, 5)).toBe(5); // RTK fixed then float: float (min gave 4)
    expect(between(2, 1)).toBe(1);
  });

  it('other kinds and non-finite values are ignored', () => {
    const track = new PoseTrack();
    expect(
      track.add({ kind: 'time', sentence: 'ZDA', talker: 'GP', tUs: T }),
    ).toBe(false);
    expect(
      track.add({ kind: 'dop', sentence: 'GSA', talker: 'GP', tUs: T, fixMode: 3, pdop: 1, hdop: 1, vdop: 1 }),
    ).toBe(false);
    expect(track.add(hdg(T, Number.NaN))).toBe(false);
    expect(track.add(pos(Number.NaN, 1, 1))).toBe(false);
    expect(track.add(pos(T, 91, 1))).toBe(false);
    expect(track.add(vel(T, null, null))).toBe(false);
    expect(track.add(hdg(T, 5))).toBe(true);
  });
});

describe('PoseTrack: streaming and scale', () => {
  /** A wandering flight: 20 Hz heading, 5 Hz position/velocity, 1 Hz pressure altitude, with dropouts. */
  function flight(seed: number, seconds: number): TimedSample[] {
    const rng = prng(seed);
    const out: TimedSample[] = [];
    let lat = 10 + rng() * 40;
    let lon = 179 - rng() * 2; // near the antimeridian
    let heading = rng() * 360;
    for (let k = 0; k < seconds * 20; k++) {
      const t = T + k * 50_000 + Math.floor(rng() * 1000);
      if (rng() < 0.002) continue; // dropout
      heading = (heading + (rng() - 0.5) * 6 + 360) % 360;
      out.push(hdg(t, heading));
      if (k % 4 === 0) {
        lat += (rng() - 0.5) * 1e-3;
        lon = ((lon + rng() * 2e-3 + 180) % 360) - 180;
        out.push(pos(t, lat, lon, { fixQuality: rng() < 0.05 ? 0 : 1, altitudeM: 1000 + rng() * 10 }));
        out.push(vel(t, 60 + rng(), heading));
      }
      if (k % 20 === 0) out.push(palt(t, 950 + rng() * 10));
    }
    return out;
  }

  it('built at once or added one by one in time order, or shuffled: same poses', () => {
    const samples = flight(7, 60);
    const bulk = new PoseTrack(samples);
    const streamed = new PoseTrack();
    for (const s of samples) streamed.add(s);
    const rng = prng(99);
    const shuffled = samples.slice();
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const outOfOrder = new PoseTrack();
    for (const s of shuffled) outOfOrder.add(s);
    const fromShuffled = new PoseTrack(shuffled);
    for (let i = 0; i < 500; i++) {
      const t = T - S + Math.floor(rng() * 62 * S);
      const expected = bulk.poseAt(t);
      expect(streamed.poseAt(t)).toEqual(expected);
      expect(outOfOrder.poseAt(t)).toEqual(expected);
      expect(fromShuffled.poseAt(t)).toEqual(expected);
    }
  });

  it('~100k samples: binary search agrees with a brute-force scan', () => {
    const samples = flight(3, 3600); // one hour: ~72k headings + 2×18k + 3.6k
    expect(samples.length).toBeGreaterThan(100_000);
    const track = new PoseTrack(samples);
    const headings = samples
      .filter((s): s is Timed<HeadingSample> => s.kind === 'heading')
      .sort((a, b) => a.tUs - b.tUs);
    const fixes = samples
      .filter((s): s is Timed<PositionSample> => s.kind === 'position' && s.fixQuality > 0)
      .sort((a, b) => a.tUs - b.tUs);
    const rng = prng(5);
    for (let q = 0; q < 300; q++) {
      const t = T + Math.floor(rng() * 3600 * S);
      const p = track.poseAt(t);
      // Reference: linear scan for the neighbours.
      const h1 = headings.findIndex((h) => h.tUs >= t);
      const h0 = headings[h1]!.tUs === t ? h1 : h1 - 1;
      const a = headings[h0]!;
      const b = headings[h1]!;
      if (b.tUs - a.tUs > 2 * S) {
        expect(p.headingDeg.reason).toBe('gap-too-large');
      } else {
        const f = a === b ? 0 : (t - a.tUs) / (b.tUs - a.tUs);
        let d = b.headingDeg - a.headingDeg;
        if (d > 180) d -= 360;
        if (d < -180) d += 360;
        const ref = (((a.headingDeg + f * d) % 360) + 360) % 360;
        const diff = Math.abs(val(p.headingDeg)! - ref);
        expect(Math.min(diff, 360 - diff)).toBeLessThan(1e-9);
      }
      const f1 = fixes.findIndex((x) => x.tUs >= t);
      const fa = fixes[fixes[f1]!.tUs === t ? f1 : f1 - 1]!;
      const fb = fixes[f1]!;
      expect(p.position.gapBeforeUs).toBe(t - fa.tUs);
      expect(p.position.gapAfterUs).toBe(fb.tUs - t);
      if (p.position.reason === null) {
        const f = fa === fb ? 0 : (t - fa.tUs) / (fb.tUs - fa.tUs);
        expect(p.position.latDeg).toBeCloseTo(fa.latDeg + f * (fb.latDeg - fa.latDeg), 9);
        expect(p.position.fixQuality).toBe(1);
      } else {
        expect(p.position.reason).toBe('gap-too-large');
      }
    }
  });
});
