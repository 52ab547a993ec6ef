import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hiddenProcesses, scanWriters } from '../../src/cameras/open-writers.js';
import { addFakeWriter, fakeProc } from './helpers/proc.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'fs-writers-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scanWriters (real /proc)', () => {
  it('sees a file held open for writing by another process, and not once it is closed', async () => {
    const path = join(dir, 'held.jpg');
    const reader = join(dir, 'read.jpg');
    writeFileSync(reader, 'x');
    // A child that opens one file for writing and one for reading, says so, then waits for stdin.
    const child = spawn(process.execPath, [
      '-e',
      `const fs=require('fs');fs.openSync(${JSON.stringify(path)},'w');fs.openSync(${JSON.stringify(reader)},'r');` +
        `process.stdout.write('ready\\n');process.stdin.on('data',()=>process.exit(0));`,
    ]);
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const scan = scanWriters(new Set([path, reader]));
    expect(scan.stateOf(path)).toBe('open');
    expect(scan.stateOf(reader)).not.toBe('open'); // a reader is not a writer
    expect(hiddenProcesses().map((p) => p.pid)).not.toContain(child.pid); // our own child is never hidden
    child.stdin.write('x');
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    expect(scanWriters(new Set([path])).stateOf(path)).not.toBe('open');
  });

  it('calls hidden only processes whose descriptors really cannot be followed, and drops those named', () => {
    const hidden = hiddenProcesses();
    for (const p of hidden) {
      // Checked here independently: listing its table or following one of its descriptors fails
      // with something other than "gone" (a process that ended meanwhile is not counted).
      let error: string | undefined;
      try {
        for (const fd of readdirSync(`/proc/${p.pid}/fd`)) readlinkSync(`/proc/${p.pid}/fd/${fd}`);
      } catch (e) {
        error = (e as NodeJS.ErrnoException).code;
      }
      if (error !== 'ENOENT') expect(error, `pid ${p.pid} (${p.name})`).toBeDefined();
    }
    const named = new Set(hidden.map((p) => p.name));
    expect(hiddenProcesses({ notWriters: named }).filter((p) => !named.has(p.name))).toEqual([]);
  });
});

describe('processes whose open files cannot be seen (fake /proc)', () => {
  const file = join(dir, 'IMG_1.jpg');
  writeFileSync(file, 'x');
  const root = mkdtempSync(join(dir, 'proc-'));

  it('all seen: a file held only for reading is proven closed', () => {
    const procRoot = fakeProc(join(root, 'seen'), file, 'none');
    expect(hiddenProcesses({ procRoot })).toEqual([]);
    expect(scanWriters(new Set([file]), { procRoot }).stateOf(file)).toBe('closed');
  });

  for (const hidden of ['table', 'links'] as const) {
    it(`a process whose ${hidden === 'table' ? 'descriptor table cannot be listed' : 'descriptors cannot be followed'} is a blind spot, unless named a non-writer`, () => {
      const procRoot = fakeProc(join(root, hidden), file, hidden);
      const expected = hidden === 'table' ? { pid: 200, name: 'otheruser' } : { pid: 400, name: 'supervisor' };
      expect(hiddenProcesses({ procRoot })).toEqual([expected]);
      expect(scanWriters(new Set([file]), { procRoot }).stateOf(file)).toBe('unknown');
      expect(scanWriters(new Set([file]), { procRoot }).isComplete).toBe(false);
      const notWriters = new Set([expected.name]);
      expect(hiddenProcesses({ procRoot, notWriters })).toEqual([]);
      expect(scanWriters(new Set([file]), { procRoot, notWriters }).stateOf(file)).toBe('closed');
      expect(scanWriters(new Set([file]), { procRoot, notWriters }).isComplete).toBe(true);
      // A name that is not the hidden one's changes nothing; a writer that can be seen is seen.
      expect(scanWriters(new Set([file]), { procRoot, notWriters: new Set(['tetherd']) }).stateOf(file)).toBe('unknown');
      addFakeWriter(procRoot, file);
      expect(scanWriters(new Set([file]), { procRoot }).stateOf(file)).toBe('open');
      expect(scanWriters(new Set([file]), { procRoot, notWriters }).stateOf(file)).toBe('open');
    });
  }

  it('no process table at all: nothing is hidden, and no scan can prove anything', () => {
    const procRoot = join(root, 'none');
    expect(hiddenProcesses({ procRoot })).toEqual([]);
    expect(scanWriters(new Set([file]), { procRoot }).stateOf(file)).toBe('unknown');
  });
});
