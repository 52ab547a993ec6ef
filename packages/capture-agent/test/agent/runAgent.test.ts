// runAgent in-process: a source that fails to start is recorded as a failed start, not as a clean
// stop, and the flight is not marked ended.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFlightDb, readEvents, readFlight } from '@flysnap/shared';
import { runAgent } from '../../src/agent/index.js';
import { parseConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/log/index.js';
import type { CaptureSource } from '../../src/sources/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-runagent-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('runAgent', () => {
  it('records a source that cannot start as agent-start-failed and leaves the flight open', async () => {
    const array = join(dir, 'array');
    const config = parseConfig({ array, ports: [] }, join(dir, 'agent.json'), dir);
    const broken: CaptureSource = {
      name: 'broken',
      start(): void {
        throw new Error('device busy');
      },
      async stop(): Promise<void> {},
    };
    await expect(runAgent({ config, log: silentLogger(), signal: new AbortController().signal, sourceFactories: [() => [broken]] })).rejects.toThrow('device busy');

    const db = openFlightDb(join(array, 'flight.db'), { readonly: true });
    try {
      const codes = readEvents(db).map((e) => e.code);
      expect(codes).toContain('agent-start-failed');
      expect(codes).not.toContain('agent-stop');
      expect(readFlight(db)?.endedTUs).toBeNull();
    } finally {
      db.close();
    }
  });
});
