import { spawn } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hiddenProcessCount, scanWriters } from '../../src/cameras/open-writers.js';
import { fakeProc } from './helpers/proc.js';

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
    child.stdin.write('x');
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    expect(scanWriters(new Set([path])).stateOf(path)).not.toBe('open');
  });
});

describe('processes whose open files cannot be seen (fake /proc)', () => {
  it('counts them, and a scan then cannot prove a file closed', () => {
    const root = mkdtempSync(join(dir, 'proc-'));
    const file = join(dir, 'IMG_1.jpg');
    writeFileSync(file, 'x');
    const seen = fakeProc(join(root, 'a'), file, false);
    expect(hiddenProcessCount(seen)).toBe(0);
    expect(scanWriters(new Set([file]), seen).stateOf(file)).toBe('closed'); // open for reading only
    const blind = fakeProc(join(root, 'b'), file, true);
    expect(hiddenProcessCount(blind)).toBe(1);
    expect(scanWriters(new Set([file]), blind).stateOf(file)).toBe('unknown');
    expect(hiddenProcessCount(join(root, 'none'))).toBe(0); // no process table at all: no scan either
  });

  it('the real /proc hides nothing from this test (it runs as root) or counts what it hides', () => {
    const n = hiddenProcessCount();
    expect(n).toBeGreaterThanOrEqual(0);
    if (process.getuid?.() === 0) expect(n).toBe(0);
  });
});
