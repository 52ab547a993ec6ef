import { formatBytes } from '@flysnap/shared';
import { Command } from 'commander';
import { archiveArray, formatMismatch } from '../archive/archive-array.js';
import { progressReporter } from '../terminal/progress.js';
import { addCommonOptions, runCommand } from './common.js';
import type { CommonOptions } from './common.js';

interface ArchiveCommandOptions extends CommonOptions {
  out?: string;
  upload?: boolean;
  tape?: boolean;
  acceptMismatches?: boolean;
  again?: boolean;
  json?: boolean;
}

export function makeArchiveCommand(): Command {
  const cmd = new Command('archive')
    .description(
      'check a storage array (flight DB integrity, every file against its asset row), archive it in one pass into a POSIX tar ' +
        'with a manifest (every file\'s size and SHA-256), read it back to verify it, and record it in the ledger. The array is ' +
        'only read, never written. Run again, it reports the archive already made.',
    )
    .argument('<array>', 'the storage array\'s mount point (its folder holding flysnap-array.json)')
    .option('--out <dir>', 'folder for the archive and its manifest (default: archive.outDir in the config, else <state dir>/archives)')
    .option('--no-upload', 'do not upload the archive after making it')
    .option('--no-tape', 'do not queue the archive for tape')
    .option('--accept-mismatches', 'archive even when files do not match the flight DB (each mismatch is recorded in the manifest)')
    .option('--again', 'make a new archive although the flight has a verified one (the ledger keeps both)')
    .option('--json', 'print one JSON summary on stdout instead of text');
  addCommonOptions(cmd);
  return cmd.action(async (array: string, opts: ArchiveCommandOptions) => {
    await runCommand(opts, async (ctx) => {
      const progress = progressReporter('archive');
      let result;
      try {
        result = await archiveArray(ctx.state, ctx.loaded.config, {
          arrayRoot: array,
          ...(opts.out !== undefined ? { outDir: opts.out } : {}),
          isMismatchAccepted: opts.acceptMismatches === true,
          isAgain: opts.again === true,
          isTapeWanted: opts.tape !== false,
          signal: ctx.signal,
          onProgress: (p) => progress.update(p.phase, p.doneBytes, p.totalBytes),
          onNotice: (line) => {
            progress.interrupt(() => process.stderr.write(`ingest-cli: note: ${line}\n`));
          },
        });
      } finally {
        progress.stop();
      }
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      if (result.status === 'already-archived') {
        process.stdout.write(`flight ${result.flightId} is already archived: ${result.archivePath} (${result.fileCount} files, ${formatBytes(result.sizeBytes)}, verified); use --again to make a new archive\n`);
      } else {
        process.stdout.write(
          `archived flight ${result.flightId}${result.aircraft ? ` (${result.aircraft})` : ''}: ${result.fileCount} files, ${formatBytes(result.contentBytes)} → ${result.archivePath} (${formatBytes(result.sizeBytes)})\n` +
            `  sha256 ${result.sha256}, read back and verified\n  manifest ${result.manifestPath}\n`,
        );
        if (result.mismatches.length > 0) {
          process.stdout.write(`  ${result.mismatches.length} mismatch(es) accepted and recorded in the manifest:\n`);
          for (const m of result.mismatches) process.stdout.write(`    ${formatMismatch(m)}\n`);
        }
      }
    });
  });
}
