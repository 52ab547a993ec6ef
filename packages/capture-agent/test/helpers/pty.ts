// A virtual serial cable for tests: socat joins two pseudo-terminals and links them at
// `devicePath` (what the agent opens) and `hostPath` (what the test writes to, as the instrument).
// Killing socat is an unplug: both links vanish and the agent's reads fail.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, writeSync, closeSync } from 'node:fs';
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
