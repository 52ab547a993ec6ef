#!/usr/bin/env node
import { Command } from 'commander';

const program = new Command('ingest-cli');
program.description('ingest-cli').showHelpAfterError();
await program.parseAsync(process.argv);
