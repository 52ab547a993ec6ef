// Frames a byte stream into lines, keeping every byte: each line is emitted WITH its terminator
// (LF, and the CR before it when there is one), so the concatenation of all lines equals the
// stream. @serialport/parser-readline cannot be used for this: it drops the delimiter unless told
// otherwise and, worse, has no maximum length, so a port spewing binary without LF grows its
// buffer without bound. Here a line reaching `maxLineBytes` without LF is cut there, emitted with
// `isCut`, and counted; the bytes after the cut start the next piece.

export type LineHandler = (bytes: Buffer, isCut: boolean) => void;

const LF = 0x0a;

export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #onLine: LineHandler;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #cutCount = 0;

  /** `maxLineBytes`: longest line emitted whole, terminator included, bytes. */
  constructor(maxLineBytes: number, onLine: LineHandler) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 2) throw new RangeError(`maxLineBytes must be an integer >= 2, got ${maxLineBytes}`);
    this.#maxLineBytes = maxLineBytes;
    this.#onLine = onLine;
  }

  /** Lines cut at maxLineBytes so far. */
  get cutCount(): number {
    return this.#cutCount;
  }

  /** Bytes held waiting for a line end. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  push(chunk: Buffer): void {
    let start = 0;
    const len = chunk.length;
    while (start < len) {
      const room = this.#maxLineBytes - this.#pendingBytes;
      const lf = chunk.indexOf(LF, start);
      const end = lf === -1 ? len : lf + 1; // exclusive end of this line's bytes in the chunk
      if (end - start <= room) {
        if (lf === -1) {
          this.#hold(chunk.subarray(start, end));
          if (this.#pendingBytes === this.#maxLineBytes) this.#emitPending(true);
          return;
        }
        this.#emit(chunk.subarray(start, end), false);
        start = end;
      } else {
        // Too long: fill the line up to the limit and cut it there.
        this.#hold(chunk.subarray(start, start + room));
        this.#emitPending(true);
        start += room;
      }
    }
  }

  /** Emits what is held (a line that never got its LF, e.g. at unplug or end of file). */
  flush(): void {
    if (this.#pendingBytes > 0) this.#emitPending(false);
  }

  #hold(part: Buffer): void {
    if (part.length === 0) return;
    this.#pending.push(part);
    this.#pendingBytes += part.length;
  }

  #emit(tail: Buffer, isCut: boolean): void {
    if (this.#pendingBytes === 0) {
      if (isCut) this.#cutCount++;
      this.#onLine(tail, isCut);
      return;
    }
    this.#hold(tail);
    this.#emitPending(isCut);
  }

  #emitPending(isCut: boolean): void {
    const line = this.#pending.length === 1 ? (this.#pending[0] as Buffer) : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    if (isCut) this.#cutCount++;
    this.#onLine(line, isCut);
  }
}
