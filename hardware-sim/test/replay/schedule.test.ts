import { describe, expect, it } from 'vitest';
import { nmeaTimeOfDayUs, parseHhmmss } from '../../src/replay/nmea-time.js';
import { commonOriginUs, logElapsedUs, loopGapUs, MAX_GAP_US, scheduleUs } from '../../src/replay/schedule.js';
import { scheduleLogs } from '../../src/replay/replay.js';
import type { LoadedLog } from '../../src/replay/log-source.js';
import { splitKeepingNewlines } from '../../src/replay/log-source.js';

const S = 1_000_000;

describe('NMEA time of day for pacing', () => {
  it('reads the time field of timed sentences, any talker, tolerant of junk and bad checksums', () => {
    expect(nmeaTimeOfDayUs('$GPRMC,123519.25,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A\r\n')).toBe(((12 * 60 + 35) * 60 + 19.25) * S);
    expect(nmeaTimeOfDayUs('$GNGGA,000001,,,,,0,00,,,M,,M,,*00\n')).toBe(S);
    expect(nmeaTimeOfDayUs('\x00\xff junk $GPZDA,235959.00,31,12,2023,00,00')).toBe((86_400 - 1) * S);
    expect(nmeaTimeOfDayUs('$GPGLL,4916.45,N,12311.12,W,225444,A*1D')).toBe(((22 * 60 + 54) * 60 + 44) * S);
    expect(nmeaTimeOfDayUs('$HCHDT,123.4,T*hh')).toBeNull();
    expect(nmeaTimeOfDayUs('$PGRMZ,1234,f,3')).toBeNull();
    expect(nmeaTimeOfDayUs('$GPRMC,,V,,,,,,,,,*00')).toBeNull();
    expect(parseHhmmss('246000')).toBeNull();
  });
});

describe('replay schedule', () => {
  it('untimed lines go with the timed line before them', () => {
    expect(logElapsedUs([null, 10 * S, null, 11 * S, null], 'time-of-day')).toEqual([0, 0, 0, S, S]);
  });

  it('wraps at midnight, shortens long gaps, does not wait on a splice backwards', () => {
    expect(logElapsedUs([86_399 * S, 0], 'time-of-day')).toEqual([0, S]);
    expect(logElapsedUs([0, 3600 * S], 'time-of-day')).toEqual([0, MAX_GAP_US]);
    // Spliced recording: jumps back an hour, then goes on 1 s later.
    expect(logElapsedUs([5000 * S, 5001 * S, 1400 * S, 1401 * S], 'time-of-day')).toEqual([0, S, S, 2 * S]);
    // One sentence a second behind the others (garmin48's GLL): ignored.
    expect(logElapsedUs([8 * S, 7 * S, 9 * S], 'time-of-day')).toEqual([0, 0, S]);
  });

  it('paces by speed, by a fixed rate, or not at all', () => {
    const times = [0, null, S, 2 * S];
    expect(scheduleUs(times, 'time-of-day', { mode: 'log-time', speed: 10 })).toEqual([0, 0, 100_000, 200_000]);
    expect(scheduleUs(times, 'time-of-day', { mode: 'rate', hz: 4 })).toEqual([0, 250_000, 500_000, 750_000]);
    expect(scheduleUs(times, 'monotonic', { mode: 'fast' })).toEqual([0, 0, 0, 0]);
    expect(loopGapUs({ mode: 'rate', hz: 4 })).toBe(250_000);
  });

  it('splits a log into lines without losing or changing a byte', () => {
    const data = Buffer.from([0x24, 0x41, 0x0d, 0x0a, 0x00, 0xff, 0x0a, 0x0a, 0x42]);
    const pieces = splitKeepingNewlines(data);
    expect(pieces.map((p) => [...p])).toEqual([[0x24, 0x41, 0x0d, 0x0a], [0x00, 0xff, 0x0a], [0x0a], [0x42]]);
    expect(Buffer.concat(pieces).equals(data)).toBe(true);
  });

  it('aligns several logs on the same time base from the earliest first time, each base on its own', () => {
    const log = (clock: LoadedLog['clock'], times: Array<number | null>): LoadedLog => ({
      file: 'x',
      format: clock === 'monotonic' ? 'flysnap-rawlog' : 'device',
      clock,
      lines: times.map((timeUs) => ({ bytes: Buffer.from('x\n'), timeUs })),
      sizeBytes: 2 * times.length,
    });
    const compass = log('monotonic', [100 * S, 101 * S, 102 * S]);
    const gps = log('monotonic', [null, 102 * S, 103 * S]);
    // Device logs across midnight: one starts at 23:59:59, the other at 00:00:01.
    const dev1 = log('time-of-day', [86_399 * S, 0]);
    const dev2 = log('time-of-day', [S, 2 * S]);
    const untimed = log('time-of-day', [null, null]);
    const speed1 = scheduleLogs([compass, gps, dev1, dev2, untimed], { mode: 'log-time', speed: 1 });
    expect(speed1.map((s) => s.offsetsUs)).toEqual([[0, S, 2 * S], [2 * S, 2 * S, 3 * S], [0, S], [2 * S, 3 * S], [0, 0]]);
    // Over --loop the logs of one base share one pass, so they stay aligned.
    expect(speed1.map((s) => s.passUs)).toEqual([4 * S, 4 * S, 4 * S, 4 * S, S]);
    expect(scheduleLogs([compass, gps], { mode: 'rate', hz: 1 }).map((s) => s.offsetsUs)).toEqual([[0, S, 2 * S], [0, S, 2 * S]]);
    expect(commonOriginUs([S, 86_399 * S, null], 'time-of-day')).toBe(86_399 * S);
    expect(commonOriginUs([102 * S, 100 * S], 'monotonic')).toBe(100 * S);
  });
});
