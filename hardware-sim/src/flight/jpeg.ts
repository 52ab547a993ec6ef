// A valid baseline JPEG, built by hand: SOI, APP1 (EXIF), quantisation and Huffman tables, a frame
// of flat grey 8x8 blocks, COM segments of filler bytes (so files have a realistic size and each
// one a distinct hash), the scan and EOI. Decoders show a grey picture. Pure.
import { buildExifApp1, type ExifFields } from './exif.js';

const SOI = Buffer.from([0xff, 0xd8]);
export const EOI = Buffer.from([0xff, 0xd9]);
/** A segment's length field counts itself and is 16 bits wide. */
const MAX_SEGMENT_PAYLOAD = 0xffff - 2;
const WIDTH_PX = 64;
const HEIGHT_PX = 48;

function segment(marker: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(0xff00 | marker, 0);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** One Huffman table with a single 1-bit code ('0') for symbol 0: DC "no change", AC "end of block". */
function singleCodeHuffmanTable(tableClassAndId: number): Buffer {
  const counts = Buffer.alloc(16);
  counts[0] = 1;
  return Buffer.concat([Buffer.from([tableClassAndId]), counts, Buffer.from([0x00])]);
}

function frameAndScan(): { head: Buffer; scan: Buffer } {
  const dqt = segment(0xdb, Buffer.concat([Buffer.from([0x00]), Buffer.alloc(64, 1)]));
  const sof = Buffer.alloc(9);
  sof[0] = 8; // sample precision
  sof.writeUInt16BE(HEIGHT_PX, 1);
  sof.writeUInt16BE(WIDTH_PX, 3);
  sof[5] = 1; // one component (greyscale)
  sof[6] = 1; // component id
  sof[7] = 0x11; // no subsampling
  sof[8] = 0; // quantisation table 0
  const dht = Buffer.concat([segment(0xc4, singleCodeHuffmanTable(0x00)), segment(0xc4, singleCodeHuffmanTable(0x10))]);
  const sos = segment(0xda, Buffer.from([1, 1, 0x00, 0, 63, 0]));
  // Each block is DC code '0' + EOB code '0': two bits. Pad the last byte with 1 bits.
  const bits = 2 * (WIDTH_PX / 8) * (HEIGHT_PX / 8);
  const data = Buffer.alloc(Math.ceil(bits / 8));
  if (bits % 8 !== 0) data[data.length - 1] = (1 << (8 - (bits % 8))) - 1;
  return { head: Buffer.concat([dqt, segment(0xc0, sof), dht]), scan: Buffer.concat([sos, data]) };
}

export interface JpegOptions {
  exif: ExifFields;
  /** Filler bytes (e.g. seeded random) carried in COM segments to reach a realistic size. */
  filler: Buffer;
}

/** A complete JPEG file. */
export function buildJpeg(options: JpegOptions): Buffer {
  const { head, scan } = frameAndScan();
  const comments: Buffer[] = [];
  for (let at = 0; at < options.filler.length; at += MAX_SEGMENT_PAYLOAD) {
    comments.push(segment(0xfe, options.filler.subarray(at, at + MAX_SEGMENT_PAYLOAD)));
  }
  return Buffer.concat([SOI, buildExifApp1(options.exif), head, ...comments, scan, EOI]);
}

/** Where the EXIF APP1 segment starts in every JPEG built here (right after SOI). */
export const EXIF_APP1_AT = SOI.length;
const COM_HEAD_BYTES = 4;

/** The bytes of a JPEG built here other than its COM segments: SOI, APP1, tables, frame, scan, EOI. */
function bytesWithoutComments(exif: ExifFields): number {
  const { head, scan } = frameAndScan();
  return SOI.length + buildExifApp1(exif).length + head.length + scan.length + EOI.length;
}

/** The smallest file buildJpegOfSize makes for these EXIF fields (one empty COM segment). */
export function minJpegBytes(exif: ExifFields): number {
  return bytesWithoutComments(exif) + COM_HEAD_BYTES;
}

/**
 * A complete JPEG of exactly `totalBytes` (at least minJpegBytes): as few COM segments as hold the
 * filler, of nearly equal sizes, since a segment's 4-byte head makes some totals unreachable with
 * full segments only. `filler(count)` gives the filler bytes (e.g. seeded random).
 */
export function buildJpegOfSize(exif: ExifFields, totalBytes: number, filler: (count: number) => Buffer): Buffer {
  const min = minJpegBytes(exif);
  if (!Number.isInteger(totalBytes) || totalBytes < min) throw new RangeError(`buildJpegOfSize: ${totalBytes} bytes is below the smallest JPEG (${min})`);
  const commentBytes = totalBytes - bytesWithoutComments(exif);
  const segments = Math.max(1, Math.ceil(commentBytes / (COM_HEAD_BYTES + MAX_SEGMENT_PAYLOAD)));
  const fill = filler(commentBytes - segments * COM_HEAD_BYTES);
  const base = Math.floor(fill.length / segments);
  const longer = fill.length % segments;
  const comments: Buffer[] = [];
  for (let i = 0, at = 0; i < segments; i++) {
    const size = base + (i < longer ? 1 : 0);
    comments.push(segment(0xfe, fill.subarray(at, at + size)));
    at += size;
  }
  const { head, scan } = frameAndScan();
  const jpeg = Buffer.concat([SOI, buildExifApp1(exif), head, ...comments, scan, EOI]);
  if (jpeg.length !== totalBytes) throw new Error(`buildJpegOfSize: built ${jpeg.length} bytes, not ${totalBytes}`);
  return jpeg;
}

/** Whether a file's bytes end with the EOI marker (a complete JPEG). */
export function endsWithEoi(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[bytes.length - 2] === 0xff && bytes[bytes.length - 1] === 0xd9;
}
