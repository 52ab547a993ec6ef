// One function per decoded sentence type: raw fields → samples. Every value is parsed from the raw
// field text by the strict parsers of fields.ts (nmea-simple, which the decoder once ran beside
// them, never rejected a framed sentence of these types and its values were never used where they
// differed from the raw text, so it was pure cost on the hot path).
//
// Each function first parses and checks EVERY field it uses (throwing FieldError on a bad one), and
// only then touches the date state, so a rejected sentence never moves the decoder's date.
//
// No-fix policy: when a sentence's status/mode says the fix is invalid (RMC 'V', GGA quality 0 or
// empty, GLL 'V', GNS mode all 'N', FAA mode 'N', GSA fix mode 1) it gets the flag 'no-fix' and
// yields NO position and NO velocity sample (receivers repeat stale or zero positions then: junk
// that would poison pose interpolation). It still yields a time sample when its time (and date) are
// valid: receivers keep UTC from their clock or a single satellite, and the flight clock needs it.
// GSA with fix mode 1 still yields its dop sample (fixMode 1 says what it is). Null (empty) fields
// are "not available", not errors: a sentence made of null fields is accepted with no samples.
// Fields the samples do not use are not checked (real receivers put sentinels or shifted fields
// there: RMC variation "999.9", saab-r4's RMC missing a field before its mode letter).

import { betterFixQuality } from '../nav/fix-quality.js';
import type { DecodeFlag, DecodedSentence, NavSample, PositionSample, TimeSample } from '../nav/types.js';
import type { DateResolver } from './dates.js';
import {
  FieldError,
  MPS_PER_KNOT,
  M_PER_FOOT,
  checkDate,
  expandYear,
  normalizeDeg,
  parseAngle,
  parseCoordinate,
  parseDdmmyy,
  parseEnum,
  parseInteger,
  parseNumberInRange,
  parseTimeOfDay,
  type CivilDate,
} from './fields.js';

/** Plausible altitude range, metres (GNSS MSL altitude, pressure altitude): outside is impossible. */
export const ALTITUDE_RANGE_M = [-2000, 60000] as const;
/** DOP values above this are impossible (receivers use 99.99 or 99.9 as "unknown"). */
const MAX_DOP = 1000;

/** What a sentence function needs. */
export interface SentenceContext {
  /** Data fields after the address. */
  fields: readonly string[];
  sentence: DecodedSentence;
  talker: string;
  flags: DecodeFlag[];
  dates: DateResolver;
  yearPivot: number;
}

/** Fewest fields (after the address) each type needs to mean anything; fewer = a cut sentence. */
export const MIN_FIELDS: Record<DecodedSentence, { count: number; last: string }> = {
  RMC: { count: 9, last: 'date' },
  GGA: { count: 6, last: 'fix quality' },
  GLL: { count: 4, last: 'longitude hemisphere' },
  GNS: { count: 6, last: 'mode indicator' },
  VTG: { count: 4, last: 'speed' },
  ZDA: { count: 4, last: 'year' },
  GSA: { count: 2, last: 'fix mode' },
  HDT: { count: 1, last: 'heading' },
  HDG: { count: 1, last: 'heading' },
  HDM: { count: 1, last: 'heading' },
  PGRMZ: { count: 2, last: 'unit' },
};

const f = (ctx: SentenceContext, i: number): string => ctx.fields[i] ?? '';

/** A number field that must lie in [min, max] when present; null when empty. */
function checked(raw: string, name: string, min: number, max: number): number | null {
  return parseNumberInRange(raw, name, min, max);
}

function base(ctx: SentenceContext, tUs: number | null): Pick<NavSample, 'sentence' | 'talker' | 'tUs'> {
  return { sentence: ctx.sentence, talker: ctx.talker, tUs };
}

function timeSample(ctx: SentenceContext, tUs: number | null): TimeSample[] {
  return tUs === null ? [] : [{ kind: 'time', sentence: ctx.sentence, talker: ctx.talker, tUs }];
}

/** Appends the time sample (when there is a time) to `out`. */
function pushTime(out: NavSample[], ctx: SentenceContext, tUs: number | null): NavSample[] {
  if (tUs !== null) out.push({ kind: 'time', sentence: ctx.sentence, talker: ctx.talker, tUs });
  return out;
}

/** Resolve a time (and date when given) against the decoder's date state; sets flags. */
function resolveTime(ctx: SentenceContext, todUs: number | null, date: CivilDate | null): number | null {
  if (todUs === null) return null;
  if (date !== null) {
    const { tUs, weekRollover } = ctx.dates.fromDate(date, todUs);
    if (weekRollover) ctx.flags.push('week-rollover');
    return tUs;
  }
  const tUs = ctx.dates.fromTimeOfDay(todUs);
  if (tUs !== null) ctx.flags.push('date-inferred');
  return tUs;
}

function noFix(ctx: SentenceContext): void {
  if (!ctx.flags.includes('no-fix')) ctx.flags.push('no-fix');
}

function position(
  ctx: SentenceContext,
  tUs: number | null,
  lat: number | null,
  lon: number | null,
  rest: Pick<PositionSample, 'altitudeM' | 'fixQuality' | 'satellites' | 'hdop'>,
): PositionSample[] {
  if (lat === null || lon === null) return [];
  return [
    {
      kind: 'position',
      sentence: ctx.sentence,
      talker: ctx.talker,
      tUs,
      latDeg: lat,
      lonDeg: lon,
      altitudeM: rest.altitudeM,
      fixQuality: rest.fixQuality,
      satellites: rest.satellites,
      hdop: rest.hdop,
    },
  ];
}

/**
 * A satellite count: an integer in [0, max] when present. Stored in a STRICT INTEGER column, so a
 * fraction ("10.5") is malformed here rather than failing a whole DB batch later.
 */
function satelliteCount(raw: string, max: number): number | null {
  const sats = checked(raw, 'satellites', 0, max);
  if (sats !== null && !Number.isInteger(sats)) {
    throw new FieldError('malformed-field', `satellites ${JSON.stringify(raw)} is not an integer`);
  }
  return sats;
}

function altitude(raw: string, name: string): number | null {
  return checked(raw, name, ALTITUDE_RANGE_M[0], ALTITUDE_RANGE_M[1]);
}

/**
 * Mode indicator letters (RMC/GLL/VTG since NMEA 2.3, GNS one per constellation; P/R/F for GNS and,
 * since NMEA 4.1, RMC/GLL/VTG) → the GGA fix quality they mean. 'N' (not valid) is not here: no fix.
 */
const MODE_QUALITY: Readonly<Record<string, number>> = {
  A: 1, // autonomous
  D: 2, // differential
  P: 3, // precise
  R: 4, // RTK, fixed integers
  F: 5, // RTK, float
  E: 6, // estimated (dead reckoning)
  M: 7, // manual input
  S: 8, // simulator
};

/** RMC/GLL fix quality of a valid fix from its mode letter: absent (NMEA < 2.3) or unknown → 1 GPS. */
function modeQuality(mode: string): number {
  return MODE_QUALITY[mode] ?? 1;
}

/** FAA mode indicator (NMEA 2.3+), when present: 'N' = data not valid. */
function faaMode(raw: string): string {
  if (raw !== '' && !/^[A-Z]$/.test(raw)) {
    throw new FieldError('malformed-field', `mode indicator ${JSON.stringify(raw)} is not one letter`);
  }
  return raw;
}

// RMC: time, status, lat, N/S, lon, E/W, speed kn, track, ddmmyy, variation, E/W, [mode], [nav status]
function decodeRmc(ctx: SentenceContext): NavSample[] {
  const tod = parseTimeOfDay(f(ctx, 0));
  const status = parseEnum(f(ctx, 1), 'status', ['A', 'V']);
  const lat = parseCoordinate(f(ctx, 2), f(ctx, 3), 'latitude');
  const lon = parseCoordinate(f(ctx, 4), f(ctx, 5), 'longitude');
  const speedKn = checked(f(ctx, 6), 'speed', 0, 100_000);
  const track = parseAngle(f(ctx, 7), 'track');
  const date = parseDdmmyy(f(ctx, 8), ctx.yearPivot);
  // Magnetic variation (9, 10) is not used, so not checked: real receivers send 999.9 or shift it.
  const mode = faaMode(f(ctx, 11));

  const valid = status === 'A' && mode !== 'N';
  if (!valid) noFix(ctx);
  const tUs = resolveTime(ctx, tod, date);
  if (!valid) return timeSample(ctx, tUs);
  const out: NavSample[] = position(ctx, tUs, lat, lon, {
    altitudeM: null,
    fixQuality: modeQuality(mode),
    satellites: null,
    hdop: null,
  });
  if (speedKn !== null || track !== null) {
    out.push({
      kind: 'velocity',
      sentence: ctx.sentence,
      talker: ctx.talker,
      tUs,
      speedMps: speedKn === null ? null : speedKn * MPS_PER_KNOT,
      trackDeg: track,
    });
  }
  return pushTime(out, ctx, tUs);
}

// GGA: time, lat, N/S, lon, E/W, quality, sats, hdop, alt, M, geoid sep, M, dgps age, station
function decodeGga(ctx: SentenceContext): NavSample[] {
  const tod = parseTimeOfDay(f(ctx, 0));
  const lat = parseCoordinate(f(ctx, 1), f(ctx, 2), 'latitude');
  const lon = parseCoordinate(f(ctx, 3), f(ctx, 4), 'longitude');
  const quality = parseInteger(f(ctx, 5), 'fix quality');
  if (quality !== null && (quality < 0 || quality > 9)) {
    throw new FieldError('impossible-value', `fix quality ${JSON.stringify(f(ctx, 5))} is outside 0..9`);
  }
  const sats = satelliteCount(f(ctx, 6), 99);
  const hdop = checked(f(ctx, 7), 'HDOP', 0, MAX_DOP);
  const alt = altitude(f(ctx, 8), 'altitude');
  parseEnum(f(ctx, 9), 'altitude unit', ['M']);

  const valid = quality !== null && quality > 0;
  if (!valid) noFix(ctx);
  const tUs = resolveTime(ctx, tod, null);
  const out: NavSample[] = valid
    ? position(ctx, tUs, lat, lon, { altitudeM: alt, fixQuality: quality, satellites: sats, hdop })
    : [];
  return pushTime(out, ctx, tUs);
}

// GLL: lat, N/S, lon, E/W, [time], [status], [mode]  (NMEA 1.x sends only the first four or five)
function decodeGll(ctx: SentenceContext): NavSample[] {
  const lat = parseCoordinate(f(ctx, 0), f(ctx, 1), 'latitude');
  const lon = parseCoordinate(f(ctx, 2), f(ctx, 3), 'longitude');
  const tod = parseTimeOfDay(f(ctx, 4));
  const status = parseEnum(f(ctx, 5), 'status', ['A', 'V']);
  const mode = faaMode(f(ctx, 6));
  // A status field that is absent (old GLL) says nothing; one that is present but empty is no fix.
  const valid = (status === 'A' || ctx.fields.length < 6) && mode !== 'N';
  if (!valid) noFix(ctx);
  const tUs = resolveTime(ctx, tod, null);
  const out: NavSample[] = valid
    ? position(ctx, tUs, lat, lon, { altitudeM: null, fixQuality: modeQuality(mode), satellites: null, hdop: null })
    : [];
  return pushTime(out, ctx, tUs);
}

// GNS: time, lat, N/S, lon, E/W, mode letters, sats, hdop, alt, geoid sep, age, station, [nav status]
function decodeGns(ctx: SentenceContext): NavSample[] {
  const tod = parseTimeOfDay(f(ctx, 0));
  const lat = parseCoordinate(f(ctx, 1), f(ctx, 2), 'latitude');
  const lon = parseCoordinate(f(ctx, 3), f(ctx, 4), 'longitude');
  const mode = f(ctx, 5);
  if (!/^[A-Z]*$/.test(mode)) {
    throw new FieldError('malformed-field', `mode indicator ${JSON.stringify(mode)} is not letters`);
  }
  const sats = satelliteCount(f(ctx, 6), 999);
  const hdop = checked(f(ctx, 7), 'HDOP', 0, MAX_DOP);
  const alt = altitude(f(ctx, 8), 'altitude');

  // One letter per constellation: the best by rank; letters not in MODE_QUALITY ('N') add nothing.
  let quality = 0;
  for (const letter of mode) {
    const q = MODE_QUALITY[letter];
    if (q !== undefined) quality = quality === 0 ? q : betterFixQuality(quality, q);
  }
  if (quality === 0) noFix(ctx);
  const tUs = resolveTime(ctx, tod, null);
  const out: NavSample[] =
    quality > 0 ? position(ctx, tUs, lat, lon, { altitudeM: alt, fixQuality: quality, satellites: sats, hdop }) : [];
  return pushTime(out, ctx, tUs);
}

// VTG (NMEA 2.x+): track T, 'T', track M, 'M', speed kn, 'N', speed km/h, 'K', [mode]
// VTG (NMEA 1.x): track T, track M, speed kn, speed km/h
function decodeVtg(ctx: SentenceContext): NavSample[] {
  const modern = ctx.fields.length >= 8 || f(ctx, 1) === 'T';
  const [iTrack, iKn, iKmh] = modern ? [0, 4, 6] : [0, 2, 3];
  const track = parseAngle(f(ctx, iTrack), 'track');
  const speedKn = checked(f(ctx, iKn), 'speed (knots)', 0, 100_000);
  const speedKmh = checked(f(ctx, iKmh), 'speed (km/h)', 0, 200_000);
  const mode = modern ? faaMode(f(ctx, 8)) : '';
  if (mode === 'N') {
    noFix(ctx);
    return [];
  }
  const speedMps = speedKn !== null ? speedKn * MPS_PER_KNOT : speedKmh !== null ? speedKmh / 3.6 : null;
  if (speedMps === null && track === null) return [];
  return [{ kind: 'velocity', sentence: ctx.sentence, talker: ctx.talker, tUs: null, speedMps, trackDeg: track }];
}

// ZDA: time, day, month, year (4 digits; 2 seen in the wild), local zone hours, local zone minutes
function decodeZda(ctx: SentenceContext): NavSample[] {
  const tod = parseTimeOfDay(f(ctx, 0));
  const [dd, mm, yy] = [f(ctx, 1), f(ctx, 2), f(ctx, 3)];
  let date: CivilDate | null = null;
  if (dd !== '' || mm !== '' || yy !== '') {
    const raw = `${dd},${mm},${yy}`;
    if (!/^\d{1,2}$/.test(dd) || !/^\d{1,2}$/.test(mm) || !/^(\d{2}|\d{4})$/.test(yy)) {
      throw new FieldError('malformed-field', `date ${JSON.stringify(raw)} is not 'dd,mm,yyyy'`);
    }
    const year = yy.length === 2 ? expandYear(Number(yy), ctx.yearPivot) : Number(yy);
    date = checkDate({ day: Number(dd), month: Number(mm), year }, 'date', raw);
  }
  return timeSample(ctx, resolveTime(ctx, tod, date));
}

// GSA: mode A/M, fix mode 1/2/3, 12 satellite ids, PDOP, HDOP, VDOP, [system id]
function decodeGsa(ctx: SentenceContext): NavSample[] {
  const fixMode = parseEnum(f(ctx, 1), 'fix mode', ['1', '2', '3']);
  const pdop = checked(f(ctx, 14), 'PDOP', 0, MAX_DOP);
  const hdop = checked(f(ctx, 15), 'HDOP', 0, MAX_DOP);
  const vdop = checked(f(ctx, 16), 'VDOP', 0, MAX_DOP);
  if (fixMode === '') return [];
  if (fixMode === '1') noFix(ctx);
  return [{ kind: 'dop', ...base(ctx, null), fixMode: Number(fixMode), pdop, hdop, vdop }];
}

function heading(ctx: SentenceContext, headingDeg: number, reference: 'true' | 'magnetic'): NavSample[] {
  return [{ kind: 'heading', sentence: ctx.sentence, talker: ctx.talker, tUs: null, headingDeg: normalizeDeg(headingDeg), reference }];
}

// HDT: heading, 'T'
function decodeHdt(ctx: SentenceContext): NavSample[] {
  const h = checked(f(ctx, 0), 'heading', 0, 360);
  return h === null ? [] : heading(ctx, h, 'true');
}

// HDM: heading, 'M'
function decodeHdm(ctx: SentenceContext): NavSample[] {
  const h = checked(f(ctx, 0), 'heading', 0, 360);
  return h === null ? [] : heading(ctx, h, 'magnetic');
}

/** A signed correction: value with 'E' positive, 'W' negative; both empty → null. */
function eastWest(raw: string, dir: string, name: string): number | null {
  const value = checked(raw, name, 0, 180);
  const d = parseEnum(dir, `${name} direction`, ['E', 'W']);
  if (value === null) return null;
  if (d === '') {
    if (value === 0) return 0;
    throw new FieldError('malformed-field', `${name} ${JSON.stringify(raw)} has no E/W direction`);
  }
  return d === 'E' ? value : -value;
}

// HDG: magnetic sensor heading, deviation, E/W, variation, E/W.
// magnetic = sensor + deviation; true = magnetic + variation (east positive). With a variation the
// heading is given as TRUE, else as magnetic (deviation applied when given).
function decodeHdg(ctx: SentenceContext): NavSample[] {
  const sensor = checked(f(ctx, 0), 'heading', 0, 360);
  const deviation = eastWest(f(ctx, 1), f(ctx, 2), 'deviation');
  const variation = eastWest(f(ctx, 3), f(ctx, 4), 'variation');
  if (sensor === null) return [];
  const magnetic = sensor + (deviation ?? 0);
  return variation === null ? heading(ctx, magnetic, 'magnetic') : heading(ctx, magnetic + variation, 'true');
}

// PGRMZ (Garmin): altitude, unit 'f' (feet) or 'm' (metres), fix dimension
function decodePgrmz(ctx: SentenceContext): NavSample[] {
  const raw = f(ctx, 0);
  const value = checked(raw, 'altitude', -1e6, 1e6);
  const unit = parseEnum(f(ctx, 1), 'altitude unit', ['f', 'F', 'm', 'M']);
  if (value === null) return [];
  if (unit === '') throw new FieldError('malformed-field', `altitude ${JSON.stringify(raw)} has no unit`);
  const altitudeM = unit === 'f' || unit === 'F' ? value * M_PER_FOOT : value;
  if (altitudeM < ALTITUDE_RANGE_M[0] || altitudeM > ALTITUDE_RANGE_M[1]) {
    throw new FieldError(
      'impossible-value',
      `altitude ${JSON.stringify(raw)} ${unit} = ${altitudeM.toFixed(1)} m is outside [${ALTITUDE_RANGE_M.join(', ')}] m`,
    );
  }
  return [{ kind: 'pressure-altitude', ...base(ctx, null), altitudeM }];
}

export const SENTENCE_DECODERS: Record<DecodedSentence, (ctx: SentenceContext) => NavSample[]> = {
  RMC: decodeRmc,
  GGA: decodeGga,
  GLL: decodeGll,
  GNS: decodeGns,
  VTG: decodeVtg,
  ZDA: decodeZda,
  GSA: decodeGsa,
  HDT: decodeHdt,
  HDG: decodeHdg,
  HDM: decodeHdm,
  PGRMZ: decodePgrmz,
};
