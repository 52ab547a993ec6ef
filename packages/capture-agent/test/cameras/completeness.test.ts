import { describe, expect, it } from 'vitest';
import { decideCompleteness, type CompletenessPolicy, type FileObservation } from '../../src/cameras/completeness.js';

const policy: CompletenessPolicy = { settleMs: 1000, closedSettleMs: 100, incompleteAfterMs: 30_000 };
const obs = (o: Partial<FileObservation>): FileObservation => ({
  sizeBytes: 5_000_000,
  stableForMs: 0,
  writer: 'closed',
  ending: 'valid',
  ...o,
});

describe('decideCompleteness', () => {
  it('waits while the file grows, whatever else is known', () => {
    expect(decideCompleteness(obs({ stableForMs: 0 }), policy)).toEqual({ state: 'pending', reason: 'growing' });
  });

  it('accepts a closed file with a valid ending after the short settle time', () => {
    expect(decideCompleteness(obs({ stableForMs: 50 }), policy).state).toBe('pending');
    expect(decideCompleteness(obs({ stableForMs: 100 }), policy)).toEqual({ state: 'complete', reason: 'closed-and-valid' });
  });

  it('needs the long settle time when closing cannot be proven', () => {
    expect(decideCompleteness(obs({ writer: 'unknown', stableForMs: 500 }), policy)).toEqual({ state: 'pending', reason: 'settling' });
    expect(decideCompleteness(obs({ writer: 'unknown', stableForMs: 1000 }), policy)).toEqual({ state: 'complete', reason: 'stable' });
    // A video we cannot check the end of, closed: size-stable time too.
    expect(decideCompleteness(obs({ ending: 'unknown', stableForMs: 200 }), policy).state).toBe('pending');
    expect(decideCompleteness(obs({ ending: 'unknown', stableForMs: 1000 }), policy).state).toBe('complete');
  });

  it('never accepts a file a writer holds open (a growing video paused between chunks)', () => {
    expect(decideCompleteness(obs({ writer: 'open', stableForMs: 5000 }), policy)).toEqual({ state: 'pending', reason: 'writer-open' });
    expect(decideCompleteness(obs({ writer: 'open', stableForMs: 30_000 }), policy)).toEqual({ state: 'incomplete', reason: 'stalled-open' });
  });

  it('records a half-written JPEG (no FF D9) as incomplete after the timeout, not before', () => {
    expect(decideCompleteness(obs({ ending: 'invalid', stableForMs: 29_999 }), policy)).toEqual({ state: 'pending', reason: 'bad-ending' });
    expect(decideCompleteness(obs({ ending: 'invalid', stableForMs: 30_000 }), policy)).toEqual({ state: 'incomplete', reason: 'bad-ending' });
    // Even when "stable" for longer than settleMs and closed: a bad ending is never complete.
    expect(decideCompleteness(obs({ ending: 'invalid', writer: 'unknown', stableForMs: 10_000 }), policy).state).toBe('pending');
  });

  it('treats an empty file as not started, then incomplete', () => {
    expect(decideCompleteness(obs({ sizeBytes: 0, stableForMs: 5000 }), policy)).toEqual({ state: 'pending', reason: 'empty' });
    expect(decideCompleteness(obs({ sizeBytes: 0, stableForMs: 30_000 }), policy)).toEqual({ state: 'incomplete', reason: 'empty' });
  });
});
