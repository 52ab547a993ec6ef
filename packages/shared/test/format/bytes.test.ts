import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/format/bytes.js';

describe('formatBytes', () => {
  it('keeps bytes below 1 KiB exact', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
  });
  it('picks the largest binary unit that keeps the value >= 1', () => {
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(12_058_624)).toBe('11.5 MiB');
    expect(formatBytes(21_960_752)).toBe('20.9 MiB');
    expect(formatBytes(79.6 * 2 ** 30)).toBe('79.6 GiB');
    expect(formatBytes(3 * 2 ** 40)).toBe('3.0 TiB');
    expect(formatBytes(2 ** 60)).toBe('1048576.0 TiB');
  });
});
