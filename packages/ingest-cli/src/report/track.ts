// The track as drawn and exported: split into segments at GPS gaps, projected to local metres,
// decimated for drawing (never the pictures). Pure.
import type { Gap, TrackPoint } from './model.js';

/** Mean Earth radius (IUGG), metres: plenty for a local projection over a survey area. */
export const EARTH_RADIUS_M = 6_371_008.8;

/**
 * The track in runs without a GPS gap inside: a new segment starts after every data gap of the
 * track's port (the gap's fromTUs is the last point before it).
 */
export function splitTrackAtGaps(track: readonly TrackPoint[], gpsGaps: readonly Gap[]): TrackPoint[][] {
  const breakAfter = new Set(gpsGaps.filter((g) => g.kind === 'data').map((g) => g.fromTUs));
  const segments: TrackPoint[][] = [];
  let current: TrackPoint[] = [];
  for (const p of track) {
    current.push(p);
    if (breakAfter.has(p.tUs)) {
      segments.push(current);
      current = [];
    }
  }
  if (current.length > 0) segments.push(current);
  return segments;
}

/**
 * A local equirectangular projection around a centre: x metres east, y metres north. Its scale
 * error over a survey block of tens of km is well under 1 %, so a scale bar in metres is honest,
 * and north is straight up.
 */
export interface LocalProjection {
  lat0Deg: number;
  lon0Deg: number;
  toXY(latDeg: number, lonDeg: number): [xM: number, yM: number];
}

export function localProjection(lat0Deg: number, lon0Deg: number): LocalProjection {
  const rad = Math.PI / 180;
  const kx = EARTH_RADIUS_M * Math.cos(lat0Deg * rad) * rad;
  const ky = EARTH_RADIUS_M * rad;
  return {
    lat0Deg,
    lon0Deg,
    toXY(latDeg, lonDeg) {
      // Longitudes across the antimeridian stay continuous around the centre.
      let dLon = lonDeg - lon0Deg;
      if (dLon > 180) dLon -= 360;
      else if (dLon < -180) dLon += 360;
      return [dLon * kx, (latDeg - lat0Deg) * ky];
    },
  };
}

/** The projection centred on the middle of the points' bounding box (null with no point). */
export function projectionFor(points: readonly { latDeg: number; lonDeg: number }[]): LocalProjection | null {
  if (points.length === 0) return null;
  let minLat = Infinity;
  let maxLat = -Infinity;
  let minLon = Infinity;
  let maxLon = -Infinity;
  for (const p of points) {
    minLat = Math.min(minLat, p.latDeg);
    maxLat = Math.max(maxLat, p.latDeg);
    minLon = Math.min(minLon, p.lonDeg);
    maxLon = Math.max(maxLon, p.lonDeg);
  }
  return localProjection((minLat + maxLat) / 2, (minLon + maxLon) / 2);
}

/**
 * Ramer–Douglas–Peucker: the indices of the points to keep so that no dropped point lies further
 * than `toleranceM` from the kept polyline. First and last always kept. Iterative (a 4-hour
 * track has ~150,000 points: recursion could overflow the stack).
 */
export function simplifyIndices(xs: ArrayLike<number>, ys: ArrayLike<number>, toleranceM: number): number[] {
  const n = xs.length;
  if (n <= 2) return Array.from({ length: n }, (_, i) => i);
  const keep = new Uint8Array(n);
  keep[0] = 1;
  keep[n - 1] = 1;
  const tol2 = toleranceM * toleranceM;
  const stack: number[] = [0, n - 1];
  while (stack.length > 0) {
    const last = stack.pop()!;
    const first = stack.pop()!;
    const ax = xs[first]!;
    const ay = ys[first]!;
    const dx = xs[last]! - ax;
    const dy = ys[last]! - ay;
    const len2 = dx * dx + dy * dy;
    let worst = -1;
    let worstD2 = tol2;
    for (let i = first + 1; i < last; i++) {
      const px = xs[i]! - ax;
      const py = ys[i]! - ay;
      let d2: number;
      if (len2 === 0) d2 = px * px + py * py;
      else {
        const t = Math.max(0, Math.min(1, (px * dx + py * dy) / len2));
        const ex = px - t * dx;
        const ey = py - t * dy;
        d2 = ex * ex + ey * ey;
      }
      if (d2 > worstD2) {
        worstD2 = d2;
        worst = i;
      }
    }
    if (worst > 0) {
      keep[worst] = 1;
      stack.push(first, worst, worst, last);
    }
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep[i] === 1) out.push(i);
  return out;
}

/** A point of the drawn track: projected metres and its segment. */
export interface DrawnTrackPoint {
  xM: number;
  yM: number;
  tUs: number;
  segment: number;
}

/**
 * How finely the track is drawn: 1/2000 of the track's larger extent (about a pixel on a page-wide
 * figure), so the drawing looks the same while a straight flight line keeps two points.
 */
export const DRAW_TOLERANCE_FRACTION = 1 / 2000;

/** The segments projected and simplified for drawing. */
export function decimateForDrawing(segments: readonly TrackPoint[][], projection: LocalProjection): DrawnTrackPoint[] {
  const projected = segments.map((seg) => {
    const xs = new Float64Array(seg.length);
    const ys = new Float64Array(seg.length);
    seg.forEach((p, i) => {
      const [x, y] = projection.toXY(p.latDeg, p.lonDeg);
      xs[i] = x;
      ys[i] = y;
    });
    return { seg, xs, ys };
  });
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (const { xs, ys } of projected) {
    for (let i = 0; i < xs.length; i++) {
      minX = Math.min(minX, xs[i]!);
      maxX = Math.max(maxX, xs[i]!);
      minY = Math.min(minY, ys[i]!);
      maxY = Math.max(maxY, ys[i]!);
    }
  }
  const extentM = Math.max(maxX - minX, maxY - minY, 1);
  const toleranceM = extentM * DRAW_TOLERANCE_FRACTION;
  const out: DrawnTrackPoint[] = [];
  projected.forEach(({ seg, xs, ys }, segment) => {
    for (const i of simplifyIndices(xs, ys, toleranceM)) out.push({ xM: xs[i]!, yM: ys[i]!, tUs: seg[i]!.tUs, segment });
  });
  return out;
}

/**
 * A time series reduced to at most `bins` buckets over [fromTUs, toTUs]: per bucket the value
 * `pick` chooses (the worst, for quality: the highest HDOP, the fewest satellites), or NaN for an
 * empty bucket so a line drawn through it breaks there. A series no longer than `bins` is returned
 * as it is (without its null values).
 */
export function binSeries<T extends { tUs: number }>(
  points: readonly T[],
  value: (p: T) => number | null,
  bins: number,
  pick: 'min' | 'max' | 'mean',
  fromTUs: number,
  toTUs: number,
): { tUs: number; value: number }[] {
  if (points.length === 0 || !(toTUs > fromTUs) || bins < 1) return [];
  // Fewer points than buckets: nothing to reduce (buckets would mostly be empty breaks).
  if (points.length <= bins) {
    return points.flatMap((p) => {
      const v = value(p);
      return v === null || !Number.isFinite(v) ? [] : [{ tUs: p.tUs, value: v }];
    });
  }
  const width = (toTUs - fromTUs) / bins;
  const acc = new Float64Array(bins).fill(NaN);
  const counts = new Uint32Array(bins);
  for (const p of points) {
    const v = value(p);
    if (v === null || !Number.isFinite(v)) continue;
    const b = Math.min(bins - 1, Math.max(0, Math.floor((p.tUs - fromTUs) / width)));
    const c = counts[b]!;
    const a = acc[b]!;
    if (c === 0) acc[b] = v;
    else if (pick === 'min') acc[b] = Math.min(a, v);
    else if (pick === 'max') acc[b] = Math.max(a, v);
    else acc[b] = a + v;
    counts[b] = c + 1;
  }
  const out: { tUs: number; value: number }[] = [];
  for (let b = 0; b < bins; b++) {
    const c = counts[b]!;
    const v = c === 0 ? NaN : pick === 'mean' ? acc[b]! / c : acc[b]!;
    out.push({ tUs: Math.round(fromTUs + (b + 0.5) * width), value: v });
  }
  return out;
}
