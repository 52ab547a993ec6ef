// Stopping the agent while a source is slow to stop (a camera hashing and syncing large files):
// the serial ports still deliver meanwhile, and what they deliver reaches the raw log within
// rawFlushMs as usual, so a SIGKILL (systemd's TimeoutStopSec) or a second SIGTERM loses nothing
// older than that. The agent runs as a child process (built dist/) with one extra source that
// never finishes stopping.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serialLogPath } from '@flysnap/shared';
import { makePty, waitFor, type PtyPair } from '../helpers/pty.js';

const dist = (path: string): string => new URL(`../../dist/${path}`, import.meta.url).href;

/** The agent with the gps port and a source whose stop never ends; prints READY, SLOWSTOP, LINE <text>. */
const CHILD = `
import { runAgent } from ${JSON.stringify(dist('agent/index.js'))};
import { parseConfig } from ${JSON.stringify(dist('config/index.js'))};
import { serialSources } from ${JSON.stringify(dist('sources/index.js'))};
import { createLogger } from ${JSON.stringify(dist('log/index.js'))};
const [array, device] = JSON.parse(process.env.STOP_TEST_ARGS);
const config = parseConfig({ array, ports: [{ name: 'gps', role: 'gps', path: device, baudRate: 115200 }], rawFlushMs: 200, dbFlushMs: 200 }, 'test', '/');
const slow = (ctx) => {
  // Reports each line once the pipeline has taken it (appended to the raw log's buffer).
  const pipe = ctx.pipeline.ports.get('gps');
  const line = pipe.line.bind(pipe);
  pipe.line = (received) => { line(received); process.stderr.write('LINE ' + received.bytes.toString('latin1') + '\\n'); };
  return [{ name: 'slow-camera', start() {}, stop() { process.stderr.write('SLOWSTOP\\n'); setInterval(() => undefined, 60_000); return new Promise(() => undefined); } }];
};
const controller = new AbortController();
const lastFlush = new AbortController();
let signals = 0;
process.on('SIGTERM', () => {
  if (++signals === 1) controller.abort();
  else { lastFlush.abort(); process.exit(130); }
});
await runAgent({ config, log: createLogger({ level: 'warn', out: process.stderr }), signal: controller.signal, lastFlushSignal: lastFlush.signal, sourceFactories: [serialSources, slow], onReady: () => process.stderr.write('READY\\n') });
`;

let dir: string;
let array: string;
let pty: PtyPair;
let child: ChildProcess | null = null;
let stderr = '';
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ca-stop-'));
  array = join(dir, 'array');
  pty = await makePty(join(dir, 'gps-dev'), join(dir, 'gps-host'));
  stderr = '';
  child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, STOP_TEST_ARGS: JSON.stringify([array, pty.devicePath]) },
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const c = child;
  exited = new Promise((resolve) => c.on('exit', (code, signal) => resolve({ code, signal })));
  await waitFor(() => stderr.includes('READY') || c.exitCode !== null, 'agent ready', 30_000);
  expect(stderr).toContain('READY');
});

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
  child = null;
  await pty.unplug().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const rawLog = (): string => {
  const path = serialLogPath(array, 'gps');
  return existsSync(path) ? readFileSync(path, 'latin1') : '';
};
const lines = (tag: string): string[] => Array.from({ length: 10 }, (_, i) => `$GPTXT,01,01,01,${tag}-${i}*00`);

async function stopSlowly(): Promise<void> {
  pty.write(lines('before').map((l) => `${l}\r\n`).join(''));
  await waitFor(() => lines('before').every((l) => stderr.includes(`LINE ${l}`)), 'lines before the stop received', 30_000);
  child!.kill('SIGTERM');
  await waitFor(() => stderr.includes('SLOWSTOP'), 'slow source stopping', 30_000);
}

describe('agent stop with a slow source', () => {
  it('keeps flushing the raw logs while a source takes long to stop: lines received then survive a kill -9', async () => {
    await stopSlowly();
    pty.write(lines('during').map((l) => `${l}\r\n`).join(''));
    await waitFor(() => lines('during').every((l) => stderr.includes(`LINE ${l}`)), 'lines during the stop received', 30_000);
    // Flushed by the raw-log timer (every 200 ms) although the agent is still stopping.
    await waitFor(() => lines('during').every((l) => rawLog().includes(l)), 'lines during the stop on disk', 20_000).catch(() => undefined);
    child!.kill('SIGKILL');
    await exited;
    const text = rawLog();
    for (const l of [...lines('before'), ...lines('during')]) expect(text).toContain(l);
  });

  it('writes what was received to the raw log on a second SIGTERM before exiting', async () => {
    await stopSlowly();
    pty.write(lines('during').map((l) => `${l}\r\n`).join(''));
    await waitFor(() => lines('during').every((l) => stderr.includes(`LINE ${l}`)), 'lines during the stop received', 30_000);
    child!.kill('SIGTERM');
    const { code } = await exited;
    expect(code, stderr).toBe(130);
    const text = rawLog();
    for (const l of [...lines('before'), ...lines('during')]) expect(text).toContain(l);
  });
});
