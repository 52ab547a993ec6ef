import { describe, expect, it } from 'vitest';
import {
  RawLogDecoder,
  RawLogError,
  decodeRawLog,
  decodeRawLogLine,
  encodeRawLogLine,
  isRawLog,
  rawLogEntryBytes,
  parseRawLogHeader,
  rawLogHeader,
} from '../../src/rawlog/index.js';
import type { RawLogItem } from '../../src/rawlog/index.js';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('raw log line encode/decode', () => {
  it('round-trips every byte value 0-255, alone and together', () => {
    for (let b = 0; b < 256; b++) {
      const line = encodeRawLogLine({ monoUs: b, utcUs: null, bytes: Buffer.from([b]) });
      expect(line.endsWith('\n')).toBe(true);
      // The encoded line is printable ASCII + two tabs + the final '\n'.
      expect(/^[\x20-\x7e]*\t[\x20-\x7e]*\t[\x20-\x7e]*\n$/.test(line)).toBe(true);
      const r = decodeRawLogLine(line.slice(0, -1));
      expect(r.status).toBe('entry');
      if (r.status === 'entry') expect([...r.entry.bytes]).toEqual([b]);
    }
    const line = encodeRawLogLine({ monoUs: 1, utcUs: 1717200000123456, bytes: ALL_BYTES });
    const r = decodeRawLogLine(line);
    expect(r).toEqual({ status: 'entry', entry: { monoUs: 1, utcUs: 1717200000123456, bytes: ALL_BYTES, hasLf: true, isCut: false } });
  });

  it('uses the documented escapes and keeps a CR', () => {
    const bytes = Buffer.from('$GPGGA,1*4F\r', 'latin1');
    const line = encodeRawLogLine({ monoUs: 123, utcUs: null, bytes });
    expect(line).toBe('123\t-\t$GPGGA,1*4F\\r\n');
    expect(encodeRawLogLine({ monoUs: 0, utcUs: -5, bytes: Buffer.from([0x5c, 0x09, 0x0a, 0x00, 0x7f, 0xff]) })).toBe(
      '0\t-5\t\\\\\\t\\n\\x00\\x7f\\xff\n',
    );
    const r = decodeRawLogLine('123\t-\t$GPGGA,1*4F\\r');
    expect(r.status === 'entry' && r.entry.bytes.toString('latin1')).toBe('$GPGGA,1*4F\r');
    // Upper-case hex decodes too.
    const u = decodeRawLogLine('1\t2\t\\xFF\\xaB');
    expect(u.status === 'entry' && [...u.entry.bytes]).toEqual([0xff, 0xab]);
  });

  it('round-trips binary junk and the empty line', () => {
    for (let i = 0; i < 200; i++) {
      const bytes = Buffer.from(Array.from({ length: i * 3 }, (_, k) => (k * 7919 + i * 31) & 0xff));
      const entry = { monoUs: i * 1000, utcUs: i % 2 ? null : 1700000000000000 + i, bytes, hasLf: true, isCut: false };
      expect(decodeRawLogLine(encodeRawLogLine(entry))).toEqual({ status: 'entry', entry });
    }
    expect(decodeRawLogLine('5\t-\t')).toEqual({
      status: 'entry',
      entry: { monoUs: 5, utcUs: null, bytes: Buffer.alloc(0), hasLf: true, isCut: false },
    });
  });

  it('round-trips pieces with and without their LF: ended by LF, cut at the maximum length, partial', () => {
    const bytes = Buffer.from([0x24, 0x00, 0xff, 0x5c, 0x09, 0x0d]);
    const kinds = [
      { hasLf: true, isCut: false, end: '' },
      { hasLf: false, isCut: true, end: '\tcut' },
      { hasLf: false, isCut: false, end: '\tnolf' },
    ];
    for (const { hasLf, isCut, end } of kinds) {
      for (const b of [bytes, Buffer.alloc(0), ALL_BYTES]) {
        const entry = { monoUs: 7, utcUs: 1717200000000001, bytes: b, hasLf, isCut };
        const line = encodeRawLogLine(entry);
        // Printable ASCII + the fields' tabs + the final '\n'; the <end> field is the last one.
        expect(/^[\x20-\x7e]*\t[\x20-\x7e]*\t[\x20-\x7e]*(\t(cut|nolf))?\n$/.test(line)).toBe(true);
        expect(line.endsWith(`${end}\n`)).toBe(true);
        expect(line.split('\t')).toHaveLength(end === '' ? 3 : 4);
        expect(decodeRawLogLine(line)).toEqual({ status: 'entry', entry });
        expect(rawLogEntryBytes(entry).equals(hasLf ? Buffer.concat([b, Buffer.from('\n')]) : b)).toBe(true);
      }
    }
    expect(encodeRawLogLine({ monoUs: 1, utcUs: null, bytes: Buffer.from('ab'), hasLf: false })).toBe('1\t-\tab\tnolf\n');
    // isCut alone implies no LF; hasLf alone (or neither) is the usual line.
    expect(encodeRawLogLine({ monoUs: 1, utcUs: null, bytes: Buffer.from('ab'), isCut: true })).toBe('1\t-\tab\tcut\n');
    expect(encodeRawLogLine({ monoUs: 1, utcUs: null, bytes: Buffer.from('ab'), hasLf: true })).toBe('1\t-\tab\n');
    expect(encodeRawLogLine({ monoUs: 1, utcUs: null, bytes: Buffer.from('ab') })).toBe('1\t-\tab\n');
  });

  it('reports bad lines with a reason, never throws', () => {
    const cases: [string, string][] = [
      ['', 'bad-line'],
      ['garbage', 'bad-line'],
      ['1\t2', 'bad-line'],
      ['x\t-\tabc', 'bad-mono'],
      ['-1\t-\tabc', 'bad-mono'],
      ['01\t-\tabc', 'bad-mono'],
      ['99999999999999999999\t-\tabc', 'bad-mono'],
      ['1\t?\tabc', 'bad-utc'],
      ['1\t\tabc', 'bad-utc'],
      ['1\t-\tab\\q', 'bad-escape'],
      ['1\t-\tab\\', 'bad-escape'],
      ['1\t-\t\\x4', 'bad-escape'],
      ['1\t-\t\\xg0', 'bad-escape'],
      ['1\t-\ta\tb', 'bad-end'],
      ['1\t-\ta\t', 'bad-end'],
      ['1\t-\ta\tcut\tnolf', 'bad-end'],
      ['1\t-\ta\tCUT', 'bad-end'],
      ['1\t-\ta\\\tcut', 'bad-escape'],
      ['1\t-\t\u00e9', 'bad-escape'],
    ];
    for (const [text, reason] of cases) {
      const r = decodeRawLogLine(text);
      expect(r, JSON.stringify(text)).toMatchObject({ status: 'rejected', reason });
      if (r.status === 'rejected') expect(r.detail.length).toBeGreaterThan(0);
    }
  });

  it('refuses to encode non-integer times (a caller bug) with a typed error', () => {
    expect(() => encodeRawLogLine({ monoUs: 1.5, utcUs: null, bytes: Buffer.alloc(0) })).toThrow(RawLogError);
    expect(() => encodeRawLogLine({ monoUs: -1, utcUs: null, bytes: Buffer.alloc(0) })).toThrow(RawLogError);
    expect(() => encodeRawLogLine({ monoUs: 1, utcUs: NaN, bytes: Buffer.alloc(0) })).toThrow(RawLogError);
    expect(() => encodeRawLogLine({ monoUs: 1, utcUs: null, bytes: Buffer.alloc(0), hasLf: true, isCut: true })).toThrow(RawLogError);
  });
});

describe('raw log header', () => {
  it('writes and parses the header with extra key=value pairs', () => {
    const h = rawLogHeader('gps', { path: '/dev/tty USB0', baud: '4800', note: 'a=b\\c\té' });
    expect(h).toBe('#flysnap-rawlog v2 port=gps path=/dev/tty\\x20USB0 baud=4800 note=a=b\\\\c\\t\\xc3\\xa9\n');
    expect(isRawLog(h)).toBe(true);
    expect(isRawLog(Buffer.from(h))).toBe(true);
    expect(parseRawLogHeader(h)).toEqual({
      status: 'header',
      header: { version: 2, port: 'gps', extra: { path: '/dev/tty USB0', baud: '4800', note: 'a=b\\c\té' } },
    });
    // v1 headers (logs written before the <end> field) are still read, with their version.
    expect(parseRawLogHeader('#flysnap-rawlog v1 port=compass')).toEqual({
      status: 'header',
      header: { version: 1, port: 'compass', extra: {} },
    });
    expect(parseRawLogHeader('#flysnap-rawlog v2 port=compass')).toEqual({
      status: 'header',
      header: { version: 2, port: 'compass', extra: {} },
    });
  });

  it('tells raw logs from plain device logs and rejects bad headers', () => {
    expect(isRawLog('$GPGGA,123519,4807.038,N*47')).toBe(false);
    expect(isRawLog('')).toBe(false);
    for (const bad of [
      '#flysnap-rawlog v3 port=gps',
      '#flysnap-rawlog v0 port=gps',
      '#flysnap-rawlog v1',
      '#flysnap-rawlog v1 port=../x',
      '#flysnap-rawlog v1 port=a port=b',
      '#flysnap-rawlog v1 port=gps junk',
      '$GPGGA',
    ]) {
      expect(parseRawLogHeader(bad), bad).toMatchObject({ status: 'rejected', reason: 'bad-header' });
    }
    expect(() => rawLogHeader('a/b')).toThrow(RawLogError);
    expect(() => rawLogHeader('gps', { port: 'x' })).toThrow(RawLogError);
  });
});

describe('whole-file and streaming decoding', () => {
  const entries = [
    { monoUs: 10, utcUs: null, bytes: Buffer.from('$GPRMC,a*00\r'), hasLf: true, isCut: false },
    { monoUs: 20, utcUs: 1717200000000000, bytes: Buffer.from([0, 1, 2, 0xfe, 0x0d]), hasLf: true, isCut: false },
    { monoUs: 30, utcUs: 1717200000010000, bytes: Buffer.from('$HCHDT,90.0,T*2C\r'), hasLf: true, isCut: false },
  ];
  const header = rawLogHeader('gps');
  const body = entries.map(encodeRawLogLine).join('');
  const file = header + body;

  it('decodes a file with byte offsets of each line', () => {
    const r = decodeRawLog(Buffer.from(file, 'latin1'));
    expect(r.header).toEqual({ version: 2, port: 'gps', extra: {} });
    expect(r.entries).toEqual(entries);
    expect(r.rejected).toEqual([]);
    expect(r.truncated).toBeNull();
    const offsets = r.items.map((i) => i.offset);
    let off = 0;
    const expected = [header, ...entries.map(encodeRawLogLine)].map((l) => {
      const o = off;
      off += l.length;
      return o;
    });
    expect(offsets).toEqual(expected);
    // The offset points at the line in the file.
    const second = r.items[2]!;
    expect(file.slice(second.offset).startsWith('20\t')).toBe(true);
  });

  it('flags a partial last line as truncated and keeps every earlier line', () => {
    const cut = file + '40\t-\t$GPGGA,12';
    const r = decodeRawLog(cut);
    expect(r.entries).toEqual(entries);
    expect(r.rejected).toEqual([]);
    expect(r.truncated).toMatchObject({ type: 'truncated', line: 5, text: '40\t-\t$GPGGA,12', offset: file.length });
    expect(r.truncated?.entry?.bytes.toString()).toBe('$GPGGA,12');
    // Cut in the middle of an escape: still truncated, not an exception, entry null.
    const r2 = decodeRawLog(file + '40\t-\tab\\x1');
    expect(r2.truncated).toMatchObject({ type: 'truncated', entry: null });
    expect(r2.entries).toEqual(entries);
    // Cut inside the header line itself.
    const r3 = decodeRawLog('#flysnap-rawl');
    expect(r3.header).toBeNull();
    expect(r3.truncated?.text).toBe('#flysnap-rawl');
  });

  it('reports bad lines in the middle and goes on; a new header is a session boundary', () => {
    const mixed =
      header +
      encodeRawLogLine(entries[0]!) +
      'garbage line\n' +
      '# agent restarted\n' +
      rawLogHeader('gps', { session: '2' }) +
      encodeRawLogLine(entries[1]!);
    const r = decodeRawLog(mixed);
    expect(r.entries).toEqual([entries[0], entries[1]]);
    expect(r.rejected).toHaveLength(1);
    expect(r.rejected[0]).toMatchObject({ line: 3, reason: 'bad-line', text: 'garbage line' });
    expect(r.items.map((i) => i.type)).toEqual(['header', 'entry', 'rejected', 'comment', 'header', 'entry']);
  });

  it('streams in arbitrary chunks with the same result as whole-file decoding', () => {
    const cut = Buffer.from(file + '40\t-\tpartial', 'latin1');
    const whole = decodeRawLog(cut).items;
    for (const size of [1, 2, 3, 7, 64, cut.length]) {
      const d = new RawLogDecoder();
      const items: RawLogItem[] = [];
      for (let i = 0; i < cut.length; i += size) items.push(...d.push(cut.subarray(i, i + size)));
      items.push(...d.end());
      expect(items, `chunk size ${size}`).toEqual(whole);
      expect(d.isRawLog).toBe(true);
    }
    const plain = new RawLogDecoder();
    plain.push('$GPGGA,1*00\r\n');
    expect(plain.isRawLog).toBe(false);
  });

  it('gives back the received stream byte for byte: pieces with LF, a cut binary run, a partial line at the end', () => {
    // What a port delivered: a line, 10 bytes of junk without LF cut at 4, a line, a partial line.
    const stream = Buffer.concat([
      Buffer.from('$GPZDA,1*00\r\n'),
      Buffer.from([0xff, 0x00, 0x0d, 0x5c, 0x09, 0x80, 0x81, 0x82, 0x83, 0x84]),
      Buffer.from('\n$HCHDT,1.0,T*00\r\n$GPGG'),
    ]);
    const pieces = [
      { bytes: Buffer.from('$GPZDA,1*00\r'), hasLf: true, isCut: false },
      { bytes: Buffer.from([0xff, 0x00, 0x0d, 0x5c]), hasLf: false, isCut: true },
      { bytes: Buffer.from([0x09, 0x80, 0x81, 0x82]), hasLf: false, isCut: true },
      { bytes: Buffer.from([0x83, 0x84]), hasLf: true, isCut: false },
      { bytes: Buffer.from('$HCHDT,1.0,T*00\r'), hasLf: true, isCut: false },
      { bytes: Buffer.from('$GPGG'), hasLf: false, isCut: false },
    ].map((p, i) => ({ monoUs: 100 + i, utcUs: null, ...p }));
    const text = rawLogHeader('gps') + pieces.map(encodeRawLogLine).join('');
    const r = decodeRawLog(text);
    expect(r.rejected).toEqual([]);
    expect(r.truncated).toBeNull();
    expect(r.entries).toEqual(pieces);
    expect(Buffer.concat(r.entries.map(rawLogEntryBytes)).equals(stream)).toBe(true);
  });

  it('reads a v1 log: every entry ended with LF', () => {
    const v1 = '#flysnap-rawlog v1 port=gps\n10\t-\t$GPRMC,a*00\\r\n20\t5\t\\xff\n';
    const r = decodeRawLog(v1);
    expect(r.header).toEqual({ version: 1, port: 'gps', extra: {} });
    expect(r.rejected).toEqual([]);
    expect(r.entries).toEqual([
      { monoUs: 10, utcUs: null, bytes: Buffer.from('$GPRMC,a*00\r'), hasLf: true, isCut: false },
      { monoUs: 20, utcUs: 5, bytes: Buffer.from([0xff]), hasLf: true, isCut: false },
    ]);
    expect(Buffer.concat(r.entries.map(rawLogEntryBytes)).toString('latin1')).toBe('$GPRMC,a*00\r\n\xff\n');
  });

  it('decodes an empty file to nothing', () => {
    expect(decodeRawLog('')).toEqual({ header: null, items: [], entries: [], rejected: [], truncated: null });
  });
});
