// Fuzz-ish: random bytes, cut and mutated real lines must never make decode() throw, and every
// answer must be one of the three well-formed results. Seeded PRNG: failures are reproducible.

import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { DecodeResult } from '../../src/nav/types.js';
import { DECODED_SENTENCES, REJECT_REASONS } from '../../src/nav/types.js';
import { nmeaSentence } from '../../src/nmea/checksum.js';
import { NmeaDecoder } from '../../src/nmea/index.js';
import { prng } from '../helpers/prng.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/nmea/', import.meta.url));

function wellFormed(r: DecodeResult): void {
  if (r.status === 'rejected') {
    expect(REJECT_REASONS).toContain(r.reason);
    expect(r.detail.length).toBeGreaterThan(0);
    // the catch-all in decode() is a safety net, not a path: a known failure has a known reason
    expect(r.detail).not.toContain('unexpected decoder error');
  } else if (r.status === 'accepted') {
    expect(DECODED_SENTENCES).toContain(r.sentence);
    for (const s of r.samples) {
      for (const v of Object.values(s)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    }
  } else {
    expect(r.status).toBe('unknown');
  }
}

/** One decoded-type line from each log, plus a few built ones for types the logs lack. */
function realLines(): string[] {
  const out: string[] = [];
  for (const f of readdirSync(FIXTURES).filter((n) => /\.(log|nmea)$/.test(n))) {
    const lines = readFileSync(`${FIXTURES}${f}`).toString('latin1').split('\n');
    const seen = new Set<string>();
    for (const l of lines) {
      const m = /^\$(?:P|[A-Z0-9]{2})([A-Z]+),/.exec(l);
      const key = m?.[1] ?? '';
      if (m && !seen.has(key)) {
        seen.add(key);
        out.push(l);
      }
    }
  }
  out.push(nmeaSentence('HCHDG,101.1,2.0,W,3.5,E'), nmeaSentence('PGRMZ,1452,m,3'));
  return out;
}

const SAMPLE_CHARS = '$!*,.0123456789ABCDEFGNSWEMTVfm\r\n -';

describe('fuzz: decode never throws', () => {
  const lines = realLines();

  it('has material from the logs', () => {
    expect(lines.length).toBeGreaterThan(40);
  });

  it('random bytes (Buffer) and random NMEA-alphabet strings', () => {
    const rnd = prng(1);
    const d = new NmeaDecoder();
    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(rnd() * 120);
      const bytes = Buffer.alloc(len);
      for (let j = 0; j < len; j++) bytes[j] = Math.floor(rnd() * 256);
      wellFormed(d.decode(bytes));
      let s = rnd() < 0.5 ? '$' : '';
      for (let j = 0; j < len; j++) s += SAMPLE_CHARS[Math.floor(rnd() * SAMPLE_CHARS.length)] ?? '';
      wellFormed(d.decode(s));
    }
  });

  it('every truncation of real lines, with and without the checksum re-computed', () => {
    const d = new NmeaDecoder();
    for (const line of lines) {
      for (let cut = 0; cut <= line.length; cut++) {
        const head = line.slice(0, cut);
        wellFormed(d.decode(head));
        const body = head.replace(/^\$/, '').split('*')[0] ?? '';
        if (body.length > 0) wellFormed(d.decode(nmeaSentence(body))); // valid checksum, short fields
      }
    }
  });

  it('random mutations of real lines, re-checksummed so the field checks are reached', () => {
    const rnd = prng(2);
    const d = new NmeaDecoder({ rolloverReferenceUs: Date.UTC(2024, 0, 1) * 1000 });
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      const line = lines[Math.floor(rnd() * lines.length)] ?? '';
      const body = (line.replace(/\r$/, '').slice(1).split('*')[0] ?? '').split('');
      const edits = 1 + Math.floor(rnd() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rnd() * body.length);
        const c = SAMPLE_CHARS[Math.floor(rnd() * SAMPLE_CHARS.length)] ?? '';
        const op = rnd();
        if (op < 0.4) body[at] = c;
        else if (op < 0.7) body.splice(at, 1);
        else body.splice(at, 0, c);
      }
      const r = d.decode(nmeaSentence(body.join('')));
      wellFormed(r);
      if (r.status === 'accepted') accepted++;
    }
    // the mutations are not all caught at the frame: many reach (and pass or fail) the field checks
    expect(accepted).toBeGreaterThan(1000);
    const s = d.stats();
    expect(s.rejected['malformed-field'] + s.rejected['impossible-value']).toBeGreaterThan(1000);
  });
});
