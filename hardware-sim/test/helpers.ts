// Test helpers: temporary folders, a serialport reader that collects every byte, the built CLI.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SerialPort } from 'serialport';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const CLI = resolve(fileURLToPath(new URL('../dist/cli.js', import.meta.url)));

const cleanups: Array<() => Promise<void> | void> = [];

/** Registers something to undo in afterEach (see runCleanups). */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

export async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const fn = cleanups.pop();
    try {
      await fn?.();
    } catch {
      // keep cleaning
    }
  }
}

export async function tempDir(prefix = 'hwsim-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Reads a port with serialport as the agent does and keeps every byte. */
export class Collector {
  readonly port: SerialPort;
  #chunks: Buffer[] = [];
  #size = 0;
  #waiters: Array<{ size: number; resolve: () => void }> = [];
  closed = false;

  private constructor(port: SerialPort) {
    this.port = port;
    port.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#size += chunk.length;
      this.#waiters = this.#waiters.filter((w) => (this.#size >= w.size ? (w.resolve(), false) : true));
    });
    port.on('close', () => (this.closed = true));
    port.on('error', () => undefined);
  }

  static async open(path: string, baudRate = 38400): Promise<Collector> {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((res, rej) => port.open((err) => (err ? rej(err) : res())));
    const c = new Collector(port);
    onCleanup(() => c.close());
    return c;
  }

  get bytes(): Buffer {
    return Buffer.concat(this.#chunks);
  }

  get size(): number {
    return this.#size;
  }

  /** Resolves once `size` bytes have arrived. */
  waitFor(size: number): Promise<void> {
    if (this.#size >= size) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ size, resolve }));
  }

  async close(): Promise<void> {
    if (!this.port.isOpen) return;
    await new Promise<void>((res) => this.port.close(() => res()));
  }
}

/** Starts the built CLI; killed in afterEach. */
export function startCli(args: string[]): ChildProcessWithoutNullStreams & { out: () => string; err: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  return Object.assign(child, { out: () => out, err: () => err, exited });
}

/** Polls `check` until it is true (tests never assert durations; this only bounds a hang). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
