// Whole-file and streaming decoders for raw serial logs (format, v1 and v2, in format.ts). Never throw.
import { RAW_LOG_MAGIC, decodeRawLogLine, parseRawLogHeader } from './format.js';
import type { RawLogEntry, RawLogHeader, RawLogRejectReason } from './format.js';

/** What one line of a raw log file is. `offset` = byte offset of the line's start in the file; `line` is 1-based. */
export type RawLogItem =
  | { type: 'header'; line: number; offset: number; header: RawLogHeader }
  | { type: 'comment'; line: number; offset: number; text: string }
  | { type: 'entry'; line: number; offset: number; entry: RawLogEntry }
  | { type: 'rejected'; line: number; offset: number; reason: RawLogRejectReason; detail: string; text: string }
  /**
   * The last line of the file had no '\n' (writer killed mid-line). `entry` is what it decodes
   * to if it decodes at all — its payload may be incomplete, and whether the piece had an LF is
   * unknown (its <end> field may be what was lost): replay just its bytes — else null. Earlier
   * lines are unaffected.
   */
  | { type: 'truncated'; line: number; offset: number; text: string; entry: RawLogEntry | null };

function classify(text: string, line: number, offset: number): RawLogItem {
  if (text.startsWith(RAW_LOG_MAGIC)) {
    const h = parseRawLogHeader(text);
    if (h.status === 'header') return { type: 'header', line, offset, header: h.header };
    return { type: 'rejected', line, offset, reason: h.reason, detail: h.detail, text };
  }
  if (text.startsWith('#')) return { type: 'comment', line, offset, text: text.slice(1) };
  const r = decodeRawLogLine(text);
  if (r.status === 'entry') return { type: 'entry', line, offset, entry: r.entry };
  return { type: 'rejected', line, offset, reason: r.reason, detail: r.detail, text };
}

/**
 * Incremental decoder: push chunks as they are read (Buffer or latin1 string), get the items
 * of every complete line; end() yields the final partial line, if any, as 'truncated'.
 * Bytes are taken as latin1, so offsets are byte offsets whatever the content.
 */
export class RawLogDecoder {
  #pending = '';
  #line = 0;
  #offset = 0;
  #sawFirstLine = false;
  #isRawLog: boolean | null = null;

  /** null until the first line is complete; then whether it was a raw log header. */
  get isRawLog(): boolean | null {
    return this.#isRawLog;
  }

  push(chunk: Uint8Array | string): RawLogItem[] {
    const text =
      typeof chunk === 'string' ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).toString('latin1');
    let data = this.#pending + text;
    const items: RawLogItem[] = [];
    let start = 0;
    for (;;) {
      const nl = data.indexOf('\n', start);
      if (nl < 0) break;
      items.push(this.#take(data.slice(start, nl)));
      this.#offset += nl - start + 1;
      start = nl + 1;
    }
    this.#pending = data.slice(start);
    data = '';
    return items;
  }

  end(): RawLogItem[] {
    if (this.#pending === '') return [];
    const text = this.#pending;
    this.#pending = '';
    this.#line++;
    let entry: RawLogEntry | null = null;
    if (!text.startsWith('#')) {
      const r = decodeRawLogLine(text);
      if (r.status === 'entry') entry = r.entry;
    }
    if (!this.#sawFirstLine) {
      this.#sawFirstLine = true;
      this.#isRawLog = text.startsWith(`${RAW_LOG_MAGIC} v`);
    }
    const item: RawLogItem = { type: 'truncated', line: this.#line, offset: this.#offset, text, entry };
    this.#offset += text.length;
    return [item];
  }

  #take(text: string): RawLogItem {
    this.#line++;
    if (!this.#sawFirstLine) {
      this.#sawFirstLine = true;
      this.#isRawLog = text.startsWith(`${RAW_LOG_MAGIC} v`);
    }
    return classify(text, this.#line, this.#offset);
  }
}

export interface RawLogFile {
  /** The first line's header, or null when the file does not start with one (not a raw log, or empty). */
  header: RawLogHeader | null;
  /** Every line, in order (headers, comments, entries, rejected lines, a final truncated one). */
  items: RawLogItem[];
  /** Just the entries, in order (not including a truncated last line). */
  entries: RawLogEntry[];
  /** Lines that did not decode. */
  rejected: Extract<RawLogItem, { type: 'rejected' }>[];
  /** The final line without '\n', if any. */
  truncated: Extract<RawLogItem, { type: 'truncated' }> | null;
}

/** Decodes a whole raw log file's content. Never throws. */
export function decodeRawLog(content: Uint8Array | string): RawLogFile {
  const d = new RawLogDecoder();
  const items = [...d.push(content), ...d.end()];
  const first = items[0];
  const result: RawLogFile = {
    header: first?.type === 'header' ? first.header : null,
    items,
    entries: [],
    rejected: [],
    truncated: null,
  };
  for (const it of items) {
    if (it.type === 'entry') result.entries.push(it.entry);
    else if (it.type === 'rejected') result.rejected.push(it);
    else if (it.type === 'truncated') result.truncated = it;
  }
  return result;
}
