// Line mutations for serial faults. Pure: a line (latin1 string with its CR LF) and a seeded
// generator in, the mutated line out.
import { Prng } from '../random.js';

/** Printable characters a corrupted byte may become: not a framing character ($ ! * , CR LF). */
const GARBAGE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.#%&/=?';

/** Where the sentence body is: after '$' or '!' up to '*' (or the line end). */
function bodyRange(line: string): { start: number; end: number } {
  const start = Math.max(line.indexOf('$'), line.indexOf('!')) + 1;
  const star = line.lastIndexOf('*');
  const end = star > start ? star : line.replace(/[\r\n]+$/, '').length;
  return { start, end };
}

/**
 * Replaces one character of the body by another. With one character changed the XOR checksum
 * cannot match any more, so a decoder must reject the line.
 */
export function corruptOneChar(line: string, rng: Prng): string {
  const { start, end } = bodyRange(line);
  if (end - start < 2) return line;
  const at = rng.int(start + 1, end - 1);
  const old = line[at] ?? '';
  let replacement = rng.pick([...GARBAGE_CHARS]);
  if (replacement === old) replacement = old === 'X' ? 'Y' : 'X';
  return line.slice(0, at) + replacement + line.slice(at + 1);
}

/** Sends the sentence with a checksum that does not match. */
export function breakChecksum(line: string, rng: Prng): string {
  const star = line.lastIndexOf('*');
  if (star < 0) return line;
  const sent = line.slice(star + 1, star + 3);
  const good = Number.parseInt(sent, 16);
  const bad = (good ^ rng.int(1, 255)) & 0xff;
  return `${line.slice(0, star + 1)}${bad.toString(16).toUpperCase().padStart(2, '0')}${line.slice(star + 3)}`;
}

/** Cuts the sentence somewhere in its body (the checksum is lost), keeping the line end. */
export function truncateLine(line: string, rng: Prng): string {
  const { start, end } = bodyRange(line);
  const ending = /[\r\n]+$/.exec(line)?.[0] ?? '';
  if (end - start < 4) return line;
  return line.slice(0, rng.int(start + 3, end - 1)) + ending;
}

/** The line without its CR LF, so that the next one runs into it. */
export function dropLineEnd(line: string): string {
  return line.replace(/[\r\n]+$/, '');
}
