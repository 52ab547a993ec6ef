#!/usr/bin/env node
// capture-agent: run (the service), status, replay. Each subcommand is one file in commands/.
import { Command } from 'commander';
import { registerReplay } from './commands/replay.js';
import { registerRun } from './commands/run.js';
import { registerStatus } from './commands/status.js';
import { AGENT_VERSION } from './version.js';

const program = new Command('capture-agent');
program
  .description('Onboard capture: serial instruments and camera folders onto the storage array')
  .version(AGENT_VERSION)
  .showHelpAfterError()
  // Usage errors exit 2 like config errors (commander's default is 1).
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });
registerRun(program);
registerStatus(program);
registerReplay(program);
await program.parseAsync(process.argv);
