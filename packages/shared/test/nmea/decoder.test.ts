import { describe, expect, it } from 'vitest';
import type { DecodeResult, NavSample } from '../../src/nav/types.js';
import { REJECT_REASONS } from '../../src/nav/types.js';
import { nmeaSentence } from '../../src/nmea/checksum.js';
import { MPS_PER_KNOT, M_PER_FOOT, NmeaDecoder, WEEK_ROLLOVER_US } from '../../src/nmea/index.js';

const us = (iso: string): number => Date.parse(iso) * 1000;

type Accepted = Extract<DecodeResult, { status: 'accepted' }>;
type Rejected = Extract<DecodeResult, { status: 'rejected' }>;

function accepted(result: DecodeResult): Accepted {
  if (result.status !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(result)}`);
  return result;
}

function rejectedOf(result: DecodeResult): Rejected {
  if (result.status !== 'rejected') throw new Error(`expected rejected, got ${JSON.stringify(result)}`);
  return result;
}

function only<K extends NavSample['kind']>(result: DecodeResult, kind: K): Extract<NavSample, { kind: K }> {
  const found = accepted(result).samples.filter((s) => s.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind} sample, got ${JSON.stringify(result)}`);
  return found[0] as Extract<NavSample, { kind: K }>;
}

const kinds = (result: DecodeResult): string[] => accepted(result).samples.map((s) => s.kind);

/** A decoder that already knows the date 2010-07-08 (from a ZDA at 00:59:46). */
function dated(): NmeaDecoder {
  const d = new NmeaDecoder();
  accepted(d.decode(nmeaSentence('GPZDA,005946.00,08,07,2010,+00,00')));
  return d;
}

describe('RMC', () => {
  it('gives position (fixQuality 1), velocity (knots → m/s) and time', () => {
    // firefly-II.log line 2
    const r = new NmeaDecoder().decode('$GPRMC,005947.00,A,3715.6616,N,12157.6709,W,0.0,0.0,080710,,*2F\r');
    expect(kinds(r)).toEqual(['position', 'velocity', 'time']);
    const t = us('2010-07-08T00:59:47Z');
    expect(only(r, 'position')).toEqual({
      kind: 'position',
      sentence: 'RMC',
      talker: 'GP',
      tUs: t,
      latDeg: expect.closeTo(37.26102667, 8),
      lonDeg: expect.closeTo(-121.96118167, 8),
      altitudeM: null,
      fixQuality: 1,
      satellites: null,
      hdop: null,
    });
    expect(only(r, 'time').tUs).toBe(t);
    expect(accepted(r).flags).toEqual([]);
  });

  it('converts speed and keeps the track (xcsoar line 5: 35.9 kn, 270.6°)', () => {
    const r = new NmeaDecoder().decode('$GPRMC,134749.60,A,4857.88170,N,00705.83929,E,35.9,270.6,281224,,,D*61');
    const v = only(r, 'velocity');
    expect(v.speedMps).toBeCloseTo((35.9 * 1852) / 3600, 12);
    expect(v.trackDeg).toBe(270.6);
    expect(v.tUs).toBe(us('2024-12-28T13:47:49.600Z'));
    expect(MPS_PER_KNOT).toBe(1852 / 3600);
  });

  it("status 'V': no position, no velocity, flag no-fix, still a time sample when time and date are valid", () => {
    const r = new NmeaDecoder().decode(nmeaSentence('GPRMC,120000.00,V,3715.6616,N,12157.6709,W,0.0,0.0,080710,,,N'));
    expect(kinds(r)).toEqual(['time']);
    expect(accepted(r).flags).toEqual(['no-fix']);
    // all-null RMC (bt451.log indoors): accepted, nothing in it
    const empty = new NmeaDecoder().decode('$GPRMC,,V,,,,,,,,,,N*53');
    expect(kinds(empty)).toEqual([]);
    expect(accepted(empty).flags).toEqual(['no-fix']);
  });

  it("FAA mode 'N' with status 'A' is no fix too", () => {
    const r = new NmeaDecoder().decode(nmeaSentence('GPRMC,120000.00,A,3715.6616,N,12157.6709,W,0.0,0.0,080710,,,N'));
    expect(kinds(r)).toEqual(['time']);
    expect(accepted(r).flags).toEqual(['no-fix']);
  });

  it('pivots the 2-digit year: 99 → 1999, 07 → 2007', () => {
    expect(only(new NmeaDecoder().decode(nmeaSentence('GPRMC,120000,A,0000.000,N,00000.000,E,,,311299,,')), 'time').tUs).toBe(
      us('1999-12-31T12:00:00Z'),
    );
    expect(only(new NmeaDecoder().decode('$GPRMC,183530.00,A,2037.7601,N,08704.0737,W,00.0,359.4,231207,01,W,A*26'), 'time').tUs).toBe(
      us('2007-12-23T18:35:30Z'),
    );
  });

  it('a short RMC with a valid checksum (nmea-simple throws a TypeError on it) is malformed, not a crash', () => {
    const r = rejectedOf(new NmeaDecoder().decode(nmeaSentence('GPRMC,120000,A,3715.6616,N')));
    expect(r.reason).toBe('malformed-field');
    expect(r.detail).toContain('date');
    expect(r.sentence).toBe('RMC');
  });
});

describe('GGA', () => {
  it('gives position with altitude, satellites, hdop; time once a date is known (date-inferred)', () => {
    // ublox-8.log line 4, once the date is known (from that log's ZDA for the same second)
    const d = new NmeaDecoder();
    accepted(d.decode('$GNZDA,000941.00,10,01,2017,00,00*70'));
    const r = d.decode('$GNGGA,000941.00,4404.13387,N,12118.85628,W,1,12,1.01,1144.8,M,-21.4,M,,*4D');
    expect(kinds(r)).toEqual(['position', 'time']);
    expect(only(r, 'position')).toEqual({
      kind: 'position',
      sentence: 'GGA',
      talker: 'GN',
      tUs: us('2017-01-10T00:09:41Z'),
      latDeg: expect.closeTo(44 + 4.13387 / 60, 10),
      lonDeg: expect.closeTo(-(121 + 18.85628 / 60), 10),
      altitudeM: 1144.8,
      fixQuality: 1,
      satellites: 12,
      hdop: 1.01,
    });
    expect(accepted(r).flags).toEqual(['date-inferred']);
  });

  it('before any date: position with tUs null and no time sample (never the date nmea-simple stamps)', () => {
    const r = new NmeaDecoder().decode('$GPGGA,194050.00,4221.8237733,N,07101.9411707,W,1,00,3.3,10.835,M,-33.320,M,,*62');
    expect(kinds(r)).toEqual(['position']);
    expect(only(r, 'position').tUs).toBeNull();
    expect(only(r, 'position').satellites).toBe(0);
    expect(accepted(r).flags).toEqual([]);
  });

  it('quality 0 or empty: no position, flag no-fix, time kept (empty fields are not zeros)', () => {
    const d = dated();
    const q0 = d.decode('$GPGGA,135658.997,5543.0326,N,03724.7205,E,0,,,165.6,M,14.6,M,,*7D'); // ch-4711
    expect(kinds(q0)).toEqual(['time']);
    expect(accepted(q0).flags).toEqual(['no-fix', 'date-inferred']);
    const empty = new NmeaDecoder().decode('$GPGGA,,,,,,0,,,,M,,M,,*66'); // hemi.log
    expect(kinds(empty)).toEqual([]);
    expect(accepted(empty).flags).toEqual(['no-fix']);
    const noQuality = new NmeaDecoder().decode(nmeaSentence('GPGGA,005947.00,3715.6616,N,12157.6709,W,,11,0.8,86.0,M,-30.1,M,,'));
    expect(kinds(noQuality)).toEqual([]);
    expect(accepted(noQuality).flags).toEqual(['no-fix']);
  });

  it('a GGA with no sats/HDOP/altitude (saab-r4) has nulls there, not zeros', () => {
    const p = only(new NmeaDecoder().decode('$GPGGA,130711,5012.790800,N,00806.879600,W,2,,,,,,,*6A'), 'position');
    expect([p.fixQuality, p.satellites, p.hdop, p.altitudeM]).toEqual([2, null, null, null]);
  });

  it('crosses UTC midnight: 23:59:59 then 00:00:00 is the next day', () => {
    const d = new NmeaDecoder();
    d.decode(nmeaSentence('GPRMC,235958.00,A,3715.6616,N,12157.6709,W,0.0,0.0,311210,,'));
    const gga = (t: string) =>
      only(d.decode(nmeaSentence(`GPGGA,${t},3715.6616,N,12157.6709,W,1,08,1.0,86.0,M,-30.1,M,,`)), 'time').tUs;
    expect(gga('235959.00')).toBe(us('2010-12-31T23:59:59Z'));
    expect(gga('000000.00')).toBe(us('2011-01-01T00:00:00Z'));
    expect(gga('000001.00')).toBe(us('2011-01-01T00:00:01Z'));
  });

  it('rejects impossible values and malformed fields, naming the field', () => {
    const d = new NmeaDecoder();
    const lat = rejectedOf(d.decode(nmeaSentence('GPGGA,120000,9130.0000,N,12157.6709,W,1,08,1.0,86.0,M,,M,,')));
    expect([lat.reason, lat.sentence]).toEqual(['impossible-value', 'GGA']);
    expect(lat.detail).toContain('latitude');
    const time = rejectedOf(d.decode(nmeaSentence('GPGGA,250000,3715.6616,N,12157.6709,W,1,08,1.0,86.0,M,,M,,')));
    expect(time.reason).toBe('impossible-value');
    expect(time.detail).toContain('hour 25');
    const alt = rejectedOf(d.decode(nmeaSentence('GPGGA,120000,3715.6616,N,12157.6709,W,1,08,1.0,8x6.0,M,,M,,')));
    expect(alt.reason).toBe('malformed-field');
    expect(alt.detail).toContain('altitude');
  });

  it('a rejected sentence does not move the date', () => {
    const d = dated();
    rejectedOf(d.decode(nmeaSentence('GPRMC,120000,A,3715.6616,N,12157.6709,W,0.0,0.0,011320,,')));
    const t = only(d.decode(nmeaSentence('GPGGA,005948.00,3715.6616,N,12157.6709,W,1,08,1.0,86.0,M,,M,,')), 'time');
    expect(t.tUs).toBe(us('2010-07-08T00:59:48Z'));
  });
});

describe('GLL, GNS, VTG, GSA', () => {
  it('GLL: position with fixQuality 1, time once dated', () => {
    // ais-nmea.log lines 4 (RMC) and 11 (GLL)
    const d = new NmeaDecoder();
    d.decode('$GPRMC,213950.00,A,5250.53669,N,00542.34920,E,0.020,,070420,,,A*7D');
    const r = d.decode('$GPGLL,5250.53669,N,00542.34920,E,213950.00,A,A*67');
    expect(kinds(r)).toEqual(['position', 'time']);
    const p = only(r, 'position');
    expect(p.latDeg).toBeCloseTo(52 + 50.53669 / 60, 10);
    expect(p.lonDeg).toBeCloseTo(5 + 42.3492 / 60, 10);
    expect(p.tUs).toBe(us('2020-04-07T21:39:50Z'));
    expect(p.fixQuality).toBe(1);
    const v = new NmeaDecoder().decode('$GPGLL,,,,,,V,N*64');
    expect(kinds(v)).toEqual([]);
    expect(accepted(v).flags).toEqual(['no-fix']);
  });

  it('GNS: position from mode letters, altitude, sats; all-N mode is no fix', () => {
    // quectel-eg25-g.log line 319
    const r = new NmeaDecoder().decode('$GNGNS,191503.01,3645.876324,N,03124.670280,E,AAN,08,1.3,-6.7,32.0,,,V*42');
    const p = only(r, 'position');
    expect(p.latDeg).toBeCloseTo(36 + 45.876324 / 60, 10);
    expect(p.lonDeg).toBeCloseTo(31 + 24.67028 / 60, 10);
    expect([p.altitudeM, p.satellites, p.hdop, p.fixQuality, p.talker]).toEqual([-6.7, 8, 1.3, 1, 'GN']);
    const n = new NmeaDecoder().decode('$GNGNS,191434.96,,,,,NNN,,,,,,*36');
    expect(kinds(n)).toEqual([]);
    expect(accepted(n).flags).toEqual(['no-fix']);
  });

  it('GNS: a fractional satellite count is malformed (like GGA), not stored as 10.5', () => {
    const gns = rejectedOf(new NmeaDecoder().decode(nmeaSentence('GNGNS,191503.01,3645.876324,N,03124.670280,E,AAN,10.5,1.3,-6.7,32.0,,,V')));
    expect([gns.reason, gns.sentence]).toEqual(['malformed-field', 'GNS']);
    expect(gns.detail).toContain('satellites "10.5" is not an integer');
    const gga = rejectedOf(new NmeaDecoder().decode(nmeaSentence('GPGGA,120000,3715.6616,N,12157.6709,W,1,10.5,1.0,86.0,M,,M,,')));
    expect([gga.reason, gga.detail]).toEqual(['malformed-field', 'GPGGA: satellites "10.5" is not an integer']);
    // the other integer fields decoded: GGA fix quality, GSA fix mode
    const quality = rejectedOf(new NmeaDecoder().decode(nmeaSentence('GPGGA,120000,3715.6616,N,12157.6709,W,1.5,08,1.0,86.0,M,,M,,')));
    expect([quality.reason, quality.detail]).toEqual(['malformed-field', 'GPGGA: fix quality "1.5" is not an integer']);
    const fixMode = rejectedOf(new NmeaDecoder().decode(nmeaSentence('GPGSA,A,3.0,,,,,,,,,,,,,1.7,1.0,1.4')));
    expect(fixMode.reason).toBe('malformed-field');
    expect(fixMode.detail).toContain('fix mode');
  });

  it('RMC/GLL/GNS mode letters (NMEA 2.3+ A/D/E/M/S, 4.x P/R/F) → GGA fix quality, not always 1', () => {
    const want: Array<[string, number]> = [['A', 1], ['D', 2], ['P', 3], ['R', 4], ['F', 5], ['E', 6], ['M', 7], ['S', 8]];
    for (const [mode, quality] of want) {
      const rmc = new NmeaDecoder().decode(nmeaSentence(`GPRMC,120000,A,3715.6616,N,12157.6709,W,0.0,0.0,080710,,,${mode}`));
      const gll = new NmeaDecoder().decode(nmeaSentence(`GPGLL,3715.6616,N,12157.6709,W,120000,A,${mode}`));
      const gns = new NmeaDecoder().decode(nmeaSentence(`GNGNS,120000,3715.6616,N,12157.6709,W,${mode}N,08,1.0,86.0,,,,V`));
      expect([mode, ...[rmc, gll, gns].map((r) => only(r, 'position').fixQuality)]).toEqual([mode, quality, quality, quality]);
    }
    // no mode field (NMEA < 2.3): a valid fix is plain GPS
    expect(only(new NmeaDecoder().decode(nmeaSentence('GPGLL,3715.6616,N,12157.6709,W,120000,A')), 'position').fixQuality).toBe(1);
    // GNS with several constellations: the best by rank (RTK fixed 4 beats DGPS 2 and dead reckoning 6)
    const multi = new NmeaDecoder().decode(nmeaSentence('GNGNS,120000,3715.6616,N,12157.6709,W,EDR,08,1.0,86.0,,,,V'));
    expect(only(multi, 'position').fixQuality).toBe(4);
    const dp = new NmeaDecoder().decode(nmeaSentence('GNGNS,120000,3715.6616,N,12157.6709,W,PD,08,1.0,86.0,,,,V'));
    expect(only(dp, 'position').fixQuality).toBe(2); // DGPS ranks above PPS
  });

  it('VTG: modern and NMEA 1.x layouts, speed in m/s, track null when empty, mode N = no fix', () => {
    const modern = only(new NmeaDecoder().decode('$GNVTG,,T,,M,0.029,N,0.053,K,A*30'), 'velocity');
    expect(modern).toEqual({
      kind: 'velocity',
      sentence: 'VTG',
      talker: 'GN',
      tUs: null,
      speedMps: expect.closeTo(0.029 * MPS_PER_KNOT, 12),
      trackDeg: null,
    });
    const old = only(new NmeaDecoder().decode(nmeaSentence('GPVTG,054.7,034.4,005.5,010.2')), 'velocity');
    expect([old.trackDeg, old.speedMps]).toEqual([54.7, 5.5 * MPS_PER_KNOT]);
    const kmh = only(new NmeaDecoder().decode(nmeaSentence('GPVTG,10.0,T,,M,,N,36.0,K,A')), 'velocity');
    expect(kmh.speedMps).toBeCloseTo(10, 12);
    const none = new NmeaDecoder().decode('$GPVTG,,T,,M,,N,,K,N*2C');
    expect(kinds(none)).toEqual([]);
    expect(accepted(none).flags).toEqual(['no-fix']);
  });

  it('GSA: fix mode and DOPs; fix mode 1 flagged no-fix but kept', () => {
    const dop = only(new NmeaDecoder().decode('$GNGSA,A,3,23,09,16,07,26,03,27,22,,,,,1.71,1.01,1.38*1B'), 'dop');
    expect(dop).toEqual({ kind: 'dop', sentence: 'GSA', talker: 'GN', tUs: null, fixMode: 3, pdop: 1.71, hdop: 1.01, vdop: 1.38 });
    const r = new NmeaDecoder().decode(nmeaSentence('GPGSA,A,1,,,,,,,,,,,,,99.99,99.99,99.99'));
    expect(only(r, 'dop').fixMode).toBe(1);
    expect(accepted(r).flags).toEqual(['no-fix']);
  });
});

describe('ZDA', () => {
  it('4-digit year', () => {
    const r = new NmeaDecoder().decode('$GPZDA,183531.00,23,12,2007,00,00*6C');
    expect(only(r, 'time')).toEqual({ kind: 'time', sentence: 'ZDA', talker: 'GP', tUs: us('2007-12-23T18:35:31Z') });
  });

  it('2-digit year (signalk-gofree-merrimac.log: "14" → 2014), local zone ignored (time is UTC)', () => {
    const r = new NmeaDecoder().decode('$GPZDA,195719,16,04,14,-02,00*63');
    expect(only(r, 'time').tUs).toBe(us('2014-04-16T19:57:19Z'));
  });

  it('month 13 is impossible; null ZDA (bt451) is accepted with no sample', () => {
    expect(rejectedOf(new NmeaDecoder().decode(nmeaSentence('GPZDA,120000.00,01,13,2010,00,00'))).reason).toBe('impossible-value');
    expect(kinds(new NmeaDecoder().decode('$GPZDA,,,,,00,00*48'))).toEqual([]);
    expect(rejectedOf(new NmeaDecoder().decode(nmeaSentence('GPZDA,120000.00,01,,2010,00,00'))).reason).toBe('malformed-field');
  });
});

describe('headings', () => {
  it('HDT is true, HDM magnetic, any talker', () => {
    const hdt = only(new NmeaDecoder().decode('$HEHDT,4.0,T*2B'), 'heading');
    expect(hdt).toEqual({ kind: 'heading', sentence: 'HDT', talker: 'HE', tUs: null, headingDeg: 4, reference: 'true' });
    const hdm = only(new NmeaDecoder().decode('$APHDM,218.634,M*39'), 'heading');
    expect([hdm.headingDeg, hdm.reference, hdm.talker]).toEqual([218.634, 'magnetic', 'AP']);
    expect(kinds(new NmeaDecoder().decode('$GPHDT,,T*1B'))).toEqual([]); // hemi.log before its fix
  });

  it('HDG applies variation E (+) and W (−) to give true heading', () => {
    // signalk-gofree-merrimac.log: 181.7 + 0.6 E = 182.3 true
    const e = only(new NmeaDecoder().decode('$SDHDG,181.7,,,0.6,E*3C'), 'heading');
    expect(e.headingDeg).toBeCloseTo(182.3, 10);
    expect([e.reference, e.talker]).toEqual(['true', 'SD']);
    const w = only(new NmeaDecoder().decode(nmeaSentence('HCHDG,10.0,,,15.5,W')), 'heading');
    expect(w.headingDeg).toBeCloseTo(354.5, 10);
    expect(w.reference).toBe('true');
  });

  it('HDG applies deviation too; without variation the heading stays magnetic', () => {
    const dev = only(new NmeaDecoder().decode(nmeaSentence('HCHDG,358.0,3.0,E,1.0,W')), 'heading');
    expect(dev.headingDeg).toBeCloseTo(0, 10); // 358 + 3 − 1 = 360 → 0
    expect(dev.reference).toBe('true');
    const mag = only(new NmeaDecoder().decode(nmeaSentence('HCHDG,101.1,2.0,W,,')), 'heading');
    expect(mag.headingDeg).toBeCloseTo(99.1, 10);
    expect(mag.reference).toBe('magnetic');
    const bare = only(new NmeaDecoder().decode(nmeaSentence('HCHDG,45.0')), 'heading');
    expect([bare.headingDeg, bare.reference]).toEqual([45, 'magnetic']);
  });

  it('heading above 360 is impossible; variation without E/W is malformed', () => {
    expect(rejectedOf(new NmeaDecoder().decode(nmeaSentence('HEHDT,361.0,T'))).reason).toBe('impossible-value');
    expect(rejectedOf(new NmeaDecoder().decode(nmeaSentence('HCHDG,10.0,,,5.0,'))).reason).toBe('malformed-field');
  });
});

describe('PGRMZ', () => {
  it('feet are converted to metres (xcsoar: 4395 ft = 1339.596 m)', () => {
    const r = new NmeaDecoder().decode('$PGRMZ,4395,f,3*20');
    expect(accepted(r).talker).toBe('P');
    expect(only(r, 'pressure-altitude')).toEqual({
      kind: 'pressure-altitude',
      sentence: 'PGRMZ',
      talker: 'P',
      tUs: null,
      altitudeM: expect.closeTo(4395 * 0.3048, 9),
    });
    expect(M_PER_FOOT).toBe(0.3048);
    expect(only(new NmeaDecoder().decode('$PGRMZ,-30,f,2*04'), 'pressure-altitude').altitudeM).toBeCloseTo(-9.144, 9);
  });

  it('metres stay metres; empty altitude gives no sample; bad unit is malformed', () => {
    expect(only(new NmeaDecoder().decode(nmeaSentence('PGRMZ,1452,m,3')), 'pressure-altitude').altitudeM).toBe(1452);
    expect(only(new NmeaDecoder().decode(nmeaSentence('PGRMZ,93,M,')), 'pressure-altitude').altitudeM).toBe(93);
    expect(kinds(new NmeaDecoder().decode('$PGRMZ,,f,1*29'))).toEqual([]); // foretrex-201
    expect(rejectedOf(new NmeaDecoder().decode(nmeaSentence('PGRMZ,1452,x,3'))).reason).toBe('malformed-field');
    expect(rejectedOf(new NmeaDecoder().decode(nmeaSentence('PGRMZ,1452,,3'))).reason).toBe('malformed-field');
    expect(rejectedOf(new NmeaDecoder().decode(nmeaSentence('PGRMZ,999999,f,3'))).reason).toBe('impossible-value');
  });
});

describe('talkers', () => {
  it.each(['GP', 'GN', 'GL', 'GA', 'GB', 'GQ', 'BD', 'HE', 'HC', 'AP', 'II', 'IN', 'SD', 'U1', '12'])(
    'decodes a %s talker and reports it',
    (talker) => {
      const r = new NmeaDecoder().decode(nmeaSentence(`${talker}HDT,123.4,T`));
      expect(accepted(r).talker).toBe(talker);
      expect(only(r, 'heading').talker).toBe(talker);
      const rmc = new NmeaDecoder().decode(nmeaSentence(`${talker}RMC,120000,A,3715.6616,N,12157.6709,W,1.0,10.0,080710,,`));
      expect([accepted(rmc).sentence, accepted(rmc).talker]).toEqual(['RMC', talker]);
    },
  );
});

describe('unknown types', () => {
  it.each([
    ['$GPGSV,3,1,11,01,78,221,47,03,09,042,00,04,05,242,00,06,04,149,00*70', 'GSV', 'GP'],
    ['!AIVDM,1,1,,A,13aEOK?P00PD2wVMdLDRhgvL289?,0*26', 'VDM', 'AI'],
    [nmeaSentence('PFLAA,0,-1540,-1020,-1126,1,39103C!FJLKN,93,0,33,4.9,8'), 'PFLAA', 'P'],
    [nmeaSentence('PGRME,15.0,M,45.0,M,25.0,M'), 'PGRME', 'P'],
    [nmeaSentence('GNTXT,01,01,02,u-blox AG - www.u-blox.com'), 'TXT', 'GN'],
  ])('%s → unknown %s', (line, type, talker) => {
    expect(new NmeaDecoder().decode(line)).toEqual({ status: 'unknown', sentence: type, talker, flags: [] });
  });
});

describe('checksum policy', () => {
  const line = '$GPZDA,183531.00,23,12,2007,00,00';

  it("default 'accept-flag': accepted with flag no-checksum (unknown types too)", () => {
    const r = accepted(new NmeaDecoder().decode(line));
    expect(r.flags).toEqual(['no-checksum']);
    expect(new NmeaDecoder().decode('$GPTXT,TELIT SW Version: SL869 v3.1.2.1 -STD -N96')).toEqual({
      status: 'unknown',
      sentence: 'TXT',
      talker: 'GP',
      flags: ['no-checksum'],
    });
  });

  it("'reject': rejected as missing-checksum", () => {
    const r = rejectedOf(new NmeaDecoder({ missingChecksum: 'reject' }).decode(line));
    expect([r.reason, r.sentence]).toEqual(['missing-checksum', 'ZDA']);
  });

  it('a cut line without checksum and too few fields is truncated (ublox-8.log last line)', () => {
    const r = rejectedOf(new NmeaDecoder().decode('$GNRMC,001053.00,A,4404.14083,N,12118.85886,W,0.'));
    expect(r.reason).toBe('truncated');
  });
});

describe("'accept-flag': a type seen with a checksum on this decoder, then without one, was cut", () => {
  // hardware-sim's `truncate` fault: the line is cut in its body, so its '*hh' is lost.
  const primed = (): NmeaDecoder => {
    const d = new NmeaDecoder();
    accepted(d.decode(nmeaSentence('HCHDT,274.1,T')));
    accepted(d.decode('$GNVTG,,T,,M,0.029,N,0.053,K,A*30'));
    accepted(d.decode(nmeaSentence('GPGGA,120000,3715.6616,N,12157.6709,W,1,08,1.0,543.2,M,,M,,')));
    return d;
  };

  it.each([
    ['$HCHDT,12', 'HDT'], // would be heading 12°
    ['$GNVTG,,T,,M,2', 'VTG'], // cut in the speed (knots) field: would be 2 kn
    ['$GPGGA,120001,3715.6616,N,12157.6709,W,1,08,1.0,54', 'GGA'], // cut in the altitude: would be 54 m
    ['$GNGGA,120001,3715.6616,N,12157.6709,W,1,08,1.0,54', 'GGA'], // the type counts, not the talker
  ])('%s → truncated', (line, type) => {
    const r = rejectedOf(primed().decode(line));
    expect([r.reason, r.sentence]).toEqual(['truncated', type]);
    expect(r.detail).toContain('no *hh checksum');
  });

  it('a device that never sends checksums, or a type first sent without one, keeps working', () => {
    const d = new NmeaDecoder();
    for (let i = 0; i < 3; i++) expect(only(d.decode('$HCHDT,12.5,T'), 'heading').headingDeg).toBe(12.5);
    accepted(d.decode(nmeaSentence('HCHDT,274.1,T'))); // another type with a checksum does not matter...
    const other = primed();
    expect(accepted(other.decode('$GPZDA,183531.00,23,12,2007,00,00')).flags).toEqual(['no-checksum']); // ...nor another type
    expect(rejectedOf(d.decode('$HCHDT,12.5,T')).reason).toBe('truncated'); // but once HDT came with one, it is expected
  });

  it('the state is per decoder (per port): a fresh decoder accepts the same line flagged', () => {
    rejectedOf(primed().decode('$HCHDT,12'));
    expect(accepted(new NmeaDecoder().decode('$HCHDT,12')).flags).toEqual(['no-checksum']);
  });

  it("under 'reject' it stays missing-checksum", () => {
    const d = new NmeaDecoder({ missingChecksum: 'reject' });
    accepted(d.decode(nmeaSentence('HCHDT,274.1,T')));
    expect(rejectedOf(d.decode('$HCHDT,12')).reason).toBe('missing-checksum');
  });
});

describe('every reject reason', () => {
  it.each([
    ['bad-checksum', '$GPZDA,183531.00,23,12,2007,00,00*6D'],
    ['missing-checksum', '$GPZDA,183531.00,23,12,2007,00,00'],
    ['truncated', '$GPZDA,183531.00,23,12,2007,00,00*6'],
    ['fused', '$GPGGA,030130$GPGLL,2638.1728,N,08011.3893,W,030131.000,A,A*41'],
    ['non-nmea', '\x11`\x05\x02\x18\x052\x00A[/FW'],
    ['malformed-field', nmeaSentence('GPZDA,18h531.00,23,12,2007,00,00')],
    ['impossible-value', nmeaSentence('GPRMC,120000,A,3775.0000,N,12157.6709,W,0.0,0.0,080710,,')],
    ['empty', '\r'],
  ] as const)('%s', (reason, line) => {
    const d = new NmeaDecoder({ missingChecksum: 'reject' });
    expect(rejectedOf(d.decode(line)).reason).toBe(reason);
    expect(d.stats().rejected[reason]).toBe(1);
  });

  it('covers all REJECT_REASONS', () => {
    expect(REJECT_REASONS.length).toBe(8);
  });
});

describe('week rollover option', () => {
  // A receiver with the rollover bug reports 2024-05-21 as 2004-10-05 (1024 weeks earlier).
  const buggy = nmeaSentence('GPRMC,120000,A,3715.6616,N,12157.6709,W,0.0,0.0,051004,,');
  const buggyZda = nmeaSentence('GPZDA,120000,05,10,2004,00,00');

  it('off by default: the old date is kept (replaying old logs is legitimate)', () => {
    const r = new NmeaDecoder().decode(buggy);
    expect(only(r, 'time').tUs).toBe(us('2004-10-05T12:00:00Z'));
    expect(accepted(r).flags).toEqual([]);
  });

  it('on: corrected by 1024 weeks and flagged, for RMC and ZDA and the GGA that follow', () => {
    const d = new NmeaDecoder({ rolloverReferenceUs: us('2024-06-01T00:00:00Z') });
    const r = d.decode(buggy);
    expect(only(r, 'time').tUs).toBe(us('2024-05-21T12:00:00Z'));
    expect(only(r, 'time').tUs).toBe(us('2004-10-05T12:00:00Z') + WEEK_ROLLOVER_US);
    expect(accepted(r).flags).toEqual(['week-rollover']);
    expect(only(d.decode(buggyZda), 'time').tUs).toBe(us('2024-05-21T12:00:00Z'));
    const gga = d.decode(nmeaSentence('GPGGA,120001,3715.6616,N,12157.6709,W,1,08,1.0,86.0,M,,M,,'));
    expect(only(gga, 'position').tUs).toBe(us('2024-05-21T12:00:01Z'));
  });

  it('on: a correct recent date is left alone', () => {
    const d = new NmeaDecoder({ rolloverReferenceUs: us('2024-06-01T00:00:00Z') });
    const r = d.decode(nmeaSentence('GPZDA,120000,20,05,2024,00,00'));
    expect(only(r, 'time').tUs).toBe(us('2024-05-20T12:00:00Z'));
    expect(accepted(r).flags).toEqual([]);
  });
});

describe('stats', () => {
  it('counts valid per type (talker stripped), unknown per type, rejected per reason; JSON-able copy', () => {
    const d = new NmeaDecoder();
    d.decode('$GPZDA,183531.00,23,12,2007,00,00*6C');
    d.decode('$GNZDA,000941.00,10,01,2017,00,00*70');
    d.decode('$PGRMZ,4395,f,3*20');
    d.decode('$GPGSV,3,1,11,01,78,221,47,03,09,042,00,04,05,242,00,06,04,149,00*70');
    d.decode('');
    d.decode('$GPZDA,183531.00,23,12,2007,00,00*6D');
    const s = d.stats();
    expect(s.valid).toEqual({ ZDA: 2, PGRMZ: 1 });
    expect(s.unknown).toEqual({ GSV: 1 });
    expect(s.rejected).toEqual({
      'bad-checksum': 1,
      'missing-checksum': 0,
      truncated: 0,
      fused: 0,
      'non-nmea': 0,
      'malformed-field': 0,
      'impossible-value': 0,
      empty: 1,
    });
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    s.valid.ZDA = 99;
    expect(d.stats().valid.ZDA).toBe(2);
  });
});

describe('input forms', () => {
  it('accepts a Buffer (latin1) the same as a string', () => {
    const line = '$GPZDA,183531.00,23,12,2007,00,00*6C\r';
    expect(new NmeaDecoder().decode(Buffer.from(line, 'latin1'))).toEqual(new NmeaDecoder().decode(line));
  });
});
