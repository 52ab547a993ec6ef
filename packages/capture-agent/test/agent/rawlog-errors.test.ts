// Raw-log write failures while the agent runs (a process of dist/cli.js, real PTYs, a real array):
// the raw log's folder on a filesystem that fills up (a small tmpfs mounted on <array>/serial, so
// only the raw log fails and the flight DB keeps working), and the raw log's folder removed.
// Whatever the raw log does, the agent keeps running, every decoded sample reaches the DB, the
// failure is an event + a log record, and once writing works again nothing received is missing.
import { existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentPool, type AgentProcess } from '../helpers/agent.js';
import { expectedFromLog, fixture, rawLogBytes, readSummary, splitLines, writeConfig } from '../helpers/flight.js';
import { canMount as isRoot, fillUp, TmpfsMounts } from '../helpers/disk.js';
import { makePty, waitFor, type PtyPair } from '../helpers/pty.js';


let dir: string;
let array: string;
const ptys: PtyPair[] = [];
const mounts = new TmpfsMounts();
const agents = new AgentPool();

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-rawerr-'));
  array = join(dir, 'array');
});
afterEach(async () => {
  await agents.killAll();
  for (const p of ptys.splice(0)) await p.unplug().catch(() => undefined);
  mounts.umountAll();
  rmSync(dir, { recursive: true, force: true });
});

async function stopAgent(a: AgentProcess): Promise<void> {
  a.child.kill('SIGTERM');
  const { code } = await a.exited;
  expect(code, a.stderr()).toBe(0);
}

/** Waits for `cond`, failing at once (with its stderr) if the agent died meanwhile. */
async function waitAlive(a: AgentProcess, cond: () => boolean, what: string): Promise<void> {
  await waitFor(() => {
    if (a.child.exitCode !== null || a.child.signalCode !== null) {
      throw new Error(`agent ended (code ${a.child.exitCode}, signal ${a.child.signalCode}) while waiting for ${what}; stderr: ${a.stderr()}`);
    }
    return cond();
  }, what, 60_000);
}

function dbState(): { lines: number; samples: number; codes: string[] } {
  try {
    const s = readSummary(array);
    return { lines: s.ports.find((p) => p.name === 'gps')?.linesReceived ?? 0, samples: s.samples.total, codes: s.events_.map((e) => e.code) };
  } catch {
    return { lines: 0, samples: 0, codes: [] };
  }
}


/**
 * Sends `bytes` as the instrument would, without blocking this process: an agent that died stops
 * reading, and a synchronous write into its full PTY would then never return. Rejections are kept
 * (the PTY's end at unplug fails a write still waiting) and checked by the caller.
 */
function sendAsync(pty: PtyPair, bytes: Buffer): { done: Promise<void>; isDone: () => boolean } {
  let isDone = false;
  const done = (async () => {
    const fh = await open(pty.hostPath, 'w');
    try {
      await fh.write(bytes);
    } finally {
      await fh.close();
    }
    isDone = true;
  })();
  done.catch(() => undefined);
  return { done, isDone: () => isDone };
}

/** A real log repeated until it is `minBytes` long: the stream one port sends. */
function stream(minBytes: number): Buffer {
  const one = fixture('et-332.log');
  return Buffer.concat(Array.from({ length: Math.ceil(minBytes / one.length) }, () => one));
}

describe('capture-agent run: raw log write failures', () => {
  it.skipIf(!isRoot)('raw log disk full: the agent keeps running and storing samples, reports it, and writes everything once there is room again', async () => {
    const serialDir = join(array, 'serial');
    mkdirSync(serialDir, { recursive: true });
    mounts.mount(serialDir, '8m');
    const gps = await makePty(join(dir, 'gps-dev'), join(dir, 'gps-host'));
    ptys.push(gps);
    const config = writeConfig(dir, array, [{ name: 'gps', role: 'gps', path: gps.devicePath }], { rawFlushMs: 100, dbFlushMs: 100 });
    const a = agents.run(config);
    await a.waitForLog((r) => r['port'] === 'gps' && r.msg === 'port open', 'gps open');

    const filler = join(serialDir, 'filler');
    fillUp(filler);
    // More than the writer buffers before it writes on its own (1 MiB of raw log entries): the
    // writes that fail then happen inside the port's data handler, not only on the flush timer.
    const sent = stream(1_200_000);
    const lines = splitLines(sent).length;
    const sending = sendAsync(gps, sent);
    await waitAlive(a, () => sending.isDone(), 'the stream sent');
    await waitAlive(a, () => dbState().lines === lines, `${lines} gps lines counted in the DB while the raw log's disk is full`);
    const expected = expectedFromLog(sent);
    const expectedSamples = Object.values(expected.samplesByKind).reduce((n, k) => n + k, 0);
    await waitAlive(a, () => dbState().samples === expectedSamples, `${expectedSamples} samples in the DB while the raw log's disk is full`);
    await waitAlive(a, () => dbState().codes.includes('raw-log-write-failed'), 'a raw-log-write-failed event');
    const failed = readSummary(array).events_.find((e) => e.code === 'raw-log-write-failed')!;
    expect(failed.level).toBe('error');
    expect(failed.source).toBe('port:gps');
    expect(failed.message).toContain(join(serialDir, 'gps.log'));
    expect(failed.message).toContain('ENOSPC');
    expect(a.records.some((r) => r['event'] === 'raw-log-write-failed' && r['port'] === 'gps' && r['code'] === 'ENOSPC' && r.level === 50)).toBe(true);
    expect(a.child.exitCode).toBeNull();

    unlinkSync(filler); // room again
    await waitAlive(a, () => dbState().codes.includes('raw-log-recovered'), 'a raw-log-recovered event');
    const more = fixture('et-332.log');
    const sendingMore = sendAsync(gps, more);
    await waitAlive(a, () => sendingMore.isDone(), 'the lines after recovery sent');
    await waitAlive(a, () => dbState().lines === lines + splitLines(more).length, 'the lines sent after recovery in the DB');
    await stopAgent(a);

    // Every byte received, before, during and after the failure, is in the raw log, once.
    const raw = rawLogBytes(join(serialDir, 'gps.log'));
    expect(raw.bytes.equals(Buffer.concat([sent, more]))).toBe(true);
    expect(raw.headers).toBe(1);
    const s = readSummary(array);
    expect(s.integrity).toBe('ok');
    expect(s.samples.total).toBe(expectedSamples + Object.values(expectedFromLog(more).samplesByKind).reduce((n, k) => n + k, 0));
  }, 120_000);

  it("raw log's folder removed while running: the log is recreated with everything in it, and that is reported", async () => {
    const gps = await makePty(join(dir, 'gps-dev'), join(dir, 'gps-host'));
    ptys.push(gps);
    const config = writeConfig(dir, array, [{ name: 'gps', role: 'gps', path: gps.devicePath }], { rawFlushMs: 100, dbFlushMs: 100 });
    const a = agents.run(config);
    await a.waitForLog((r) => r['port'] === 'gps' && r.msg === 'port open', 'gps open');
    const first = fixture('et-332.log');
    gps.write(first);
    await waitAlive(a, () => dbState().lines === splitLines(first).length, 'first lines in the DB');
    await waitAlive(a, () => existsSync(join(array, 'serial', 'gps.log')) && rawLogBytes(join(array, 'serial', 'gps.log')).bytes.length === first.length, 'first lines in the raw log');

    rmSync(join(array, 'serial'), { recursive: true });
    const second = fixture('et-332.log');
    const sending = sendAsync(gps, second);
    await waitAlive(a, () => sending.isDone(), 'the second part sent');
    await waitAlive(a, () => dbState().lines === splitLines(first).length * 2, 'second lines in the DB');
    await waitAlive(a, () => dbState().codes.includes('raw-log-recreated'), 'a raw-log-recreated event');
    await stopAgent(a);

    const raw = rawLogBytes(join(array, 'serial', 'gps.log'));
    expect(raw.bytes.equals(Buffer.concat([first, second]))).toBe(true);
    expect(raw.headers).toBe(1);
    // Offsets stored with the samples still point at their lines.
    const e = readSummary(array).events_.find((x) => x.code === 'raw-log-recreated')!;
    expect(e.level).toBe('error');
    expect(e.message).toContain(join(array, 'serial', 'gps.log'));
  }, 120_000);
});
