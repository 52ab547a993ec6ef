/**
 * NMEA 0183 checksum: XOR of every byte between the leading '$' or '!' and the '*', as two
 * upper-case hex digits. `body` is that part of the sentence alone (no '$', no '*hh').
 */
export function nmeaChecksum(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i) & 0xff;
  return sum.toString(16).toUpperCase().padStart(2, '0');
}

/** A complete sentence line (without CR/LF) for a body such as 'GPZDA,120000.00,01,01,2024,00,00'. */
export function nmeaSentence(body: string, start: '$' | '!' = '$'): string {
  return `${start}${body}*${nmeaChecksum(body)}`;
}
