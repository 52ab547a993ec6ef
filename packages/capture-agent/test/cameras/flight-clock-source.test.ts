import { afterEach, beforeEach, expect, it } from 'vitest';
import { insertClockFit } from '@flysnap/shared';
import { clockFromFlightDb } from '../../src/cameras/flight-clock-source.js';
import { makeTestArray, type TestArray } from './helpers/env.js';

let arr: TestArray;
beforeEach(() => {
  arr = makeTestArray();
});
afterEach(() => arr.close());

it('maps monotonic to UTC by the latest stored fit, with its drift; null before any fit', () => {
  expect(clockFromFlightDb(arr.db).toUtc(5_000_000)).toBeNull();
  const fittedMonoUs = 10_000_000;
  const fittedTUs = 1_700_000_000_000_000;
  insertClockFit(arr.db, { fittedMonoUs, fittedTUs, offsetUs: fittedTUs - fittedMonoUs, driftPpm: 50, uncertaintyUs: 1000, pairs: 30, port: null });
  const clock = clockFromFlightDb(arr.db);
  expect(clock.toUtc(fittedMonoUs)).toBe(fittedTUs);
  // 100 s later on the monotonic clock: 100 s + 50 ppm of it = 5 ms more.
  expect(clock.toUtc(fittedMonoUs + 100_000_000)).toBe(fittedTUs + 100_000_000 + 5_000);
});
