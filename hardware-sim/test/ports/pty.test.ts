import { lstat, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAllPorts, PtyPort } from '../../src/ports/pty.js';
import { Collector, runCleanups, tempDir, until } from '../helpers.js';

afterEach(async () => {
  await runCleanups();
  await closeAllPorts();
});

const exists = (path: string): Promise<boolean> => lstat(path).then(() => true, () => false);

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
    const dir = await tempDir();
    const port = await PtyPort.open({ path: join(dir, 'gps'), waitForReader: true });
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
    // Nobody reads: the writer is held back long before it has handed everything over.
    await until(async () => {
      const before = port.bytesWritten;
      await new Promise((r) => setTimeout(r, 100));
      return port.bytesWritten === before;
    }, 'the writer to stall');
    expect(port.bytesWritten).toBeLessThan(total);
    reader.port.resume();
    await writing;
    await reader.waitFor(total);
    const got = reader.bytes;
    expect(got.length).toBe(total);
    for (let i = 0; i < total / chunk.length; i++) expect(got[i * chunk.length]).toBe(i & 0xff);
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
});
