import { NmeaDecoder } from '@flysnap/shared';
import { describe, expect, it } from 'vitest';
import { breakChecksum, corruptOneChar, dropLineEnd, truncateLine } from '../../src/faults/lines.js';
import { checkFaultTargets, parseFaultSpec } from '../../src/faults/spec.js';
import { Prng } from '../../src/random.js';
import { encodeGga, encodeRmc } from '../../src/nmea/encode.js';

const fix = { tUs: Date.UTC(2024, 4, 1, 10, 0, 0) * 1000, latDeg: 50.1, lonDeg: 8.6, altitudeM: 1200, speedMps: 60, trackDeg: 90, geoidSepM: 47, satellites: 12, hdop: 0.8, pdop: 1.4, vdop: 1.1, prns: [1, 3, 5] };
const lines = [encodeRmc(fix), encodeGga(fix)];

function reason(line: string): string {
  const r = new NmeaDecoder().decode(line);
  return r.status === 'rejected' ? r.reason : r.status;
}

describe('line faults', () => {
  it('a corrupted character always fails the checksum', () => {
    const rng = new Prng(1);
    for (let i = 0; i < 200; i++) {
      const line = lines[i % 2] ?? '';
      const bad = corruptOneChar(line, rng);
      expect(bad).not.toBe(line);
      expect(bad.length).toBe(line.length);
      expect(reason(bad)).toBe('bad-checksum');
    }
  });

  it('a broken checksum is a different checksum', () => {
    const rng = new Prng(2);
    for (let i = 0; i < 100; i++) expect(reason(breakChecksum(lines[0] ?? '', rng))).toBe('bad-checksum');
  });

  it('a truncated line keeps its line end and is rejected', () => {
    const rng = new Prng(3);
    for (let i = 0; i < 100; i++) {
      const cut = truncateLine(lines[i % 2] ?? '', rng);
      expect(cut.endsWith('\r\n')).toBe(true);
      expect(cut).not.toContain('*');
      expect(new NmeaDecoder({ missingChecksum: 'reject' }).decode(cut).status).toBe('rejected');
    }
  });

  it('a fused line runs into the next one', () => {
    const fused = dropLineEnd(lines[0] ?? '') + (lines[1] ?? '');
    expect(fused.split('\r\n').filter(Boolean)).toHaveLength(1);
    expect(new NmeaDecoder().decode(fused).status).toBe('rejected');
  });
});

describe('fault specs', () => {
  it('parses NAME[:PARAM][@TARGET] with defaults', () => {
    expect(parseFaultSpec('bad-checksum')).toEqual({ name: 'bad-checksum', param: 3, target: 'gps' });
    expect(parseFaultSpec('silent:2.5@compass')).toEqual({ name: 'silent', param: 2.5, target: 'compass' });
    expect(parseFaultSpec('half-written@cam2')).toEqual({ name: 'half-written', param: null, target: 'cam2' });
    expect(parseFaultSpec('time-jump:-3')).toEqual({ name: 'time-jump', param: -3, target: 'gps' });
  });

  it('refuses unknown names, bad parameters and wrong targets with a message naming them', () => {
    expect(() => parseFaultSpec('gremlins')).toThrow(/unknown fault; known: corrupt-chars/);
    expect(() => parseFaultSpec('bad-checksum:x')).toThrow(/sentences must be an integer/);
    expect(() => parseFaultSpec('week-rollover:2')).toThrow(/takes no parameter/);
    expect(() => checkFaultTargets([parseFaultSpec('week-rollover@compass')], ['gps', 'compass'], [])).toThrow(/target must be one of gps/);
    expect(() => checkFaultTargets([parseFaultSpec('half-written@cam3')], ['gps'], ['cam1', 'cam2'])).toThrow(/cam1, cam2/);
  });
});
