#!/usr/bin/env node
// The ingest bay command. Its subcommands (archive, upload, tape-export, wipe, status) arrive with
// their own issues; until then it only explains itself, and refuses anything else with exit 2.
import { Command } from 'commander';

const program = new Command('ingest-cli');
program
  .description(
    'Ingest bay: archive a storage array with checksums, upload it, queue and export it to tape, ' +
      'and wipe the array only once every copy is verified.',
  )
  .addHelpText(
    'after',
    '\nNo subcommand is available in this version yet: the array is never touched by it.\n' +
      'To look at a recorded array meanwhile: capture-agent status --array DIR',
  )
  .showHelpAfterError()
  .action(() => {
    program.help({ error: true });
  });
await program.parseAsync(process.argv);
