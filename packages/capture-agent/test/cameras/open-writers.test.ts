import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canSeeEveryUser, hiddenProcesses, procListingMayHide, scanWriters } from '../../src/cameras/open-writers.js';
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
    // Named as non-writers, none of them is hidden any more (one whose name cannot be read never is named).
    const named = new Set(hidden.map((p) => p.name).filter((n) => n !== ''));
    const stillHidden = hiddenProcesses({ notWriters: named });
    expect(stillHidden.filter((p) => named.has(p.name) && hidden.some((h) => h.pid === p.pid))).toEqual([]);
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

  it('a writer followed before a refused descriptor of the same process is still a writer', () => {
    // Two processes, each with one writer descriptor and one that cannot be followed, in both name
    // orders: whatever order the file system lists them in, one of the two shows its writer first.
    const procRoot = fakeProc(join(root, 'partial'), file, 'none');
    for (const [pid, writerFd, refusedFd] of [['600', '3', '4'], ['601', '4', '3']] as const) {
      mkdirSync(join(procRoot, pid, 'fd'), { recursive: true });
      mkdirSync(join(procRoot, pid, 'fdinfo'), { recursive: true });
      writeFileSync(join(procRoot, pid, 'comm'), 'changing\n');
      symlinkSync(file, join(procRoot, pid, 'fd', writerFd));
      writeFileSync(join(procRoot, pid, 'fdinfo', writerFd), 'pos:\t0\nflags:\t0100001\n');
      writeFileSync(join(procRoot, pid, 'fd', refusedFd), '');
    }
    const scan = scanWriters(new Set([file]), { procRoot });
    expect(scan.stateOf(file)).toBe('open');
    expect(scan.isComplete).toBe(false);
  });

  it('no process table at all: nothing is hidden, and no scan can prove anything', () => {
    const procRoot = join(root, 'none');
    expect(hiddenProcesses({ procRoot })).toEqual([]);
    expect(scanWriters(new Set([file]), { procRoot }).stateOf(file)).toBe('unknown');
  });
});

describe('canSeeEveryUser: the capabilities that let the scan see every user\'s processes', () => {
  it('needs both CAP_DAC_READ_SEARCH (list their fd folders) and CAP_SYS_PTRACE (follow the entries)', () => {
    expect(canSeeEveryUser('000001ffffffffff')).toBe(true); // root
    expect(canSeeEveryUser('0000000000080004')).toBe(true); // exactly the two
    expect(canSeeEveryUser('0000000000080000')).toBe(false); // CAP_SYS_PTRACE alone
    expect(canSeeEveryUser('0000000000000004')).toBe(false); // CAP_DAC_READ_SEARCH alone
    expect(canSeeEveryUser('0000000000000000')).toBe(false); // an unprivileged service
    expect(canSeeEveryUser('')).toBe(false);
    expect(canSeeEveryUser('not hex')).toBe(false);
  });
});

describe('procListingMayHide: a /proc that leaves processes out of its listing (hidepid=invisible)', () => {
  const root = '22 27 0:21 / / rw,relatime - ext4 /dev/vda rw';
  const proc = (superOptions: string): string => `${root}\n23 22 0:22 / /proc rw,nosuid - proc proc ${superOptions}\n24 22 0:23 / /tmp rw - tmpfs tmpfs rw`;
  const NO_CAPS = '0000000000000000';
  it('hidepid=2 / invisible hides from a reader without CAP_SYS_PTRACE outside the gid= group', () => {
    expect(procListingMayHide(proc('rw,hidepid=invisible'), '/proc', NO_CAPS, [1000])).toBe(true);
    expect(procListingMayHide(proc('rw,hidepid=2'), '/proc', NO_CAPS, [1000])).toBe(true);
    expect(procListingMayHide(proc('rw,hidepid=invisible,gid=1000'), '/proc', NO_CAPS, [1000])).toBe(false); // in the group
    expect(procListingMayHide(proc('rw,hidepid=invisible,gid=1000'), '/proc', NO_CAPS, [1001])).toBe(true);
    expect(procListingMayHide(proc('rw,hidepid=invisible'), '/proc', '0000000000080000', [])).toBe(false); // CAP_SYS_PTRACE
  });
  it('a plain /proc, hidepid=1 (listed but unreadable: the scan sees those), or a fake table elsewhere hide nothing', () => {
    expect(procListingMayHide(proc('rw'), '/proc', NO_CAPS, [])).toBe(false);
    expect(procListingMayHide(proc('rw,hidepid=1'), '/proc', NO_CAPS, [])).toBe(false);
    expect(procListingMayHide(proc('rw,hidepid=invisible'), '/tmp/fake/proc', NO_CAPS, [])).toBe(false);
    expect(procListingMayHide(proc('rw,hidepid=invisible'), '/procfs', NO_CAPS, [])).toBe(false); // not under /proc
    expect(procListingMayHide('', '/proc', NO_CAPS, [])).toBe(false);
  });
  it('the mount on top counts: a hidepid /proc mounted over a plain one', () => {
    const stacked = `${proc('rw')}\n40 23 0:30 / /proc rw - proc proc rw,hidepid=invisible`;
    expect(procListingMayHide(stacked, '/proc', NO_CAPS, [])).toBe(true);
  });
});
