#!/usr/bin/env node
// hardware-sim: virtual serial ports, log replay, synthetic flights with ground truth, faults,
// camera bursts.
// Exit status: 0 done, 1 failure (e.g. a port could not be made), 2 bad input.
import { Command, CommanderError } from 'commander';
import { SimError } from './errors.js';
import { burstCommand } from './commands/burst.js';
import { flightCommand } from './commands/flight.js';
import { portsCommand } from './commands/ports.js';
import { replayCommand } from './commands/replay.js';

const EXIT_FAILURE = 1;
const EXIT_BAD_INPUT = 2;

const isVerbose = process.argv.includes('--verbose');

const program = new Command('hardware-sim')
  .description('Virtual serial ports (PTYs), log replay and synthetic flights with ground truth, for testing Fly and Snap without an aircraft.')
  .option('--verbose', 'print stack traces on errors')
  .showHelpAfterError('(add --help for usage)')
  .addHelpText(
    'after',
    `
Examples:
  hardware-sim replay --port /tmp/fs/gps=gps.log --speed 10
  hardware-sim flight --out /tmp/flight1 --duration 120 --speed 10 --fault bad-checksum:5
  hardware-sim burst --out /tmp/burst1 --files 1000 --bytes 5242880 --json
  hardware-sim ports /tmp/fs/gps
Run "hardware-sim <command> --help" for each command's options and file formats.`,
  );
program.addCommand(replayCommand()).addCommand(flightCommand()).addCommand(burstCommand()).addCommand(portsCommand());
for (const sub of program.commands) sub.option('--verbose', 'print stack traces on errors').showHelpAfterError('(add --help for usage)');
program.exitOverride();
for (const sub of program.commands) sub.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander has printed its message (or the help) already.
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
  } else {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`hardware-sim: ${message}\n`);
    if (isVerbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = err instanceof SimError && err.code === 'BAD_INPUT' ? EXIT_BAD_INPUT : EXIT_FAILURE;
  }
}
