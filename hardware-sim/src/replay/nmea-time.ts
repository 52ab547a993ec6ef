// Time of day from a raw NMEA line, for pacing a replay: tolerant (any talker, junk before the
// '$', bad checksum, missing fields are all fine) because it must not drop a line a decoder would
// reject. It only reads; deciding whether a sentence is valid is the shared decoder's job.

const US_PER_SECOND = 1_000_000;
export const US_PER_DAY = 86_400 * US_PER_SECOND;

/** Sentence type (talker stripped) → index of its UTC time field (field 0 = the address). */
const TIME_FIELD: Readonly<Record<string, number>> = {
  RMC: 1,
  GGA: 1,
  GNS: 1,
  ZDA: 1,
  GBS: 1,
  GST: 1,
  GRS: 1,
  GLL: 5,
};

const TIME_OF_DAY = /^(\d{2})(\d{2})(\d{2})(\.\d{1,6})?$/;

/** Parses 'hhmmss[.sss]' into µs since midnight; null when not a valid time. */
export function parseHhmmss(text: string): number | null {
  const m = TIME_OF_DAY.exec(text);
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  const s = Number(m[3]);
  if (h > 23 || min > 59 || s > 60) return null;
  const fractionUs = m[4] ? Math.round(Number(m[4]) * US_PER_SECOND) : 0;
  return ((h * 60 + min) * 60 + s) * US_PER_SECOND + fractionUs;
}

/** µs since midnight UTC carried by an NMEA line (RMC, GGA, GNS, ZDA, GBS, GST, GRS, GLL), or null. */
export function nmeaTimeOfDayUs(line: Buffer | string): number | null {
  const text = typeof line === 'string' ? line : line.toString('latin1');
  const start = text.lastIndexOf('$');
  if (start < 0) return null;
  const body = text.slice(start + 1).replace(/\*[0-9A-Fa-f]{0,2}[\r\n]*$/, '').replace(/[\r\n]+$/, '');
  const fields = body.split(',');
  const address = fields[0] ?? '';
  if (address.length !== 5 || address.startsWith('P')) return null;
  const index = TIME_FIELD[address.slice(2)];
  if (index === undefined) return null;
  return parseHhmmss(fields[index] ?? '');
}
