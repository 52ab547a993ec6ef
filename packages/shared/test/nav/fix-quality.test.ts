import { describe, expect, it } from 'vitest';
import { betterFixQuality, fixQualityRank, worseFixQuality } from '../../src/nav/fix-quality.js';

// GGA quality codes are labels, not a scale: 0 invalid, 1 GPS, 2 DGPS, 3 PPS, 4 RTK fixed,
// 5 RTK float, 6 estimated (dead reckoning), 7 manual, 8 simulation.
const BEST_TO_WORST = [4, 5, 2, 3, 1, 6, 7, 8];

describe('fix quality ranking', () => {
  it('ranks best to worst 4, 5, 2, 3, 1, 6, 7, 8, then unknown codes (9), then 0 (invalid)', () => {
    const codes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    expect([...codes].sort((a, b) => fixQualityRank(a) - fixQualityRank(b))).toEqual([...BEST_TO_WORST, 9, 0]);
  });

  it('better/worse of two agree with the ranking for every pair, in both orders', () => {
    for (const [i, a] of BEST_TO_WORST.entries()) {
      for (const b of BEST_TO_WORST.slice(i)) {
        expect([betterFixQuality(a, b), betterFixQuality(b, a)]).toEqual([a, a]);
        expect([worseFixQuality(a, b), worseFixQuality(b, a)]).toEqual([b, b]);
      }
    }
  });

  it('the cases numeric max/min got wrong', () => {
    expect(betterFixQuality(1, 6)).toBe(1); // GPS beats dead reckoning (max gave 6)
    expect(betterFixQuality(4, 5)).toBe(4); // RTK fixed beats RTK float (max gave 5)
    expect(worseFixQuality(4, 8)).toBe(8); // a simulated neighbour makes the pair simulated (min gave 4)
    expect(worseFixQuality(1, 4)).toBe(1);
    expect(worseFixQuality(2, 5)).toBe(2); // DGPS is worse than RTK float (min gave 2 too, for once)
  });
});
