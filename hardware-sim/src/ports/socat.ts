// Starting socat and reading what it says: the one place that knows socat's command line and
// its notices. Each simulated port is one socat process joining our pipe (its stdin/stdout) to a
// pseudo-terminal whose slave side the agent opens through a symlink.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, readlink, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { SimError } from '../errors.js';

export type SocatChild = ChildProcessByStdio<Writable, Readable, Readable>;

/** How long socat may take to create its PTY and symlink before we give up. */
const LINK_TIMEOUT_MS = 10_000;
const LINK_POLL_MS = 10;

export interface SocatPty {
  child: SocatChild;
  /** The PTY slave, e.g. /dev/pts/7. */
  devicePath: string;
  /** Resolves when socat starts moving data (with `waitForReader`: when a reader opened the port). */
  transferStarted: Promise<void>;
  /** Bytes socat has printed on stderr (its notices) and stdout (what the reader wrote to the port) so far. */
  outputBytes: () => number;
}

/** Removes a symlink left by a run that was killed; refuses a path that is in use or not ours. */
export async function clearStaleLink(path: string): Promise<void> {
  let info;
  try {
    info = await lstat(path);
  } catch {
    return;
  }
  if (!info.isSymbolicLink()) {
    throw new SimError('BAD_INPUT', `port path ${path} exists and is not a symlink: choose another path or remove it`);
  }
  const target = await readlink(path);
  const isLive = await stat(path).then(
    () => true,
    () => false,
  );
  if (isLive && target.startsWith('/dev/pts/')) {
    throw new SimError('PORT_FAILED', `port path ${path} is in use (points at live ${target}): is another hardware-sim running?`);
  }
  if (!isLive || target.startsWith('/dev/pts/')) await unlink(path);
  else throw new SimError('BAD_INPUT', `port path ${path} is a symlink to ${target}, not a PTY: choose another path`);
}

/**
 * Starts `socat STDIO pty,raw,echo=0,link=PATH` and waits until the symlink exists. `raw,echo=0`
 * makes the PTY pass every byte unchanged (no CR/LF mapping, no XON/XOFF, no echo).
 *
 * With `waitForReader`: `socat -u STDIO pty,...,wait-slave`. `wait-slave` holds data back until the
 * FIRST reader opens the slave (after that, what socat is given goes into the PTY whether anyone
 * has it open or not, and a reader opening the port flushes what is queued there: serialport's open
 * does tcflush; PtyPort decides itself when data may go in, see pty.ts). With wait-slave socat keeps
 * no descriptor of its own on the slave, so a reader closing the port (an agent reopening a silent
 * port) is an EOF when socat reads the master: it would end 0.5 s later, hang up the PTY and remove
 * the path. `-u` (one way: stdin into the PTY) makes socat never read the master, so it never sees
 * that EOF and the port stays for the next reader, as a real device stays when its port is closed.
 * (`ignoreeof`, used before, kept the port but made socat do blocking reads on the master after the
 * first EOF: with a reader that has the port open and writes nothing, socat then sat in read() and
 * passed nothing more on.) The cost: what a reader writes to the port is not read by anyone (after
 * the few kB a PTY holds, its writes block); without waitForReader it is read and counted.
 */
export async function startSocatPty(linkPath: string, waitForReader: boolean): Promise<SocatPty> {
  const ptyAddress = `pty,raw,echo=0,link=${linkPath}${waitForReader ? ',wait-slave' : ''}`;
  const started = await startSocat(waitForReader ? ['-u', 'STDIO', ptyAddress] : ['STDIO', ptyAddress], [linkPath]);
  return { ...started, devicePath: started.devicePaths[0] ?? '' };
}

/** Starts socat on two linked PTYs (a null-modem cable): what one end writes, the other reads. */
export async function startSocatPair(pathA: string, pathB: string): Promise<{ child: SocatChild; devicePaths: string[] }> {
  return startSocat([`pty,raw,echo=0,link=${pathA}`, `pty,raw,echo=0,link=${pathB}`], [pathA, pathB]);
}

async function startSocat(
  /** socat's options and addresses, after `-d -d`. */
  addresses: string[],
  links: string[],
): Promise<{ child: SocatChild; devicePaths: string[]; transferStarted: Promise<void>; outputBytes: () => number }> {
  for (const link of links) {
    await mkdir(dirname(link), { recursive: true });
    await clearStaleLink(link);
  }
  const child = spawn('socat', ['-d', '-d', ...addresses], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderrText = '';
  let outputBytes = 0;
  let resolveTransfer: () => void = () => undefined;
  const transferStarted = new Promise<void>((resolve) => (resolveTransfer = resolve));
  child.stderr.on('data', (chunk: Buffer) => {
    outputBytes += chunk.length;
    stderrText += chunk.toString('latin1');
    if (stderrText.includes('starting data transfer loop')) resolveTransfer();
    if (stderrText.length > 64_000) stderrText = stderrText.slice(-8_000);
  });
  // The agent may write to its port (commands to a receiver): count it and let it go.
  child.stdout.on('data', (chunk: Buffer) => (outputBytes += chunk.length));
  child.stdin.on('error', () => undefined);

  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT'
          ? new SimError('SOCAT_MISSING', 'socat is not installed: run scripts/setup.sh (or apt-get install socat)')
          : new SimError('PORT_FAILED', `cannot start socat for ${links.join(', ')}: ${err.message}`, { cause: err }),
      ),
    );
  });

  const deadline = Date.now() + LINK_TIMEOUT_MS;
  for (;;) {
    const devicePaths = [...stderrText.matchAll(/PTY is (\/dev\/\S+)/g)].map((m) => m[1] ?? '');
    const linksExist = await Promise.all(links.map((l) => lstat(l).then(() => true, () => false)));
    if (devicePaths.length >= links.length && linksExist.every(Boolean)) {
      return { child, devicePaths, transferStarted, outputBytes: () => outputBytes };
    }
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      const said = stderrText.trim().split('\n').pop() ?? '';
      throw new SimError('PORT_FAILED', `socat could not create the PTY at ${links.join(', ')}${said ? `: ${said}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, LINK_POLL_MS));
  }
}

/** Stops socat (it removes its symlinks on SIGTERM) and removes the symlinks if still there. */
export async function stopSocat(child: SocatChild, ...linkPaths: string[]): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }
  for (const link of linkPaths) await unlink(link).catch(() => undefined);
}

/**
 * Bytes socat has written so far (Linux /proc/PID/io `wchar`), or null where that is not readable.
 * Includes what it wrote on stdout/stderr: the caller subtracts those.
 */
export async function socatWrittenBytes(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    const text = await readFile(`/proc/${pid}/io`, 'utf8');
    const m = /^wchar:\s*(\d+)/m.exec(text);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** How long one scan of who holds which PTY open is reused (it reads every process's fd table). */
const HOLDERS_CACHE_MS = 100;
let holdersCache: { atMs: number; holders: Promise<Map<string, Set<number>> | null> } | null = null;

/**
 * Which processes hold each /dev/pts/N open (from /proc/PID/fd), or null where /proc cannot tell
 * (not Linux). Processes whose fd table we may not read (another user's, when we are not root) are
 * not seen: a reader running as another user looks like no reader.
 */
export function ptyHolders(): Promise<Map<string, Set<number>> | null> {
  const now = performance.now();
  if (holdersCache && now - holdersCache.atMs < HOLDERS_CACHE_MS) return holdersCache.holders;
  const holders = scanPtyHolders();
  holdersCache = { atMs: now, holders };
  return holders;
}

async function scanPtyHolders(): Promise<Map<string, Set<number>> | null> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const out = new Map<string, Set<number>>();
  await Promise.all(
    pids.map(async (pid) => {
      let fds: string[];
      try {
        fds = await readdir(`/proc/${pid}/fd`);
      } catch {
        return; // gone, or not ours to read
      }
      for (const fd of fds) {
        const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
        if (!target.startsWith('/dev/pts/')) continue;
        let set = out.get(target);
        if (!set) out.set(target, (set = new Set()));
        set.add(Number(pid));
      }
    }),
  );
  return out;
}

/**
 * The processes other than socat that hold the PTY slave open (a full /proc scan, reused for up to
 * HOLDERS_CACHE_MS), or null where /proc cannot tell.
 */
export async function ptyReaderPids(devicePath: string, socatPid: number | undefined): Promise<Set<number> | null> {
  const holders = await ptyHolders();
  if (!holders) return null;
  return new Set([...(holders.get(devicePath) ?? [])].filter((pid) => pid !== socatPid));
}

/**
 * The descriptors (as `/proc/PID/fd/N` paths) by which `pids` hold `devicePath` open, read afresh
 * from those processes' fd tables only (no scan of every process); empty when none of them does.
 */
export async function ptyFdsOf(pids: ReadonlySet<number>, devicePath: string): Promise<string[]> {
  const out: string[] = [];
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      const path = `/proc/${pid}/fd/${fd}`;
      if ((await readlink(path).catch(() => '')) === devicePath) out.push(path);
    }
  }
  return out;
}

/** Whether one of these `/proc/PID/fd/N` still points at `devicePath` (one readlink each). */
export async function fdsStillOn(fdPaths: readonly string[], devicePath: string): Promise<boolean> {
  for (const path of fdPaths) if ((await readlink(path).catch(() => '')) === devicePath) return true;
  return false;
}

/**
 * Whether some process other than socat holds the PTY slave open (socat itself keeps one fd on
 * it), or null where /proc cannot tell.
 */
export async function hasPtyReader(devicePath: string, socatPid: number | undefined): Promise<boolean | null> {
  const holders = await ptyHolders();
  if (!holders) return null;
  return [...(holders.get(devicePath) ?? [])].some((pid) => pid !== socatPid);
}
