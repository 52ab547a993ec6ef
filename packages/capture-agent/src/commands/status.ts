import type { Command } from 'commander';
import { formatAgentStatus, readAgentStatus } from '../status/index.js';
import { reportFailure } from './errors.js';

export interface StatusCommandOptions {
  array: string;
  json?: boolean;
  verbose?: boolean;
}

/** `status --array DIR [--json]`. */
export function statusCommand(opts: StatusCommandOptions): void {
  try {
    const status = readAgentStatus(opts.array);
    process.stdout.write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : `${formatAgentStatus(status)}\n`);
  } catch (err) {
    reportFailure(err, opts.verbose === true);
  }
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("the flight's state on an array: ports, sentences, samples, clock, last fix, disk")
    .requiredOption('-a, --array <dir>', 'array root')
    .option('--json', 'machine-readable JSON')
    .option('--verbose', 'print stack traces on failure')
    .action((opts: StatusCommandOptions) => statusCommand(opts));
}
