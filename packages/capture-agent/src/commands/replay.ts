import type { Command } from 'commander';
import { PORT_ROLES, type PortRole } from '@flysnap/shared';
import { ConfigError } from '../config/index.js';
import { createLogger } from '../log/index.js';
import { replayLogs, type ReplayLogSpec } from '../replay/index.js';
import { reportFailure } from './errors.js';

export interface ReplayCommandOptions {
  array: string;
  role?: string[];
  aircraft?: string;
  json?: boolean;
  verbose?: boolean;
}

/** `LOG` or `PORT=LOG`. */
function parseLogArg(arg: string, roles: Map<string, PortRole>): ReplayLogSpec {
  const eq = arg.indexOf('=');
  const spec: ReplayLogSpec = eq > 0 && !arg.slice(0, eq).includes('/') ? { port: arg.slice(0, eq), file: arg.slice(eq + 1) } : { file: arg };
  const role = spec.port === undefined ? undefined : roles.get(spec.port);
  if (role !== undefined) spec.role = role;
  return spec;
}

function parseRoles(values: readonly string[]): Map<string, PortRole> {
  const roles = new Map<string, PortRole>();
  for (const v of values) {
    const [port, role] = v.split('=');
    if (!port || !role || !(PORT_ROLES as readonly string[]).includes(role)) {
      throw new ConfigError('INVALID', '--role', [`${JSON.stringify(v)}: expected PORT=ROLE with ROLE one of ${PORT_ROLES.join('|')}`]);
    }
    roles.set(port, role as PortRole);
  }
  return roles;
}

/** `replay --array DIR LOG...`. */
export async function replayCommand(logs: string[], opts: ReplayCommandOptions): Promise<void> {
  try {
    const roles = parseRoles(opts.role ?? []);
    const log = createLogger({ level: 'warn', out: process.stderr, isPretty: Boolean(process.stderr.isTTY) });
    const startMs = performance.now();
    const result = await replayLogs({
      arrayRoot: opts.array,
      logs: logs.map((l) => parseLogArg(l, roles)),
      ...(opts.aircraft === undefined ? {} : { aircraft: opts.aircraft }),
      log,
    });
    const seconds = (performance.now() - startMs) / 1000;
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ ...result, seconds }, null, 2)}\n`);
    } else {
      for (const f of result.files) {
        process.stdout.write(`${f.file}: ${f.format} log, ${f.lines} lines, port ${f.ports.join(',')}${f.corruptLines ? `, ${f.corruptLines} corrupt raw-log lines skipped` : ''}\n`);
      }
      process.stdout.write(`flight ${result.flightId}: ${result.lines} lines, ${result.samples} samples in ${seconds.toFixed(2)} s (${Math.round(result.lines / Math.max(seconds, 1e-6))} lines/s)\n`);
    }
  } catch (err) {
    reportFailure(err, opts.verbose === true);
  }
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('decode recorded logs (agent raw logs or plain device logs) into the array flight DB, as fast as possible')
    .requiredOption('-a, --array <dir>', 'array root (created if missing)')
    .argument('<logs...>', 'log files; PORT=FILE names the port (default: raw log header, or the file name)')
    .option('--role <port=role>', 'role of a port (gps feeds the flight clock; default gps for plain logs)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--aircraft <name>', 'aircraft of a new flight', 'replay')
    .option('--json', 'print the result as JSON')
    .option('--verbose', 'print stack traces on failure')
    .action(async (logs: string[], opts: ReplayCommandOptions) => replayCommand(logs, opts));
}
