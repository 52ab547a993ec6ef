// What every subcommand shares: the --state-dir / --config / --verbose options, the context they
// resolve to, and the one place a failure becomes one line on stderr and an exit code.
import type { Command } from 'commander';
import { loadIngestConfig } from '../config/load.js';
import type { LoadedConfig } from '../config/load.js';
import { EXIT, IngestError } from '../errors.js';
import { resolveConfigFile, resolveStateDir, statePaths } from '../state/paths.js';
import type { StatePaths } from '../state/paths.js';

export interface CommonOptions {
  stateDir?: string;
  config?: string;
  verbose?: boolean;
}

/** Adds --state-dir, --config and --verbose to a subcommand. */
export function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('--state-dir <dir>', 'state folder (ledger, archives); default $FLYSNAP_STATE_DIR, /var/lib/flysnap as root, else ~/.local/state/flysnap')
    .option('--config <file>', 'ingest config (JSON); default /etc/flysnap/ingest.json as root, else ~/.config/flysnap/ingest.json; none needed')
    .option('--verbose', 'print stack traces on failure');
}

export interface CommandContext {
  state: StatePaths;
  loaded: LoadedConfig;
  isVerbose: boolean;
  /** Aborted on the first SIGINT/SIGTERM: long work stops cleanly, removes its partial output, marks nothing. */
  signal: AbortSignal;
}

export function makeContext(opts: CommonOptions, signal: AbortSignal): CommandContext {
  return {
    state: statePaths(resolveStateDir(opts.stateDir)),
    loaded: loadIngestConfig(resolveConfigFile(opts.config)),
    isVerbose: opts.verbose === true,
    signal,
  };
}

/** One line (newlines folded), then the error's detail lines indented. */
export function formatFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  let out = `ingest-cli: ${message.replace(/\s*\n\s*/g, ' ')}\n`;
  if (err instanceof IngestError) for (const line of err.details) out += `  ${line}\n`;
  return out;
}

export function exitCodeFor(err: unknown): number {
  return err instanceof IngestError ? err.exitCode : EXIT.FAILURE;
}

/**
 * Runs a subcommand's work with a context and signal handling: the first Ctrl-C (or SIGTERM)
 * aborts the work, which cleans up and fails with 'interrupted'; a second one exits at once.
 * The work returns its exit code (0 when omitted).
 */
export async function runCommand(opts: CommonOptions, work: (ctx: CommandContext) => Promise<number | void>): Promise<void> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) process.exit(EXIT.INTERRUPTED);
    process.stderr.write(`ingest-cli: ${sig}: stopping (partial output is removed; press Ctrl-C again to quit at once)\n`);
    controller.abort(new IngestError('interrupted', `interrupted by ${sig}: nothing was marked done`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const ctx = makeContext(opts, controller.signal);
    const code = await work(ctx);
    process.exitCode = code ?? EXIT.OK;
  } catch (err) {
    process.stderr.write(formatFailure(err));
    if (opts.verbose === true && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = exitCodeFor(err);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
