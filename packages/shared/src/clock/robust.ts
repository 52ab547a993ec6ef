// Robust line-fitting helpers for the flight clock. Pure functions on plain arrays; internal to
// the clock module (not re-exported from the package index), tested on their own.

/** Scratch for medianOf (the clock calls it ~10 times per refit). */
let scratch = new Float64Array(256);

/** k-th smallest of a[lo..hi] (Hoare quickselect, median-of-three pivot); reorders a. */
function selectKth(a: Float64Array, lo: number, hi: number, k: number): number {
  while (hi > lo) {
    const x = a[lo]!;
    const y = a[(lo + hi) >> 1]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** Median of the values by sorting a copy: the definition (NaN sorts last, -0 before 0). */
function medianBySort(values: readonly number[]): number {
  const n = values.length;
  const sorted = new Float64Array(values).sort();
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Median of the values; NaN for an empty list. Equal to sorting a copy and taking the middle
 * (medianBySort), found in linear time. A zero in the middle gets the sign the sort would give it
 * (the sort puts -0 before 0); a list with a NaN takes the sort itself.
 */
export function medianOf(values: readonly number[]): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  if (scratch.length < n) scratch = new Float64Array(2 * n);
  const a = scratch;
  let negatives = 0;
  let negativeZeros = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v !== v) return medianBySort(values);
    if (v < 0) negatives++;
    else if (v === 0 && 1 / v < 0) negativeZeros++;
    a[i] = v;
  }
  // In sorted order the zeros at indices [negatives, negatives + negativeZeros) are -0.
  const signedZeroAt = (k: number): number => (k >= negatives && k < negatives + negativeZeros ? -0 : 0);
  const mid = n >> 1;
  let upper = selectKth(a, 0, n - 1, mid);
  if (upper === 0) upper = signedZeroAt(mid);
  if (n % 2 === 1) return upper;
  // the lower middle is the largest of the values left below the upper one
  let lower = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < mid; i++) if (a[i]! > lower) lower = a[i]!;
  if (lower === 0) lower = signedZeroAt(mid - 1);
  return (lower + upper) / 2;
}

/** Median absolute deviation from `center` (unscaled); NaN for an empty list. */
export function madOf(values: readonly number[], center: number): number {
  return medianOf(values.map((v) => Math.abs(v - center)));
}

/** Scale factor from MAD to the standard deviation of a normal distribution. */
export const MAD_TO_SIGMA = 1.4826;

/** All pairwise slopes are used up to this many points; above it, a linear-size subset. */
const THEIL_SEN_FULL_MAX = 100;

/**
 * Theil–Sen slope: the median of the slopes between pairs of points. Pairs with equal x, and
 * slopes whose magnitude exceeds `maxAbsSlope` (physically impossible, so they come from an
 * outlier or from jitter over a tiny baseline), are ignored. Above 100 points only the pairs
 * (i, i + ⌈n/2⌉) are used (O(n log n), breakdown ≈ 25 % instead of 29 %).
 * Returns null when no usable pair exists. `xs` need not be sorted.
 */
export function theilSenSlope(
  xs: readonly number[],
  ys: readonly number[],
  maxAbsSlope: number = Number.POSITIVE_INFINITY,
): number | null {
  const n = Math.min(xs.length, ys.length);
  const slopes: number[] = [];
  const consider = (i: number, j: number): void => {
    const dx = xs[j]! - xs[i]!;
    if (dx === 0) return;
    const s = (ys[j]! - ys[i]!) / dx;
    if (Number.isFinite(s) && Math.abs(s) <= maxAbsSlope) slopes.push(s);
  };
  if (n <= THEIL_SEN_FULL_MAX) {
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) consider(i, j);
  } else {
    const order: number[] = new Array<number>(n); // (not Array.from({ length }): slow)
    for (let i = 0; i < n; i++) order[i] = i;
    // The clock passes xs sorted: then the (stable) sort would leave the order as it is.
    let isSorted = true;
    for (let i = 1; i < n && isSorted; i++) isSorted = xs[i - 1]! <= xs[i]!;
    if (!isSorted) order.sort((a, b) => xs[a]! - xs[b]!);
    const h = Math.ceil(n / 2);
    for (let k = 0; k + h < n; k++) consider(order[k]!, order[k + h]!);
  }
  return slopes.length === 0 ? null : medianOf(slopes);
}

/** A line y = intercept + slope·x. */
export interface Line {
  slope: number;
  intercept: number;
}

/**
 * Indices of the upper convex hull of points sorted by ascending x (ties: only the highest
 * point of an x is kept), left to right.
 */
export function upperHull(xs: readonly number[], ys: readonly number[]): number[] {
  const hull: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    const last = hull[hull.length - 1];
    if (last !== undefined && xs[last] === x) {
      if (ys[last]! >= y) continue;
      hull.pop();
    }
    while (hull.length >= 2) {
      const o = hull[hull.length - 2]!;
      const a = hull[hull.length - 1]!;
      const cross = (xs[a]! - xs[o]!) * (y - ys[o]!) - (ys[a]! - ys[o]!) * (x - xs[o]!);
      if (cross >= 0) hull.pop(); // a lies on or below the segment o→(x, y)
      else break;
    }
    hull.push(i);
  }
  return hull;
}

/**
 * The upper-envelope line: the line above every point that minimises the sum of the vertical
 * distances to the points (the linear programme used for one-way-delay clock skew estimation).
 * Its optimum is the upper-hull edge spanning the mean x. With `fixedSlope`, or when the
 * optimum's slope exceeds `maxAbsSlope` (then clamped), the line with that slope touching the
 * highest point is returned. Points must be sorted by ascending x. Null when fewer than two
 * distinct x exist (and no slope is fixed) or there are no points.
 */
export function upperEnvelopeLine(
  xs: readonly number[],
  ys: readonly number[],
  opts: { maxAbsSlope?: number; fixedSlope?: number | null } = {},
): Line | null {
  const n = Math.min(xs.length, ys.length);
  if (n === 0) return null;
  const maxAbsSlope = opts.maxAbsSlope ?? Number.POSITIVE_INFINITY;
  const touching = (slope: number): Line => {
    let intercept = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) intercept = Math.max(intercept, ys[i]! - slope * xs[i]!);
    return { slope, intercept };
  };
  if (opts.fixedSlope !== undefined && opts.fixedSlope !== null) return touching(opts.fixedSlope);

  const hull = upperHull(xs, ys);
  if (hull.length < 2) return null;
  let sumX = 0;
  for (let i = 0; i < n; i++) sumX += xs[i]!;
  const meanX = sumX / n;
  const edgeSlope = (k: number): number => {
    const p = hull[k]!;
    const q = hull[k + 1]!;
    return (ys[q]! - ys[p]!) / (xs[q]! - xs[p]!);
  };
  let slope = edgeSlope(hull.length - 2);
  for (let k = 0; k + 1 < hull.length; k++) {
    const xq = xs[hull[k + 1]!]!;
    if (meanX < xq) {
      slope = edgeSlope(k);
      break;
    }
    if (meanX === xq && k + 2 < hull.length) {
      // The mean sits on a vertex: any slope between its two edges is optimal; take the middle.
      slope = (edgeSlope(k) + edgeSlope(k + 1)) / 2;
      break;
    }
  }
  if (Math.abs(slope) > maxAbsSlope) slope = Math.sign(slope) * maxAbsSlope;
  return touching(slope);
}
