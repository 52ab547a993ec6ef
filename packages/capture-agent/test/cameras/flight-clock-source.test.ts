import { afterEach, beforeEach, expect, it } from 'vitest';
import { insertClockFit } from '@flysnap/shared';
import { cameraClock } from '../../src/cameras/capture-source.js';
import { clockFromFlightDb, utcByFit } from '../../src/cameras/flight-clock-source.js';
import { makeTestArray, type TestArray } from './helpers/env.js';

let arr: TestArray;
beforeEach(() => {
  arr = makeTestArray();
});
afterEach(() => arr.close());

const T_US = 1_700_000_000_000_000;

function storeFit(fittedMonoUs: number, fittedTUs: number, bootId: string | null): void {
  insertClockFit(arr.db, { fittedMonoUs, fittedTUs, offsetUs: fittedTUs - fittedMonoUs, driftPpm: 50, uncertaintyUs: 1000, pairs: 30, port: null, bootId });
}

it('maps monotonic to UTC by the latest stored fit of its boot, with its drift; null before any fit', () => {
  expect(clockFromFlightDb(arr.db, 'boot-A').toUtc(5_000_000)).toBeNull();
  const fittedMonoUs = 10_000_000;
  storeFit(fittedMonoUs, T_US, 'boot-A');
  const clock = clockFromFlightDb(arr.db, 'boot-A');
  expect(clock.bootId).toBe('boot-A');
  expect(clock.toUtc(fittedMonoUs)).toBe(T_US);
  // 100 s later on the monotonic clock: 100 s + 50 ppm of it = 5 ms more.
  expect(clock.toUtc(fittedMonoUs + 100_000_000)).toBe(T_US + 100_000_000 + 5_000);
  expect(utcByFit({ fittedMonoUs, fittedTUs: T_US, driftPpm: 50 }, fittedMonoUs + 100_000_000)).toBe(T_US + 100_000_000 + 5_000);
});

it('never converts through a fit of another boot or of unknown boot (a reboot restarts the monotonic clock)', () => {
  // Boot A ran 2 h before the reboot: its fit maps mono 7,200 s to T_US.
  storeFit(7_200_000_000, T_US, 'boot-A');
  storeFit(7_300_000_000, T_US + 100_000_000, null); // a row from schema v1: boot unknown
  const afterReboot = clockFromFlightDb(arr.db, 'boot-B');
  // 30 s after boot B started: boot A's fit would say 2 h before T_US.
  expect(afterReboot.toUtc(30_000_000)).toBeNull();
  // Boot B's first fit; then another of boot A is stored later (a higher id): B keeps its own.
  storeFit(40_000_000, T_US + 3_700_000_000, 'boot-B');
  storeFit(7_400_000_000, T_US + 200_000_000, 'boot-A');
  expect(afterReboot.toUtc(40_000_000)).toBe(T_US + 3_700_000_000);
  expect(clockFromFlightDb(arr.db, 'boot-A').toUtc(7_400_000_000)).toBe(T_US + 200_000_000);
});

it("the camera clock asks the live pipeline, else this boot's stored fit; never a pipeline of another boot", () => {
  storeFit(10_000_000, T_US, 'boot-B');
  const live = { bootId: 'boot-B', utcAt: (mono: number): number | null => T_US + 1 + mono };
  expect(cameraClock(arr.db, live, 'boot-B').toUtc(0)).toBe(T_US + 1);
  // `run` that did not say its boot: still its own process's clock.
  expect(cameraClock(arr.db, { ...live, bootId: null }, 'boot-B').toUtc(0)).toBe(T_US + 1);
  const noFitYet = { bootId: 'boot-B', utcAt: (): number | null => null };
  expect(cameraClock(arr.db, noFitYet, 'boot-B').toUtc(10_000_000)).toBe(T_US);
  expect(cameraClock(arr.db, { ...live, bootId: 'boot-A' }, 'boot-B').toUtc(10_000_000)).toBe(T_US);
  expect(cameraClock(arr.db, noFitYet, 'boot-C').toUtc(10_000_000)).toBeNull();
  expect(cameraClock(arr.db, noFitYet, 'boot-C').bootId).toBe('boot-C');
});
