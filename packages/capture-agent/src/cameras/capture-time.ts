// When was this picture taken? The camera's own EXIF time where the file has one (the cameras are
// synced to the aircraft clock), corrected by the device's configured clock offset; otherwise the
// flight-clock time at which the file appeared, minus the camera's configured latency.
import exifr from 'exifr';

export type TimeSource = 'exif' | 'flight-clock';

/** The raw EXIF time fields, as strings exactly as the file carries them. */
export interface ExifTimeFields {
  /** 'YYYY:MM:DD HH:MM:SS' (DateTimeOriginal, else CreateDate). */
  dateTime: string | null;
  /** Digits of the fraction of a second ('123' = 0.123 s; '5' = 0.5 s). */
  subSec: string | null;
  /** '+HH:MM' / '-HH:MM' (OffsetTimeOriginal, else OffsetTime); null = the camera runs on UTC. */
  offset: string | null;
}

export type ExifTimeResult =
  | { ok: true; tUs: number }
  | { ok: false; reason: 'no-exif-time' | 'bad-date-time' | 'bad-subsec' | 'bad-offset'; detail: string };

const DATE_TIME_RE = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/;
const OFFSET_RE = /^([+-])(\d{2}):?(\d{2})$/;

/**
 * EXIF time fields → µs since epoch UTC. Without an offset the camera clock is taken as UTC (our
 * cameras are synced to the GPS-disciplined aircraft clock). Never throws: a typed rejection instead.
 */
export function parseExifTime(fields: ExifTimeFields): ExifTimeResult {
  const dt = fields.dateTime?.replace(/\0+$/, '').trim() ?? '';
  if (dt === '') return { ok: false, reason: 'no-exif-time', detail: 'no DateTimeOriginal/CreateDate' };
  const m = DATE_TIME_RE.exec(dt);
  if (!m) return { ok: false, reason: 'bad-date-time', detail: `DateTimeOriginal '${dt}' is not 'YYYY:MM:DD HH:MM:SS'` };
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(ms);
  if (
    year < 1970 ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    // '0000:00:00 00:00:00' is what a camera with an unset clock writes.
    return { ok: false, reason: 'bad-date-time', detail: `DateTimeOriginal '${dt}' is not a real date and time` };
  }
  let fracUs = 0;
  const sub = fields.subSec?.replace(/\0+$/, '').trim() ?? '';
  if (sub !== '') {
    if (!/^\d{1,9}$/.test(sub)) return { ok: false, reason: 'bad-subsec', detail: `SubSecTimeOriginal '${sub}' is not digits` };
    // The digits are a decimal fraction: '5' is 0.5 s, '050' is 0.05 s.
    fracUs = Math.round(Number(`0.${sub}`) * 1_000_000);
  }
  let offsetMin = 0;
  const off = fields.offset?.replace(/\0+$/, '').trim() ?? '';
  if (off !== '' && off !== 'Z') {
    const om = OFFSET_RE.exec(off);
    const hh = Number(om?.[2]);
    const mm = Number(om?.[3]);
    if (!om || hh > 14 || mm > 59) {
      return { ok: false, reason: 'bad-offset', detail: `OffsetTimeOriginal '${off}' is not ±HH:MM` };
    }
    offsetMin = (om[1] === '-' ? -1 : 1) * (hh * 60 + mm);
  }
  // Local wall time minus its offset from UTC is UTC.
  return { ok: true, tUs: (ms - offsetMin * 60_000) * 1000 + fracUs };
}

/** How many leading bytes exifr gets: the EXIF APP1 segment sits at the start of a JPEG (≤ 64 KiB). */
const EXIF_HEAD_BYTES = 64 * 1024;

/**
 * exifr's options, made once. Raw strings (`reviveValues: false`): exifr's revived Date would be
 * read in the process's local time zone. One object for every call, because exifr caches its
 * prepared options in a module-level Map keyed by the options object and never evicts: a fresh
 * literal per call leaked ~8 KB per picture (hundreds of MB over a long flight) and spent ~60 µs
 * preparing options each time.
 */
const EXIF_OPTIONS = {
  pick: ['DateTimeOriginal', 'CreateDate', 'SubSecTimeOriginal', 'SubSecTime', 'OffsetTimeOriginal', 'OffsetTime'],
  reviveValues: false,
  firstChunkSize: EXIF_HEAD_BYTES,
};

/** Reads the time fields from a file's leading bytes (or the file itself) with exifr. */
export async function readExifTimeFields(input: Buffer | string): Promise<ExifTimeFields | null> {
  try {
    const tags = (await exifr.parse(input, EXIF_OPTIONS)) as Record<string, unknown> | undefined;
    if (!tags) return null;
    const str = (k: string): string | null => {
      const v = tags[k];
      return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
    };
    return {
      dateTime: str('DateTimeOriginal') ?? str('CreateDate'),
      subSec: str('SubSecTimeOriginal') ?? str('SubSecTime'),
      offset: str('OffsetTimeOriginal') ?? str('OffsetTime'),
    };
  } catch {
    return null; // not a format exifr knows (video, raw junk): no embedded time
  }
}

export interface CaptureTimeInput {
  /** Parsed EXIF time (camera clock), or null when the file has none or it was unusable. */
  exifTUs: number | null;
  /** Camera clock minus true UTC, ms (configured per device); applied to EXIF times only. */
  clockOffsetMs: number;
  /** Flight-clock UTC time at which the file appeared, µs; null while the flight clock has no fit. */
  appearedTUs: number | null;
  /** Delay from shutter to the file appearing, ms (configured per device); applied to appeared time. */
  latencyMs: number;
}

export type CaptureTime = { tUs: number; source: TimeSource } | null;

/** Picks the capture time and says where it came from; null when neither time is known yet. */
export function resolveCaptureTime(input: CaptureTimeInput): CaptureTime {
  if (input.exifTUs !== null) {
    return { tUs: input.exifTUs - Math.round(input.clockOffsetMs * 1000), source: 'exif' };
  }
  if (input.appearedTUs !== null) {
    return { tUs: input.appearedTUs - Math.round(input.latencyMs * 1000), source: 'flight-clock' };
  }
  return null;
}

export { EXIF_HEAD_BYTES };
