import { describe, expect, it } from 'vitest';
import {
  madOf,
  medianOf,
  theilSenSlope,
  upperEnvelopeLine,
  upperHull,
} from '../../src/clock/robust.js';

describe('medianOf / madOf', () => {
  it('odd, even, empty, unsorted input untouched', () => {
    const input = [5, 1, 3];
    expect(medianOf(input)).toBe(3);
    expect(input).toEqual([5, 1, 3]);
    expect(medianOf([4, 1, 3, 2])).toBe(2.5);
    expect(medianOf([])).toBeNaN();
    expect(medianOf([-10, 2, 100])).toBe(2); // numeric, not lexicographic, order
  });
  it('MAD', () => {
    expect(madOf([1, 2, 3, 4, 100], 3)).toBe(1);
  });
});

describe('theilSenSlope', () => {
  it('exact line', () => {
    const xs = [0, 1, 2, 3, 4];
    expect(theilSenSlope(xs, xs.map((x) => 7 + 2 * x))).toBeCloseTo(2, 12);
  });
  it('ignores an outlier and impossible slopes', () => {
    const xs = [0, 1, 2, 3, 4, 5, 6];
    const ys = xs.map((x) => 0.5 * x);
    ys[3] = 1000;
    expect(theilSenSlope(xs, ys)).toBeCloseTo(0.5, 12);
    // Only pairs with |slope| <= 1 count: the outlier's slopes are all far steeper.
    expect(theilSenSlope(xs, ys, 1)).toBeCloseTo(0.5, 12);
  });
  it('null without a usable pair; equal x ignored', () => {
    expect(theilSenSlope([1, 1, 1], [0, 5, 9])).toBeNull();
    expect(theilSenSlope([0, 1], [0, 100], 1)).toBeNull();
  });
  it('large n uses the linear-size subset and stays exact on a line, unsorted input', () => {
    const xs = Array.from({ length: 501 }, (_, i) => (i * 7919) % 501);
    const ys = xs.map((x) => -3 + 0.25 * x);
    expect(theilSenSlope(xs, ys)).toBeCloseTo(0.25, 12);
  });
});

describe('upperHull / upperEnvelopeLine', () => {
  it('hull keeps the upper points, highest of equal x', () => {
    const xs = [0, 1, 1, 2, 3, 4];
    const ys = [0, -1, 2, 1, 1, 0];
    expect(upperHull(xs, ys)).toEqual([0, 2, 4, 5]);
  });
  it('envelope of a line with downward noise is the line', () => {
    const xs = [0, 1, 2, 3, 4, 5, 6, 7];
    const noise = [0, 3, 0.5, 2, 0, 4, 1, 0];
    const ys = xs.map((x, i) => 10 + 0.1 * x - noise[i]!);
    const line = upperEnvelopeLine(xs, ys)!;
    expect(line.slope).toBeCloseTo(0.1, 12);
    expect(line.intercept).toBeCloseTo(10, 12);
  });
  it('every point lies on or below the envelope', () => {
    const xs = [0, 1, 2, 3, 4, 5];
    const ys = [1, 5, 2, 4, 0, 3];
    const line = upperEnvelopeLine(xs, ys)!;
    xs.forEach((x, i) => expect(ys[i]!).toBeLessThanOrEqual(line.intercept + line.slope * x + 1e-9));
  });
  it('mean x on a vertex takes the middle slope', () => {
    const line = upperEnvelopeLine([0, 1, 2], [0, 1, 0])!;
    expect(line.slope).toBe(0);
    expect(line.intercept).toBe(1);
  });
  it('clamps the slope and supports a fixed slope', () => {
    const clamped = upperEnvelopeLine([0, 1], [0, 10], { maxAbsSlope: 2 })!;
    expect(clamped).toEqual({ slope: 2, intercept: 8 });
    const fixed = upperEnvelopeLine([0, 1, 2], [0, 3, 1], { fixedSlope: 0 })!;
    expect(fixed).toEqual({ slope: 0, intercept: 3 });
  });
  it('null with one distinct x', () => {
    expect(upperEnvelopeLine([], [])).toBeNull();
    expect(upperEnvelopeLine([3, 3], [1, 2])).toBeNull();
  });
});
