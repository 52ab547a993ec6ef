import { Command } from 'commander';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { IngestError } from '../errors.js';
import { openLedger } from '../ledger/ledger.js';
import { makeReport } from '../report/report.js';
import { addCommonOptions, runCommand } from './common.js';
import type { CommonOptions } from './common.js';

interface ReportOptions extends CommonOptions {
  out?: string;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The array of a flight the ledger knows: where it was last seen. */
function arrayOfFlight(ledgerPath: string, flightId: string): string {
  let ledger;
  try {
    ledger = openLedger(ledgerPath, { create: false, readonly: true });
  } catch (err) {
    if (err instanceof IngestError && err.code === 'not-found') {
      throw new IngestError('not-found', `${flightId} is neither an array folder nor a flight the ledger knows (no ledger at ${ledgerPath}): give the array's path`);
    }
    throw err;
  }
  try {
    const flight = ledger.flight(flightId);
    if (flight === null) throw new IngestError('not-found', `${flightId} is neither an array folder nor a flight in the ledger ${ledgerPath}`);
    if (flight.lastArrayPath === null) throw new IngestError('not-found', `flight ${flightId}: the ledger knows no array path for it: give the array's path`);
    return flight.lastArrayPath;
  } finally {
    ledger.close();
  }
}

export function makeReportCommand(): Command {
  const cmd = new Command('report')
    .description('the flight report: report.html (track, pictures, gaps, GPS quality, clock, custody; self-contained), its figures as .svg, track.geojson and flight.kml; reads the array read-only')
    .argument('<flight-or-array>', "an array folder, or a flight id the ledger knows (its array is the one it was last seen on)")
    .option('--out <dir>', 'folder to write into; default <state-dir>/reports/<flight-id> (never on the array, which is read-only to the report; found again by flight id)');
  addCommonOptions(cmd);
  return cmd.action(async (target: string, opts: ReportOptions) => {
    await runCommand(opts, async (ctx) => {
      const arrayPath = resolve(isDirectory(target) ? target : arrayOfFlight(ctx.state.ledger, target));
      const result = makeReport({
        arrayPath,
        outDir: opts.out !== undefined ? resolve(opts.out) : (flightId) => join(ctx.state.root, 'reports', flightId),
        ledgerPath: ctx.state.ledger,
      });
      process.stdout.write(
        `report of flight ${result.flightId}: ${join(result.outDir, 'report.html')}\n` +
          `  ${result.pictures} pictures (${result.posedPictures} with a position), ${result.gaps} gaps; custody: ${result.custody.verdict}\n` +
          (result.isCopy ? '  (the flight DB was read from a temporary copy with its WAL: the array is on read-only media)\n' : ''),
      );
    });
  });
}
