// Framing of one received line: where the sentence starts and ends, its address (talker + type),
// its fields and its checksum. Pure, never throws. Field contents are not looked at here.

import type { RejectReason } from '../nav/types.js';
import { nmeaChecksum } from './checksum.js';

/** A line that looks like one whole NMEA sentence. */
export interface Frame {
  /** '$' for ordinary sentences, '!' for encapsulation (AIS VDM/VDO). */
  start: '$' | '!';
  /** Address field as received, e.g. 'GPRMC', 'PGRMZ'. */
  address: string;
  /** Talker ID ('GP', 'GN', 'HC', '12', …); 'P' for proprietary sentences. */
  talker: string;
  /** Type with the talker stripped ('RMC'); proprietary sentences keep their full address ('PGRMZ'). */
  type: string;
  /** Data fields after the address, split on ',' (empty strings for null fields). */
  fields: string[];
  /** 'ok': `*hh` present and matches; 'missing': the line has no `*hh` at all. */
  checksum: 'ok' | 'missing';
}

/** Why a line could not be framed as one sentence. */
export interface FrameRejection {
  reason: RejectReason;
  detail: string;
  /** The type, when the address could be read. */
  type: string | null;
}

export type FrameResult = { ok: true; frame: Frame } | { ok: false; rejection: FrameRejection };

/** Address: two or more upper-case letters or digits (talker 2 chars + type, or 'P' + maker + type). */
const ADDRESS_RE = /^[A-Z0-9]{3,}$/;
/** An AIS encapsulation sentence start inside a line ('!' alone is a legal data character: PFLAA uses it). */
const FUSED_BANG_RE = /![A-Z0-9]{2}VD[MO],/;
const HEX2_RE = /^[0-9A-Fa-f]{2}$/;

/** Show a fragment of a line in a detail message: short, printable. */
export function quote(text: string, max = 40): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}

function typeOfAddress(address: string): { talker: string; type: string } {
  if (address.startsWith('P')) return { talker: 'P', type: address };
  return { talker: address.slice(0, 2), type: address.slice(2) };
}

/** The address of a line's first field when it looks like one, else null (for rejection details). */
function guessType(text: string): string | null {
  const m = /^[$!]([A-Z0-9]{3,})(?:,|\*|$)/.exec(text);
  return m?.[1] !== undefined ? typeOfAddress(m[1]).type : null;
}

function reject(reason: RejectReason, detail: string, type: string | null): FrameResult {
  return { ok: false, rejection: { reason, detail, type } };
}

/**
 * Frame one received line (a latin1 string or the raw bytes), with or without trailing CR/LF.
 * Rules, in order:
 * - nothing but CR/LF/blanks → 'empty';
 * - a byte outside printable ASCII (binary packets, terminal escapes) → 'non-nmea';
 * - no leading '$'/'!': text with a '$' later (junk glued before a sentence) → 'fused'; a tail
 *   ending in `*hh` (head cut off) → 'truncated'; anything else (debug text) → 'non-nmea';
 * - a second sentence start inside the line ('$', or '!xxVDM,') → 'fused', even when the checksum
 *   matches the whole line (a multiplexer re-checksumming fused fragments, seen in real logs);
 * - `*` followed by fewer than 2 hex digits → 'truncated'; by 2 hex digits and more text → 'fused';
 *   by something not hex → 'bad-checksum'; by a checksum that does not match → 'bad-checksum';
 * - an address that is not 3+ upper-case letters/digits → 'malformed-field' when the checksum
 *   vouches for the line, else 'non-nmea';
 * - no `*` at all: a frame with checksum 'missing' (the caller applies its policy), or
 *   'truncated' when there is not even one field after the address.
 */
export function splitSentence(line: string | Buffer): FrameResult {
  const text = typeof line === 'string' ? line : line.toString('latin1');
  return frameClean(text) ?? splitSlow(text);
}

const isUpperOrDigit = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a);
/** Value of a hex digit's char code, or -1. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * The common case in one pass, no regex: '$' or '!', printable ASCII, no second '$' and no '!' at
 * all after the start, one `*hh` that ends the line and matches, a 3+ letter/digit address. That
 * frame is exactly what the full rules below give for such a line. Anything else (every rejection,
 * lines without a checksum, a '!' inside) returns null and takes the full rules.
 */
function frameClean(raw: string): FrameResult | null {
  let end = raw.length;
  for (; end > 0; end--) {
    const c = raw.charCodeAt(end - 1);
    if (c !== 0x0d && c !== 0x0a && c !== 0x09 && c !== 0x20) break;
  }
  // shortest clean sentence: '$' + 3-char address + ',' + '*hh'
  if (end < 8) return null;
  const c0 = raw.charCodeAt(0);
  if (c0 !== 0x24 && c0 !== 0x21) return null;
  const star = end - 3;
  if (raw.charCodeAt(star) !== 0x2a) return null;
  const h1 = hexValue(raw.charCodeAt(star + 1));
  const h2 = hexValue(raw.charCodeAt(star + 2));
  if (h1 < 0 || h2 < 0) return null;
  let sum = 0;
  for (let i = 1; i < star; i++) {
    const c = raw.charCodeAt(i);
    if (CLEAN_BODY_CHAR[c] !== 1) return null; // (undefined above 0xFF)
    sum ^= c;
  }
  if (sum !== h1 * 16 + h2) return null;
  let comma = raw.indexOf(',', 1);
  if (comma > star) comma = -1;
  const addressEnd = comma < 0 ? star : comma;
  if (addressEnd - 1 < 3) return null;
  for (let i = 1; i < addressEnd; i++) if (!isUpperOrDigit(raw.charCodeAt(i))) return null;
  const parts = addressParts(raw.slice(1, addressEnd));
  return {
    ok: true,
    frame: {
      start: c0 === 0x24 ? '$' : '!',
      address: parts.address,
      talker: parts.talker,
      type: parts.type,
      fields: comma < 0 ? [] : raw.slice(comma + 1, star).split(','),
      checksum: 'ok',
    },
  };
}

/** Printable ASCII other than '$', '!' and '*': what a clean sentence body is made of. */
const CLEAN_BODY_CHAR = new Uint8Array(256);
for (let c = 0x20; c <= 0x7e; c++) CLEAN_BODY_CHAR[c] = c === 0x24 || c === 0x21 || c === 0x2a ? 0 : 1;

/**
 * Address, talker and type of an address, the same string objects for every line of a stream (a
 * few addresses): later lookups by type or talker (counters, dictionaries) reuse their hashes.
 */
const ADDRESS_PARTS = new Map<string, { address: string; talker: string; type: string }>();
function addressParts(address: string): { address: string; talker: string; type: string } {
  let parts = ADDRESS_PARTS.get(address);
  if (parts === undefined) {
    parts = { address, ...typeOfAddress(address) };
    if (ADDRESS_PARTS.size < 1024) ADDRESS_PARTS.set(address, parts);
  }
  return parts;
}

/** The full framing rules (see splitSentence), every rejection with its detail. */
function splitSlow(line: string): FrameResult {
  let text = line.replace(/[\r\n\t ]+$/, '');
  if (text.trim() === '') return reject('empty', 'empty line', null);

  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      return reject(
        'non-nmea',
        `byte 0x${c.toString(16).padStart(2, '0').toUpperCase()} at column ${i + 1} is not printable ASCII`,
        guessType(text),
      );
    }
  }

  const start = text[0];
  if (start !== '$' && start !== '!') {
    if (text.includes('$')) {
      return reject('fused', `${text.indexOf('$')} characters of junk before a '$' sentence start`, null);
    }
    if (/,.*\*[0-9A-Fa-f]{2}$/.test(text)) {
      return reject('truncated', `line starts with ${quote(text, 12)}, not '$': the head of a sentence is missing`, null);
    }
    return reject('non-nmea', `line does not start with '$' or '!': ${quote(text)}`, null);
  }

  const type = guessType(text);
  const inner = text.slice(1);
  const dollar = inner.indexOf('$');
  if (dollar >= 0) {
    return reject('fused', `a second '$' at column ${dollar + 2}: two sentences fused on one line`, type);
  }
  const bang = FUSED_BANG_RE.exec(inner);
  if (bang) {
    return reject('fused', `a second sentence start '${bang[0]}' at column ${bang.index + 2}`, type);
  }

  const star = inner.indexOf('*');
  let body: string;
  let checksum: Frame['checksum'];
  if (star < 0) {
    body = inner;
    checksum = 'missing';
  } else {
    body = inner.slice(0, star);
    const after = inner.slice(star + 1);
    const given = after.slice(0, 2);
    if (after.length < 2 && /^[0-9A-Fa-f]?$/.test(after)) {
      return reject('truncated', `checksum ${quote(`*${after}`)} has ${after.length} hex digit(s), needs 2: line cut`, type);
    }
    if (!HEX2_RE.test(given)) {
      return reject('bad-checksum', `checksum field ${quote(`*${after}`)} is not 2 hex digits`, type);
    }
    if (after.length > 2) {
      return reject(
        'fused',
        `${after.length - 2} character(s) after the checksum *${given}: ${quote(after.slice(2))}`,
        type,
      );
    }
    const computed = nmeaChecksum(body);
    if (computed !== given.toUpperCase()) {
      return reject('bad-checksum', `checksum *${given} but the sentence content gives *${computed}`, type);
    }
    checksum = 'ok';
  }

  const parts = body.split(',');
  const address = parts[0] ?? '';
  if (!ADDRESS_RE.test(address)) {
    return checksum === 'ok'
      ? reject('malformed-field', `address field ${quote(address)} is not 3+ upper-case letters/digits`, null)
      : reject('non-nmea', `no checksum and address field ${quote(address)} is not an NMEA address`, null);
  }
  if (checksum === 'missing' && parts.length < 2) {
    return reject('truncated', `${quote(text)} has an address but no fields and no checksum`, type);
  }
  const { talker, type: sentenceType } = typeOfAddress(address);
  return {
    ok: true,
    frame: { start, address, talker, type: sentenceType, fields: parts.slice(1), checksum },
  };
}
