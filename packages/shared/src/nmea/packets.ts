// The bridge to nmea-simple 3.3.0: one packet factory knowing its codecs plus $PGRMZ, fed only
// lines that frame.ts already validated. nmea-simple throws on many inputs (and reads fields past
// the end of short sentences: TypeError on a short RMC), so fields are padded and every call is
// wrapped. Its values are not trusted blindly: the decoder re-reads the raw fields (empty → 0,
// empty time → 1970, today's date stamped on GGA are nmea-simple behaviours to avoid).

import { DefaultPacketFactory, parseGenericPacket, type Packet } from 'nmea-simple';
import { nmeaSentence } from './checksum.js';
import type { Frame } from './frame.js';
import { FieldError } from './fields.js';
import { decodePgrmz, type PgrmzPacket } from './pgrmz.js';

type Stub = Parameters<DefaultPacketFactory['assemble']>[0];

/** Highest field index any nmea-simple codec we use reads (GSA reads up to 17). */
const PAD_TO = 20;

class FlysnapPacketFactory extends DefaultPacketFactory<PgrmzPacket> {
  override assemble(stub: Stub, fields: string[]): Packet | PgrmzPacket | null {
    const padded = fields.length >= PAD_TO ? fields : [...fields, ...new Array<string>(PAD_TO - fields.length).fill('')];
    return super.assemble(stub, padded);
  }

  override assembleCustomPacket(stub: Stub, fields: string[]): PgrmzPacket | null {
    return stub.talkerId === 'P' && stub.sentenceId === 'GRMZ' ? decodePgrmz(fields) : null;
  }
}

const FACTORY = new FlysnapPacketFactory();

export type FlysnapPacket = Packet | PgrmzPacket;

/**
 * Decode a framed sentence with nmea-simple. The checksum was already checked (or is missing and
 * accepted by policy), so the sentence is re-built with a correct one. Throws FieldError
 * ('malformed-field') when nmea-simple fails; the decoder catches it.
 */
export function parsePacket(frame: Frame): FlysnapPacket {
  const body = [frame.address, ...frame.fields].join(',');
  try {
    return parseGenericPacket(nmeaSentence(body, frame.start), FACTORY);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new FieldError('malformed-field', `nmea-simple cannot decode the ${frame.type} sentence: ${message}`);
  }
}
