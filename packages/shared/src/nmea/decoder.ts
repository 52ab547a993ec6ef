// The NMEA 0183 decoder: one received line in, one typed DecodeResult out. Never throws.
// Keeps the state a stream needs (the last known UTC date) and counts what it saw.

import {
  DECODED_SENTENCES,
  REJECT_REASONS,
  type DecodeFlag,
  type DecodeResult,
  type DecodedSentence,
  type RejectReason,
} from '../nav/types.js';
import { DateResolver } from './dates.js';
import { FieldError } from './fields.js';
import { splitSentence, type Frame } from './frame.js';
import { MIN_FIELDS, SENTENCE_DECODERS } from './sentences.js';

export interface NmeaDecoderOptions {
  /**
   * Lines without `*hh`: 'accept-flag' accepts them with flag 'no-checksum' (some devices omit it),
   * 'reject' rejects them as 'missing-checksum'. Default: 'accept-flag'.
   * Under 'accept-flag', once a sentence TYPE (talker stripped: 'HDT', 'GGA', also unknown types)
   * has been received WITH a valid checksum by this decoder (one decoder = one port), a later line
   * of that type WITHOUT one is rejected as 'truncated': the device sends checksums, so that line
   * was cut short and its last field is likely cut too (`$HCHDT,12` from `$HCHDT,127.5,T*hh`).
   * Devices that never send checksums, and types a device sends without one from the start, keep
   * being accepted with the flag.
   */
  missingChecksum?: 'accept-flag' | 'reject';
  /** UTC reference (µs since epoch, e.g. the machine clock at start) for GPS week-rollover detection; null = off, since replaying old logs is legitimate. Default: null. */
  rolloverReferenceUs?: number | null;
  /** Two-digit years (RMC, some ZDA) at or above this are 19xx, below it 20xx. Default: 80. */
  twoDigitYearPivot?: number;
}

/** Counts since the decoder was made; a plain JSON-able object. */
export interface DecoderStats {
  /** Accepted sentences per decoded type (talker stripped: 'RMC', 'PGRMZ'). */
  valid: Record<string, number>;
  /** Well-formed sentences of types not decoded, per type ('GSV', 'VDM', 'PFLAA'). */
  unknown: Record<string, number>;
  /** Rejected lines per reason; every reason present, 0 when none. */
  rejected: Record<RejectReason, number>;
}

const DECODED = new Set<string>(DECODED_SENTENCES);
/** A port sends a few dozen types; past this many, new types are not remembered (no rejection). */
const MAX_TYPES_WITH_CHECKSUM = 1024;

function isDecoded(type: string): type is DecodedSentence {
  return DECODED.has(type);
}

function rejected(reason: RejectReason, detail: string, sentence: string | null): DecodeResult {
  return { status: 'rejected', reason, detail, sentence };
}

export class NmeaDecoder {
  readonly #missingChecksum: 'accept-flag' | 'reject';
  readonly #yearPivot: number;
  readonly #dates: DateResolver;
  #valid: Record<string, number> = {};
  #unknown: Record<string, number> = {};
  #rejected = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  /** Types received with a valid checksum (see `missingChecksum`); bounded against junk addresses. */
  readonly #typesWithChecksum = new Set<string>();

  constructor(options: NmeaDecoderOptions = {}) {
    this.#missingChecksum = options.missingChecksum ?? 'accept-flag';
    this.#yearPivot = options.twoDigitYearPivot ?? 80;
    this.#dates = new DateResolver(options.rolloverReferenceUs ?? null);
  }

  /** Decode one received line (latin1 string or raw bytes, trailing CR/LF allowed). Never throws. */
  decode(line: string | Buffer): DecodeResult {
    let result: DecodeResult;
    try {
      result = this.#decode(line);
    } catch (err) {
      // Not expected: every known failure is a FieldError handled below. Still never throw.
      const message = err instanceof Error ? err.message : String(err);
      result = rejected('malformed-field', `unexpected decoder error: ${message}`, null);
    }
    if (result.status === 'accepted') this.#valid[result.sentence] = (this.#valid[result.sentence] ?? 0) + 1;
    else if (result.status === 'unknown') this.#unknown[result.sentence] = (this.#unknown[result.sentence] ?? 0) + 1;
    else this.#rejected[result.reason] += 1;
    return result;
  }

  /** A copy of the counts so far. */
  stats(): DecoderStats {
    return { valid: { ...this.#valid }, unknown: { ...this.#unknown }, rejected: { ...this.#rejected } };
  }

  #decode(line: string | Buffer): DecodeResult {
    const framed = splitSentence(line);
    if (!framed.ok) return rejected(framed.rejection.reason, framed.rejection.detail, framed.rejection.type);
    const frame = framed.frame;
    const flags: DecodeFlag[] = [];
    if (frame.checksum === 'missing') {
      if (this.#missingChecksum === 'reject') {
        return rejected('missing-checksum', `${frame.address} sentence has no *hh checksum`, frame.type);
      }
      if (this.#typesWithChecksum.has(frame.type)) {
        return rejected(
          'truncated',
          `${frame.address} sentence has no *hh checksum but earlier ${frame.type} sentences on this port had one: line cut`,
          frame.type,
        );
      }
      flags.push('no-checksum');
    } else if (this.#typesWithChecksum.size < MAX_TYPES_WITH_CHECKSUM) {
      this.#typesWithChecksum.add(frame.type);
    }
    if (!isDecoded(frame.type)) return { status: 'unknown', sentence: frame.type, talker: frame.talker, flags };
    try {
      return this.#decodeKnown(frame, frame.type, flags);
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      return rejected(err.code, `${frame.address}: ${err.message}`, frame.type);
    }
  }

  #decodeKnown(frame: Frame, sentence: DecodedSentence, flags: DecodeFlag[]): DecodeResult {
    const min = MIN_FIELDS[sentence];
    if (frame.fields.length < min.count) {
      // With a checksum the device sent it short on purpose (malformed); without one it was cut.
      const reason = frame.checksum === 'ok' ? 'malformed-field' : 'truncated';
      throw new FieldError(
        reason,
        `has ${frame.fields.length} field(s), needs at least ${min.count} (up to the ${min.last})`,
      );
    }
    const samples = SENTENCE_DECODERS[sentence]({
      fields: frame.fields,
      sentence,
      talker: frame.talker,
      flags,
      dates: this.#dates,
      yearPivot: this.#yearPivot,
    });
    return { status: 'accepted', sentence, talker: frame.talker, samples, flags };
  }
}
