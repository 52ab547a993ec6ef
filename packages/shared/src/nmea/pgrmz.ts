// Garmin $PGRMZ (altitude), which nmea-simple does not know: '$PGRMZ,<alt>,<f|m>,<fix dim>*hh'.
// Plugged into nmea-simple as a custom packet (see packets.ts). Values stay raw strings here:
// the decoder checks and converts them (feet → metres) like every other field.

/** nmea-simple packet for $PGRMZ. */
export interface PgrmzPacket {
  sentenceId: 'PGRMZ';
  talkerId: 'P';
  /** Altitude as received (may be empty). */
  altitude: string;
  /** Unit as received: 'f' (feet) or 'm' (metres); upper case seen too. */
  unit: string;
  /** Position fix dimension: '2' (user altitude) or '3' (GPS altitude); often empty. */
  fixDimension: string;
}

/** `fields` as nmea-simple passes them: fields[0] is the address ('$PGRMZ'). */
export function decodePgrmz(fields: readonly string[]): PgrmzPacket {
  return {
    sentenceId: 'PGRMZ',
    talkerId: 'P',
    altitude: fields[1] ?? '',
    unit: fields[2] ?? '',
    fixDimension: fields[3] ?? '',
  };
}
