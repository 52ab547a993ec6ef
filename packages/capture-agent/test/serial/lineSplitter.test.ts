import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/serial/lineSplitter.js';

function split(chunks: (string | Buffer)[], max: number): { lines: string[]; cuts: boolean[]; splitter: LineSplitter } {
  const lines: string[] = [];
  const cuts: boolean[] = [];
  const splitter = new LineSplitter(max, (b, isCut) => {
    lines.push(b.toString('latin1'));
    cuts.push(isCut);
  });
  for (const c of chunks) splitter.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  return { lines, cuts, splitter };
}

describe('LineSplitter', () => {
  it('keeps terminators and joins lines split across chunks', () => {
    const { lines, splitter } = split(['$GPA*00\r', '\n$GP', 'B*00\n\n', 'tail'], 100);
    expect(lines).toEqual(['$GPA*00\r\n', '$GPB*00\n', '\n']);
    expect(splitter.pendingBytes).toBe(4);
    splitter.flush();
    expect(lines.at(-1)).toBe('tail');
  });

  it('cuts a line without LF at maxLineBytes and counts it, never holding more', () => {
    const junk = Buffer.alloc(25, 0xff);
    const { lines, cuts, splitter } = split([junk, Buffer.from('x\nok\n')], 10);
    expect(lines.map((l) => l.length)).toEqual([10, 10, 7, 3]);
    expect(cuts).toEqual([true, true, false, false]);
    expect(splitter.cutCount).toBe(2);
    expect(lines.join('')).toBe(junk.toString('latin1') + 'x\nok\n');
  });

  it('cuts a long line that has an LF, keeping every byte in order', () => {
    const text = 'A'.repeat(23) + '\n' + 'B'.repeat(3) + '\n';
    const { lines, cuts } = split([text.slice(0, 5), text.slice(5)], 8);
    expect(lines.join('')).toBe(text);
    expect(lines.every((l) => l.length <= 8)).toBe(true);
    // 8 + 8 cut, then the line's last 7 bytes and its LF end it normally.
    expect(cuts).toEqual([true, true, false, false]);
  });

  it('equals the input for any chunking', () => {
    const text = Array.from({ length: 200 }, (_, i) => (i % 7 === 0 ? 'Z'.repeat(i) : `$L${i}*00`) + (i % 3 ? '\r\n' : '\n')).join('');
    for (const step of [1, 3, 17, 1000]) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += step) chunks.push(text.slice(i, i + step));
      const { lines, splitter } = split(chunks, 64);
      splitter.flush();
      expect(lines.join('')).toBe(text);
      expect(lines.every((l) => l.length <= 64)).toBe(true);
    }
  });
});
