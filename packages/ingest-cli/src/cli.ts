#!/usr/bin/env node
// ingest-cli: the ingest bay's command. Each subcommand is one file in commands/ that parses its
// options and calls the function doing the work (what the tests call).
import { Command } from 'commander';
import { makeArchiveCommand } from './commands/archive.js';
import { makeReportCommand } from './commands/report.js';
import { makeStatusCommand } from './commands/status.js';
import { makeVerifyCommand } from './commands/verify.js';
import { INGEST_VERSION } from './version.js';

const program = new Command('ingest-cli');
program
  .description(
    'Ingest bay: archive a storage array with checksums, upload it, queue and export it to tape, ' +
      'and wipe the array only once every copy is verified.',
  )
  .version(INGEST_VERSION)
  .showHelpAfterError()
  // Usage errors exit 2 like config errors (commander's default is 1).
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });
program.addCommand(makeArchiveCommand());
program.addCommand(makeVerifyCommand());
program.addCommand(makeStatusCommand());
program.addCommand(makeReportCommand());
await program.parseAsync(process.argv);
