// One agent per array: a lock file holding the owner's pid and the identity of that process
// (boot id + process start time from /proc), so a pid reused after a reboot or a crash is not
// mistaken for a live agent. A lock whose owner is gone is taken over, and the caller warned.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

export type LockErrorCode = 'LOCKED' | 'IO';

export class LockError extends Error {
  override readonly name = 'LockError';
  constructor(
    readonly code: LockErrorCode,
    message: string,
    readonly owner: LockOwner | null = null,
  ) {
    super(message);
  }
}

/** What the lock file holds (JSON). */
export interface LockOwner {
  pid: number;
  hostname: string;
  /** /proc/sys/kernel/random/boot_id at lock time, or null off Linux. */
  bootId: string | null;
  /** The owner's start time in clock ticks since boot (/proc/<pid>/stat field 22), or null. */
  startTicks: string | null;
  /** When the lock was taken, µs since epoch. */
  lockedAtUs: number;
}

export interface ArrayLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** The stale owner this lock replaced, if any. */
  readonly tookOverFrom: LockOwner | null;
  /** Removes the lock file if it is still ours. */
  release(): void;
}

function readBootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

function readStartTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 overall = index 19 after the first two
  } catch {
    return null;
  }
}

function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the process described by `owner` is still running on this machine. */
export function isOwnerAlive(owner: LockOwner): boolean {
  if (owner.hostname !== hostname()) return false; // the array was moved here from another machine
  const bootId = readBootId();
  if (owner.bootId !== null && bootId !== null && owner.bootId !== bootId) return false; // rebooted since
  if (!isPidAlive(owner.pid)) return false;
  if (owner.startTicks !== null) {
    const ticks = readStartTicks(owner.pid);
    if (ticks !== null && ticks !== owner.startTicks) return false; // pid reused by another process
  }
  return true;
}

function parseOwner(text: string): LockOwner | null {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid !== 'number' || !Number.isInteger(o.pid) || o.pid <= 0) return null;
    return {
      pid: o.pid,
      hostname: typeof o.hostname === 'string' ? o.hostname : '',
      bootId: typeof o.bootId === 'string' ? o.bootId : null,
      startTicks: typeof o.startTicks === 'string' ? o.startTicks : null,
      lockedAtUs: typeof o.lockedAtUs === 'number' ? o.lockedAtUs : 0,
    };
  } catch {
    return null;
  }
}

/** Reads the lock file; null when there is none or it is unreadable garbage. */
export function readLock(path: string): LockOwner | null {
  try {
    return parseOwner(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

function writeNew(path: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new LockError('IO', `lock ${path}: cannot create (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    writeSync(fd, `${JSON.stringify(owner)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes the array's lock for this process. Throws LockError 'LOCKED' when a live agent holds it.
 * A lock left by a dead process (or garbage) is moved aside and replaced; `tookOverFrom` says so.
 */
export function acquireArrayLock(path: string): ArrayLock {
  const owner: LockOwner = {
    pid: process.pid,
    hostname: hostname(),
    bootId: readBootId(),
    startTicks: readStartTicks(process.pid),
    lockedAtUs: Date.now() * 1000,
  };
  let tookOverFrom: LockOwner | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (writeNew(path, owner)) {
      // Two agents taking over the same stale lock at once: only the one whose pid is in the file wins.
      const now = readLock(path);
      if (now?.pid !== owner.pid) break;
      return {
        path,
        owner,
        tookOverFrom,
        release(): void {
          if (readLock(path)?.pid === owner.pid) {
            try {
              unlinkSync(path);
            } catch {
              /* already gone */
            }
          }
        },
      };
    }
    const existing = readLock(path);
    if (existing && isOwnerAlive(existing)) {
      throw new LockError('LOCKED', `array is locked by a running capture-agent (pid ${existing.pid}, lock ${path})`, existing);
    }
    tookOverFrom = existing ?? { pid: 0, hostname: '', bootId: null, startTicks: null, lockedAtUs: 0 };
    try {
      renameSync(path, `${path}.stale`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new LockError('IO', `lock ${path}: cannot move stale lock aside (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
    }
  }
  const holder = readLock(path);
  throw new LockError('LOCKED', `array is locked by another capture-agent (pid ${holder?.pid ?? '?'}, lock ${path})`, holder);
}
