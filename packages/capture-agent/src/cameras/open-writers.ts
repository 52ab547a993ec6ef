// Which of these files does a local process hold open for writing? Linux /proc, read once per poll.
//
// A camera that writes through a local process (a tethering daemon, a copy from a card) can be seen
// here; one writing over a network share cannot. Some processes' open files cannot be seen at all:
// another user's (unless the agent is root, or has both CAP_DAC_READ_SEARCH, to list another
// user's mode-0500 fd folder, and CAP_SYS_PTRACE, to follow its entries), and any process the kernel
// refuses to show even to root (a VM's or container's supervisor holding capabilities the agent
// lacks). The answer is therefore 'closed' only when every process could be inspected, or those
// that could not are named by the operator as never writing camera files; otherwise 'unknown', and
// the completeness rule falls back to the longer size-stable time.
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import type { WriterState } from './completeness.js';

const O_ACCMODE = 0o3;
const O_RDONLY = 0;

export interface WriterScan {
  /** Writer state for each asked path (absolute, as /proc shows it). */
  stateOf(path: string): WriterState;
  /** Whether every process could be inspected (or was named a non-writer): else no file is 'closed'. */
  readonly isComplete: boolean;
}

export interface ProcessTableOptions {
  /** Where the process table is read. Default /proc. */
  procRoot?: string;
  /**
   * Names (as /proc/PID/comm shows them) of processes that never write camera files: when their
   * open files cannot be seen, that does not stop a file being proven closed.
   */
  notWriters?: ReadonlySet<string>;
}

/** A process whose open files cannot be seen. */
export interface HiddenProcess {
  pid: number;
  /** Its name as /proc/PID/comm shows it ('' if unreadable). */
  name: string;
}

/**
 * What a process holds: 'ended' (gone meanwhile, fine), or the targets of the descriptors that
 * could be followed and whether any could not (`isHidden`: its table, or where one of its
 * descriptors points, cannot be read: a blind spot).
 */
type Descriptors = 'ended' | { targets: Array<{ fd: string; target: string }>; isHidden: boolean };

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
 * The descriptors of `pid` and where they point. The kernel checks access per process (ptrace
 * rules): when one descriptor's target is refused, all are, so the first refusal ends the look. (Not
 * reading the rest matters: this VM's supervisor holds 250 descriptors, each refusal a thrown
 * error, and that was 60 % of a scan's cost.) A descriptor closed between the listing and its
 * readlink (ENOENT) is skipped; any other failure leaves the process a blind spot.
 */
function descriptorsOf(procRoot: string, pid: string): Descriptors {
  let fds: string[];
  try {
    fds = readdirSync(`${procRoot}/${pid}/fd`);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'ended' : { targets: [], isHidden: true };
  }
  const targets: Array<{ fd: string; target: string }> = [];
  for (const fd of fds) {
    try {
      targets.push({ fd, target: readlinkSync(`${procRoot}/${pid}/fd/${fd}`) });
    } catch (err) {
      // Those already followed are kept: a writer found before the refusal (the process changed
      // credentials mid-listing) is still a writer.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return { targets, isHidden: true };
    }
  }
  return { targets, isHidden: false };
}

/** The name of `pid` as /proc/PID/comm shows it (readable for every process); '' if it cannot be read. */
function processName(procRoot: string, pid: string): string {
  try {
    return readFileSync(`${procRoot}/${pid}/comm`, 'utf8').replace(/\n$/, '');
  } catch {
    return '';
  }
}

/**
 * Whether a hidden process counts as a blind spot: yes, unless the operator named it a non-writer
 * (a process whose name cannot be read is never taken for a named one).
 */
function isBlindSpot(procRoot: string, pid: string, notWriters: ReadonlySet<string> | undefined): boolean {
  if (!notWriters || notWriters.size === 0) return true;
  const name = processName(procRoot, pid);
  return name === '' || !notWriters.has(name);
}

/**
 * Whether the proc file system at `procRoot` may leave processes out of its listing altogether:
 * mounted with hidepid=2 / hidepid=invisible (e.g. systemd's ProtectProc=invisible), it lists only
 * the processes the reader may inspect, unless the reader has CAP_SYS_PTRACE or is in the mount's
 * gid= group. Such a listing cannot prove that no process holds a file open (the scan's blind spots
 * would not even be seen). Pure: `mountinfo` as /proc/self/mountinfo, `capEffHex` as CapEff,
 * `groups` the reader's group ids. A procRoot that is not on a proc mount (a test's fake table)
 * hides nothing.
 */
export function procListingMayHide(mountinfo: string, procRoot: string, capEffHex: string, groups: readonly number[]): boolean {
  let best: { point: string; fsType: string; superOptions: string } | null = null;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    const point = fields[4]?.replace(/\\040/g, ' ');
    if (dash < 0 || point === undefined) continue;
    const isUnder = procRoot === point || procRoot.startsWith(point.endsWith('/') ? point : `${point}/`);
    // The last of equally long mount points is the one on top.
    if (isUnder && (best === null || point.length >= best.point.length)) {
      best = { point, fsType: fields[dash + 1] ?? '', superOptions: fields[dash + 3] ?? '' };
    }
  }
  if (best === null || best.fsType !== 'proc') return false;
  const options = best.superOptions.split(',');
  if (!options.includes('hidepid=2') && !options.includes('hidepid=invisible')) return false;
  if (hasCapability(capEffHex, CAP_SYS_PTRACE)) return false;
  const gid = options.find((o) => o.startsWith('gid='));
  return !(gid !== undefined && groups.includes(Number(gid.slice(4))));
}

const listingMayHide = new Map<string, boolean>();

/** procListingMayHide for this process, read once per procRoot (mount options do not change in flight). */
export function ownProcListingMayHide(procRoot = '/proc'): boolean {
  let answer = listingMayHide.get(procRoot);
  if (answer === undefined) {
    try {
      answer = procListingMayHide(
        readFileSync('/proc/self/mountinfo', 'utf8'),
        realpathSync(procRoot),
        ownCapEff(),
        [...new Set([...(process.getgroups?.() ?? []), process.getgid?.() ?? -1])],
      );
    } catch {
      answer = false; // no mountinfo (not Linux) or no procRoot: the scan's own checks decide
    }
    listingMayHide.set(procRoot, answer);
  }
  return answer;
}

/**
 * Scans /proc for open-for-write descriptors on any of `paths`. Synchronous on purpose: a few
 * thousand readlinks of an in-kernel table, and a consistent snapshot. Our own process is skipped
 * (it only reads, to hash).
 */
export function scanWriters(paths: ReadonlySet<string>, options: ProcessTableOptions = {}): WriterScan {
  const procRoot = options.procRoot ?? '/proc';
  const open = new Set<string>();
  let isComplete = !ownProcListingMayHide(procRoot);
  const pids = otherPids(procRoot);
  if (pids === null) return { stateOf: () => 'unknown', isComplete: false };
  if (paths.size > 0) {
    for (const pid of pids) {
      const fds = descriptorsOf(procRoot, pid);
      if (fds === 'ended') continue;
      if (fds.isHidden && isComplete && isBlindSpot(procRoot, pid, options.notWriters)) isComplete = false;
      for (const { fd, target } of fds.targets) if (paths.has(target) && isWritable(procRoot, pid, fd)) open.add(target);
    }
  }
  return {
    stateOf: (path: string): WriterState => (open.has(path) ? 'open' : isComplete ? 'closed' : 'unknown'),
    isComplete,
  };
}

/**
 * The processes whose open files cannot be seen here, less those named as non-writers. While any
 * remains, no scan can prove a file closed (scanWriters answers 'unknown'), and every picture waits
 * its longer size-stable time. [] without /proc (the scan is not used at all).
 */
export function hiddenProcesses(options: ProcessTableOptions = {}): HiddenProcess[] {
  const procRoot = options.procRoot ?? '/proc';
  return (otherPids(procRoot) ?? [])
    .filter((pid) => {
      const fds = descriptorsOf(procRoot, pid);
      return fds !== 'ended' && fds.isHidden && isBlindSpot(procRoot, pid, options.notWriters);
    })
    .map((pid) => ({ pid: Number(pid), name: processName(procRoot, pid) }));
}

/** Linux capability numbers (linux/capability.h) the process table scan needs for other users' processes. */
const CAP_DAC_READ_SEARCH = 2n;
const CAP_SYS_PTRACE = 19n;

/**
 * Whether effective capabilities `capEffHex` (the CapEff line of /proc/PID/status, hex) include both
 * CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE: then any process the scan cannot see is hidden by the
 * kernel whatever the agent's privileges (a VM's or container's supervisor), and only naming it as a
 * non-writer can help. Pure.
 */
export function canSeeEveryUser(capEffHex: string): boolean {
  return hasCapability(capEffHex, CAP_DAC_READ_SEARCH) && hasCapability(capEffHex, CAP_SYS_PTRACE);
}

/** Whether capability number `cap` is set in `capEffHex` (hex as CapEff shows it; anything else: none). */
function hasCapability(capEffHex: string, cap: bigint): boolean {
  const hex = capEffHex.trim();
  return /^[0-9a-fA-F]{1,16}$/.test(hex) && ((BigInt(`0x${hex}`) >> cap) & 1n) === 1n;
}

/** This process's effective capabilities, hex as /proc/self/status shows them; '' where it cannot be read. */
export function ownCapEff(): string {
  try {
    return /^CapEff:\s*([0-9a-fA-F]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
  } catch {
    return '';
  }
}
