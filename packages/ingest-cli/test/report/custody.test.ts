import { describe, expect, it } from 'vitest';
import { custodyFromFacts } from '../../src/report/custody.js';
import { NO_FACTS } from '../../src/ledger/states.js';

describe('custody', () => {
  it('no ledger entry: not archived, not safe', () => {
    const c = custodyFromFacts(null);
    expect(c.state).toBe('not archived');
    expect(c.isSafeToWipe).toBe(false);
    expect(c.verdict).toMatch(/^not archived/);
  });
  it('names what is missing, in the chain’s order', () => {
    const c = custodyFromFacts({ ...NO_FACTS, verifiedArchive: { archiveId: 3, tUs: 1 } });
    expect(c.state).toBe('archived');
    expect(c.verdict).toBe('not safe to wipe: missing a verified upload, a verified tape copy');
    expect(c.rows.map((r) => r.isDone)).toEqual([true, false, false, false]);
  });
  it('every link verified: safe to wipe', () => {
    const c = custodyFromFacts({ verifiedArchive: { archiveId: 3, tUs: 1 }, verifiedUpload: { how: 'sha256-remote', tUs: 2 }, verifiedTape: { label: 'FS0001', tUs: 3 }, wipedTUs: null });
    expect(c.isSafeToWipe).toBe(true);
    expect(c.rows[1]!.detail).toBe('verified by sha256-remote');
    expect(c.rows[2]!.detail).toContain('FS0001');
  });
});
