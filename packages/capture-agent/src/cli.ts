#!/usr/bin/env node
import { Command } from 'commander';

const program = new Command('capture-agent');
program.description('capture-agent').showHelpAfterError();
await program.parseAsync(process.argv);
