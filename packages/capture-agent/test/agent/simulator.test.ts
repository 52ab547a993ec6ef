// The agent against the project's simulator (hardware-sim replay: real PTYs, logs paced by their own
// NMEA times, 20× faster): three real logs arrive complete, and the GPS times discipline the clock.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFlightDb, readNavSamples } from '@flysnap/shared';
import { killAgent, startAgent, type AgentProcess } from '../helpers/agent.js';
import { add, expectedFromLog, fixture, rawLogBytes, readSummary, splitLines, writeConfig } from '../helpers/flight.js';
import { waitFor } from '../helpers/pty.js';

const SIM = fileURLToPath(new URL('../../../../hardware-sim/dist/cli.js', import.meta.url));
const fixturePath = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

let dir: string;
let agent: AgentProcess | null = null;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-sim-'));
});
afterEach(async () => {
  if (agent) await killAgent(agent);
  agent = null;
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!existsSync(SIM))('capture-agent with hardware-sim replay', () => {
  it('receives three paced real logs completely; GPS time fits the flight clock; untimed samples placed by it', async () => {
    const array = join(dir, 'array');
    const logs = { gps: 'et-332.log', compass: 'hemi.log', altimeter: 'foretrex-201.log' } as const;
    const roles = { gps: 'gps', compass: 'compass', altimeter: 'altimeter' } as const;
    const config = writeConfig(
      dir,
      array,
      (Object.keys(logs) as (keyof typeof logs)[]).map((n) => ({ name: n, role: roles[n], path: join(dir, 'ports', n), reconnectMinMs: 50, reconnectMaxMs: 100 })),
    );
    agent = startAgent(['run', '--config', config]);
    await agent.waitForLog((r) => typeof r.msg === 'string' && r.msg.startsWith('capturing'), 'agent capturing');

    const sim = spawn(
      process.execPath,
      [SIM, 'replay', ...Object.entries(logs).flatMap(([n, f]) => ['--port', `${join(dir, 'ports', n)}=${fixturePath(f)}`]), '--speed', '20', '--wait-reader', '--linger', '1000', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let simErr = '';
    sim.stderr.on('data', (d: Buffer) => (simErr += d.toString()));
    const simCode = await new Promise<number | null>((resolve) => sim.on('exit', (code) => resolve(code)));
    expect(simCode, simErr).toBe(0);

    for (const [n, f] of Object.entries(logs)) {
      const lines = splitLines(fixture(f)).length;
      await waitFor(() => (readSummary(array).ports.find((p) => p.name === n)?.linesReceived ?? 0) >= lines, `${n}: ${lines} lines`);
    }
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code, agent.stderr()).toBe(0);

    const s = readSummary(array);
    expect(s.integrity).toBe('ok');
    const valid: Record<string, number> = {};
    const samples: Record<string, number> = {};
    const rejected: Record<string, number> = {};
    for (const [n, f] of Object.entries(logs)) {
      expect(rawLogBytes(join(array, 'serial', `${n}.log`)).bytes.equals(fixture(f)), `${n} raw log = sent`).toBe(true);
      const e = expectedFromLog(fixture(f));
      add(valid, e.valid);
      add(samples, e.samplesByKind);
      add(rejected, e.rejected);
    }
    const dbValid: Record<string, number> = {};
    for (const r of s.sentences.rows) if (r.status === 'valid') add(dbValid, { [r.sentence]: r.count });
    expect(dbValid).toEqual(valid);
    expect(Object.fromEntries(Object.entries(s.sentences.rejectedByReason).filter(([, n]) => n > 0))).toEqual(rejected);
    expect(Object.fromEntries(Object.entries(s.samples.byKind).filter(([, n]) => n > 0))).toEqual(samples);
    // The GPS port's paced times gave the clock a fit, stored with its port.
    expect(s.lastClockFit?.port).toBe('gps');
    expect(s.lastClockFit!.pairs).toBeGreaterThanOrEqual(3);
    // Headings (HDT has no time) were placed by that clock: on the GPS log's time line.
    const db = openFlightDb(join(array, 'flight.db'), { readonly: true });
    try {
      const headings = readNavSamples(db).filter((x) => x.sample.kind === 'heading');
      expect(headings.length).toBe(samples['heading']);
      for (const h of headings) {
        expect(h.tSource).toBe('flight-clock');
        expect(Math.abs(h.sample.tUs - s.lastClockFit!.fittedTUs)).toBeLessThan(3600e6);
      }
    } finally {
      db.close();
    }
  });
});
