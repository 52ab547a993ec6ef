// A minimal EXIF (TIFF) block with the capture time as a camera writes it: IFD0 (Make, Model,
// pointer to the Exif IFD) and the Exif IFD with DateTimeOriginal, OffsetTimeOriginal and
// SubSecTimeOriginal (and ImageUniqueID when given). Little-endian ('II'). Pure.

const TYPE_ASCII = 2;
const TYPE_LONG = 4;
const TIFF_HEADER_BYTES = 8;
const ENTRY_BYTES = 12;

const TAG_MAKE = 0x010f;
const TAG_MODEL = 0x0110;
const TAG_EXIF_IFD = 0x8769;
const TAG_DATETIME_ORIGINAL = 0x9003;
const TAG_OFFSET_TIME_ORIGINAL = 0x9011;
const TAG_SUBSEC_TIME_ORIGINAL = 0x9291;
const TAG_IMAGE_UNIQUE_ID = 0xa420;

export interface ExifCaptureTime {
  /** 'YYYY:MM:DD HH:MM:SS' in the camera's local time. */
  dateTimeOriginal: string;
  /** Fraction of the second as digits, e.g. '042' for 42 ms. */
  subSecTimeOriginal: string;
  /** Local time minus UTC, '+HH:MM' or '-HH:MM'. */
  offsetTimeOriginal: string;
}

export interface ExifFields extends ExifCaptureTime {
  make: string;
  model: string;
  /** ImageUniqueID (32 hex digits in cameras that write it); omitted when undefined. */
  imageUniqueId?: string;
}

type Entry = { tag: number; type: typeof TYPE_ASCII; value: string } | { tag: number; type: typeof TYPE_LONG; value: number };

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Parses '+HH:MM' / '-HH:MM' into minutes; null when malformed. */
export function parseUtcOffset(text: string): number | null {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(text);
  if (!m) return null;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  if (minutes > 14 * 60 || Number(m[3]) > 59) return null;
  return m[1] === '-' ? -minutes : minutes;
}

/** The EXIF capture-time fields for a camera clock reading (µs since epoch, UTC) shown in a time zone. */
export function exifCaptureTime(clockUs: number, utcOffset = '+00:00'): ExifCaptureTime {
  const offsetMin = parseUtcOffset(utcOffset);
  if (offsetMin === null) throw new RangeError(`exifCaptureTime: bad UTC offset '${utcOffset}' (want ±HH:MM)`);
  const ms = Math.floor(clockUs / 1000);
  const local = new Date(ms + offsetMin * 60_000);
  const dateTimeOriginal = `${local.getUTCFullYear()}:${pad2(local.getUTCMonth() + 1)}:${pad2(local.getUTCDate())} ${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())}`;
  return { dateTimeOriginal, subSecTimeOriginal: String(((ms % 1000) + 1000) % 1000).padStart(3, '0'), offsetTimeOriginal: utcOffset };
}

function asciiBytes(value: string): Buffer {
  return Buffer.from(`${value}\0`, 'latin1');
}

/** Writes one IFD at `ifdOffset` (from the TIFF start) into a fresh buffer: entries, next-IFD 0, then out-of-line values. */
function buildIfd(entries: Entry[], ifdOffset: number): Buffer {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const tableBytes = 2 + sorted.length * ENTRY_BYTES + 4;
  const extra: Buffer[] = [];
  let extraOffset = ifdOffset + tableBytes;
  const table = Buffer.alloc(tableBytes);
  table.writeUInt16LE(sorted.length, 0);
  sorted.forEach((entry, i) => {
    const at = 2 + i * ENTRY_BYTES;
    table.writeUInt16LE(entry.tag, at);
    table.writeUInt16LE(entry.type, at + 2);
    if (entry.type === TYPE_LONG) {
      table.writeUInt32LE(1, at + 4);
      table.writeUInt32LE(entry.value, at + 8);
      return;
    }
    const bytes = asciiBytes(entry.value);
    table.writeUInt32LE(bytes.length, at + 4);
    if (bytes.length <= 4) {
      bytes.copy(table, at + 8);
    } else {
      table.writeUInt32LE(extraOffset, at + 8);
      // Values start on a word boundary, as TIFF asks.
      const padded = bytes.length % 2 === 0 ? bytes : Buffer.concat([bytes, Buffer.alloc(1)]);
      extra.push(padded);
      extraOffset += padded.length;
    }
  });
  table.writeUInt32LE(0, tableBytes - 4);
  return Buffer.concat([table, ...extra]);
}

/** The TIFF structure (what follows 'Exif\0\0' in APP1). */
export function buildExifTiff(fields: ExifFields): Buffer {
  const header = Buffer.from([0x49, 0x49, 0x2a, 0x00, TIFF_HEADER_BYTES, 0, 0, 0]);
  const ifd0Entries = (exifOffset: number): Entry[] => [
    { tag: TAG_MAKE, type: TYPE_ASCII, value: fields.make },
    { tag: TAG_MODEL, type: TYPE_ASCII, value: fields.model },
    { tag: TAG_EXIF_IFD, type: TYPE_LONG, value: exifOffset },
  ];
  // First pass to learn IFD0's size, then place the Exif IFD right after it.
  const exifOffset = TIFF_HEADER_BYTES + buildIfd(ifd0Entries(0), TIFF_HEADER_BYTES).length;
  const ifd0 = buildIfd(ifd0Entries(exifOffset), TIFF_HEADER_BYTES);
  const exif = buildIfd(
    [
      { tag: TAG_DATETIME_ORIGINAL, type: TYPE_ASCII, value: fields.dateTimeOriginal },
      { tag: TAG_OFFSET_TIME_ORIGINAL, type: TYPE_ASCII, value: fields.offsetTimeOriginal },
      { tag: TAG_SUBSEC_TIME_ORIGINAL, type: TYPE_ASCII, value: fields.subSecTimeOriginal },
      ...(fields.imageUniqueId === undefined ? [] : [{ tag: TAG_IMAGE_UNIQUE_ID, type: TYPE_ASCII, value: fields.imageUniqueId } as const]),
    ],
    exifOffset,
  );
  return Buffer.concat([header, ifd0, exif]);
}

/** The complete APP1 segment: FFE1, length, 'Exif\0\0', TIFF. */
export function buildExifApp1(fields: ExifFields): Buffer {
  const tiff = buildExifTiff(fields);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const head = Buffer.alloc(4);
  head.writeUInt16BE(0xffe1, 0);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}
