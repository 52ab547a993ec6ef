// Angle helpers for interpolation: the short way around the circle. Internal to the pose module.

/** The angle in [-180, 180). */
export function wrapDeg180(deg: number): number {
  const r = (((deg + 180) % 360) + 360) % 360;
  return r - 180;
}

/** The angle in [0, 360). */
export function wrapDeg360(deg: number): number {
  const r = ((deg % 360) + 360) % 360;
  return r === 360 ? 0 : r + 0; // + 0 turns -0 into 0
}

/** Linear interpolation: f = 0 → a, f = 1 → b. */
export function lerp(a: number, b: number, f: number): number {
  return a + (b - a) * f;
}

/** Interpolates a direction (heading, track) the short way round; result in [0, 360). */
export function lerpAngleDeg360(a: number, b: number, f: number): number {
  return wrapDeg360(a + wrapDeg180(b - a) * f);
}

/** Interpolates a longitude the short way (across the antimeridian when shorter); result in [-180, 180). */
export function lerpLongitudeDeg(a: number, b: number, f: number): number {
  return wrapDeg180(a + wrapDeg180(b - a) * f);
}
