import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockError, acquireArrayLock, isOwnerAlive, readLock, type LockOwner } from '../../src/lock/index.js';
import { waitFor } from '../helpers/pty.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The pid of a process that has certainly exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout as unknown as number;
}

/** A running process (an agent stand-in) and its identity as a lock file records it. */
async function liveProcess(): Promise<{ child: ChildProcess; owner: LockOwner }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const pid = child.pid!;
  await waitFor(() => existsSync(`/proc/${pid}/stat`), 'child in /proc');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const startTicks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return { child, owner: { pid, hostname: hostname(), bootId, startTicks, lockedAtUs: Date.now() * 1000 } };
}

function lockError(fn: () => unknown): LockError | null {
  try {
    fn();
  } catch (e) {
    if (e instanceof LockError) return e;
    throw e;
  }
  return null;
}

describe('array lock', () => {
  it('is taken, refused while held by a live process, released', () => {
    const path = join(dir, 'capture-agent.lock');
    const lock = acquireArrayLock(path);
    expect(readLock(path)?.pid).toBe(process.pid);
    const err = (() => {
      try {
        acquireArrayLock(path);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(LockError);
    expect((err as LockError).code).toBe('LOCKED');
    lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('takes over the lock of a dead process, and a garbage lock file, saying so', () => {
    const path = join(dir, 'capture-agent.lock');
    const pid = Number(deadPid());
    writeFileSync(path, JSON.stringify({ pid, hostname: hostname(), bootId: null, startTicks: null, lockedAtUs: 0 }));
    const lock = acquireArrayLock(path);
    expect(lock.tookOverFrom?.pid).toBe(pid);
    lock.release();
    writeFileSync(path, 'garbage');
    const again = acquireArrayLock(path);
    expect(again.tookOverFrom).not.toBeNull();
    again.release();
  });

  it('does not mistake a reused pid for the owner (different process start time)', () => {
    const path = join(dir, 'capture-agent.lock');
    // Our own pid, but a start time that is not ours: the recorded owner is gone.
    const mine = acquireArrayLock(path).owner;
    writeFileSync(path, JSON.stringify({ ...mine, startTicks: '1' }));
    const lock = acquireArrayLock(path);
    expect(lock.tookOverFrom?.startTicks).toBe('1');
    lock.release();
  });

  it('keeps mutual exclusion between processes contending for it, stale takeovers included', async () => {
    const path = join(dir, 'capture-agent.lock');
    const inside = join(dir, 'inside');
    const contender = fileURLToPath(new URL('./fixtures/contender.mjs', import.meta.url));
    const until = Date.now() + 3000;
    const dead = Number(deadPid());
    const runs = Array.from({ length: 4 }, () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, [contender, path, inside, String(until), String(dead)], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`contender exited ${code}`))));
      }),
    );
    const results = (await Promise.all(runs)).map((o) => JSON.parse(o) as { held: number; overlaps: number; lost: number; locked: number; other: number });
    const total = results.reduce((a, r) => ({ held: a.held + r.held, overlaps: a.overlaps + r.overlaps, lost: a.lost + r.lost, other: a.other + r.other }), { held: 0, overlaps: 0, lost: 0, other: 0 });
    expect(total.held).toBeGreaterThan(7); // contended for real, takeovers included
    expect(total).toMatchObject({ overlaps: 0, lost: 0, other: 0 });
  }, 60_000);

  it.skipIf(!existsSync('/proc/sys/kernel/random/boot_id'))('a live agent keeps its lock after the machine was renamed: same boot + live pid + same start time is live, whatever the hostname', async () => {
    const path = join(dir, 'capture-agent.lock');
    const { child, owner } = await liveProcess();
    try {
      const renamed: LockOwner = { ...owner, hostname: `${hostname()}-before-rename` };
      writeFileSync(path, `${JSON.stringify(renamed)}\n`);
      expect(isOwnerAlive(renamed)).toBe(true); // what `status` shows as "running"
      const err = lockError(() => acquireArrayLock(path));
      expect(err?.code).toBe('LOCKED');
      expect(err?.owner?.pid).toBe(owner.pid);
      expect(readLock(path)).toEqual(renamed); // untouched
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('still takes over a lock from another boot (array moved from another machine, or rebooted), or with no boot id from another host', () => {
    const path = join(dir, 'capture-agent.lock');
    // Our own pid is alive here, so only the boot id / hostname can make these stale.
    const mine: LockOwner = { ...acquireArrayLock(join(dir, 'probe.lock')).owner };
    writeFileSync(path, JSON.stringify({ ...mine, hostname: 'other-machine', bootId: '00000000-0000-0000-0000-000000000000' }));
    const moved = acquireArrayLock(path);
    expect(moved.tookOverFrom?.hostname).toBe('other-machine');
    moved.release();
    writeFileSync(path, JSON.stringify({ ...mine, hostname: 'other-machine', bootId: null }));
    const noBootId = acquireArrayLock(path);
    expect(noBootId.tookOverFrom?.hostname).toBe('other-machine');
    noBootId.release();
  });

  describe('temporary files left by a process that died mid-acquire', () => {
    const bootId = existsSync('/proc/sys/kernel/random/boot_id') ? readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() : 'x';
    const leftovers = (): string[] => readdirSync(dir).filter((n) => /\.(new|stale)-/.test(n)).sort();

    it('are removed by the next acquire when their maker is certainly gone (either name form), and never block it', () => {
      const path = join(dir, 'capture-agent.lock');
      const dead = Number(deadPid());
      const deadOwner = JSON.stringify({ pid: dead, hostname: hostname(), bootId: null, startTicks: null, lockedAtUs: 0 });
      // As the crash leaves them: killed after writing a new lock's content, before writing it, after
      // moving a stale lock aside; names as made before and after the maker's identity was in them.
      writeFileSync(`${path}.new-${dead}-1-1700000000000`, `${deadOwner}\n`);
      writeFileSync(`${path}.new-${dead}-2-1700000000001`, '');
      writeFileSync(`${path}.stale-${dead}-3-1700000000002`, deadOwner);
      writeFileSync(`${path}.new-${dead}-123-${bootId}-4-1700000000003`, `${deadOwner}\n`);
      // The maker's pid runs (it is this test), but from another boot, or started at another time.
      writeFileSync(`${path}.new-${process.pid}-1-00000000-0000-0000-0000-000000000000-5-1700000000004`, '');
      writeFileSync(`${path}.stale-${process.pid}-1-${bootId}-6-1700000000005`, deadOwner);
      const lock = acquireArrayLock(path);
      expect(lock.tookOverFrom).toBeNull(); // none of them was taken for the lock
      expect(leftovers()).toEqual([]);
      lock.release();
      expect(readdirSync(dir)).toEqual([]);
    });

    it("keep the files of a maker that may still be running; put back a live owner's lock that a dead takeover moved aside", async () => {
      const path = join(dir, 'capture-agent.lock');
      const { child, owner } = await liveProcess();
      try {
        // A running maker (its own identity, or an old-style name with its pid): not provably abandoned.
        const mine = `${path}.new-${owner.pid}-${owner.startTicks}-${bootId}-1-1700000000000`;
        const oldStyle = `${path}.new-${owner.pid}-2-1700000000001`;
        writeFileSync(mine, '');
        writeFileSync(oldStyle, '');
        // The live owner's lock moved aside by a takeover that died before putting it back.
        const dead = Number(deadPid());
        writeFileSync(`${path}.stale-${dead}-3-1700000000002`, `${JSON.stringify(owner)}\n`);
        const err = lockError(() => acquireArrayLock(path));
        expect(err?.code).toBe('LOCKED');
        expect(err?.owner?.pid).toBe(owner.pid);
        expect(readLock(path)).toEqual(owner);
        expect(leftovers()).toEqual([mine, oldStyle].map((f) => f.slice(dir.length + 1)).sort());
      } finally {
        child.kill('SIGKILL');
      }
    });
  });
});
