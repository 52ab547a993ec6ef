// NMEA 0183 encoding of a true state, with the decimal precision of a good survey receiver:
// lat/lon ddmm.mmmmm (~2 cm), time hhmmss.ss, speed 0.1 kn, track/heading 0.1°, altitude 0.1 m,
// PGRMZ in whole feet. Pure: a sentence is a function of the state and the time it carries.
import { nmeaSentence } from '@flysnap/shared';

/** Line ending of every sentence the simulator writes (NMEA 0183 says CR LF). */
export const CRLF = '\r\n';
export const MPS_PER_KNOT = 1852 / 3600;
export const METRES_PER_FOOT = 0.3048;
/** 1024 GPS weeks in µs: what a receiver with the week-rollover bug is behind by. */
export const GPS_ROLLOVER_US = 1024 * 7 * 86_400 * 1_000_000;

/** Decimals of the minutes in ddmm.mmmmm / dddmm.mmmmm. */
export const LATLON_MINUTE_DECIMALS = 5;

export interface GnssFix {
  /** UTC time the sentence carries, µs since epoch. */
  tUs: number;
  /** The date the receiver prints (differs from tUs only with the week-rollover bug). */
  dateUs?: number;
  latDeg: number;
  lonDeg: number;
  altitudeM: number;
  speedMps: number;
  trackDeg: number;
  /** Geoid separation printed in GGA, metres. */
  geoidSepM: number;
  satellites: number;
  hdop: number;
  pdop: number;
  vdop: number;
  /** Satellite PRNs used (GSA lists up to 12). */
  prns: readonly number[];
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** Time of day 'hhmmss.ss' (rounded to 10 ms) and the date parts of that same rounded instant. */
function splitUtc(tUs: number): { hhmmss: string; date: Date } {
  const cs = Math.round(tUs / 10_000);
  const date = new Date(cs * 10);
  const hhmmss = `${pad(date.getUTCHours(), 2)}${pad(date.getUTCMinutes(), 2)}${pad(date.getUTCSeconds(), 2)}.${pad(cs % 100, 2)}`;
  return { hhmmss, date };
}

export function formatTimeOfDay(tUs: number): string {
  return splitUtc(tUs).hhmmss;
}

/** 'ddmmyy' as RMC prints it. */
export function formatRmcDate(dateUs: number): string {
  const { date } = splitUtc(dateUs);
  return `${pad(date.getUTCDate(), 2)}${pad(date.getUTCMonth() + 1, 2)}${pad(date.getUTCFullYear() % 100, 2)}`;
}

/** Degrees as NMEA (d)ddmm.mmmmm plus hemisphere letter. */
export function formatAngle(deg: number, degreeDigits: 2 | 3, positive: string, negative: string): [string, string] {
  const scale = 10 ** LATLON_MINUTE_DECIMALS;
  const totalMinutesScaled = Math.round(Math.abs(deg) * 60 * scale);
  const whole = Math.floor(totalMinutesScaled / (60 * scale));
  const minutesScaled = totalMinutesScaled - whole * 60 * scale;
  const minutes = (minutesScaled / scale).toFixed(LATLON_MINUTE_DECIMALS).padStart(3 + LATLON_MINUTE_DECIMALS, '0');
  return [`${pad(whole, degreeDigits)}${minutes}`, deg < 0 ? negative : positive];
}

export function formatLat(latDeg: number): [string, string] {
  return formatAngle(latDeg, 2, 'N', 'S');
}

export function formatLon(lonDeg: number): [string, string] {
  return formatAngle(lonDeg, 3, 'E', 'W');
}

/** toFixed without a negative zero ('-0.0' → '0.0'). */
function fixed(value: number, decimals: number): string {
  const s = value.toFixed(decimals);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** Angle in [0, 360) with one decimal, never printing 360.0. */
function formatBearing(deg: number): string {
  const tenths = Math.round((((deg % 360) + 360) % 360) * 10) % 3600;
  return (tenths / 10).toFixed(1);
}

function line(body: string): string {
  return nmeaSentence(body) + CRLF;
}

export function encodeRmc(fix: GnssFix, talker = 'GP'): string {
  const [lat, ns] = formatLat(fix.latDeg);
  const [lon, ew] = formatLon(fix.lonDeg);
  const speedKn = fixed(fix.speedMps / MPS_PER_KNOT, 1);
  return line(`${talker}RMC,${formatTimeOfDay(fix.tUs)},A,${lat},${ns},${lon},${ew},${speedKn},${formatBearing(fix.trackDeg)},${formatRmcDate(fix.dateUs ?? fix.tUs)},,,A`);
}

export function encodeGga(fix: GnssFix, talker = 'GP'): string {
  const [lat, ns] = formatLat(fix.latDeg);
  const [lon, ew] = formatLon(fix.lonDeg);
  return line(`${talker}GGA,${formatTimeOfDay(fix.tUs)},${lat},${ns},${lon},${ew},1,${pad(fix.satellites, 2)},${fixed(fix.hdop, 1)},${fixed(fix.altitudeM, 1)},M,${fixed(fix.geoidSepM, 1)},M,,`);
}

export function encodeGsa(fix: GnssFix, talker = 'GP'): string {
  const prns = Array.from({ length: 12 }, (_, i) => (fix.prns[i] === undefined ? '' : pad(fix.prns[i] ?? 0, 2)));
  return line(`${talker}GSA,A,3,${prns.join(',')},${fixed(fix.pdop, 1)},${fixed(fix.hdop, 1)},${fixed(fix.vdop, 1)}`);
}

export function encodeVtg(fix: GnssFix, talker = 'GP'): string {
  const kn = fixed(fix.speedMps / MPS_PER_KNOT, 1);
  const kmh = fixed(fix.speedMps * 3.6, 1);
  return line(`${talker}VTG,${formatBearing(fix.trackDeg)},T,,M,${kn},N,${kmh},K,A`);
}

export function encodeZda(fix: GnssFix, talker = 'GP'): string {
  const { date } = splitUtc(fix.dateUs ?? fix.tUs);
  return line(`${talker}ZDA,${formatTimeOfDay(fix.tUs)},${pad(date.getUTCDate(), 2)},${pad(date.getUTCMonth() + 1, 2)},${date.getUTCFullYear()},00,00`);
}

/** True heading. */
export function encodeHdt(headingDeg: number, talker = 'HC'): string {
  return line(`${talker}HDT,${formatBearing(headingDeg)},T`);
}

/**
 * Magnetic sensor heading with deviation and variation (east positive), as a fluxgate compass
 * prints it: true = sensor + deviation + variation.
 */
export function encodeHdg(trueHeadingDeg: number, deviationDeg: number, variationDeg: number, talker = 'HC'): string {
  const sensor = trueHeadingDeg - deviationDeg - variationDeg;
  const dev = `${fixed(Math.abs(deviationDeg), 1)},${deviationDeg < 0 ? 'W' : 'E'}`;
  const vari = `${fixed(Math.abs(variationDeg), 1)},${variationDeg < 0 ? 'W' : 'E'}`;
  return line(`${talker}HDG,${formatBearing(sensor)},${dev},${vari}`);
}

/** Garmin pressure altitude in whole feet ('3' = 3D fix). */
export function encodePgrmz(pressureAltitudeM: number): string {
  return line(`PGRMZ,${Math.round(pressureAltitudeM / METRES_PER_FOOT)},f,3`);
}
