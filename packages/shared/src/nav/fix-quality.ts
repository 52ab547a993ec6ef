// GGA fix quality codes are labels, not a scale: 0 invalid, 1 GPS, 2 DGPS, 3 PPS, 4 RTK fixed,
// 5 RTK float, 6 estimated (dead reckoning), 7 manual input, 8 simulation. Comparing them as numbers
// (max when merging, min between neighbours) picks dead reckoning over GPS and RTK float over RTK
// fixed. Everything that compares qualities goes through fixQualityRank.

/** Best to worst; codes not listed (9, some receivers' WAAS/SBAS) come after these, 0 last. */
const BEST_TO_WORST: readonly number[] = [4, 5, 2, 3, 1, 6, 7, 8];

/** Rank of a fix quality code: lower is better. Unknown codes rank after 8; 0 (invalid) ranks last. */
export function fixQualityRank(quality: number): number {
  const i = BEST_TO_WORST.indexOf(quality);
  if (i >= 0) return i;
  return quality === 0 ? BEST_TO_WORST.length + 1 : BEST_TO_WORST.length;
}

/** The better of two fix quality codes (e.g. RMC and GGA of one epoch merged). */
export function betterFixQuality(a: number, b: number): number {
  return fixQualityRank(b) < fixQualityRank(a) ? b : a;
}

/** The worse of two fix quality codes (e.g. a position interpolated between two fixes). */
export function worseFixQuality(a: number, b: number): number {
  return fixQualityRank(b) > fixQualityRank(a) ? b : a;
}
