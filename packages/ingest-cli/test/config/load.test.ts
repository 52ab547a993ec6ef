import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadIngestConfig } from '../../src/config/load.js';
import { tempDir } from '../helpers/arrays.js';

const dir = tempDir('config');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('loadIngestConfig', () => {
  it('a missing default file gives every default; a missing --config file is an error', () => {
    const r = loadIngestConfig({ file: join(dir, 'none.json'), isExplicit: false });
    expect(r.file).toBeNull();
    expect(r.config.archive.gzipLevel).toBe(6);
    expect(() => loadIngestConfig({ file: join(dir, 'none.json'), isExplicit: true })).toThrow(/none\.json: file not found/);
  });

  it('names every wrong field in one error; resolves outDir against the file', () => {
    mkdirSync(join(dir, 'sub'));
    const bad = write('sub/bad.json', JSON.stringify({ archive: { gzipLevel: 11, compressExtensions: ['log'], bogus: 1 }, nope: true }));
    let message = '';
    try {
      loadIngestConfig({ file: bad, isExplicit: true });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/archive\.gzipLevel/);
    expect(message).toMatch(/archive\.compressExtensions\[0\]/);
    expect(message).toMatch(/bogus/);
    expect(message).toMatch(/nope/);
    const good = write('sub/good.json', JSON.stringify({ archive: { outDir: 'out' } }));
    expect(loadIngestConfig({ file: good, isExplicit: true }).config.archive.outDir).toBe(join(dir, 'sub', 'out'));
    expect(() => loadIngestConfig({ file: write('x.json', '{'), isExplicit: true })).toThrow(/not valid JSON/);
  });
});
