import { formatBytes } from '@flysnap/shared';
import { Command } from 'commander';
import { resolve } from 'node:path';
import { EXIT } from '../errors.js';
import { progressReporter } from '../terminal/progress.js';
import { recordVerifyOutcome } from '../verify/record-verify.js';
import { manifestPathFor, readManifestFile } from '../verify/manifest-file.js';
import { verifyArchiveFile } from '../verify/verify-archive.js';
import { addCommonOptions, runCommand } from './common.js';
import type { CommonOptions } from './common.js';

interface VerifyCommandOptions extends CommonOptions {
  manifest?: string;
  json?: boolean;
}

export function makeVerifyCommand(): Command {
  const cmd = new Command('verify')
    .description(
      'read an archive back and check it against its manifest: every member\'s size and SHA-256 (after undoing its ' +
        'compression), its byte offset, and the archive\'s own size and SHA-256. Works on a copy anywhere: it needs only ' +
        'the archive and its manifest. When the ledger knows the archive, the outcome is recorded there.',
    )
    .argument('<archive>', 'the archive file (.tar)')
    .option('--manifest <file>', 'the manifest (default: <archive>.manifest.json beside it)')
    .option('--json', 'print the report as JSON');
  addCommonOptions(cmd);
  return cmd.action(async (archive: string, opts: VerifyCommandOptions) => {
    await runCommand(opts, async (ctx) => {
      const archivePath = resolve(archive);
      const manifest = readManifestFile(resolve(opts.manifest ?? manifestPathFor(archivePath)));
      const progress = progressReporter('verify');
      let report;
      try {
        report = await verifyArchiveFile(archivePath, manifest, {
          signal: ctx.signal,
          onProgress: (done) => progress.update('verify', done, manifest.archive?.sizeBytes ?? 0),
        });
      } finally {
        progress.stop();
      }
      const recorded = recordVerifyOutcome(ctx.state, archivePath, report.isOk);
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify({ ...report, isRecordedInLedger: recorded }, null, 2)}\n`);
      } else if (report.isOk) {
        process.stdout.write(`ok: ${archivePath} matches its manifest (${report.fileCount} files, ${formatBytes(report.sizeBytes)}, sha256 ${report.sha256})${recorded ? '; recorded in the ledger' : ''}\n`);
      } else {
        process.stdout.write(`FAILED: ${archivePath} differs from its manifest:\n${report.problems.map((p) => `  ${p}\n`).join('')}`);
      }
      return report.isOk ? EXIT.OK : EXIT.VERIFY;
    });
  });
}
