import { NmeaDecoder, type NavSample } from '@flysnap/shared';
import { describe, expect, it } from 'vitest';
import {
  encodeGga,
  encodeGsa,
  encodeHdg,
  encodeHdt,
  encodePgrmz,
  encodeRmc,
  encodeVtg,
  encodeZda,
  formatLat,
  formatLon,
  formatTimeOfDay,
  GPS_ROLLOVER_US,
  METRES_PER_FOOT,
  type GnssFix,
} from '../../src/nmea/encode.js';

const T = Date.UTC(2024, 4, 1, 10, 20, 30, 400) * 1000;
const fix: GnssFix = {
  tUs: T,
  latDeg: 48.1173,
  lonDeg: -11.5166667,
  altitudeM: 545.44,
  speedMps: 61.37,
  trackDeg: 359.97,
  geoidSepM: 46.9,
  satellites: 8,
  hdop: 0.9,
  pdop: 1.5,
  vdop: 1.2,
  prns: [4, 5, 9, 12],
};

function decodeAll(lines: string[]): NavSample[] {
  const d = new NmeaDecoder();
  return lines.flatMap((l) => {
    const r = d.decode(l);
    expect(r.status, `${l}: ${JSON.stringify(r)}`).toBe('accepted');
    return r.status === 'accepted' ? r.samples : [];
  });
}

describe('NMEA encoding', () => {
  it('prints lat/lon as ddmm.mmmmm with hemispheres, rounding minutes without reaching 60', () => {
    expect(formatLat(48.1173)).toEqual(['4807.03800', 'N']);
    expect(formatLon(-11.5166667)).toEqual(['01131.00000', 'W']);
    expect(formatLat(-0.5)).toEqual(['0030.00000', 'S']);
    expect(formatLat(10.9999999999)).toEqual(['1100.00000', 'N']);
  });

  it('prints the time of day to the hundredth and carries into the next second', () => {
    expect(formatTimeOfDay(T)).toBe('102030.40');
    expect(formatTimeOfDay(Date.UTC(2024, 0, 1, 23, 59, 59, 999) * 1000)).toBe('000000.00');
  });

  it('ends every sentence with CR LF and a valid checksum', () => {
    for (const line of [encodeRmc(fix), encodeGga(fix), encodeGsa(fix), encodeVtg(fix), encodeZda(fix), encodeHdt(12.34), encodePgrmz(1000)]) {
      expect(line.endsWith('\r\n')).toBe(true);
      expect(line).toMatch(/^\$[A-Z]{4,5}[^*]*\*[0-9A-F]{2}\r\n$/);
    }
    expect(encodeVtg(fix)).toContain('VTG,0.0,T'); // 359.97 rounds to 0.0, never 360.0
  });

  it('decodes with the shared decoder back to the values within the printed precision', () => {
    const samples = decodeAll([encodeZda(fix), encodeRmc(fix), encodeGga(fix), encodeVtg(fix), encodeGsa(fix)]);
    const positions = samples.filter((s) => s.kind === 'position');
    expect(positions.length).toBeGreaterThanOrEqual(2);
    for (const p of positions) {
      if (p.kind !== 'position') continue;
      expect(Math.abs(p.latDeg - fix.latDeg) * 60).toBeLessThanOrEqual(0.5e-5);
      expect(Math.abs(p.lonDeg - fix.lonDeg) * 60).toBeLessThanOrEqual(0.5e-5);
      expect(p.tUs).toBe(T);
      if (p.sentence === 'GGA') {
        expect(p.altitudeM).toBeCloseTo(545.4, 6);
        expect(p.satellites).toBe(8);
      }
    }
    const velocity = samples.find((s) => s.kind === 'velocity' && s.sentence === 'RMC');
    expect(velocity?.kind === 'velocity' && Math.abs((velocity.speedMps ?? 0) - fix.speedMps)).toBeLessThanOrEqual(0.05 * (1852 / 3600) + 1e-9);
  });

  it('HDT and HDG (sensor + deviation + variation) both decode to the true heading', () => {
    const [hdt] = decodeAll([encodeHdt(123.44)]);
    expect(hdt?.kind === 'heading' && hdt.headingDeg).toBeCloseTo(123.4, 6);
    const [hdg] = decodeAll([encodeHdg(123.44, -1.5, 4.2)]);
    expect(hdg?.kind === 'heading' && hdg.reference).toBe('true');
    expect(hdg?.kind === 'heading' && Math.abs(hdg.headingDeg - 123.44)).toBeLessThanOrEqual(0.05 + 1e-9);
  });

  it('PGRMZ carries whole feet and decodes to metres', () => {
    expect(encodePgrmz(1000)).toMatch(/^\$PGRMZ,3281,f,3\*/);
    const [alt] = decodeAll([encodePgrmz(1000)]);
    expect(alt?.kind === 'pressure-altitude' && Math.abs(alt.altitudeM - 1000)).toBeLessThanOrEqual(METRES_PER_FOOT / 2);
  });

  it('a receiver with the week-rollover bug prints dates 1024 weeks back, the same time of day', () => {
    const rmc = encodeRmc({ ...fix, dateUs: T - GPS_ROLLOVER_US });
    const zda = encodeZda({ ...fix, dateUs: T - GPS_ROLLOVER_US });
    expect(rmc).toContain(',102030.40,');
    expect(rmc).toContain(',150904,'); // 2024-05-01 minus 7168 days = 2004-09-15
    expect(zda).toContain(',15,09,2004,');
  });
});
