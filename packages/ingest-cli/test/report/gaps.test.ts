import { describe, expect, it } from 'vitest';
import { findDataGaps, gapThresholdUs, medianIntervalUs, portDownGaps, RECEIPT_JITTER_ALLOWANCE_US } from '../../src/report/gaps.js';

const gps = { instrument: 'gps' as const, port: 'gps', isReceiptTimed: false };

describe('gaps', () => {
  it('finds a single missing 5 Hz epoch, RMC and GGA duplicates ignored', () => {
    const t: number[] = [];
    for (let k = 0; k < 50; k++) if (k !== 20) t.push(k * 200_000, k * 200_000);
    expect(medianIntervalUs(t)).toBe(200_000);
    expect(findDataGaps(t, gps)).toEqual([{ instrument: 'gps', port: 'gps', kind: 'data', fromTUs: 19 * 200_000, toTUs: 21 * 200_000 }]);
  });

  it('steady data has no gap; receipt-timed data gets a jitter allowance', () => {
    const steady = Array.from({ length: 100 }, (_, k) => k * 100_000);
    expect(findDataGaps(steady, gps)).toEqual([]);
    const jittered = steady.map((t, k) => t + (k % 2 === 0 ? 0 : 90_000));
    expect(findDataGaps(jittered, { instrument: 'compass', port: 'compass', isReceiptTimed: true })).toEqual([]);
    expect(gapThresholdUs(steady, true)).toBe(100_000 + RECEIPT_JITTER_ALLOWANCE_US);
  });

  it('pairs port-down events with port-reconnected, using its measured gap; an unclosed one ends at the end', () => {
    const gaps = portDownGaps(
      [
        { tUs: 10_000_000, port: 'gps', code: 'port-lost', gapMs: null },
        { tUs: 12_500_000, port: 'gps', code: 'port-reconnected', gapMs: 2400 },
        { tUs: 20_000_000, port: 'compass', code: 'port-silent', gapMs: null },
      ],
      (p) => (p === 'gps' ? 'gps' : 'compass'),
      30_000_000,
    );
    expect(gaps).toEqual([
      { instrument: 'gps', port: 'gps', kind: 'port-down', fromTUs: 10_100_000, toTUs: 12_500_000 },
      { instrument: 'compass', port: 'compass', kind: 'port-down', fromTUs: 20_000_000, toTUs: 30_000_000 },
    ]);
  });
});
