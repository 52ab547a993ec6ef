// Runs the built CLI (dist/cli.js) as a child process, as systemd would, and reads its JSON log lines.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './pty.js';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface LogRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface AgentProcess {
  child: ChildProcess;
  records: LogRecord[];
  stderr: () => string;
  /** Waits for a log record matching `pred`. */
  waitForLog(pred: (r: LogRecord) => boolean, what: string, timeoutMs?: number): Promise<LogRecord>;
  /** Resolves with the exit code (or signal) once the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startAgent(args: string[]): AgentProcess {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const records: LogRecord[] = [];
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      try {
        records.push(JSON.parse(line) as LogRecord);
      } catch {
        records.push({ level: 0, msg: line });
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    records,
    stderr: () => err,
    exited,
    async waitForLog(pred, what, timeoutMs = 30_000) {
      let found: LogRecord | undefined;
      let hasExited = false;
      void exited.then(() => (hasExited = true));
      await waitFor(() => {
        found = records.find(pred);
        if (!found && hasExited) throw new Error(`agent exited while waiting for ${what}; stderr: ${err}`);
        return found !== undefined;
      }, what, timeoutMs);
      return found!;
    },
  };
}

/** Runs the CLI to completion. */
export function runCli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Kills an agent that is still running (SIGKILL, as a crash would) and waits until it has ended. */
export async function killAgent(a: AgentProcess): Promise<void> {
  if (a.child.exitCode === null && a.child.signalCode === null) {
    a.child.kill('SIGKILL');
    await a.exited;
  }
}

/** The agents a test file starts, so that its afterEach can kill whichever are still running. */
export class AgentPool {
  readonly #agents: AgentProcess[] = [];

  /** Starts `run --config FILE` and keeps it for `killAll`. */
  run(config: string): AgentProcess {
    const a = startAgent(['run', '--config', config]);
    this.#agents.push(a);
    return a;
  }

  /** Kills every agent started since the last call that is still running, one after the other. */
  async killAll(): Promise<void> {
    for (const a of this.#agents.splice(0)) await killAgent(a);
  }
}
