// Which of these files does a local process hold open for writing? Linux /proc, read once per poll.
//
// A camera that writes through a local process (a tethering daemon, a copy from a card) can be seen
// here; one writing over a network share cannot, and a process of another user is unreadable to an
// unprivileged service. The answer is therefore 'closed' only when every process could be inspected;
// otherwise 'unknown', and the completeness rule falls back to the longer size-stable time.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { WriterState } from './completeness.js';

const O_ACCMODE = 0o3;
const O_RDONLY = 0;

export interface WriterScan {
  /** Writer state for each asked path (absolute, as /proc shows it). */
  stateOf(path: string): WriterState;
}

/** Whether fd `fd` of `pid` is open for writing (flags in /proc/PID/fdinfo are octal). */
function isWritable(procRoot: string, pid: string, fd: string): boolean {
  try {
    const info = readFileSync(`${procRoot}/${pid}/fdinfo/${fd}`, 'utf8');
    const m = /^flags:\s*([0-7]+)/m.exec(info);
    if (!m?.[1]) return true;
    return (parseInt(m[1], 8) & O_ACCMODE) !== O_RDONLY;
  } catch {
    return true; // closed in between, or unreadable: assume the worst (still open)
  }
}

/** Every other process's pid under `procRoot`; null when it cannot be listed (no /proc). */
function otherPids(procRoot: string): string[] | null {
  try {
    return readdirSync(procRoot).filter((n) => /^\d+$/.test(n) && n !== String(process.pid));
  } catch {
    return null;
  }
}

/**
 * The descriptor numbers `pid` holds: [] when it ended meanwhile (ENOENT, fine); null when its
 * table cannot be read (EACCES: another user's process we cannot see), a blind spot.
 */
function fdsOf(procRoot: string, pid: string): string[] | null {
  try {
    return readdirSync(`${procRoot}/${pid}/fd`);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? [] : null;
  }
}

/**
 * Scans /proc for open-for-write descriptors on any of `paths`. Synchronous on purpose: a few
 * thousand readlinks of an in-kernel table, and a consistent snapshot. Our own process is skipped
 * (it only reads, to hash).
 */
export function scanWriters(paths: ReadonlySet<string>, procRoot = '/proc'): WriterScan {
  const open = new Set<string>();
  let isComplete = true;
  const pids = otherPids(procRoot);
  if (pids === null) return { stateOf: () => 'unknown' };
  if (paths.size > 0) {
    for (const pid of pids) {
      const fds = fdsOf(procRoot, pid);
      if (fds === null) {
        isComplete = false;
        continue;
      }
      for (const fd of fds) {
        let target: string;
        try {
          target = readlinkSync(`${procRoot}/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        if (paths.has(target) && isWritable(procRoot, pid, fd)) open.add(target);
      }
    }
  }
  return {
    stateOf: (path: string): WriterState => (open.has(path) ? 'open' : isComplete ? 'closed' : 'unknown'),
  };
}

/**
 * How many processes' descriptor tables cannot be read here (another user's process, unless the
 * agent runs as root or has CAP_SYS_PTRACE). While any cannot, no scan can prove a file closed
 * (scanWriters answers 'unknown'), and every picture waits its longer size-stable time. 0 without
 * /proc (the scan is not used at all).
 */
export function hiddenProcessCount(procRoot = '/proc'): number {
  return (otherPids(procRoot) ?? []).filter((pid) => fdsOf(procRoot, pid) === null).length;
}
