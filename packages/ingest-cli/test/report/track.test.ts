import { describe, expect, it } from 'vitest';
import type { TrackPoint } from '../../src/report/model.js';
import { binSeries, decimateForDrawing, localProjection, simplifyIndices, splitTrackAtGaps } from '../../src/report/track.js';

function pt(tUs: number, latDeg: number, lonDeg: number): TrackPoint {
  return { tUs, latDeg, lonDeg, altitudeMslM: 100, fixQuality: 1, satellites: 9, hdop: 0.9 };
}

describe('track', () => {
  it('splits at GPS data gaps only', () => {
    const track = [pt(0, 50, 8), pt(1, 50, 8.001), pt(5, 50, 8.002), pt(6, 50, 8.003)];
    const segs = splitTrackAtGaps(track, [
      { instrument: 'gps', port: 'gps', kind: 'data', fromTUs: 1, toTUs: 5 },
      { instrument: 'gps', port: 'gps', kind: 'port-down', fromTUs: 5, toTUs: 6 },
    ]);
    expect(segs.map((s) => s.map((p) => p.tUs))).toEqual([[0, 1], [5, 6]]);
  });

  it('projects to metres east and north (1° of latitude ≈ 111.2 km; east shrinks with cos lat)', () => {
    const p = localProjection(60, 10);
    const [x0, y0] = p.toXY(60, 10);
    expect([x0, y0]).toEqual([0, 0]);
    const [, y] = p.toXY(61, 10);
    expect(y).toBeCloseTo(111_195, -1);
    const [x] = p.toXY(60, 11);
    expect(x).toBeCloseTo(111_195 * 0.5, -1);
    // Across the antimeridian the track stays continuous.
    expect(localProjection(0, 179.9999).toXY(0, -179.9999)[0]).toBeCloseTo(22.2, 0);
  });

  it('simplifies a straight line to its ends and keeps a corner; never drops more than the tolerance', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => i);
    const ys = xs.map(() => 0);
    expect(simplifyIndices(xs, ys, 0.5)).toEqual([0, 999]);
    const cx = [...xs, ...xs.map(() => 999)];
    const cy = [...ys, ...xs.map((i) => i)];
    expect(simplifyIndices(cx, cy, 0.5)).toEqual([0, 999, 1999]);
    const zx = Array.from({ length: 200 }, (_, i) => i);
    const zy = zx.map((i) => Math.sin(i / 5) * 10);
    const kept = simplifyIndices(zx, zy, 1);
    // Every dropped point lies within the tolerance of the kept segment around it (perpendicular distance).
    for (let i = 0; i < zx.length; i++) {
      const k = kept.findIndex((j) => j >= i);
      const a = kept[Math.max(0, k - 1)]!;
      const b = kept[k]!;
      if (a === b || i === a || i === b) continue;
      const dx = zx[b]! - zx[a]!;
      const dy = zy[b]! - zy[a]!;
      const distance = Math.abs(dy * (zx[i]! - zx[a]!) - dx * (zy[i]! - zy[a]!)) / Math.hypot(dx, dy);
      expect(distance).toBeLessThanOrEqual(1 + 1e-9);
    }
  });

  it('decimates a long straight survey line for drawing, segment by segment', () => {
    const seg1 = Array.from({ length: 5000 }, (_, i) => pt(i, 50, 8 + i * 1e-5));
    const seg2 = Array.from({ length: 5000 }, (_, i) => pt(10_000 + i, 50.01, 8 + i * 1e-5));
    const drawn = decimateForDrawing([seg1, seg2], localProjection(50, 8));
    expect(drawn.length).toBe(4);
    expect(drawn.map((d) => d.segment)).toEqual([0, 0, 1, 1]);
  });

  it('bins a series to the worst value per bucket, NaN where a bucket is empty; a short series is kept as it is', () => {
    const points = Array.from({ length: 100 }, (_, i) => ({ tUs: i < 50 ? i : i + 100, v: i }));
    const bins = binSeries(points, (p) => p.v, 10, 'max', 0, 200);
    expect(bins.length).toBe(10);
    expect(bins[0]!.value).toBe(19);
    expect(Number.isNaN(bins[4]!.value)).toBe(true);
    expect(binSeries(points.slice(0, 5), (p) => (p.v === 2 ? null : p.v), 10, 'max', 0, 200).map((b) => b.value)).toEqual([0, 1, 3, 4]);
  });
});
