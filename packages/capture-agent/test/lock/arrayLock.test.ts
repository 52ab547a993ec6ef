import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockError, acquireArrayLock, readLock } from '../../src/lock/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The pid of a process that has certainly exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout as unknown as number;
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
});
