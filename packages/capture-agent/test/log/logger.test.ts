import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, formatReadable } from '../../src/log/index.js';

function capture(isPretty: boolean): { text: () => string; log: ReturnType<typeof createLogger> } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  return { text: () => text, log: createLogger({ out, isPretty, level: 'info' }) };
}

describe('logger', () => {
  it('writes one JSON object per line for the journal, with the module namespace', () => {
    const { text, log } = capture(false);
    log.child({ ns: 'capture:serial:gps' }).warn({ port: 'gps', code: 'SILENT' }, 'port silent');
    log.debug('not at info level');
    const lines = text().trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, ns: 'capture:serial:gps', port: 'gps', code: 'SILENT', msg: 'port silent' });
  });

  it('writes a short readable line on a terminal', () => {
    const { text, log } = capture(true);
    log.child({ ns: 'capture:agent' }).info({ flight: 'F1', sources: ['serial:gps'] }, 'capturing');
    expect(text()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  capture:agent capturing flight=F1 sources=\["serial:gps"\]\n$/);
    expect(formatReadable('not json')).toBe('not json');
  });
});
