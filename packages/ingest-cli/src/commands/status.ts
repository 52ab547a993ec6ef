import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { IngestError } from '../errors.js';
import { openLedger } from '../ledger/ledger.js';
import { formatFlightDetail, formatStatusTable } from '../status/format-status.js';
import { readAllStatus, readFlightStatus } from '../status/read-status.js';
import { addCommonOptions, runCommand } from './common.js';
import type { CommonOptions } from './common.js';

interface StatusOptions extends CommonOptions {
  json?: boolean;
}

export function makeStatusCommand(): Command {
  const cmd = new Command('status')
    .description('what the ledger knows: every flight with each link of the chain (archived, uploaded, on tape, wiped), or one flight in detail with its history')
    .argument('[flight]', 'a flight id: show that flight in detail')
    .option('--json', 'print JSON instead of text');
  addCommonOptions(cmd);
  return cmd.action(async (flight: string | undefined, opts: StatusOptions) => {
    await runCommand(opts, async (ctx) => {
      if (!existsSync(ctx.state.ledger)) {
        if (flight !== undefined) throw new IngestError('not-found', `flight ${flight}: no ledger in ${ctx.state.root} (nothing archived from this state folder yet)`);
        process.stdout.write(opts.json ? '[]\n' : `No ledger in ${ctx.state.root} yet: \`ingest-cli archive ARRAY\` records the first flight.\n`);
        return;
      }
      const ledger = openLedger(ctx.state.ledger, { create: false });
      try {
        if (flight === undefined) {
          const all = readAllStatus(ledger);
          process.stdout.write(opts.json ? `${JSON.stringify(all, null, 2)}\n` : `${formatStatusTable(all)}\n`);
          return;
        }
        const one = readFlightStatus(ledger, flight);
        if (one === null) throw new IngestError('not-found', `flight ${flight} is not in the ledger ${ctx.state.ledger}`);
        process.stdout.write(opts.json ? `${JSON.stringify(one, null, 2)}\n` : `${formatFlightDetail(one)}\n`);
      } finally {
        ledger.close();
      }
    });
  });
}
