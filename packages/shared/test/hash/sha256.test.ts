import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { HASH_READ_BYTES, Sha256Stream, createHasher, isSha256Hex, sha256File } from '../../src/hash/index.js';

const dir = mkdtempSync(join(tmpdir(), 'flysnap-hash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openssl(path: string): string {
  const out = execFileSync('openssl', ['dgst', '-sha256', '-r', path], { encoding: 'utf8' });
  return out.split(' ')[0]!.trim();
}

describe('sha256File', () => {
  it('matches openssl on a generated file spanning several 1 MiB reads', async () => {
    const path = join(dir, 'random.bin');
    const size = 3 * HASH_READ_BYTES + 12345;
    writeFileSync(path, randomBytes(size));
    const r = await sha256File(path);
    expect(r.sizeBytes).toBe(size);
    expect(r.sha256).toBe(openssl(path));
    expect(isSha256Hex(r.sha256)).toBe(true);
  });

  it('hashes the empty file', async () => {
    const path = join(dir, 'empty');
    writeFileSync(path, '');
    const r = await sha256File(path);
    expect(r).toEqual({ sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', sizeBytes: 0 });
    expect(r.sha256).toBe(openssl(path));
  });

  it('rejects with the fs error for a missing file', async () => {
    await expect(sha256File(join(dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('gives the same digest incrementally and through a pass-through stream', async () => {
    const data = randomBytes(2 * HASH_READ_BYTES + 7);
    const path = join(dir, 'stream.bin');
    writeFileSync(path, data);
    const expected = await sha256File(path);

    const h = createHasher();
    for (let i = 0; i < data.length; i += 100_000) h.update(data.subarray(i, i + 100_000));
    expect(h.digest()).toEqual(expected);

    const s = new Sha256Stream();
    let passed = 0;
    await pipeline(
      Readable.from([data.subarray(0, 5), data.subarray(5)]),
      s,
      new Writable({
        write(chunk: Buffer, _e, cb): void {
          passed += chunk.length;
          cb();
        },
      }),
    );
    expect(passed).toBe(data.length);
    expect(s.result()).toEqual(expected);
  });
});
