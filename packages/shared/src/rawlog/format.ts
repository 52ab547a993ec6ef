// Raw serial log format v2: what the capture agent appends for every piece of bytes it received,
// and what `hardware-sim replay` replays byte-for-byte. Pure encode/decode, no I/O.
//
//   #flysnap-rawlog v2 port=<name>[ key=value]...\n          header (first line)
//   <monoUs>\t<utcUs or ->\t<escaped payload>[\t<end>]\n    one per received piece
//
// The entries of a session, in order, ARE the received byte stream: each is one piece as the agent
// framed it, and the bytes of a piece are its payload followed by '\n' when the piece ended with
// one (`rawLogEntryBytes`). So concatenating `rawLogEntryBytes` of every entry gives back exactly
// what the port delivered, binary junk and a line cut short by an unplug included.
//
// payload = the bytes of the piece WITHOUT its framing '\n' (a '\r' stays part of it), escaped:
// '\\' → `\\`, 0x09 → `\t`, 0x0a → `\n`, 0x0d → `\r`, any other byte < 0x20 or ≥ 0x7f → `\xhh`
// (lower-case hex on encode, either case on decode); printable ASCII as is. A log file is
// therefore pure printable ASCII plus '\t' and '\n': string length == byte length, so a writer can
// track byte offsets (nav_sample.raw_offset) by summing lengths.
//
// end = how the piece ended; absent in the usual case, a piece framed by '\n' (hasLf). Otherwise
// the piece did NOT end with '\n', nothing follows the payload on replay, and <end> says why:
//   cut    cut at the agent's maximum line length (binary junk without LF); the next entry
//          continues the same line (isCut)
//   nolf   any other piece without '\n': a partial line pending when the port was lost or the
//          agent stopped
// A raw payload never holds a tab (escaped `\t`), so the optional fourth field is unambiguous.
//
// monoUs = the capture machine's monotonic clock at receipt (µs, non-negative integer).
// utcUs  = the flight clock's UTC at receipt (µs since epoch), '-' when not known yet.
//
// A writer that reopens an existing log (agent restart, reboot: the monotonic clock may restart)
// first writes '\n' if the file does not end in one, then a fresh header line. Decoders report a
// header line anywhere in the file as a new 'header' item (a session boundary). Other lines
// beginning with '#' are comments. A line cut by a power cut mid-write is reported as it decodes
// (its payload may be incomplete, and whether the piece had an LF is unknown).
//
// Version history (decoders read every version listed in RAW_LOG_READ_VERSIONS; writers write
// RAW_LOG_VERSION):
//   v1  no <end> field: every entry reads as hasLf=true. v1 writers stored a piece without LF
//       (a cut line, a partial line at unplug/stop) like a line, so replaying such a v1 entry
//       adds an LF that was never received: the ambiguity v2 removes.
//   v2  the optional <end> field. The decoders accept it whatever the session's header says.

/** The version writers write. */
export const RAW_LOG_VERSION = 2 as const;
/** The versions decoders read. */
export const RAW_LOG_READ_VERSIONS = [1, 2] as const;
export type RawLogVersion = (typeof RAW_LOG_READ_VERSIONS)[number];
export const RAW_LOG_MAGIC = '#flysnap-rawlog';

/** One received piece (a line, or bytes that never got their '\n'). */
export interface RawLogEntry {
  /** Monotonic clock of the capture machine at receipt, µs. */
  monoUs: number;
  /** Flight-clock UTC at receipt, µs since epoch; null when the clock was not known yet. */
  utcUs: number | null;
  /** The received bytes of the piece, without the framing '\n' (a trailing '\r' is kept). */
  bytes: Buffer;
  /** The piece ended with '\n' (not in `bytes`). Always true in a v1 log. */
  hasLf: boolean;
  /** The piece was cut at the maximum line length (then hasLf is false). */
  isCut: boolean;
}

/** What encodeRawLogLine takes: hasLf defaults to !isCut, isCut to false. */
export interface RawLogEntryInput {
  monoUs: number;
  utcUs: number | null;
  /** The piece's bytes WITHOUT its framing '\n'. */
  bytes: Uint8Array;
  hasLf?: boolean;
  isCut?: boolean;
}

export interface RawLogHeader {
  version: RawLogVersion;
  port: string;
  /** Further `key=value` pairs, in file order (values unescaped). */
  extra: Record<string, string>;
}

export type RawLogRejectReason =
  /** Not `<int>\t<int or ->\t<payload>[\t<end>]`: too few fields, empty line. */
  | 'bad-line'
  /** monoUs is not a non-negative safe integer. */
  | 'bad-mono'
  /** utcUs is neither '-' nor a safe integer. */
  | 'bad-utc'
  /** A '\' not followed by '\', 't', 'n', 'r' or 'xHH', or a raw byte that must be escaped. */
  | 'bad-escape'
  /** A fourth field that is not a known <end> ('cut', 'nolf'). */
  | 'bad-end'
  /** Header line without the magic, an unknown version, or a bad port / key=value. */
  | 'bad-header';

export type RawLogLineResult =
  | { status: 'entry'; entry: RawLogEntry }
  | { status: 'rejected'; reason: RawLogRejectReason; detail: string };

export type RawLogHeaderResult =
  | { status: 'header'; header: RawLogHeader }
  | { status: 'rejected'; reason: 'bad-header'; detail: string };

/** Thrown only by the encoders, on a programming error (bad entry, unsafe port name). */
export class RawLogError extends Error {
  override readonly name = 'RawLogError';
  readonly code: 'bad-entry' | 'bad-header';
  constructor(code: 'bad-entry' | 'bad-header', message: string) {
    super(message);
    this.code = code;
  }
}

const HEX = '0123456789abcdef';
/** Escape table: the text for each byte value. */
const ESCAPE: readonly string[] = (() => {
  const t: string[] = [];
  for (let b = 0; b < 256; b++) {
    if (b === 0x5c) t.push('\\\\');
    else if (b === 0x09) t.push('\\t');
    else if (b === 0x0a) t.push('\\n');
    else if (b === 0x0d) t.push('\\r');
    else if (b < 0x20 || b >= 0x7f) t.push(`\\x${HEX[b >> 4]}${HEX[b & 15]}`);
    else t.push(String.fromCharCode(b));
  }
  return t;
})();

/** Escapes bytes into the payload text form (lossless, printable ASCII only). */
export function escapeRawPayload(bytes: Uint8Array): string {
  // Fast path: pure printable ASCII without backslash (the usual NMEA line, minus its '\r').
  let plain = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b < 0x20 || b >= 0x7f || b === 0x5c) {
      plain = false;
      break;
    }
  }
  if (plain) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += ESCAPE[bytes[i]!]!;
  return out;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** Unescapes payload text; never throws. */
export function unescapeRawPayload(
  text: string,
): { status: 'ok'; bytes: Buffer } | { status: 'rejected'; reason: 'bad-escape'; detail: string } {
  const out = Buffer.allocUnsafe(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) {
      const d = text.charCodeAt(i + 1);
      if (d === 0x5c) out[n++] = 0x5c;
      else if (d === 0x74) out[n++] = 0x09;
      else if (d === 0x6e) out[n++] = 0x0a;
      else if (d === 0x72) out[n++] = 0x0d;
      else if (d === 0x78) {
        const hi = hexVal(text.charCodeAt(i + 2));
        const lo = hexVal(text.charCodeAt(i + 3));
        if (hi < 0 || lo < 0) {
          return {
            status: 'rejected',
            reason: 'bad-escape',
            detail: `bad \\x escape ${JSON.stringify(text.slice(i, i + 4))} at payload column ${i}`,
          };
        }
        out[n++] = (hi << 4) | lo;
        i += 2;
      } else {
        return {
          status: 'rejected',
          reason: 'bad-escape',
          detail: `unknown escape ${JSON.stringify(text.slice(i, i + 2))} at payload column ${i}`,
        };
      }
      i++;
    } else if (c < 0x20 || c >= 0x7f) {
      return {
        status: 'rejected',
        reason: 'bad-escape',
        detail: `unescaped character 0x${c.toString(16).padStart(2, '0')} at payload column ${i}`,
      };
    } else {
      out[n++] = c;
    }
  }
  return { status: 'ok', bytes: Buffer.from(out.subarray(0, n)) };
}

/** The <end> field of an entry that did not end with '\n'. */
export const RAW_LOG_END_CUT = 'cut';
export const RAW_LOG_END_NO_LF = 'nolf';

/**
 * One log line for a received piece, INCLUDING its terminating '\n' (append it as is).
 * Throws RawLogError('bad-entry') when monoUs/utcUs are not integers or the piece is said to be
 * both cut and ended by '\n' (a caller bug).
 */
export function encodeRawLogLine(entry: RawLogEntryInput): string {
  if (!Number.isSafeInteger(entry.monoUs) || entry.monoUs < 0) {
    throw new RawLogError('bad-entry', `monoUs ${entry.monoUs} is not a non-negative integer of µs`);
  }
  if (entry.utcUs !== null && !Number.isSafeInteger(entry.utcUs)) {
    throw new RawLogError('bad-entry', `utcUs ${entry.utcUs} is not an integer of µs or null`);
  }
  const isCut = entry.isCut === true;
  const hasLf = entry.hasLf ?? !isCut;
  if (isCut && hasLf) throw new RawLogError('bad-entry', 'a piece cut at the maximum line length cannot end with LF');
  const utc = entry.utcUs === null ? '-' : String(entry.utcUs);
  const end = isCut ? `\t${RAW_LOG_END_CUT}` : hasLf ? '' : `\t${RAW_LOG_END_NO_LF}`;
  return `${entry.monoUs}\t${utc}\t${escapeRawPayload(entry.bytes)}${end}\n`;
}

/** The bytes an entry stands for in the received stream: its payload, plus '\n' when it had one. */
export function rawLogEntryBytes(entry: Pick<RawLogEntry, 'bytes' | 'hasLf'>): Buffer {
  if (!entry.hasLf) return entry.bytes;
  const out = Buffer.allocUnsafe(entry.bytes.length + 1);
  entry.bytes.copy(out, 0);
  out[entry.bytes.length] = 0x0a;
  return out;
}

const INT = /^-?(0|[1-9][0-9]*)$/;

/**
 * Decodes one log line (without its '\n'; a trailing '\n' is tolerated and ignored). Never
 * throws. A header or comment line ('#…') is rejected as 'bad-line': use decodeRawLog /
 * RawLogDecoder for whole files.
 */
export function decodeRawLogLine(text: string): RawLogLineResult {
  const line = text.endsWith('\n') ? text.slice(0, -1) : text;
  const t1 = line.indexOf('\t');
  const t2 = t1 < 0 ? -1 : line.indexOf('\t', t1 + 1);
  if (t1 < 0 || t2 < 0) {
    return {
      status: 'rejected',
      reason: 'bad-line',
      detail: `expected <monoUs>TAB<utcUs|->TAB<payload>[TAB<end>], got ${JSON.stringify(line.slice(0, 80))}`,
    };
  }
  const monoText = line.slice(0, t1);
  const utcText = line.slice(t1 + 1, t2);
  const monoUs = INT.test(monoText) ? Number(monoText) : NaN;
  if (!Number.isSafeInteger(monoUs) || monoUs < 0) {
    return {
      status: 'rejected',
      reason: 'bad-mono',
      detail: `monoUs ${JSON.stringify(monoText.slice(0, 40))} is not a non-negative integer`,
    };
  }
  let utcUs: number | null = null;
  if (utcText !== '-') {
    utcUs = INT.test(utcText) ? Number(utcText) : NaN;
    if (!Number.isSafeInteger(utcUs)) {
      return {
        status: 'rejected',
        reason: 'bad-utc',
        detail: `utcUs ${JSON.stringify(utcText.slice(0, 40))} is neither '-' nor an integer`,
      };
    }
  }
  // A raw tab is never part of a payload: one after it starts the <end> field.
  const t3 = line.indexOf('\t', t2 + 1);
  let hasLf = true;
  let isCut = false;
  if (t3 >= 0) {
    const end = line.slice(t3 + 1);
    if (end === RAW_LOG_END_CUT) {
      hasLf = false;
      isCut = true;
    } else if (end === RAW_LOG_END_NO_LF) {
      hasLf = false;
    } else {
      return {
        status: 'rejected',
        reason: 'bad-end',
        detail: `end field ${JSON.stringify(end.slice(0, 40))} is neither '${RAW_LOG_END_CUT}' nor '${RAW_LOG_END_NO_LF}'`,
      };
    }
  }
  const payload = unescapeRawPayload(t3 >= 0 ? line.slice(t2 + 1, t3) : line.slice(t2 + 1));
  if (payload.status !== 'ok') return payload;
  return { status: 'entry', entry: { monoUs, utcUs, bytes: payload.bytes, hasLf, isCut } };
}

const KEY = /^[A-Za-z0-9_.-]{1,64}$/;
const SAFE_PORT = /^[A-Za-z0-9_.-]{1,64}$/;

function escapeHeaderValue(value: string): string {
  return escapeRawPayload(Buffer.from(value, 'utf8')).replaceAll(' ', '\\x20');
}

/**
 * The header line, INCLUDING its '\n': `#flysnap-rawlog v2 port=<port>[ key=value]...`.
 * `extra` values are escaped like payloads (spaces as \x20), so any string survives.
 * Throws RawLogError('bad-header') for an unsafe port name or key (keys: [A-Za-z0-9_.-]{1,64},
 * not 'port').
 */
export function rawLogHeader(port: string, extra: Record<string, string> = {}): string {
  if (!SAFE_PORT.test(port) || port === '.' || port.includes('..')) {
    throw new RawLogError('bad-header', `port name ${JSON.stringify(port)} is not a safe file name`);
  }
  let out = `${RAW_LOG_MAGIC} v${RAW_LOG_VERSION} port=${port}`;
  for (const [k, v] of Object.entries(extra)) {
    if (!KEY.test(k) || k === 'port') {
      throw new RawLogError('bad-header', `header key ${JSON.stringify(k)} is not allowed`);
    }
    out += ` ${k}=${escapeHeaderValue(String(v))}`;
  }
  return `${out}\n`;
}

/** True when a file's first line (or its first bytes) is a raw log header, of any version. */
export function isRawLog(firstLine: string | Uint8Array): boolean {
  const text =
    typeof firstLine === 'string'
      ? firstLine
      : Buffer.from(firstLine.buffer, firstLine.byteOffset, Math.min(firstLine.length, 64)).toString('latin1');
  return text.startsWith(`${RAW_LOG_MAGIC} v`);
}

/** Parses a header line (with or without '\n'). Never throws. */
export function parseRawLogHeader(line: string): RawLogHeaderResult {
  const reject = (detail: string): RawLogHeaderResult => ({ status: 'rejected', reason: 'bad-header', detail });
  const text = line.endsWith('\n') ? line.slice(0, -1) : line;
  if (!isRawLog(text)) return reject(`not a raw log header: ${JSON.stringify(text.slice(0, 40))}`);
  const parts = text.split(' ');
  const versionText = parts[1];
  const version = RAW_LOG_READ_VERSIONS.find((v) => versionText === `v${v}`);
  if (version === undefined) {
    const known = RAW_LOG_READ_VERSIONS.map((v) => `v${v}`).join(', ');
    return reject(`raw log version ${JSON.stringify(versionText)} is not supported (this code reads ${known})`);
  }
  let port: string | null = null;
  const extra: Record<string, string> = {};
  for (const part of parts.slice(2)) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return reject(`header field ${JSON.stringify(part.slice(0, 40))} is not key=value`);
    const key = part.slice(0, eq);
    if (!KEY.test(key)) return reject(`header key ${JSON.stringify(key.slice(0, 40))} is not allowed`);
    const raw = unescapeRawPayload(part.slice(eq + 1));
    if (raw.status !== 'ok') return reject(`header value of ${key}: ${raw.detail}`);
    const value = raw.bytes.toString('utf8');
    if (key === 'port') {
      if (port !== null) return reject('header has port= twice');
      if (!SAFE_PORT.test(value) || value === '.' || value.includes('..')) {
        return reject(`port name ${JSON.stringify(value)} is not a safe file name`);
      }
      port = value;
    } else {
      extra[key] = value;
    }
  }
  if (port === null) return reject('header has no port=');
  return { status: 'header', header: { version, port, extra } };
}
