// The CLI's contract: config errors are one clear line and exit 2; a second agent on an array is
// refused (exit 3); status --json has the fields scripts rely on; replay feeds the same pipeline.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentPool, runCli } from '../helpers/agent.js';
import { add, expectedFromLog, fixture, writeConfig } from '../helpers/flight.js';
import { waitFor } from '../helpers/pty.js';
import { holdWriteLock, killLockHolders } from '../store/lock-holder.js';

let dir: string;
const agents = new AgentPool();
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-cli-'));
});
afterEach(async () => {
  killLockHolders();
  await agents.killAll();
  rmSync(dir, { recursive: true, force: true });
});

const fixturePath = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

describe('capture-agent run: config errors', () => {
  it('names every wrong field on one line and exits 2', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        array: join(dir, 'array'),
        ports: [
          { name: 'gps', role: 'gnss', path: '/dev/ttyUSB0', baudRate: 'fast' },
          { name: 'gps', path: '/dev/ttyUSB1', watchdogMs: 5 },
        ],
        cameras: [{ device: 'cam1', folder: '/x', extensions: ['jpg'] }],
        typo: true,
      }),
    );
    const r = runCli(['run', '--config', file]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    for (const field of ['ports[0].role', 'ports[0].baudRate', 'ports[1].watchdogMs', 'cameras[0].extensions[0]', 'typo']) {
      expect(lines[0]).toContain(field);
    }
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
  });

  it('reports a missing file, bad JSON and a missing field', () => {
    const missing = runCli(['run', '--config', join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.json: file not found/);
    writeFileSync(join(dir, 'bad.json'), '{ "array": ');
    expect(runCli(['run', '--config', join(dir, 'bad.json')]).stderr).toMatch(/not valid JSON/);
    writeFileSync(join(dir, 'noarray.json'), JSON.stringify({ ports: [{ name: 'gps' }] }));
    const r = runCli(['run', '--config', join(dir, 'noarray.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('array: required');
    expect(r.stderr).toContain('ports[0].path: required');
  });
});

describe('capture-agent run: one agent per array', () => {
  it('refuses a second agent on the same array (exit 3) and keeps the first running; a missing port is not fatal', async () => {
    const array = join(dir, 'array');
    const config = writeConfig(dir, array, [{ name: 'gps', role: 'gps', path: join(dir, 'no-such-device') }]);
    const first = agents.run(config);
    await first.waitForLog((r) => r.msg === 'port missing', 'missing port reported');
    await first.waitForLog((r) => typeof r.msg === 'string' && r.msg.startsWith('capturing'), 'first agent capturing');
    // The test array is a plain folder, as an unmounted array's mount point would be: said loudly.
    await first.waitForLog(
      (r) => typeof r.msg === 'string' && r.msg === `array ${array} is not a mount point: the flight is written to the disk that holds ${dir} (is the array mounted?)`,
      'not-a-mount-point warning',
    );
    const second = runCli(['run', '--config', config]);
    expect(second.code).toBe(3);
    expect(second.stderr).toMatch(new RegExp(`locked by a running capture-agent \\(pid ${first.child.pid}`));
    expect(first.child.exitCode).toBeNull();
    // status reads the live DB while the agent writes it.
    await waitFor(() => {
      const st = runCli(['status', '--array', array, '--json']);
      if (st.code !== 0) return false;
      const j = JSON.parse(st.stdout) as { agent: { isRunning: boolean; pid: number }; ports: { name: string; status: string }[] };
      return j.agent.isRunning && j.agent.pid === first.child.pid && j.ports[0]?.status === 'missing';
    }, 'status shows the running agent and the missing port');
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
  });
});

describe('capture-agent run: a stop the flight DB refuses', () => {
  it('exits 4 with one line when another process holds the flight DB through the whole stop (15 s bound)', async () => {
    const array = join(dir, 'array');
    const config = writeConfig(dir, array, [{ name: 'gps', role: 'gps', path: join(dir, 'no-such-device') }]);
    const agent = agents.run(config);
    await agent.waitForLog((r) => typeof r.msg === 'string' && r.msg.startsWith('capturing'), 'agent capturing');
    // An operator's sqlite3 shell left in a transaction, say: it never lets go.
    await holdWriteLock(join(array, 'flight.db'));
    agent.child.kill('SIGTERM');
    const { code } = await agent.exited;
    expect(code).toBe(4);
    expect(agent.stderr()).toMatch(/^capture-agent: stopped, but .*the flight could not be marked ended/m);
  });
});

describe('capture-agent replay and status', () => {
  it('replays plain logs into the flight DB; status --json counts them by type, reason and kind', () => {
    const array = join(dir, 'array');
    const r = runCli(['replay', '--array', array, `gps=${fixturePath('et-332.log')}`, fixturePath('foretrex-201.log'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const replay = JSON.parse(r.stdout) as { lines: number; files: { ports: string[] }[] };
    expect(replay.files.map((f) => f.ports)).toEqual([['gps'], ['foretrex-201']]);

    const s = runCli(['status', '--array', array, '--json']);
    expect(s.code, s.stderr).toBe(0);
    const status = JSON.parse(s.stdout) as {
      sentences: { valid: Record<string, number>; rejected: Record<string, number> };
      samples: Record<string, number>;
      ports: { name: string }[];
      disk: { freeBytes: number };
      clock: { offsetUs: number } | null;
      assets: { total: number };
    };
    const valid: Record<string, number> = {};
    const rejected: Record<string, number> = {};
    const samples: Record<string, number> = {};
    for (const name of ['et-332.log', 'foretrex-201.log']) {
      const e = expectedFromLog(fixture(name));
      add(valid, e.valid);
      add(rejected, e.rejected);
      add(samples, e.samplesByKind);
    }
    expect(status.sentences.valid).toEqual(valid);
    expect(Object.fromEntries(Object.entries(status.sentences.rejected).filter(([, n]) => n > 0))).toEqual(rejected);
    expect(Object.fromEntries(Object.entries(status.samples).filter(([, n]) => n > 0))).toEqual(samples);
    expect(status.ports.map((p) => p.name).sort()).toEqual(['foretrex-201', 'gps']);
    expect(status.disk.freeBytes).toBeGreaterThan(0);
    expect(status.clock).not.toBeNull();
    expect(status.assets.total).toBe(0);

    const human = runCli(['status', '--array', array]);
    expect(human.stdout).toMatch(/valid +.*RMC=/);
  });

  it('status of a folder that is not an array: one line, exit 4', () => {
    mkdirSync(join(dir, 'empty'));
    const r = runCli(['status', '--array', join(dir, 'empty')]);
    expect(r.code).toBe(4);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('not a Fly and Snap array');
  });
});
