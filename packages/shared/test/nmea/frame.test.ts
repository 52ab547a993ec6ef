import { describe, expect, it } from 'vitest';
import { nmeaSentence } from '../../src/nmea/checksum.js';
import { splitSentence, type FrameResult } from '../../src/nmea/frame.js';

function frameOf(result: FrameResult) {
  if (!result.ok) throw new Error(`expected a frame, got ${result.rejection.reason}: ${result.rejection.detail}`);
  return result.frame;
}

function reasonOf(result: FrameResult): string {
  if (result.ok) throw new Error(`expected a rejection, got a ${result.frame.type} frame`);
  return result.rejection.reason;
}

describe('splitSentence', () => {
  it('frames a sentence with CRLF, LF, or nothing at the end, from a string or a Buffer', () => {
    const line = '$GPZDA,183531.00,23,12,2007,00,00*6C';
    for (const input of [line, `${line}\r`, `${line}\r\n`, Buffer.from(`${line}\r`, 'latin1')]) {
      const frame = frameOf(splitSentence(input));
      expect(frame).toEqual({
        start: '$',
        address: 'GPZDA',
        talker: 'GP',
        type: 'ZDA',
        fields: ['183531.00', '23', '12', '2007', '00', '00'],
        checksum: 'ok',
      });
    }
  });

  it('accepts a lower-case checksum', () => {
    expect(frameOf(splitSentence('$GPZDA,183531.00,23,12,2007,00,00*6c')).checksum).toBe('ok');
  });

  it('splits proprietary and encapsulation addresses', () => {
    const pgrmz = frameOf(splitSentence('$PGRMZ,4395,f,3*20'));
    expect([pgrmz.talker, pgrmz.type]).toEqual(['P', 'PGRMZ']);
    const ais = frameOf(splitSentence('!AIVDM,1,1,,A,13aEOK?P00PD2wVMdLDRhgvL289?,0*26'));
    expect([ais.start, ais.talker, ais.type]).toEqual(['!', 'AI', 'VDM']);
  });

  it("keeps a '!' inside a field (FLARM ids) but sees an AIS start inside a line as fused", () => {
    const body = 'PFLAA,0,-1540,-1020,-1126,1,39103C!FJLKN,93,0,33,4.9,8';
    expect(frameOf(splitSentence(nmeaSentence(body))).type).toBe('PFLAA');
    expect(reasonOf(splitSentence('$GPGGA,1234!AIVDM,1,1,,A,13aEOK?P00PD2wVMdLDRhgvL289?,0*26'))).toBe('fused');
  });

  it('reports a missing checksum as a frame with checksum "missing" (the decoder applies the policy)', () => {
    const frame = frameOf(splitSentence('$GPTXT,TELIT SW Version: SL869 v3.1.2.1 -STD -N96\r'));
    expect(frame.checksum).toBe('missing');
    expect(frame.type).toBe('TXT');
  });

  it.each([
    ['', 'empty'],
    ['\r', 'empty'],
    ['   \r\n', 'empty'],
    ['$GPGGA,005947.00,3715.6616,N,12157.6709,W,,11,0.8,86.0,M,-30.1,M,,*54', 'bad-checksum'],
    ['$GPGGA,005947.00*G1', 'bad-checksum'],
    ['$GPGSV,3,1,11,01,78,221,47,03,09,042,00,04,05,242,00,06,04,149,00*7', 'truncated'],
    ['$GPGSV,3,1,11,01,78,221,47,03,09,042,00*', 'truncated'],
    ['4.4343,N,01025.5386,E,200002,A,D*48', 'truncated'],
    ['$GPRMC', 'truncated'],
    ['$GPGGA,030130$GPGLL,2638.1728,N,08011.3893,W,030131.000,A,A*41', 'fused'],
    ['$GPRMC,135031.60,A,4859.01146,N,00705.64205,E,31.2,29.4,281224,,,D*5DDMIKP', 'fused'],
    ['xx$GPZDA,183531.00,23,12,2007,00,00*6C', 'fused'],
    ['+ 6: 28 (.....)', 'non-nmea'],
    ['$PASHR,MCA,\x1a\xe0\x01', 'non-nmea'],
    ['$GPGSA,A,3,26,15,21,27,24,09,18,05,29,,,,1.9,1.3,1.4*3\x1b[H\x1b[J3', 'non-nmea'],
    ['$ hello world', 'non-nmea'],
    [nmeaSentence('gprmc,1,2'), 'malformed-field'],
  ])('rejects %j as %s', (line, reason) => {
    expect(reasonOf(splitSentence(line))).toBe(reason);
  });

  it('names the problem in the detail', () => {
    const r = splitSentence('$GPGGA,005947.00,3715.6616,N,12157.6709,W,,11,0.8,86.0,M,-30.1,M,,*54');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.rejection.detail).toBe('checksum *54 but the sentence content gives *56');
      expect(r.rejection.type).toBe('GGA');
    }
  });

  it('treats a re-checksummed line holding several sentence starts as fused (signalk SDVLW)', () => {
    const line = '$SDVLW,$SDVLW,,N,322.0,N,$SDVLW,$SDVLW,,N,322.0,N,2328.9,N,$SDVLW,$SDVLW,,N,322.0,N,$SDVLW';
    expect(reasonOf(splitSentence(line))).toBe('fused');
  });
});
