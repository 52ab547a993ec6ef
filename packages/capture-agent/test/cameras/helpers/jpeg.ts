// Builds small but well-formed JPEG files with an EXIF block, the way a camera writes them:
// SOI, APP1 "Exif" (IFD0 → Exif IFD with DateTimeOriginal, SubSecTimeOriginal, OffsetTimeOriginal),
// a payload standing in for the scan data, EOI (FF D9). Used by the tests' own file writers.
import { randomBytes } from 'node:crypto';

export interface ExifTimeFields {
  /** 'YYYY:MM:DD HH:MM:SS', as cameras write it. */
  dateTimeOriginal?: string;
  /** Fraction of the second as digits, e.g. '123' = 0.123 s. */
  subSecTimeOriginal?: string;
  /** '+02:00', '-05:30', 'Z'? (cameras write ±HH:MM). */
  offsetTimeOriginal?: string;
}

interface IfdEntry {
  tag: number;
  type: number; // 2 ASCII, 4 LONG
  count: number;
  data: Buffer; // value bytes (ASCII with NUL, or 4-byte LONG)
}

function ascii(text: string): Buffer {
  return Buffer.concat([Buffer.from(text, 'ascii'), Buffer.from([0])]);
}

/** Serialises one IFD at `offset` (big-endian TIFF); returns its bytes incl. out-of-line data. */
function ifd(entries: IfdEntry[], offset: number): Buffer {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const headerLen = 2 + sorted.length * 12 + 4;
  const head = Buffer.alloc(headerLen);
  const extras: Buffer[] = [];
  let extraOffset = offset + headerLen;
  head.writeUInt16BE(sorted.length, 0);
  sorted.forEach((e, i) => {
    const p = 2 + i * 12;
    head.writeUInt16BE(e.tag, p);
    head.writeUInt16BE(e.type, p + 2);
    head.writeUInt32BE(e.count, p + 4);
    if (e.data.length <= 4) {
      e.data.copy(head, p + 8);
    } else {
      head.writeUInt32BE(extraOffset, p + 8);
      const padded = e.data.length % 2 === 1 ? Buffer.concat([e.data, Buffer.from([0])]) : e.data;
      extras.push(padded);
      extraOffset += padded.length;
    }
  });
  head.writeUInt32BE(0, headerLen - 4);
  return Buffer.concat([head, ...extras]);
}

/** The APP1 segment (marker included) carrying the given EXIF time fields. */
export function exifApp1(fields: ExifTimeFields): Buffer {
  const exifEntries: IfdEntry[] = [];
  if (fields.dateTimeOriginal !== undefined) {
    const d = ascii(fields.dateTimeOriginal);
    exifEntries.push({ tag: 0x9003, type: 2, count: d.length, data: d });
  }
  if (fields.offsetTimeOriginal !== undefined) {
    const d = ascii(fields.offsetTimeOriginal);
    exifEntries.push({ tag: 0x9011, type: 2, count: d.length, data: d });
  }
  if (fields.subSecTimeOriginal !== undefined) {
    const d = ascii(fields.subSecTimeOriginal);
    exifEntries.push({ tag: 0x9291, type: 2, count: d.length, data: d });
  }
  const tiffHeader = Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]);
  // IFD0 has one entry (the Exif IFD pointer): 2 + 12 + 4 = 18 bytes, so the Exif IFD is at 26.
  const exifIfdOffset = 8 + 18;
  const ptr = Buffer.alloc(4);
  ptr.writeUInt32BE(exifIfdOffset);
  const ifd0 = ifd([{ tag: 0x8769, type: 4, count: 1, data: ptr }], 8);
  const exifIfd = ifd(exifEntries, exifIfdOffset);
  const tiff = Buffer.concat([tiffHeader, ifd0, exifIfd]);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'binary'), tiff]);
  const seg = Buffer.alloc(4);
  seg.writeUInt16BE(0xffe1, 0);
  seg.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([seg, body]);
}

/** A complete JPEG: SOI + APP1(EXIF) + `payloadBytes` of random data + EOI. */
export function makeJpeg(fields: ExifTimeFields, payloadBytes = 4096): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xd8]), exifApp1(fields), randomBytes(payloadBytes), Buffer.from([0xff, 0xd9])]);
}

/** EXIF strings for a UTC instant as a camera on UTC writes them (offset '+00:00'). */
export function exifFieldsFor(tUs: number, offsetMinutes = 0): Required<ExifTimeFields> {
  const local = new Date(Math.floor(tUs / 1000) + offsetMinutes * 60_000);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return {
    dateTimeOriginal: `${local.getUTCFullYear()}:${p(local.getUTCMonth() + 1)}:${p(local.getUTCDate())} ${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())}`,
    subSecTimeOriginal: p(Math.floor((tUs % 1_000_000) / 1000), 3),
    offsetTimeOriginal: `${sign}${p(Math.floor(abs / 60))}:${p(abs % 60)}`,
  };
}
