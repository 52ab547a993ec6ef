// One agent per array: a lock file holding the owner's pid and the identity of that process
// (boot id + process start time from /proc), so a pid reused after a reboot or a crash is not
// mistaken for a live agent. A lock whose owner is gone is taken over, and the caller warned.
import { closeSync, fsyncSync, linkSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

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

/**
 * Whether the process described by `owner` is still running on this machine. The boot id names
 * one boot of one machine: a lock from another boot (rebooted since, or the array moved here from
 * another machine) is stale, and one from this boot is judged by its process alone (pid + start
 * time). The hostname is not an identity: a machine renamed while its agent runs is the same
 * machine, and its agent must keep its lock. Only without a boot id on either side is a different
 * hostname taken as another machine.
 */
export function isOwnerAlive(owner: LockOwner): boolean {
  const bootId = readBootId();
  if (owner.bootId !== null && bootId !== null) {
    if (owner.bootId !== bootId) return false;
  } else if (owner.hostname !== hostname()) {
    return false;
  }
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

let tmpSeq = 0;
/** This process's identity in its temporary names: `<pid>-<start ticks>-<boot id>` ('x' = unknown). */
let myNameId: string | null = null;

/**
 * A name next to `path` that no other process or call uses:
 * `<path>.<tag>-<pid>-<start ticks>-<boot id>-<seq>-<ms>`. The maker's identity in the name lets a
 * later acquire prove that the process that made it is gone (see removeAbandonedTemporaries),
 * without trusting the wall clock (which may step at boot, when the GPS sets it).
 */
function uniqueName(path: string, tag: 'new' | 'stale'): string {
  tmpSeq += 1;
  myNameId ??= `${process.pid}-${readStartTicks(process.pid) ?? 'x'}-${readBootId() ?? 'x'}`;
  return `${path}.${tag}-${myNameId}-${tmpSeq}-${Date.now()}`;
}

/**
 * `<lock>.new-…` / `<lock>.stale-…` names: tag, pid, start ticks, boot id, seq, ms. Names made
 * before the identity was part of them (`<pid>-<seq>-<ms>`) match with ticks and boot id unset.
 */
const TEMP_NAME = /^\.(new|stale)-(\d+)-(?:(\d+|x)-([0-9a-f-]{36}|x)-)?(\d+)-(\d+)$/;

/**
 * Whether the process that made a temporary file is certainly gone: the name is from another
 * boot, or its pid is not running, or runs a process started at another time than the one in the
 * name (pid reused). A running pid with no start time in the name keeps its file: not provable.
 */
function isMakerGone(pid: number, startTicks: string | null, bootId: string | null): boolean {
  const currentBootId = readBootId();
  if (bootId !== null && currentBootId !== null && bootId !== currentBootId) return true;
  if (!isPidAlive(pid)) return true;
  if (startTicks === null) return false;
  const ticks = readStartTicks(pid);
  return ticks !== null && ticks !== startTicks;
}

/**
 * Removes the temporary files an acquire leaves only when its process dies in the middle of it
 * (`.new-…`: a lock being created; `.stale-…`: a stale lock moved aside), when their maker is
 * certainly gone; they never block an acquire (every name is unique), but would pile up. A
 * `.stale-…` file that holds the lock of a process still running, with no lock file in place, is
 * that owner's lock moved aside by a takeover that died before putting it back: it is put back.
 * Best effort: a file that cannot be looked at or removed is left for the next acquire.
 */
function removeAbandonedTemporaries(path: string): void {
  const folder = dirname(path);
  const prefix = basename(path);
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = TEMP_NAME.exec(name.slice(prefix.length));
    if (m === null) continue;
    const file = join(folder, name);
    const known = (v: string | undefined): string | null => (v === undefined || v === 'x' ? null : v);
    if (!isMakerGone(Number(m[2]), known(m[3]), known(m[4]))) continue;
    if (m[1] === 'stale') {
      const owner = parseOwner(readText(file) ?? '');
      if (owner !== null && isOwnerAlive(owner)) {
        try {
          linkSync(file, path);
        } catch {
          /* EEXIST: a lock is in place; this copy of the live owner's lock is of no more use */
        }
      }
    }
    try {
      unlinkSync(file);
    } catch {
      /* already gone, or not ours to remove: left as it is */
    }
  }
}

function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

/**
 * Creates `path` holding `text`, atomically: the content is written and fsynced under a
 * temporary name, then hard-linked to `path` (link fails with EEXIST when `path` exists), so no
 * reader ever sees the lock file empty or half written. False when `path` already exists.
 */
function createWithContent(path: string, text: string): boolean {
  const tmp = uniqueName(path, 'new');
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new LockError('IO', `lock ${path}: cannot create (${errCode(err)})`);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * Removes `path` only if it still holds `expected`: renames it to a unique name, compares, and
 * links it back when it turned out to be another file (someone replaced it since it was read).
 * True when the expected file was removed, or `path` was already gone.
 */
function removeIfUnchanged(path: string, expected: string): boolean {
  const aside = uniqueName(path, 'stale');
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw new LockError('IO', `lock ${path}: cannot move stale lock aside (${errCode(err)})`);
  }
  if (readText(aside) === expected) {
    try {
      unlinkSync(aside);
    } catch {
      /* already gone */
    }
    return true;
  }
  // Not the file that was judged stale: put it back where it was.
  try {
    linkSync(aside, path);
  } catch {
    /* EEXIST: a new lock was created meanwhile; nothing better can be done */
  }
  try {
    unlinkSync(aside);
  } catch {
    /* already gone */
  }
  return false;
}

/** Sleeps the thread (acquire is synchronous) for `ms`. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const NO_OWNER: LockOwner = { pid: 0, hostname: '', bootId: null, startTicks: null, lockedAtUs: 0 };

export interface AcquireLockOptions {
  /**
   * The start of the refusal's message, naming who holds what. Default 'array is locked by a
   * running capture-agent'; the ingest CLI's per-flight lock says its own.
   */
  heldBy?: string;
}

/** How many times acquire looks again while a takeover by another process is under way. */
const MAX_ATTEMPTS = 200;

/**
 * Takes the array's lock for this process. Throws LockError 'LOCKED' when a live agent holds it.
 * A lock left by a dead process (or garbage) is moved aside and replaced; `tookOverFrom` says so.
 *
 * The lock file is created with its content in one step (write a temporary file, fsync, link).
 * Takeovers of a stale lock are serialized by a second lock file, `<path>.takeover`, taken the
 * same way: under it, the stale file is read again, moved aside only if it is still that file,
 * and replaced. A takeover lock left by a dead process is itself removed the same way.
 */
export function acquireArrayLock(path: string, options: AcquireLockOptions = {}): ArrayLock {
  const heldBy = options.heldBy ?? 'array is locked by a running capture-agent';
  const owner: LockOwner = {
    pid: process.pid,
    hostname: hostname(),
    bootId: readBootId(),
    startTicks: readStartTicks(process.pid),
    lockedAtUs: Date.now() * 1000,
  };
  const text = `${JSON.stringify(owner)}\n`;
  const takeoverPath = `${path}.takeover`;
  removeAbandonedTemporaries(path);
  let tookOverFrom: LockOwner | null = null;
  const held = (): ArrayLock => ({
    path,
    owner,
    tookOverFrom,
    release(): void {
      if (readText(path) === text) {
        try {
          unlinkSync(path);
        } catch {
          /* already gone */
        }
      }
    },
  });

  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (createWithContent(path, text)) return held();
    const seen = readText(path);
    if (seen === null) continue; // released meanwhile: try again
    const existing = parseOwner(seen);
    if (existing && isOwnerAlive(existing)) {
      throw new LockError('LOCKED', `${heldBy} (pid ${existing.pid} on ${existing.hostname || 'this machine'}, lock ${path})`, existing);
    }
    // Stale: take it over, one process at a time.
    if (!createWithContent(takeoverPath, text)) {
      const guardText = readText(takeoverPath);
      const guard = guardText === null ? null : parseOwner(guardText);
      if (guardText !== null && (guard === null || !isOwnerAlive(guard))) {
        removeIfUnchanged(takeoverPath, guardText); // left by a dead process
      } else {
        pause(2); // another process is taking over: look again when it is done
      }
      continue;
    }
    try {
      const again = readText(path);
      if (again === null) continue; // gone meanwhile: create it on the next round
      const stale = parseOwner(again);
      if (stale && isOwnerAlive(stale)) continue; // replaced by a live owner: refused next round
      if (!removeIfUnchanged(path, again)) continue;
      tookOverFrom = stale ?? NO_OWNER;
      if (createWithContent(path, text)) return held();
    } finally {
      if (readText(takeoverPath) === text) {
        try {
          unlinkSync(takeoverPath);
        } catch {
          /* already gone */
        }
      }
    }
  }
  const holder = readLock(path);
  throw new LockError('LOCKED', `${heldBy} (pid ${holder?.pid ?? '?'}, lock ${path})`, holder);
}
