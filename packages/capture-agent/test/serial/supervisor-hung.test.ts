// The supervisor when an open() or a close() never calls back. serialport opens and closes on
// libuv's thread pool; here the pool is starved for real: the supervisor runs in a child process
// (built dist/) with UV_THREADPOOL_SIZE=2, and both pool threads are held in open(2) of a FIFO that
// has no writer, so every open/close queued behind them waits, as behind pool threads stuck on a
// hung disk or USB device. The test opens the FIFO for writing to let the pool go again. The device
// is a real PTY (socat). Waits on conditions, never on durations.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makePty, waitFor, type PtyPair } from '../helpers/pty.js';

const dist = (path: string): string => new URL(`../../dist/${path}`, import.meta.url).href;

/** Pool threads in the child, all of which the test blocks. */
const POOL_THREADS = 2;

/**
 * The supervisor in a child process, driven over IPC: 'starve' holds every pool thread in open(2)
 * of the FIFO; 'start'; 'stop' (answers 'stopped'); 'exit' drops the IPC channel, after which the
 * child ends by itself only if nothing (an open port, a pending request) keeps it alive.
 */
const CHILD = `
import { open, closeSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { PortSupervisor } from ${JSON.stringify(dist('serial/supervisor.js'))};
import { portConfigSchema } from ${JSON.stringify(dist('config/index.js'))};
import { createLogger } from ${JSON.stringify(dist('log/index.js'))};
const { config, openTimeoutMs, fifo, blockers } = JSON.parse(process.env.HUNG_TEST_ARGS);
const out = new PassThrough();
let text = '';
out.on('data', (d) => {
  text += d.toString();
  let i;
  while ((i = text.indexOf('\\n')) >= 0) {
    const line = text.slice(0, i);
    text = text.slice(i + 1);
    if (line) process.send({ ev: 'log', rec: JSON.parse(line) });
  }
});
const log = createLogger({ out, isPretty: false, level: 'debug' });
let sup = null;
process.on('message', async (m) => {
  if (m.cmd === 'starve') {
    // Each open of a FIFO without a writer holds its pool thread in open(2) until a writer comes.
    for (let i = 0; i < blockers; i++) open(fifo, 'r', (err, fd) => { if (!err) closeSync(fd); process.send({ ev: 'unblocked' }); });
  } else if (m.cmd === 'start') {
    const sink = {
      line: (b) => process.send({ ev: 'line', text: b.toString('latin1') }),
      status: (s) => process.send({ ev: 'status', state: s.state, code: s.error?.code ?? null, message: s.error?.message ?? null }),
    };
    sup = new PortSupervisor(portConfigSchema.parse(config), sink, log, { openTimeoutMs });
    sup.start();
  } else if (m.cmd === 'stop') {
    await sup.stop();
    process.send({ ev: 'stopped', state: sup.state });
  } else if (m.cmd === 'exit') {
    process.disconnect();
  }
});
process.send({ ev: 'ready' });
`;

interface StatusEvent {
  state: string;
  code: string | null;
  message: string | null;
}

interface Child {
  proc: ChildProcess;
  pid: number;
  send(cmd: 'starve' | 'start' | 'stop' | 'exit'): void;
  states: StatusEvent[];
  lines: string[];
  logs: Record<string, unknown>[];
  unblocked: () => number;
  stopped: () => string | null;
  hasExited: () => boolean;
  exited: Promise<number | null>;
}

let dir: string;
let fifo: string;
let pty: PtyPair | null;
let child: Child | null;
let writerFd: number | null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-hung-'));
  fifo = join(dir, 'pool-blocker');
  execFileSync('mkfifo', [fifo]);
  pty = null;
  child = null;
  writerFd = null;
});

afterEach(async () => {
  // Let the pool go first, so a child (or a test that failed) is not left stuck.
  releasePool();
  if (child && !child.hasExited()) {
    child.proc.kill('SIGKILL');
    await child.exited;
  }
  if (writerFd !== null) closeSync(writerFd);
  await pty?.unplug().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** The hung I/O comes back: a writer on the FIFO ends the blocked open(2) calls. */
function releasePool(): void {
  if (writerFd !== null) return;
  try {
    writerFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    // ENXIO: no reader blocked on it (nothing was starved), or the directory is gone.
  }
}

async function startChild(config: Record<string, unknown>, openTimeoutMs: number): Promise<Child> {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: {
      ...process.env,
      UV_THREADPOOL_SIZE: String(POOL_THREADS),
      HUNG_TEST_ARGS: JSON.stringify({ config: { name: 'gps', reconnectMinMs: 50, reconnectMaxMs: 200, ...config }, openTimeoutMs, fifo, blockers: POOL_THREADS }),
    },
  });
  const states: StatusEvent[] = [];
  const lines: string[] = [];
  const logs: Record<string, unknown>[] = [];
  let unblocked = 0;
  let stopped: string | null = null;
  let isReady = false;
  let hasExited = false;
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      hasExited = true;
      resolve(code);
    }),
  );
  proc.on('message', (raw) => {
    const m = raw as { ev: string; state?: string; code?: string | null; message?: string | null; text?: string; rec?: Record<string, unknown> };
    if (m.ev === 'ready') isReady = true;
    else if (m.ev === 'status') states.push({ state: m.state ?? '', code: m.code ?? null, message: m.message ?? null });
    else if (m.ev === 'line') lines.push(m.text ?? '');
    else if (m.ev === 'log' && m.rec) logs.push(m.rec);
    else if (m.ev === 'unblocked') unblocked++;
    else if (m.ev === 'stopped') stopped = m.state ?? '';
  });
  await waitFor(() => isReady || hasExited, 'child ready', 30_000);
  const c: Child = {
    proc,
    pid: proc.pid ?? -1,
    send: (cmd) => proc.send({ cmd }),
    states,
    lines,
    logs,
    unblocked: () => unblocked,
    stopped: () => stopped,
    hasExited: () => hasExited,
    exited,
  };
  child = c;
  return c;
}

/** The child's descriptors on the PTY's device (as /proc shows them). */
function fdsOnDevice(pid: number, devicePath: string): string[] {
  const device = realpathSync(devicePath);
  const fdDir = `/proc/${pid}/fd`;
  let fds: string[];
  try {
    fds = readdirSync(fdDir);
  } catch {
    return [];
  }
  return fds.filter((fd) => {
    try {
      return readlinkSync(`${fdDir}/${fd}`) === device;
    } catch {
      return false;
    }
  });
}

const logged = (c: Child, msg: string): number => c.logs.filter((r) => r['msg'] === msg).length;

describe('PortSupervisor when open() or close() never calls back (libuv thread pool starved for real)', () => {
  it('a hung open times out, is reported and retried; once the pool works again the late open is closed unread and the port reads the PTY from one descriptor', async () => {
    pty = await makePty(join(dir, 'gps'), join(dir, 'gps-host'));
    const c = await startChild({ path: pty.devicePath }, 300);
    c.send('starve');
    c.send('start');

    await waitFor(() => c.states.length > 0, 'a status change', 20_000);
    expect(c.states[0]).toMatchObject({ state: 'reconnecting', code: 'OPEN_FAILED' });
    expect(c.states[0]?.message).toMatch(/open timed out after 300 ms/);
    // Retried with backoff while the first open is still stuck (without piling more opens on it).
    await waitFor(() => logged(c, 'reopen scheduled') >= 4, 'retries while the open hangs');
    expect(logged(c, 'an open given up on has not returned yet: not opening again')).toBeGreaterThan(0);
    expect(c.unblocked()).toBe(0);
    expect(fdsOnDevice(c.pid, pty.devicePath)).toEqual([]);

    releasePool();
    await waitFor(() => c.unblocked() === POOL_THREADS, 'pool threads released');
    // The first open now succeeds, late: it is closed, and a retry opens the port afresh.
    await waitFor(() => logged(c, 'an open given up on succeeded late: closing it unread') === 1, 'late open closed');
    await waitFor(() => c.states.at(-1)?.state === 'open', 'open once the pool works again');
    expect(fdsOnDevice(c.pid, pty.devicePath)).toHaveLength(1);

    pty.write('$GPZDA,1*00\r\n');
    await waitFor(() => c.lines.length === 1, 'a line');
    pty.write('$GPZDA,2*00\r\n');
    await waitFor(() => c.lines.length === 2, 'a second line');
    // Each line once: nothing read twice or from a second descriptor.
    expect(c.lines).toEqual(['$GPZDA,1*00\r\n', '$GPZDA,2*00\r\n']);
    expect(c.states.map((s) => s.state)).toEqual(['reconnecting', 'open']);
    expect(fdsOnDevice(c.pid, pty.devicePath)).toHaveLength(1);

    c.send('stop');
    await waitFor(() => c.stopped() !== null, 'stopped');
    expect(fdsOnDevice(c.pid, pty.devicePath)).toEqual([]);
    c.send('exit');
    await waitFor(() => c.hasExited(), 'the child ending by itself (nothing left open)');
  });

  it('stop() during a hung open returns; the open that succeeds later is closed, and nothing keeps the process alive', async () => {
    pty = await makePty(join(dir, 'gps'), join(dir, 'gps-host'));
    // The open timeout is far away: stop() must not depend on it.
    const c = await startChild({ path: pty.devicePath }, 600_000);
    c.send('starve');
    c.send('start');
    c.send('stop');
    await waitFor(() => c.stopped() !== null, 'stop() to return while the open hangs', 30_000);
    expect(c.stopped()).toBe('closed');
    expect(c.unblocked()).toBe(0);
    expect(c.states.map((s) => s.state)).toEqual(['closed']);

    releasePool();
    await waitFor(() => c.unblocked() === POOL_THREADS, 'pool threads released');
    // The open pending at stop succeeds now, late: its callback closes it.
    await waitFor(() => logged(c, 'an open given up on succeeded late: closing it unread') === 1, 'late open closed');
    const devicePath = pty.devicePath;
    await waitFor(() => fdsOnDevice(c.pid, devicePath).length === 0, 'the late descriptor closed');
    c.send('exit');
    await waitFor(() => c.hasExited(), 'the child ending by itself', 30_000);
    expect(c.lines).toEqual([]);
  });

  it('a close that never calls back holds up neither the reopen nor stop(): the reopen behind it times out and is reported, and stop() returns', async () => {
    pty = await makePty(join(dir, 'alt'), join(dir, 'alt-host'));
    const c = await startChild({ name: 'alt', path: pty.devicePath, watchdogMs: 1000 }, 300);
    c.send('start');
    await waitFor(() => c.states.at(-1)?.state === 'open', 'open');
    pty.write('$PGRMZ,1234,f,3*00\r\n');
    await waitFor(() => c.lines.length === 1, 'a line');

    // The pool is starved while the port is open; the watchdog then closes the silent port: that
    // close waits behind the blocked threads, and so does the open that follows it.
    c.send('starve');
    await waitFor(() => c.states.at(-1)?.state === 'silent', 'silent');
    await waitFor(() => logged(c, 'close did not return: going on without it') >= 1, 'the close given up on');
    await waitFor(() => c.states.at(-1)?.state === 'reconnecting', 'the reopen failed');
    expect(c.states.at(-1)?.message).toMatch(/open timed out after 300 ms/);
    expect(c.unblocked()).toBe(0);

    c.send('stop');
    await waitFor(() => c.stopped() !== null, 'stop() to return while a close and an open hang', 30_000);
    expect(c.stopped()).toBe('closed');

    releasePool();
    await waitFor(() => c.unblocked() === POOL_THREADS, 'pool threads released');
    const devicePath = pty.devicePath;
    await waitFor(() => fdsOnDevice(c.pid, devicePath).length === 0, 'every descriptor on the device closed');
    c.send('exit');
    await waitFor(() => c.hasExited(), 'the child ending by itself', 30_000);
    expect(c.lines).toEqual(['$PGRMZ,1234,f,3*00\r\n']);
  });
});
