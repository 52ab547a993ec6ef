import { execFileSync } from 'node:child_process';
import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import { lstat, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAllPorts, PtyPort, READER_SETTLE_MS } from '../../src/ports/pty.js';
import { Collector, runCleanups, tempDir, until } from '../helpers.js';

afterEach(async () => {
  await runCleanups();
  await closeAllPorts();
});

const exists = (path: string): Promise<boolean> => lstat(path).then(() => true, () => false);

/**
 * A reader that has the port open but does not read holds the writer back (it stalls long before
 * 1 MiB is handed over), then gets every byte in order once it reads: backpressure, never loss.
 */
async function expectSlowReaderGetsEverything(waitForReader: boolean): Promise<void> {
  const dir = await tempDir();
  const port = await PtyPort.open({ path: join(dir, 'gps'), waitForReader });
  const reader = await Collector.open(port.path);
  await port.readerReady();
  reader.port.pause();
  const total = 1024 * 1024;
  const chunk = Buffer.alloc(4096);
  const writing = (async (): Promise<void> => {
    for (let i = 0; i < total / chunk.length; i++) {
      chunk.fill(i & 0xff);
      await port.write(Buffer.from(chunk));
    }
  })();
  await until(async () => {
    const before = port.bytesWritten;
    await new Promise((r) => setTimeout(r, 300));
    return port.bytesWritten === before;
  }, 'the writer to stall');
  expect(port.bytesWritten).toBeLessThan(total);
  reader.port.resume();
  await writing;
  await reader.waitFor(total);
  const got = reader.bytes;
  expect(got.length).toBe(total);
  for (let i = 0; i < total / chunk.length; i++) expect(got[i * chunk.length]).toBe(i & 0xff);
  expect(port.bytesDropped).toBe(0);
}

describe('PtyPort', () => {
  it('gives the agent a symlink to a PTY that passes all 256 byte values unchanged', async () => {
    const dir = await tempDir();
    const port = await PtyPort.open({ path: join(dir, 'sub', 'gps'), waitForReader: true });
    expect(await readlink(port.path)).toMatch(/^\/dev\/pts\/\d+$/);
    const reader = await Collector.open(port.path);
    await port.readerReady();
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const data = Buffer.concat([all, Buffer.from('\r\n\n\r'), all.reverse()]);
    await port.write(data);
    await reader.waitFor(data.length);
    expect(reader.bytes.equals(data)).toBe(true);
    await port.close();
    expect(await exists(port.path)).toBe(false);
  });

  it('loses nothing when the reader is slow: writes wait (backpressure)', async () => {
    await expectSlowReaderGetsEverything(true);
  });

  it('unplugs (path gone, reader closed) and plugs back in at the same path', async () => {
    const dir = await tempDir();
    const path = join(dir, 'gps');
    const port = await PtyPort.open({ path, waitForReader: true });
    const first = await Collector.open(path);
    await port.readerReady();
    await port.write(Buffer.from('before\n'));
    await first.waitFor(7);
    const firstDevice = port.devicePath;

    await port.unplug();
    expect(port.isPlugged).toBe(false);
    expect(await exists(path)).toBe(false);
    await until(() => first.closed, 'the reader to see the port go');
    await port.write(Buffer.from('lost\n'));
    expect(port.bytesDropped).toBe(5);

    await port.replug();
    expect(await exists(path)).toBe(true);
    expect(port.devicePath).toMatch(/^\/dev\/pts\/\d+$/);
    const second = await Collector.open(path);
    // serialport flushes the input on open: give it a moment before writing (as readerReady does).
    await new Promise((r) => setTimeout(r, 250));
    await port.write(Buffer.from('after\n'));
    await second.waitFor(6);
    expect(second.bytes.toString()).toBe('after\n');
    expect(first.bytes.toString()).toBe('before\n');
    expect(typeof firstDevice).toBe('string');
  });

  it('replaces a stale symlink left by a killed run and refuses a regular file', async () => {
    const dir = await tempDir();
    const stale = join(dir, 'gps');
    await symlink('/dev/pts/999999', stale);
    const port = await PtyPort.open({ path: stale });
    expect(await readlink(stale)).toBe(port.devicePath);
    const file = join(dir, 'file');
    await writeFile(file, 'x');
    await expect(PtyPort.open({ path: file })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(PtyPort.open({ path: stale })).rejects.toMatchObject({ code: 'PORT_FAILED' });
  });

  /** Numbered 100-byte lines, `L000123 xxx…\n`. */
  const numbered = (i: number): Buffer => Buffer.from(`L${String(i).padStart(6, '0')} ${'x'.repeat(91)}\n`);
  const numbersIn = (text: string): number[] => [...text.matchAll(/L(\d{6}) x{91}\n/g)].map((m) => Number(m[1]));

  /** Writes lines [from, to) without waiting between them; resolves with `done` set when all were handed over. */
  function writeLines(port: PtyPort, from: number, to: number): { done: boolean; finished: Promise<void> } {
    const state = { done: false, finished: Promise.resolve() };
    state.finished = (async (): Promise<void> => {
      for (let i = from; i < to; i++) await port.write(numbered(i));
      state.done = true;
    })();
    return state;
  }

  it('without waitForReader, drops what nobody reads (no reader yet, or the reader gone), so a late reader gets current data', async () => {
    const dir = await tempDir();
    const port = await PtyPort.open({ path: join(dir, 'gps') });
    // No reader: 300 kB, more than the pipe to socat and the PTY hold, do not hold the writer back.
    const first = writeLines(port, 0, 3000);
    await until(() => first.done, 'the writer to get through with nobody reading', 10_000);
    await port.flush();
    expect(port.bytesDropped).toBeGreaterThan(0);
    expect(port.bytesWritten + port.bytesDropped).toBe(3000 * 100);

    // A reader opens late: it gets the lines written from then on, not the backlog of old ones.
    const reader = await Collector.open(port.path);
    await new Promise((r) => setTimeout(r, READER_SETTLE_MS));
    const current = writeLines(port, 3000, 3010);
    await current.finished;
    await until(() => numbersIn(reader.bytes.toString('latin1')).includes(3009), 'the current lines to arrive');
    const got = numbersIn(reader.bytes.toString('latin1'));
    expect(got.slice(-10)).toEqual([3000, 3001, 3002, 3003, 3004, 3005, 3006, 3007, 3008, 3009]);
    expect(got).not.toContain(0);
    // At most the few kB queued when the drops began come before them (serialport flushes the PTY on open).
    expect(got.length - 10).toBeLessThanOrEqual(200);

    // The reader goes away: the writer is not held back, the bytes go nowhere again.
    await reader.close();
    const droppedBefore = port.bytesDropped;
    const after = writeLines(port, 3010, 6010);
    await until(() => after.done, 'the writer to get through after the reader went away', 10_000);
    expect(port.bytesDropped).toBeGreaterThan(droppedBefore);
  });

  it('without waitForReader, a reader that is open but slow still holds the writer back: nothing dropped', async () => {
    await expectSlowReaderGetsEverything(false);
  });

  it('with waitForReader, a reader that closes the port and opens it again (an agent watchdog reopen) finds it still there', async () => {
    const dir = await tempDir();
    const port = await PtyPort.open({ path: join(dir, 'alt'), waitForReader: true });
    const first = await Collector.open(port.path);
    await port.readerReady();
    await first.close();
    // socat with wait-slave has no descriptor of its own on the slave: its reader's close is an
    // EOF on the master, on which it ended 0.5 s later (the PTY hung up, the path gone) unless told
    // to ignore it. Wait past that before opening again.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await exists(port.path)).toBe(true);
    const second = await Collector.open(port.path);
    // serialport flushes the input on open: give it a moment before writing (as readerReady does).
    await new Promise((r) => setTimeout(r, READER_SETTLE_MS));
    await port.write(Buffer.from('after\n'));
    await second.waitFor(6);
    expect(second.bytes.toString()).toBe('after\n');
    expect(second.closed).toBe(false);
  });

  it('with waitForReader, a reader that closes the port and opens it again gets what was written meanwhile and what it had not read: nothing is flushed away by its reopen', async () => {
    const dir = await tempDir();
    const port = await PtyPort.open({ path: join(dir, 'gps'), waitForReader: true });
    let reader = await Collector.open(port.path);
    await port.readerReady();
    await port.write(Buffer.from('one\n'));
    await reader.waitFor(4);
    let got = reader.bytes.toString();
    // The agent's watchdog closes a silent port; the instrument talks again meanwhile.
    await reader.close();
    await port.write(Buffer.from('two\n')); // at once: before the simulator can have noticed the close
    await new Promise((r) => setTimeout(r, 250)); // the agent's pause before it reopens
    reader = await Collector.open(port.path);
    await new Promise((r) => setTimeout(r, READER_SETTLE_MS));
    await port.write(Buffer.from('three\n'));
    // Bounded: on a failure, what arrived is shown instead of a hang.
    await Promise.race([reader.waitFor(10), new Promise((r) => setTimeout(r, 3000))]);
    got += reader.bytes.toString();
    expect(got).toBe('one\ntwo\nthree\n');
    expect(port.bytesWritten).toBe(14);
    expect(port.bytesDropped).toBe(0);
    expect(await port.deliveredBytes()).toBe(14);
    // And it keeps flowing, line by line (socat with ignoreeof sat in a read of the PTY after its
    // reader's first close, and passed nothing more on while the new reader wrote nothing).
    for (let i = 0; i < 5; i++) {
      const size = reader.size + 6;
      await port.write(Buffer.from(`more${i}\n`));
      await Promise.race([reader.waitFor(size), new Promise((r) => setTimeout(r, 3000))]);
      expect(reader.bytes.toString()).toMatch(new RegExp(`more${i}\\n$`));
    }
    expect(await port.deliveredBytes()).toBe(44);

    // A reader that closes the port with bytes it has not read: they go to the next reader, first.
    // (A plain descriptor that never reads: a paused serialport has read them into its own buffer.)
    await reader.close();
    await new Promise((r) => setTimeout(r, 250));
    const idle = openSync(port.path, fsConstants.O_RDONLY | fsConstants.O_NOCTTY | fsConstants.O_NONBLOCK);
    await port.write(Buffer.from('four\n'));
    await new Promise((r) => setTimeout(r, 100));
    closeSync(idle);
    await new Promise((r) => setTimeout(r, 250));
    const last = await Collector.open(port.path);
    await port.write(Buffer.from('five\n'));
    await Promise.race([last.waitFor(10), new Promise((r) => setTimeout(r, 3000))]);
    expect(last.bytes.toString()).toBe('four\nfive\n');
    expect(port.bytesDropped).toBe(0);
    expect(await port.deliveredBytes()).toBe(54);
  });

  it('with waitForReader, a replugged port again holds data back until a reader has opened it', async () => {
    const dir = await tempDir();
    const port = await PtyPort.open({ path: join(dir, 'gps'), waitForReader: true });
    await port.unplug();
    await port.replug();
    const writing = port.write(Buffer.from('held\n'));
    await new Promise((r) => setTimeout(r, 500));
    expect(port.bytesWritten).toBe(0);
    const reader = await Collector.open(port.path);
    await writing;
    await reader.waitFor(5);
    expect(reader.bytes.toString()).toBe('held\n');
    expect(port.bytesDropped).toBe(0);
  });

  it('a write never waits for ever: socat ended by itself (writes go nowhere), or the port closed (a stop) while a write waits for a reader', async () => {
    const dir = await tempDir();
    const resolvesSoon = async (p: Promise<void>): Promise<boolean> =>
      Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
    // socat gone: its pid from /proc (the process whose command line names this port's link).
    const gone = await PtyPort.open({ path: join(dir, 'gone'), waitForReader: true });
    const out = execFileSync('pgrep', ['-f', `link=${gone.path}`], { encoding: 'utf8' }).trim().split('\n');
    expect(out).toHaveLength(1);
    process.kill(Number(out[0]), 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const big = Buffer.alloc(256 * 1024, 0x41); // past the pipe's buffer: the write cannot complete at once
    // The first write finds the pipe broken (its stdin closes), the next ones a closed stdin.
    for (let i = 0; i < 3; i++) expect(await resolvesSoon(gone.write(big))).toBe(true);
    // A write waiting for a reader that never comes, then the port is closed (a stop).
    const waiting = await PtyPort.open({ path: join(dir, 'waiting'), waitForReader: true });
    let pending: Promise<void> = Promise.resolve();
    for (let i = 0; i < 64 && (await resolvesSoon(pending)); i++) pending = waiting.write(big);
    expect(await Promise.race([pending.then(() => 'done'), new Promise((r) => setTimeout(() => r('waiting'), 300))])).toBe('waiting');
    await waiting.close();
    expect(await resolvesSoon(pending)).toBe(true);
  });

  it('with waitForReader, nothing is ever dropped: with no reader the writer waits, and the reader gets every byte', async () => {
    const dir = await tempDir();
    const port = await PtyPort.open({ path: join(dir, 'gps'), waitForReader: true });
    const writing = writeLines(port, 0, 3000);
    await until(async () => {
      const before = port.bytesWritten;
      await new Promise((r) => setTimeout(r, 300));
      return port.bytesWritten === before;
    }, 'the writer to stall');
    expect(writing.done).toBe(false);
    expect(port.bytesDropped).toBe(0);
    const reader = await Collector.open(port.path);
    await writing.finished;
    await reader.waitFor(3000 * 100);
    expect(numbersIn(reader.bytes.toString('latin1'))).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(port.bytesDropped).toBe(0);
  });
});
