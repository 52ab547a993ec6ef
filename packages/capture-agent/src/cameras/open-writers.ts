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

/**
 * Scans /proc for open-for-write descriptors on any of `paths`. Synchronous on purpose: a few
 * thousand readlinks of an in-kernel table, and a consistent snapshot. Our own process is skipped
 * (it only reads, to hash).
 */
export function scanWriters(paths: ReadonlySet<string>, procRoot = '/proc'): WriterScan {
  const open = new Set<string>();
  let isComplete = true;
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter((n) => /^\d+$/.test(n) && n !== String(process.pid));
  } catch {
    return { stateOf: () => 'unknown' };
  }
  if (paths.size > 0) {
    for (const pid of pids) {
      let fds: string[];
      try {
        fds = readdirSync(`${procRoot}/${pid}/fd`);
      } catch (err) {
        // ENOENT: the process ended meanwhile (fine). EACCES: another user's process we cannot see.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') isComplete = false;
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
 * (scanWriters answers 'unknown'), and every picture waits its longer size-stable time.
 */
export function hiddenProcessCount(procRoot = '/proc'): number {
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter((n) => /^\d+$/.test(n) && n !== String(process.pid));
  } catch {
    return 0; // no /proc: the scan is not used at all
  }
  let hidden = 0;
  for (const pid of pids) {
    try {
      readdirSync(`${procRoot}/${pid}/fd`);
    } catch (err) {
      // The same rule as scanWriters: only a process that ended meanwhile is not a blind spot.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') hidden++;
    }
  }
  return hidden;
}
