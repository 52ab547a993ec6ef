// Parsing of raw NMEA fields with format and range checks. Every parser takes the raw text and a
// field name (for the message) and returns null for a null (empty) field. Bad input throws a
// FieldError, which the decoder turns into a typed rejection: nothing escapes `decode()`.

import type { RejectReason } from '../nav/types.js';

/** A field that cannot be used: 'malformed-field' (bad syntax) or 'impossible-value' (out of range). */
export class FieldError extends Error {
  readonly code: Extract<RejectReason, 'malformed-field' | 'impossible-value' | 'truncated'>;
  constructor(code: FieldError['code'], message: string) {
    super(message);
    this.name = 'FieldError';
    this.code = code;
  }
}

export const US_PER_SECOND = 1_000_000;
export const US_PER_DAY = 86_400 * US_PER_SECOND;
/** 1 international knot = 1852 m per hour. */
export const MPS_PER_KNOT = 1852 / 3600;
/** 1 international foot = 0.3048 m. */
export const M_PER_FOOT = 0.3048;

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;
const INT_RE = /^[+-]?\d+$/;

function malformed(name: string, raw: string, why: string): FieldError {
  return new FieldError('malformed-field', `${name} ${JSON.stringify(raw)} ${why}`);
}

function impossible(name: string, raw: string, why: string): FieldError {
  return new FieldError('impossible-value', `${name} ${JSON.stringify(raw)} ${why}`);
}

/** A decimal number (NMEA 'x.x'), null when empty. */
export function parseNumber(raw: string, name: string): number | null {
  if (raw === '') return null;
  if (!NUMBER_RE.test(raw)) throw malformed(name, raw, 'is not a number');
  return Number(raw);
}

/** An integer, null when empty. */
export function parseInteger(raw: string, name: string): number | null {
  if (raw === '') return null;
  if (!INT_RE.test(raw)) throw malformed(name, raw, 'is not an integer');
  return Number(raw);
}

/** A number that must lie in [min, max] when present. */
export function parseNumberInRange(raw: string, name: string, min: number, max: number): number | null {
  const value = parseNumber(raw, name);
  if (value !== null && (value < min || value > max)) {
    throw impossible(name, raw, `is outside [${min}, ${max}]`);
  }
  return value;
}

/** An angle in degrees [0, 360]; 360 is folded to 0. */
export function parseAngle(raw: string, name: string): number | null {
  const value = parseNumberInRange(raw, name, 0, 360);
  return value === 360 ? 0 : value;
}

/** Fold any angle into [0, 360). */
export function normalizeDeg(deg: number): number {
  const r = deg % 360;
  return r < 0 ? r + 360 : r === 0 ? 0 : r;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
/** The value of two decimal digits at `at` (already checked to be digits). */
const twoDigits = (raw: string, at: number): number => (raw.charCodeAt(at) - 0x30) * 10 + raw.charCodeAt(at + 1) - 0x30;

/** Digits after the decimal point as an integer count of µs (exact: no float rounding). */
function fractionToUs(digits: string): number {
  return Number(digits.padEnd(6, '0').slice(0, 6));
}

/**
 * UTC time of day 'hhmmss' or 'hhmmss.sss', as µs since midnight; null when empty.
 * hh < 24, mm < 60, ss ≤ 60 (60 = leap second).
 */
export function parseTimeOfDay(raw: string, name = 'time'): number | null {
  if (raw === '') return null;
  // /^(\d{2})(\d{2})(\d{2})(?:\.(\d*))?$/ without a regex or a match array (hot path)
  const n = raw.length;
  let ok = n >= 6 && (n === 6 || raw.charCodeAt(6) === 0x2e);
  for (let i = 0; i < n && ok; i++) if (i !== 6) ok = isDigit(raw.charCodeAt(i));
  if (!ok) throw malformed(name, raw, "is not 'hhmmss[.sss]'");
  const hh = twoDigits(raw, 0);
  const mm = twoDigits(raw, 2);
  const ss = twoDigits(raw, 4);
  if (hh > 23) throw impossible(name, raw, `has hour ${hh} (> 23)`);
  if (mm > 59) throw impossible(name, raw, `has minute ${mm} (> 59)`);
  if (ss > 60) throw impossible(name, raw, `has second ${ss} (> 60)`);
  return ((hh * 60 + mm) * 60 + ss) * US_PER_SECOND + (n > 7 ? fractionToUs(raw.slice(7)) : 0);
}

/** A calendar date; checked to exist (no 31 April, no month 13). */
export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

/** The date itself when it exists and is not before GPS began (1980) nor after 2199; else throws. */
export function checkDate(date: CivilDate, name: string, raw: string): CivilDate {
  const { year, month, day } = date;
  if (year < 1980 || year > 2199) throw impossible(name, raw, `has year ${year}, outside 1980..2199`);
  if (month < 1 || month > 12) throw impossible(name, raw, `has month ${month}`);
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  if (day < 1 || back.getUTCDate() !== day || back.getUTCMonth() !== month - 1) {
    throw impossible(name, raw, `has day ${day}, which month ${month} of ${year} does not have`);
  }
  return date;
}

/** A 2-digit year: `pivot`..99 → 19xx, 00..pivot-1 → 20xx (GPS began in 1980). */
export function expandYear(yy: number, pivot: number): number {
  return yy >= pivot ? 1900 + yy : 2000 + yy;
}

/** RMC date 'ddmmyy'; null when empty. */
export function parseDdmmyy(raw: string, pivot: number, name = 'date'): CivilDate | null {
  if (raw === '') return null;
  const m = /^(\d{2})(\d{2})(\d{2})$/.exec(raw);
  if (!m) throw malformed(name, raw, "is not 'ddmmyy'");
  return checkDate(
    { day: Number(m[1]), month: Number(m[2]), year: expandYear(Number(m[3]), pivot) },
    name,
    raw,
  );
}

/** µs since the epoch of midnight UTC starting a date. */
export function dayStartUs(date: CivilDate): number {
  return Date.UTC(date.year, date.month - 1, date.day) * 1000;
}

/**
 * Latitude 'ddmm.mmm' + 'N'/'S' (or longitude 'dddmm.mmm' + 'E'/'W') to signed degrees; null when
 * both are empty. Degrees are the digits before the last two integer digits, so a receiver that
 * drops leading zeros still parses. Minutes ≥ 60 and |value| beyond 90 (180) are impossible.
 */
export function parseCoordinate(
  raw: string,
  hemisphere: string,
  axis: 'latitude' | 'longitude',
): number | null {
  if (raw === '' && hemisphere === '') return null;
  const isLatitude = axis === 'latitude';
  const pos = isLatitude ? 'N' : 'E';
  const neg = isLatitude ? 'S' : 'W';
  const limit = isLatitude ? 90 : 180;
  if (raw === '') throw malformed(axis, raw, `is empty but its hemisphere is ${JSON.stringify(hemisphere)}`);
  if (hemisphere !== pos && hemisphere !== neg) {
    throw malformed(`${axis} hemisphere`, hemisphere, `is not '${pos}' or '${neg}'`);
  }
  // /^(\d*)(\d{2}(?:\.\d*)?)$/ without a regex: digits, at least two before an optional '.', digits after it
  const dot = raw.indexOf('.');
  const intEnd = dot < 0 ? raw.length : dot;
  let ok = intEnd >= 2;
  for (let i = 0; i < raw.length && ok; i++) if (i !== dot) ok = isDigit(raw.charCodeAt(i));
  if (!ok) throw malformed(axis, raw, `is not '${isLatitude ? 'dd' : 'ddd'}mm.mmm'`);
  const degrees = intEnd === 2 ? 0 : Number(raw.slice(0, intEnd - 2));
  const minutes = Number(raw.slice(intEnd - 2));
  if (minutes >= 60) throw impossible(axis, raw, `has ${minutes} minutes (≥ 60)`);
  const value = degrees + minutes / 60;
  if (value > limit) throw impossible(axis, raw, `is ${value.toFixed(6)}°, beyond ${limit}°`);
  return hemisphere === pos ? value : -value;
}

/** A field that must be one of a few letters; empty gives the empty string (null field). */
export function parseEnum<T extends string>(raw: string, name: string, allowed: readonly T[]): T | '' {
  if (raw === '') return '';
  if (!(allowed as readonly string[]).includes(raw)) {
    throw malformed(name, raw, `is not one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  return raw as T;
}
