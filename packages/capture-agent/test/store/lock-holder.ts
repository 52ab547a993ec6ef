// A second connection to a flight DB, in a real second process, that holds the DB's write lock
// (BEGIN IMMEDIATE, then an event written as the camera side's asset writer would) the way the
// camera writer thread in a long transaction, a catch-up pass or an operator's sqlite3 shell does.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { waitFor } from '../helpers/pty.js';

export interface LockHolder {
  /** Commits (releasing the lock) now, if not done yet; resolves once the child has committed. */
  release(): Promise<void>;
  /** Resolves once the child has committed (by release() or by itself after `holdMs`). */
  released: Promise<void>;
}

export interface HoldOptions {
  /** The child commits by itself this long after taking the lock (it does not need this process's event loop). Default: only on release(). */
  holdMs?: number;
  /** Written in the held event's message, to tell holders apart. */
  label?: string;
}

const holders = new Set<ChildProcess>();

/** Kills every holder still running (afterEach). */
export function killLockHolders(): void {
  for (const c of holders) c.kill('SIGKILL');
  holders.clear();
}

export async function holdWriteLock(path: string, options: HoldOptions = {}): Promise<LockHolder> {
  const sharedUrl = pathToFileURL(createRequire(import.meta.url).resolve('@flysnap/shared')).href;
  const code = `
    const { openFlightDb, recordEvent } = await import(${JSON.stringify(sharedUrl)});
    const db = openFlightDb(${JSON.stringify(path)});
    db.db.exec('BEGIN IMMEDIATE');
    recordEvent(db, { tUs: Date.now() * 1000, monoUs: null, level: 'info', source: 'camera:test', code: 'held', message: ${JSON.stringify(options.label ?? 'held')}, data: null });
    let isDone = false;
    const commit = () => {
      if (isDone) return;
      isDone = true;
      db.db.exec('COMMIT');
      db.close({ keepWal: true });
      process.stdout.write('released\\n');
      process.exit(0);
    };
    process.stdout.write('held\\n');
    process.stdin.once('data', commit);
    ${options.holdMs === undefined ? '' : `setTimeout(commit, ${options.holdMs});`}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'pipe'] });
  holders.add(child);
  let out = '';
  let err = '';
  let onReleased: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (onReleased = resolve));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('released')) onReleased();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.on('exit', () => holders.delete(child));
  await waitFor(() => {
    // 'held' first: a blocked event loop here may only see the child after it has let go and exited.
    if (out.includes('held')) return true;
    if (child.exitCode !== null) throw new Error(`lock holder exited: ${err}`);
    return false;
  }, 'the second process holding the write lock');
  return {
    released,
    release: async () => {
      if (!out.includes('released')) child.stdin!.write('go\n');
      await waitFor(() => out.includes('released'), 'the second process committing');
    },
  };
}
