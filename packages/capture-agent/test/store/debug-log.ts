// A debug-level logger whose JSON records a test reads back: the store says a flush was refused
// for the lock at debug level only (routine), so the helpers/log.ts one (info) would not show it.
import { PassThrough } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/index.js';

export function debugLog(): { log: Logger; records: () => Record<string, unknown>[] } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  return {
    log: createLogger({ out, isPretty: false, level: 'debug' }),
    records: () =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
