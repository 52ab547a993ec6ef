import { describe, expect, it } from 'vitest';
import {
  FieldError,
  normalizeDeg,
  parseCoordinate,
  parseDdmmyy,
  parseNumber,
  parseTimeOfDay,
} from '../../src/nmea/fields.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof FieldError) return err.code;
    throw err;
  }
  throw new Error('expected a FieldError');
}

describe('parseCoordinate', () => {
  it('converts ddmm.mmmm / dddmm.mmmm with hemisphere to signed degrees', () => {
    // 37 + 15.6616/60 = 37.261026666…; 121 + 57.6709/60 = 121.961181666…
    expect(parseCoordinate('3715.6616', 'N', 'latitude')).toBeCloseTo(37.26102667, 8);
    expect(parseCoordinate('12157.6709', 'W', 'longitude')).toBeCloseTo(-121.96118167, 8);
    expect(parseCoordinate('4221.8237733', 'S', 'latitude')).toBeCloseTo(-(42 + 21.8237733 / 60), 10);
    expect(parseCoordinate('00705.83929', 'E', 'longitude')).toBeCloseTo(7 + 5.83929 / 60, 10);
  });

  it('gives null for an empty coordinate and rejects half-empty ones', () => {
    expect(parseCoordinate('', '', 'latitude')).toBeNull();
    expect(codeOf(() => parseCoordinate('', 'N', 'latitude'))).toBe('malformed-field');
    expect(codeOf(() => parseCoordinate('3715.6616', '', 'latitude'))).toBe('malformed-field');
    expect(codeOf(() => parseCoordinate('3715.6616', 'E', 'latitude'))).toBe('malformed-field');
    expect(codeOf(() => parseCoordinate('37a5.6616', 'N', 'latitude'))).toBe('malformed-field');
  });

  it('rejects minutes ≥ 60 and latitudes beyond 90 / longitudes beyond 180 as impossible', () => {
    expect(codeOf(() => parseCoordinate('3760.0000', 'N', 'latitude'))).toBe('impossible-value');
    expect(codeOf(() => parseCoordinate('9100.0000', 'N', 'latitude'))).toBe('impossible-value');
    expect(codeOf(() => parseCoordinate('9000.0001', 'S', 'latitude'))).toBe('impossible-value');
    expect(codeOf(() => parseCoordinate('18100.0000', 'E', 'longitude'))).toBe('impossible-value');
    expect(parseCoordinate('9000.0000', 'N', 'latitude')).toBe(90);
  });
});

describe('parseTimeOfDay', () => {
  it('gives exact integer µs since midnight', () => {
    expect(parseTimeOfDay('000000')).toBe(0);
    expect(parseTimeOfDay('005947.00')).toBe((59 * 60 + 47) * 1e6);
    expect(parseTimeOfDay('135031.60')).toBe(((13 * 60 + 50) * 60 + 31) * 1e6 + 600_000);
    expect(parseTimeOfDay('091304.802')).toBe(((9 * 60 + 13) * 60 + 4) * 1e6 + 802_000);
    expect(parseTimeOfDay('235959.9999999')).toBe(86_399_999_999);
    expect(parseTimeOfDay('')).toBeNull();
  });

  it('rejects 25:00, minute 60, second 61 as impossible and junk as malformed', () => {
    expect(codeOf(() => parseTimeOfDay('250000'))).toBe('impossible-value');
    expect(codeOf(() => parseTimeOfDay('126000'))).toBe('impossible-value');
    expect(codeOf(() => parseTimeOfDay('120061'))).toBe('impossible-value');
    expect(parseTimeOfDay('235960')).toBe(86_400_000_000); // leap second
    expect(codeOf(() => parseTimeOfDay('12000'))).toBe('malformed-field');
    expect(codeOf(() => parseTimeOfDay('12:00:00'))).toBe('malformed-field');
  });
});

describe('parseDdmmyy', () => {
  it('pivots 2-digit years: 80..99 → 19xx, 00..79 → 20xx', () => {
    expect(parseDdmmyy('080710', 80)).toEqual({ day: 8, month: 7, year: 2010 });
    expect(parseDdmmyy('311299', 80)).toEqual({ day: 31, month: 12, year: 1999 });
    expect(parseDdmmyy('060180', 80)).toEqual({ day: 6, month: 1, year: 1980 });
    expect(parseDdmmyy('010179', 80)).toEqual({ day: 1, month: 1, year: 2079 });
  });

  it('rejects month 13 and 31 April as impossible', () => {
    expect(codeOf(() => parseDdmmyy('011310', 80))).toBe('impossible-value');
    expect(codeOf(() => parseDdmmyy('310410', 80))).toBe('impossible-value');
    expect(codeOf(() => parseDdmmyy('000110', 80))).toBe('impossible-value');
    expect(codeOf(() => parseDdmmyy('0807', 80))).toBe('malformed-field');
  });
});

describe('numbers and angles', () => {
  it('refuses what parseFloat would half-read', () => {
    expect(parseNumber('12.5', 'x')).toBe(12.5);
    expect(parseNumber('-0.5', 'x')).toBe(-0.5);
    expect(parseNumber('', 'x')).toBeNull();
    expect(codeOf(() => parseNumber('12abc', 'x'))).toBe('malformed-field');
    expect(codeOf(() => parseNumber('1e3', 'x'))).toBe('malformed-field');
  });

  it('folds angles into [0, 360)', () => {
    expect(normalizeDeg(360)).toBe(0);
    expect(normalizeDeg(-0.5)).toBe(359.5);
    expect(normalizeDeg(725)).toBe(5);
  });
});
