import type { Command } from 'commander';
import { runAgent } from '../agent/index.js';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../log/index.js';
import { EXIT, reportFailure } from './errors.js';

export interface RunCommandOptions {
  config: string;
  logLevel?: string;
  verbose?: boolean;
}

/** `run --config FILE`: capture until SIGTERM/SIGINT. */
export async function runCommand(opts: RunCommandOptions): Promise<void> {
  try {
    const config = loadConfig(opts.config);
    const level = (opts.logLevel ?? config.logLevel) as typeof config.logLevel;
    const log = createLogger({ level });
    const controller = new AbortController();
    const lastFlush = new AbortController();
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals): void => {
      signals++;
      if (signals === 1) {
        log.info({ signal: sig }, 'signal received');
        controller.abort();
      } else {
        // Not waiting for the sources to stop, but what the serial ports delivered is written first.
        process.stderr.write(`capture-agent: second ${sig}, exiting without waiting for the stop (raw logs flushed)\n`);
        lastFlush.abort();
        process.exit(130);
      }
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      const summary = await runAgent({ config, log, signal: controller.signal, lastFlushSignal: lastFlush.signal });
      if (!summary.isCleanStop) {
        // Stopped, but the flight DB refused part of the last writes (another process held its
        // lock past the shutdown's bound, or the disk failed): not a clean stop, so not exit 0.
        const what = [
          summary.droppedSamples > 0 ? `${summary.droppedSamples} sample(s) are not in the flight DB (the raw logs have every line)` : null,
          summary.isFlightEnded ? null : 'the flight could not be marked ended (status shows "ended -"; the next start continues it)',
        ].filter((x) => x !== null);
        process.stderr.write(`capture-agent: stopped, but ${what.join('; ') || 'the last writes to the flight DB were refused'}\n`);
        process.exitCode = EXIT.ARRAY;
      }
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  } catch (err) {
    reportFailure(err, opts.verbose === true);
  }
  // Stopped: everything is flushed and closed (the logger writes synchronously). An open or close
  // still stuck in libuv's thread pool (a blocked driver; the supervisor stopped waiting for it)
  // would otherwise keep the process alive until systemd's stop timeout kills it.
  process.exit();
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('capture the configured serial ports (and cameras) onto the array until SIGTERM/SIGINT')
    .requiredOption('-c, --config <file>', 'agent config file (JSON)')
    .option('--log-level <level>', 'override the config log level (fatal|error|warn|info|debug|trace)')
    .option('--verbose', 'print stack traces on failure')
    .action(async (opts: RunCommandOptions) => runCommand(opts));
}
