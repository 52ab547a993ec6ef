// A logger whose JSON lines a test can read back.
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/log/index.js';

export function capturedLog(): { lines: () => Record<string, unknown>[]; log: ReturnType<typeof createLogger> } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const lines = (): Record<string, unknown>[] =>
    text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { lines, log: createLogger({ out, isPretty: false, level: 'info' }) };
}
