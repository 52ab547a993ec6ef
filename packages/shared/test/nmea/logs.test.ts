// Every real log in fixtures/nmea decoded line by line (split on '\n' like the capture agent's
// readline, so a trailing '\r' stays on the line), checked against counts established WITHOUT
// this decoder, decoded values checked against hand-computed ones and against gpsd's .chk oracle.

import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { DecodeResult, NavSample, RejectReason } from '../../src/nav/types.js';
import { REJECT_REASONS } from '../../src/nav/types.js';
import { M_PER_FOOT, NmeaDecoder, type DecoderStats, type NmeaDecoderOptions } from '../../src/nmea/index.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/nmea/', import.meta.url));
const us = (iso: string): number => Date.parse(iso) * 1000;

interface Decoded {
  lines: string[];
  results: DecodeResult[];
  stats: DecoderStats;
}

function decodeLog(name: string, options?: NmeaDecoderOptions): Decoded {
  const lines = readFileSync(`${FIXTURES}${name}`).toString('latin1').split('\n');
  if (lines.at(-1) === '') lines.pop(); // the final '\n' ends the last line, it does not start one
  const decoder = new NmeaDecoder(options);
  const results = lines.map((line) => decoder.decode(line));
  return { lines, results, stats: decoder.stats() };
}

function samplesOf(results: DecodeResult[]): NavSample[] {
  return results.flatMap((r) => (r.status === 'accepted' ? r.samples : []));
}

/** Line numbers (1-based) and reasons of the rejected lines. */
function rejections(results: DecodeResult[]): Array<[number, RejectReason, string | null]> {
  return results.flatMap((r, i) => (r.status === 'rejected' ? [[i + 1, r.reason, r.sentence] as [number, RejectReason, string | null]] : []));
}

/*
 * Expected counts per log. How they were established (not by running this decoder):
 * 1. The address counts in PROVENANCE.md (all lines, whatever their checksum), summed over talkers
 *    per type (e.g. ch-4711 GGA = GPGGA 7 + GNGGA 6 + GLGGA 1 = 14).
 * 2. Minus the lines that are not whole, checksum-valid sentences, found by an independent
 *    one-off script (python: regex `^[$!]ADDR,[^$*]*\*hh$` + XOR of the body) and then read by
 *    hand (`grep -an`, `cat -A`): every such line is listed below under `rejected` with its number.
 * 3. Every checksum-valid line of a decoded type had its fields checked by a second one-off script
 *    (syntax of time/lat/lon/date/numbers, hh<24, mm<60, minutes<60, |lat|≤90, real dates,
 *    heading<360): the only irregularities are null (empty) fields, which are accepted; plus two
 *    unused-field oddities accepted on purpose (cat-ms352 RMC variation "999.9000", saab-r4 RMC
 *    missing the variation-direction field before its mode letter).
 * `rejected` lists only non-zero reasons; all others must be 0.
 */
interface Expected {
  valid: Record<string, number>;
  unknown: Record<string, number>;
  rejected: Partial<Record<RejectReason, number>>;
}

const EXPECTED: Record<string, Expected> = {
  // PASHR=29: 13 ASCII $PASHR with checksum (POS/SAT/XMG) → unknown; 16 binary $PASHR,MCA/PBN packets
  // (bytes < 0x20 / > 0x7E, e.g. L11 0x1A at col 12) + 5 lines that are the rest of binary packets
  // split on a 0x0A byte (L13, L28, L43, L44, L59) → 21 non-nmea.
  'ac12_binary.log': {
    valid: { GGA: 5, GSA: 5, RMC: 5, ZDA: 5 },
    unknown: { GSV: 15, PASHR: 13 },
    rejected: { 'non-nmea': 21 },
  },
  // All lines clean; '!AIVDM' → unknown VDM.
  'ais-nmea.log': {
    valid: { GGA: 164, GLL: 164, GSA: 165, RMC: 164, VTG: 164 },
    unknown: { GSV: 492, VDM: 183 },
    rejected: {},
  },
  // All clean (first 4 epochs are all-null no-fix sentences: accepted, no samples).
  'bt451.log': {
    valid: { GGA: 17, GLL: 17, GSA: 17, RMC: 17, VTG: 17, ZDA: 17 },
    unknown: { GSV: 36, TXT: 6 },
    rejected: {},
  },
  'cat-ms352.log': { valid: { GGA: 40, RMC: 40 }, unknown: {}, rejected: {} },
  'ch-4711.log': {
    valid: { GGA: 14, GSA: 20, RMC: 14 }, // GSA: GN 12 + GP 7 + GL 1
    unknown: { GBS: 1, GSV: 12, PORZD: 14 },
    rejected: {},
  },
  // 34 debug lines ("+ 6: 28 (.....)") → non-nmea; L86 "$GPGSA,…*3<ESC>[H<ESC>[J…3" (terminal
  // escapes inside the checksum) → non-nmea, so GSA = 19 − 1.
  'et-332.log': {
    valid: { GGA: 19, GSA: 18, RMC: 19, VTG: 19, ZDA: 19 },
    unknown: { GSV: 12 },
    rejected: { 'non-nmea': 35 },
  },
  // The 4 $PTNTHPR lines have wrong checksums (hand-edited exiftool fixture).
  'exiftool-Geotag2.log': { valid: { RMC: 3 }, unknown: {}, rejected: { 'bad-checksum': 4 } },
  // Every GPGGA (23) has a wrong checksum.
  'firefly-II.log': { valid: { RMC: 23, ZDA: 23 }, unknown: {}, rejected: { 'bad-checksum': 23 } },
  // L54 "4.4343,N,01025.5386,E,200002,A,D*48": tail of a GLL (two captures concatenated) → truncated.
  'foretrex-201.log': {
    valid: { GGA: 11, GLL: 11, GSA: 11, PGRMZ: 12, RMC: 11 },
    unknown: { BOD: 12, GSV: 33, PGRME: 12, RMB: 11, RTE: 12 },
    rejected: { truncated: 1 },
  },
  // GPGSV=22 − 1: L70 ends in "*7" (one checksum digit) → truncated.
  'garmin48.log': {
    valid: { GGA: 7, GLL: 7, GSA: 7, PGRMZ: 7, RMC: 7 },
    unknown: { BOD: 7, GSV: 21, PGRME: 7, PGRMM: 7, RMB: 7, RTE: 7 },
    rejected: { truncated: 1 },
  },
  'haicom-305N.log': { valid: { GGA: 73, GSA: 26, RMC: 74, VTG: 73 }, unknown: { GSV: 79 }, rejected: {} },
  'hemi.log': { valid: { GGA: 215, HDT: 215, VTG: 215, ZDA: 108 }, unknown: {}, rejected: {} },
  'nl2008u.log': {
    valid: { GGA: 9, GLL: 9, GSA: 18, RMC: 9, VTG: 9, ZDA: 9 },
    unknown: { GSV: 56, TXT: 8 }, // GSV: GP 29 + GL 27
    rejected: {},
  },
  'nmea-rtk.log': { valid: { GGA: 122, RMC: 122 }, unknown: {}, rejected: {} }, // GP 72 + GN 50
  'pypilot.log': { valid: { HDM: 7 }, unknown: { ROT: 7, XDR: 15 }, rejected: {} },
  'quectel-eg25-g.log': {
    valid: { GGA: 60, GNS: 60, GSA: 162, RMC: 60, VTG: 60 }, // GSA: GN 103 + GP 59
    unknown: { GSV: 313, PQGSV: 146 }, // GSV: GP 154 + GL 120 + GA 39
    rejected: {},
  },
  // L1 is an empty line.
  'saab-r4.log': {
    valid: { GGA: 12, GLL: 12, HDT: 12, RMC: 12, VTG: 12, ZDA: 12 },
    unknown: { DTM: 12, PFEC: 12, ROT: 12, VDM: 2, VDO: 12 },
    rejected: { empty: 1 },
  },
  // The 142 garbled $SDVLW lines hold several '$SDVLW' starts → fused (their checksum is valid
  // for the whole garbage: the multiplexer re-checksummed fused fragments).
  'signalk-gofree-merrimac.log': {
    valid: { GGA: 142, GLL: 142, GSA: 142, HDG: 1375, RMC: 142, VTG: 142, ZDA: 142 },
    unknown: {
      AAM: 142,
      APB: 142,
      BOD: 142,
      BWC: 90,
      BWR: 90,
      DBT: 142,
      DPT: 142,
      GSV: 426,
      MTW: 142,
      MWD: 141,
      MWV: 282,
      RMB: 142,
      VDM: 1507,
      VHW: 142,
      XDR: 141,
      XTE: 142,
    },
    rejected: { fused: 142 },
  },
  'signalk-gps.log': { valid: { GGA: 1202, GSA: 1201, RMC: 1201, VTG: 1201 }, unknown: { GSV: 943 }, rejected: {} },
  // L1 $GPTXT has no checksum: accepted by the default policy as unknown TXT with flag no-checksum.
  'sl869.log': {
    valid: { GGA: 15, GSA: 45, RMC: 15 },
    unknown: { GSV: 90, TXT: 1 }, // GSV: GP 45 + GL 30 + QZ 15
    rejected: {},
  },
  'tnt-revolution.log': { valid: {}, unknown: { PTNTHTM: 50, XDR: 10 }, rejected: {} },
  // GPGGA=5 − 1: L12 "$GPGGA,030130$GPGLL,…" → fused (the GLL in it is not counted either).
  'triton400.log': {
    valid: { GGA: 4, GLL: 4, GSA: 3, RMC: 4 },
    unknown: { GSV: 12 },
    rejected: { fused: 1 },
  },
  // GNRMC=73 − 2: L1 is binary junk with a $GNRMC glued at its end → non-nmea; L1009 (last line)
  // "$GNRMC,001053.00,A,4404.14083,N,12118.85886,W,0." is cut, no checksum → truncated.
  'ublox-8.log': {
    valid: { GGA: 72, GLL: 72, GSA: 144, RMC: 71, VTG: 72, ZDA: 72 },
    unknown: { GSV: 504 }, // GP 288 + GL 216
    rejected: { 'non-nmea': 1, truncated: 1 },
  },
  'ublox-neo-m9n-nmea.log': {
    valid: { GGA: 61, GLL: 61, GSA: 244, RMC: 61, VTG: 61, ZDA: 61 },
    unknown: { GBS: 61, GST: 61, GSV: 732 }, // GSV: GP 244 + GA 183 + GL 183 + GB 122
    rejected: {},
  },
  // GPRMC=466 − 1 and PFLAA=1907 − 1: L1260 and L1292 have "DMIKP" after their checksum → fused.
  'xcsoar-flarm-rl-traffic.nmea': {
    valid: { GGA: 466, GSA: 469, PGRMZ: 467, RMC: 465 },
    unknown: { PFLAA: 1906, PFLAU: 470 },
    rejected: { fused: 2 },
  },
};

const LOGS = readdirSync(FIXTURES)
  .filter((f) => /\.(log|nmea)$/.test(f))
  .sort();

describe('all real logs', () => {
  it('are the 25 logs of the dev set, each with an expectation', () => {
    expect(LOGS.length).toBe(25);
    expect(Object.keys(EXPECTED).sort()).toEqual(LOGS);
  });

  it.each(LOGS)('%s: decoded line by line without a throw, counts as expected', (name) => {
    const { lines, results, stats } = decodeLog(name);
    const want = EXPECTED[name];
    if (want === undefined) throw new Error(`no expectation for ${name}`);
    expect(stats.valid).toEqual(want.valid);
    expect(stats.unknown).toEqual(want.unknown);
    const rejected = Object.fromEntries(REJECT_REASONS.map((r) => [r, want.rejected[r] ?? 0]));
    expect(stats.rejected).toEqual(rejected);
    const total = [stats.valid, stats.unknown, stats.rejected]
      .flatMap((counts) => Object.values(counts))
      .reduce((a, b) => a + b, 0);
    expect(total).toBe(lines.length);
    // a Buffer of the same bytes decodes the same
    const again = new NmeaDecoder();
    const fromBytes = lines.map((l) => again.decode(Buffer.from(l, 'latin1')));
    expect(fromBytes).toEqual(results);
  });

  it('every sample is well-formed: finite numbers, integer tUs, ranges', () => {
    for (const name of LOGS) {
      for (const s of samplesOf(decodeLog(name).results)) {
        if (s.tUs !== null) expect(Number.isSafeInteger(s.tUs)).toBe(true);
        if (s.kind === 'position') {
          expect(Math.abs(s.latDeg)).toBeLessThanOrEqual(90);
          expect(Math.abs(s.lonDeg)).toBeLessThanOrEqual(180);
        }
        if (s.kind === 'heading') expect(s.headingDeg >= 0 && s.headingDeg < 360).toBe(true);
        for (const v of Object.values(s)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
      }
    }
  });
});

describe('known facts of particular logs', () => {
  it('firefly-II.log: the 23 rejected lines are exactly the GGA lines, all bad-checksum', () => {
    const { lines, results } = decodeLog('firefly-II.log');
    const rejected = rejections(results);
    expect(rejected).toHaveLength(23);
    for (const [n, reason, sentence] of rejected) {
      expect([reason, sentence]).toEqual(['bad-checksum', 'GGA']);
      expect(lines[n - 1]?.startsWith('$GPGGA,')).toBe(true);
    }
    // first RMC, by hand: 3715.6616 N → 37 + 15.6616/60 = 37.261026667; 12157.6709 W → −121.961181667
    const first = samplesOf(results).find((s) => s.kind === 'position');
    expect(first).toMatchObject({ sentence: 'RMC', tUs: us('2010-07-08T00:59:47Z') });
    if (first?.kind !== 'position') throw new Error('no position');
    expect(first.latDeg).toBeCloseTo(37.261026667, 9);
    expect(first.lonDeg).toBeCloseTo(-121.961181667, 9);
  });

  it('triton400.log: line 12 is a GGA fused with a GLL', () => {
    expect(rejections(decodeLog('triton400.log').results)).toEqual([[12, 'fused', 'GGA']]);
  });

  it('ac12_binary.log: binary packets are non-nmea rejections, NMEA around them decodes', () => {
    const { results } = decodeLog('ac12_binary.log');
    const rejected = rejections(results);
    expect(rejected.map(([n]) => n)).toEqual([11, 12, 13, 14, 15, 26, 27, 28, 29, 30, 41, 42, 43, 44, 45, 46, 57, 58, 59, 60, 61]);
    expect(new Set(rejected.map(([, reason]) => reason))).toEqual(new Set(['non-nmea']));
    // L1 $GPZDA,183531.00,23,12,2007 → 2007-12-23T18:35:31Z
    expect(samplesOf(results)[0]).toEqual({ kind: 'time', sentence: 'ZDA', talker: 'GP', tUs: us('2007-12-23T18:35:31Z') });
  });

  it('xcsoar-flarm-rl-traffic.nmea: 467 PGRMZ in feet → metres (4395 ft first, 2964..4395 ft), flying ~36 kn', () => {
    const samples = samplesOf(decodeLog('xcsoar-flarm-rl-traffic.nmea').results);
    const alt = samples.flatMap((s) => (s.kind === 'pressure-altitude' ? [s.altitudeM] : []));
    expect(alt).toHaveLength(467);
    expect(alt[0]).toBeCloseTo(4395 * 0.3048, 9); // 1339.596 m ("~4390 ft ≈ 1338 m")
    expect(Math.max(...alt)).toBeCloseTo(4395 * M_PER_FOOT, 9); // by grep|awk over the raw lines
    expect(Math.min(...alt)).toBeCloseTo(2964 * M_PER_FOOT, 9);
    const speeds = samples.flatMap((s) => (s.kind === 'velocity' && s.speedMps !== null ? [s.speedMps] : []));
    expect(speeds[0]).toBeCloseTo((35.9 * 1852) / 3600, 9); // L5 RMC 35.9 kn
    const gga = samples.find((s) => s.kind === 'position' && s.sentence === 'GGA');
    expect(gga).toMatchObject({ altitudeM: 1452, fixQuality: 2, satellites: 25, hdop: 1 }); // L6 GGA ",2,25,1.00,1452.0,M"
  });

  it('signalk-gofree-merrimac.log: 2-digit-year ZDA → 2014 dates; SDHDG true headings', () => {
    const samples = samplesOf(decodeLog('signalk-gofree-merrimac.log').results);
    const zda = samples.filter((s) => s.kind === 'time' && s.sentence === 'ZDA');
    expect(zda).toHaveLength(142);
    expect(zda[0]?.tUs).toBe(us('2014-04-16T19:57:19Z')); // "$GPZDA,195719,16,04,14,-02,00"
    for (const s of zda) expect(new Date((s.tUs ?? 0) / 1000).getUTCFullYear()).toBe(2014);
    const hdg = samples.filter((s) => s.kind === 'heading');
    expect(hdg).toHaveLength(1375);
    expect(hdg[0]).toMatchObject({ sentence: 'HDG', talker: 'SD', reference: 'true' });
    expect(hdg[0]?.kind === 'heading' && hdg[0].headingDeg).toBeCloseTo(182.3, 9); // 181.7 + 0.6 E
  });

  it('garmin48.log: line 70 is a GSV with a one-digit checksum → truncated', () => {
    expect(rejections(decodeLog('garmin48.log').results)).toEqual([[70, 'truncated', 'GSV']]);
  });

  it('hemi.log: the null HDT of the no-fix period give no sample, the 4 fixed ones ~274° true', () => {
    const samples = samplesOf(decodeLog('hemi.log').results).filter((s) => s.kind === 'heading');
    expect(samples.length).toBe(4); // census: 211 of 215 GPHDT have an empty heading
    for (const s of samples) if (s.kind === 'heading') expect(Math.abs(s.headingDeg - 274)).toBeLessThan(2);
  });

  it('sl869.log: the GPTXT without checksum is flagged no-checksum; rejected under the reject policy', () => {
    expect(decodeLog('sl869.log').results[0]).toEqual({ status: 'unknown', sentence: 'TXT', talker: 'GP', flags: ['no-checksum'] });
    const strict = decodeLog('sl869.log', { missingChecksum: 'reject' });
    expect(strict.stats.rejected['missing-checksum']).toBe(1);
  });

  it('bt451.log: time going backward at a splice keeps the same date', () => {
    const times = samplesOf(decodeLog('bt451.log').results).flatMap((s) => (s.kind === 'time' ? [s.tUs] : []));
    for (const t of times) expect(new Date(t / 1000).toISOString().slice(0, 10)).toBe('2009-12-09');
  });
});

describe("gpsd's .chk oracle", () => {
  // Each gpsd TPV report with a time and lat/lon must match one of our position samples at that
  // exact time, to 1e-8 degrees (gpsd prints 9 decimals).
  it.each(['firefly-II.log', 'triton400.log', 'garmin48.log'])('%s', (name) => {
    const positions = samplesOf(decodeLog(name).results).flatMap((s) => (s.kind === 'position' ? [s] : []));
    const tpv = readFileSync(`${FIXTURES}${name}.chk`, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"class":"TPV"'))
      .map((l) => JSON.parse(l) as { time?: string; lat?: number; lon?: number; altMSL?: number })
      .filter((t) => t.time !== undefined && t.lat !== undefined && t.lon !== undefined);
    expect(tpv.length).toBeGreaterThan(10);
    for (const t of tpv) {
      const tUs = us(t.time ?? '');
      const match = positions.find(
        (p) => p.tUs === tUs && Math.abs(p.latDeg - (t.lat ?? NaN)) < 1e-8 && Math.abs(p.lonDeg - (t.lon ?? NaN)) < 1e-8,
      );
      expect(match, `${name} TPV ${t.time} ${t.lat} ${t.lon}`).toBeDefined();
      if (t.altMSL !== undefined && match?.altitudeM !== null && match?.altitudeM !== undefined) {
        expect(match.altitudeM).toBeCloseTo(t.altMSL, 6);
      }
    }
  });
});

describe('week rollover on a real log', () => {
  it('garmin48.log (2001) replayed with a 2020 reference is corrected by 1024 weeks and flagged', () => {
    const plain = samplesOf(decodeLog('garmin48.log').results).find((s) => s.kind === 'time');
    expect(plain?.tUs).toBe(us('2001-06-06T22:53:08Z'));
    const { results } = decodeLog('garmin48.log', { rolloverReferenceUs: us('2020-12-01T00:00:00Z') });
    const rmc = results.find((r) => r.status === 'accepted' && r.sentence === 'RMC');
    expect(rmc?.status === 'accepted' && rmc.flags).toEqual(['week-rollover']);
    const time = samplesOf(results).find((s) => s.kind === 'time');
    expect(time?.tUs).toBe(us('2001-06-06T22:53:08Z') + 1024 * 7 * 86_400e6); // = 2021-01-20T22:53:08Z
    expect(time?.tUs).toBe(us('2021-01-20T22:53:08Z'));
  });
});
