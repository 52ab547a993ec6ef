// A virtual serial cable for tests: socat joins two pseudo-terminals and links them at
// `devicePath` (what the agent opens) and `hostPath` (what the test writes to, as the instrument).
// Killing socat is an unplug: both links vanish and the agent's reads fail.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, writeSync, closeSync, readlinkSync, unlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PtyPair {
  devicePath: string;
  hostPath: string;
  /** Writes bytes as the instrument would send them. */
  write(bytes: Buffer | string): void;
  /** Pulls the cable: socat exits, both links disappear. */
  unplug(): Promise<void>;
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export async function makePty(devicePath: string, hostPath: string): Promise<PtyPair> {
  const child: ChildProcess = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${hostPath}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let hasExited = false;
  const exited = new Promise<void>((resolve) => child.on('exit', () => { hasExited = true; resolve(); }));
  // socat logs "starting data transfer loop" once both PTYs exist and are linked.
  await waitFor(() => hasExited || (stderr.includes('starting data transfer loop') && existsSync(devicePath) && existsSync(hostPath)), `socat PTY ${devicePath}`);
  if (hasExited) throw new Error(`socat failed: ${stderr}`);
  let fd: number | null = openSync(hostPath, 'w');
  let isUnplugged = false;
  return {
    devicePath,
    hostPath,
    write(bytes) {
      if (fd === null) throw new Error('PTY unplugged');
      const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    },
    async unplug() {
      if (isUnplugged) return;
      isUnplugged = true;
      if (fd !== null) closeSync(fd);
      fd = null;
      if (!hasExited) {
        child.kill('SIGTERM');
        await exited;
      }
      await waitFor(() => !existsSync(devicePath), 'PTY links removed');
    },
  };
}

export interface InstrumentPty {
  devicePath: string;
  /** Writes bytes as the instrument would send them (into socat's stdin: held until a reader is there). */
  write(bytes: Buffer | string): void;
  /** True once socat has ended (killed, or on its own). */
  hasExited(): boolean;
  /** Resolves when socat has ended. */
  exited: Promise<void>;
  /** Pulls the cable: socat stops, the link disappears. */
  unplug(): Promise<void>;
}

/**
 * An instrument fed through socat's stdin: `socat STDIO pty,raw,echo=0,link=PATH` (hardware-sim's
 * ports start socat one-way, `-u`, and hold data back themselves while no reader has the port
 * open; see hardware-sim/src/ports/pty.ts). `waitSlave`: socat holds the data until a reader has
 * opened the PTY, polling for it every `ptyIntervalS`; it then keeps no descriptor of its own on the
 * slave, so when its reader closes the port, socat reads EOF (EIO) on the master and ends 0.5 s
 * later (what hardware-sim --wait-reader did before b693134), unless `ignoreEof`: then it waits
 * for the next reader (what b693134 did).
 */
export async function makeInstrumentPty(
  devicePath: string,
  options: { waitSlave?: boolean; ignoreEof?: boolean; ptyIntervalS?: number } = {},
): Promise<InstrumentPty> {
  const extra = [
    ...(options.waitSlave ? ['wait-slave'] : []),
    ...(options.ignoreEof ? ['ignoreeof'] : []),
    ...(options.ptyIntervalS !== undefined ? [`pty-interval=${options.ptyIntervalS}`] : []),
  ];
  const child = spawn('socat', ['-d', '-d', 'STDIO', ['pty', 'raw', 'echo=0', `link=${devicePath}`, ...extra].join(',')], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin?.on('error', () => undefined);
  let hasExited = false;
  const exited = new Promise<void>((resolve) => child.on('exit', () => { hasExited = true; resolve(); }));
  await waitFor(() => hasExited || (stderr.includes('PTY is') && existsSync(devicePath)), `socat PTY ${devicePath}`);
  if (hasExited) throw new Error(`socat failed: ${stderr}`);
  const pts = /PTY is (\S+)/.exec(stderr)?.[1];
  // Only our own link: a new instrument may have been plugged in at the same path since.
  const removeLink = (): void => {
    try {
      if (readlinkSync(devicePath) === pts) unlinkSync(devicePath);
    } catch {
      // socat removed it
    }
  };
  void exited.then(removeLink);
  return {
    devicePath,
    write(bytes) {
      if (hasExited) throw new Error('PTY unplugged');
      child.stdin?.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
    },
    hasExited: () => hasExited,
    exited,
    async unplug() {
      if (!hasExited) child.kill('SIGTERM');
      await exited;
      removeLink();
    },
  };
}
