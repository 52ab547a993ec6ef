// `hardware-sim burst`: parses the options, calls runBurst and prints its report.
import { Command } from 'commander';
import { minPictureBytes } from '../burst/pictures.js';
import { DEFAULT_BURST_CAMERAS, DEFAULT_BURST_CHUNK_BYTES, runBurst, type BurstReport } from '../burst/run.js';
import { numberArg, parseStartUtc, stopSignal } from './common.js';

interface BurstCliOptions {
  out: string;
  files: number;
  bytes: number;
  cameras: number;
  rate: number;
  chunkBytes: number;
  startUtc?: string;
  json?: boolean;
}

const isInteger = (n: number): boolean => Number.isInteger(n);

function summary(report: BurstReport, requested: number): string {
  const seconds = Math.max(report.endMs - report.startMs, 1) / 1000;
  const gb = report.bytes / 1e9;
  const dirs = report.cameraDirs.length > 1 ? `${report.cameraDirs[0]} … cam${report.cameraDirs.length}` : (report.cameraDirs[0] ?? '');
  const lines = [
    `${report.files} files (${gb.toFixed(2)} GB) into ${dirs} in ${seconds.toFixed(2)} s: ${(gb / seconds).toFixed(2)} GB/s, ${(report.files / seconds).toFixed(1)} files/s`,
  ];
  if (report.isAborted) lines.push(`stopped before the end (${report.files} of ${requested} files)`);
  return `${lines.join('\n')}\n`;
}

export function burstCommand(): Command {
  return new Command('burst')
    .summary('cameras writing pictures as fast as they can (or at a fixed rate)')
    .description(
      'Writes --files JPEG pictures of --bytes each round-robin into DIR/cam1 … DIR/camK, each in --chunk-bytes writes then closed as a camera does, and reports when each file was closed: for measuring how fast and how soon the capture agent takes files in.',
    )
    .requiredOption('--out <DIR>', 'output folder (new, empty, or holding only empty cam1…camK)')
    .requiredOption('--files <N>', 'pictures to write', numberArg('must be an integer >= 1', (n) => isInteger(n) && n >= 1))
    .requiredOption('--bytes <B>', `size of each picture, bytes (at least ${minPictureBytes()})`, numberArg('must be an integer', isInteger))
    .option('--cameras <K>', 'cameras: folders cam1 … camK', numberArg('must be an integer >= 1', (n) => isInteger(n) && n >= 1), DEFAULT_BURST_CAMERAS)
    .option('--rate <R>', 'files per second, paced from the start (0 = as fast as possible)', numberArg('must be a number >= 0', (n) => n >= 0), 0)
    .option('--chunk-bytes <C>', 'bytes per write', numberArg('must be an integer >= 1', (n) => isInteger(n) && n >= 1), DEFAULT_BURST_CHUNK_BYTES)
    .option('--start-utc <ISO>', 'EXIF capture time of the first picture (default: now)')
    .option('--json', 'print the report as one JSON object')
    .addHelpText(
      'after',
      `
Every picture is a real JPEG as the flight's cameras write them (SOI, EXIF APP1 with
DateTimeOriginal, SubSecTimeOriginal, OffsetTimeOriginal +00:00 and an ImageUniqueID counting the
files, tables, filler in COM segments, scan, EOI), exactly --bytes long, named IMG_0001.jpg … in
each camera folder. The body is built once; each file only gets its own EXIF, so every file's
hash differs and the writer runs at the disk's speed. EXIF times start at --start-utc and advance
by the pacing interval (1 ms per file at full speed, at least 1 ms).

Report: a summary line (files, GB, seconds, GB/s, files/s); with --json one JSON object:
  {"startMs", "endMs", "cpuUserS", "cpuSystemS", "files", "bytes",
   "closes": {"<absolute path>": <Date.now() after close>}}
  (cpuUserS/cpuSystemS: the writer's own CPU seconds while writing.)
A write that fails (e.g. disk full) names the file and how many were written, keeps what was
written and exits 1. Ctrl-C stops after the current file and reports what was written.

Examples (1,000 pictures of 5 MB into 5 folders, at full speed, then at 50 files/s):
  hardware-sim burst --out /tmp/burst1 --files 1000 --bytes 5242880 --json > closes.json
  hardware-sim burst --out /tmp/burst2 --files 1000 --bytes 5242880 --rate 50`,
    )
    .action(async (o: BurstCliOptions) => {
      const startUtcUs = parseStartUtc(o.startUtc);
      const report = await runBurst({
        outDir: o.out,
        files: o.files,
        sizeBytes: o.bytes,
        cameras: o.cameras,
        rate: o.rate,
        chunkBytes: o.chunkBytes,
        startUtcMs: startUtcUs === null ? null : startUtcUs / 1000,
        signal: stopSignal(),
      });
      if (o.json) {
        const { startMs, endMs, cpuUserS, cpuSystemS, files, bytes, closes } = report;
        process.stdout.write(`${JSON.stringify({ startMs, endMs, cpuUserS, cpuSystemS, files, bytes, closes })}\n`);
        return;
      }
      process.stdout.write(summary(report, o.files));
    });
}
