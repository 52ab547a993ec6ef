#!/usr/bin/env node
import { Command } from 'commander';

const program = new Command('hardware-sim');
program.description('hardware-sim').showHelpAfterError();
await program.parseAsync(process.argv);
