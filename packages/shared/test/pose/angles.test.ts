import { describe, expect, it } from 'vitest';
import {
  lerp,
  lerpAngleDeg360,
  lerpLongitudeDeg,
  wrapDeg180,
  wrapDeg360,
} from '../../src/pose/angles.js';

describe('angle helpers', () => {
  it('wrapDeg180 → [-180, 180)', () => {
    expect(wrapDeg180(0)).toBe(0);
    expect(wrapDeg180(180)).toBe(-180);
    expect(wrapDeg180(-180)).toBe(-180);
    expect(wrapDeg180(190)).toBe(-170);
    expect(wrapDeg180(-190)).toBe(170);
    expect(wrapDeg180(720 + 10)).toBe(10);
  });
  it('wrapDeg360 → [0, 360)', () => {
    expect(wrapDeg360(360)).toBe(0);
    expect(wrapDeg360(-10)).toBe(350);
    expect(Object.is(wrapDeg360(-0), 0)).toBe(true);
    expect(wrapDeg360(725)).toBe(5);
    expect(wrapDeg360(-1e-15)).toBeLessThan(360);
  });
  it('lerp', () => {
    expect(lerp(10, 20, 0.25)).toBe(12.5);
    expect(lerp(10, 20, 0)).toBe(10);
    expect(lerp(10, 20, 1)).toBe(20);
  });
  it('angles go the short way', () => {
    expect(lerpAngleDeg360(350, 10, 0.5)).toBe(0);
    expect(lerpAngleDeg360(350, 10, 0.25)).toBe(355);
    expect(lerpAngleDeg360(10, 350, 0.25)).toBe(5);
    expect(lerpAngleDeg360(10, 350, 0.75)).toBe(355);
    expect(lerpAngleDeg360(90, 180, 0.5)).toBe(135);
    expect(lerpAngleDeg360(0, 0, 0.3)).toBe(0);
  });
  it('longitudes across the antimeridian', () => {
    expect(Math.abs(lerpLongitudeDeg(179.9, -179.9, 0.5))).toBeCloseTo(180, 9);
    expect(lerpLongitudeDeg(179.9, -179.9, 0.25)).toBeCloseTo(179.95, 9);
    expect(lerpLongitudeDeg(179.9, -179.9, 0.75)).toBeCloseTo(-179.95, 9);
    expect(lerpLongitudeDeg(-179.9, 179.9, 0.25)).toBeCloseTo(-179.95, 9);
    expect(lerpLongitudeDeg(-10, 10, 0.5)).toBe(0);
    expect(lerpLongitudeDeg(5, 6, 0.5)).toBe(5.5);
  });
});
