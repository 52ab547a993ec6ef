// `hardware-sim burst`, run as the built CLI: real JPEG files of the exact size, each distinct,
// round-robin into the camera folders, close times in the JSON report, pacing, and the errors.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import exifr from 'exifr';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, onCleanup, runCleanups, startCli, tempDir } from '../helpers.js';

afterEach(runCleanups);

interface BurstJson {
  startMs: number;
  endMs: number;
  cpuUserS: number;
  cpuSystemS: number;
  files: number;
  bytes: number;
  closes: Record<string, number>;
}

interface ExifTags {
  DateTimeOriginal: string;
  SubSecTimeOriginal: string;
  OffsetTimeOriginal: string;
  ImageUniqueID: string;
}

/** Walks the segments from SOI to SOS (each length must land on the next marker); returns the markers. */
function jpegMarkers(bytes: Buffer): number[] {
  expect(bytes.readUInt16BE(0)).toBe(0xffd8);
  const markers: number[] = [];
  for (let at = 2; at < bytes.length; at += 2 + bytes.readUInt16BE(at + 2)) {
    expect(bytes[at]).toBe(0xff);
    const marker = bytes[at + 1] ?? 0;
    markers.push(marker);
    if (marker === 0xda) break;
  }
  return markers;
}

async function runJson(args: string[]): Promise<BurstJson> {
  const cli = startCli(['burst', ...args, '--json']);
  expect(await cli.exited, cli.err()).toBe(0);
  return JSON.parse(cli.out()) as BurstJson;
}

describe('hardware-sim burst', () => {
  it('writes every picture once, round-robin, as a real JPEG of the exact size with its own EXIF and hash', async () => {
    const out = join(await tempDir(), 'burst');
    const sizeBytes = 150_001; // odd, and filler over several COM segments
    const report = await runJson(['--out', out, '--files', '7', '--bytes', String(sizeBytes), '--cameras', '3', '--chunk-bytes', '10000', '--start-utc', '2024-05-01T10:00:59.998Z']);
    const expected = [
      ['cam1', 'IMG_0001.jpg'],
      ['cam2', 'IMG_0001.jpg'],
      ['cam3', 'IMG_0001.jpg'],
      ['cam1', 'IMG_0002.jpg'],
      ['cam2', 'IMG_0002.jpg'],
      ['cam3', 'IMG_0002.jpg'],
      ['cam1', 'IMG_0003.jpg'],
    ].map(([cam, name]) => join(out, cam ?? '', name ?? ''));
    expect(Object.keys(report.closes)).toEqual(expected);
    expect(report).toMatchObject({ files: 7, bytes: 7 * sizeBytes });
    // The writer's own CPU time while writing, in seconds (not µs or ms: bounded by its wall time
    // on the few threads a node process has).
    for (const s of [report.cpuUserS, report.cpuSystemS]) {
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(((report.endMs - report.startMs) / 1000) * 8 + 0.05);
    }
    // Nothing else was written.
    expect((await readdir(out)).sort()).toEqual(['cam1', 'cam2', 'cam3']);
    const listed = (await Promise.all(['cam1', 'cam2', 'cam3'].map(async (cam) => (await readdir(join(out, cam))).map((f) => join(out, cam, f))))).flat();
    expect(listed.sort()).toEqual([...expected].sort());

    const hashes = new Set<string>();
    const times: string[] = [];
    for (const [i, path] of expected.entries()) {
      const bytes = await readFile(path);
      expect(bytes.length).toBe(sizeBytes);
      expect(jpegMarkers(bytes).slice(0, 2)).toEqual([0xe1, 0xdb]); // EXIF APP1 first, then the tables
      expect(bytes.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
      hashes.add(createHash('sha256').update(bytes).digest('hex'));
      const tags = (await exifr.parse(bytes, { pick: ['DateTimeOriginal', 'SubSecTimeOriginal', 'OffsetTimeOriginal', 'ImageUniqueID'], reviveValues: false })) as ExifTags;
      expect(tags.OffsetTimeOriginal).toBe('+00:00');
      expect(tags.ImageUniqueID).toBe(i.toString(16).padStart(32, '0'));
      times.push(`${tags.DateTimeOriginal}.${tags.SubSecTimeOriginal}`);
      const closedMs = report.closes[path] ?? Number.NaN;
      expect(closedMs).toBeGreaterThanOrEqual(report.startMs);
      expect(closedMs).toBeLessThanOrEqual(report.endMs);
    }
    expect(hashes.size).toBe(7);
    // 1 ms apart at full speed, across a second and a minute boundary.
    expect(times).toEqual([
      '2024:05:01 10:00:59.998',
      '2024:05:01 10:00:59.999',
      '2024:05:01 10:01:00.000',
      '2024:05:01 10:01:00.001',
      '2024:05:01 10:01:00.002',
      '2024:05:01 10:01:00.003',
      '2024:05:01 10:01:00.004',
    ]);
    expect(await stat(join(out, 'cam1', 'IMG_0004.jpg')).catch(() => null)).toBeNull();
  });

  it('writes the smallest size it accepts, and prints a summary without --json', async () => {
    const tooSmall = startCli(['burst', '--out', join(await tempDir(), 'b'), '--files', '1', '--bytes', '10']);
    expect(await tooSmall.exited).toBe(2);
    const min = Number(/must be an integer >= (\d+)/.exec(tooSmall.err())?.[1]);
    expect(min).toBeGreaterThan(0);
    const out = join(await tempDir(), 'burst');
    const cli = startCli(['burst', '--out', out, '--files', '2', '--bytes', String(min), '--cameras', '1']);
    expect(await cli.exited, cli.err()).toBe(0);
    expect(cli.out()).toMatch(/^2 files \(0\.00 GB\) into .*cam1 in [\d.]+ s: [\d.]+ GB\/s, [\d.]+ files\/s\n$/);
    for (const name of ['IMG_0001.jpg', 'IMG_0002.jpg']) {
      const bytes = await readFile(join(out, 'cam1', name));
      expect(bytes.length).toBe(min);
      expect(bytes.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
      expect(((await exifr.parse(bytes, { pick: ['DateTimeOriginal'], reviveValues: false })) as ExifTags).DateTimeOriginal).toMatch(/^\d{4}:\d\d:\d\d \d\d:\d\d:\d\d$/);
    }
  });

  it('--rate paces the files from the start: close times increase, never before their turn, EXIF times one interval apart', async () => {
    const out = join(await tempDir(), 'burst');
    const rate = 50; // one file every 20 ms
    const report = await runJson(['--out', out, '--files', '6', '--bytes', '2000', '--cameras', '2', '--rate', String(rate), '--start-utc', '2024-05-01T10:00:00Z']);
    const closes = Object.values(report.closes);
    expect(closes).toHaveLength(6);
    closes.forEach((ms, i) => {
      if (i > 0) expect(ms).toBeGreaterThanOrEqual(closes[i - 1] ?? Infinity);
      // Pacing only holds files back: file i is not written before startMs + i / rate (1 ms slack for the wall clock).
      expect(ms).toBeGreaterThanOrEqual(report.startMs + (i * 1000) / rate - 1);
    });
    expect(closes.at(-1)).toBeGreaterThan(closes[0] ?? Infinity);
    const subSeconds: string[] = [];
    for (const path of Object.keys(report.closes)) {
      subSeconds.push(((await exifr.parse(path, { pick: ['SubSecTimeOriginal'], reviveValues: false })) as ExifTags).SubSecTimeOriginal);
    }
    expect(subSeconds).toEqual(['000', '020', '040', '060', '080', '100']);
  });

  it('answers --help with the options and an example', async () => {
    const help = startCli(['burst', '--help']);
    expect(await help.exited).toBe(0);
    for (const word of ['--files', '--bytes', '--cameras', '--rate', '--chunk-bytes', '--start-utc', '--json', 'closes', 'Examples', 'hardware-sim burst --out']) expect(help.out()).toContain(word);
  });

  it.each([
    [['--files', '0', '--bytes', '5000'], /--files <N>' argument '0' is invalid\. must be an integer >= 1/],
    [['--files', '2', '--bytes', '100'], /--bytes 100: must be an integer >= \d+ \(the smallest JPEG the simulator writes\)/],
    [['--files', '2', '--bytes', '5000', '--cameras', '0'], /--cameras <K>' argument '0' is invalid\. must be an integer >= 1/],
    [['--files', '2', '--bytes', '5000', '--rate', '-1'], /--rate <R>' argument '-1' is invalid\. must be a number >= 0/],
    [['--files', '2', '--bytes', '5000', '--chunk-bytes', '0'], /--chunk-bytes <C>' argument '0' is invalid/],
    [['--files', '2', '--bytes', '5000', '--start-utc', '2024-05-01 10:00'], /--start-utc 2024-05-01 10:00: expected an ISO time with a zone/],
    [['--bytes', '5000'], /required option '--files <N>' not specified/],
  ])('refuses %j with one line, exit 2, and writes nothing', async (args, message) => {
    const out = join(await tempDir(), 'burst');
    const cli = startCli(['burst', '--out', out, ...args]);
    expect(await cli.exited).toBe(2);
    expect(cli.err()).toMatch(message);
    expect(cli.err()).not.toMatch(/\n\s+at /);
    expect(await stat(out).catch(() => null)).toBeNull();
  });

  it('refuses an --out folder that is not empty, and leaves it alone', async () => {
    const out = await tempDir();
    await mkdir(join(out, 'cam1'));
    await writeFile(join(out, 'cam1', 'IMG_0001.jpg'), 'older');
    const cli = startCli(['burst', '--out', out, '--files', '2', '--bytes', '5000']);
    expect(await cli.exited).toBe(2);
    expect(cli.err().trim()).toBe(`hardware-sim: --out ${out} is not empty (cam1): give a new or empty folder`);
    expect(await readdir(out)).toEqual(['cam1']);
    expect(await readFile(join(out, 'cam1', 'IMG_0001.jpg'), 'utf8')).toBe('older');
  });

  it('accepts an --out folder holding only its own empty camera folders (an agent watching them made them)', async () => {
    const out = await tempDir();
    await mkdir(join(out, 'cam1'));
    await mkdir(join(out, 'cam2'));
    const report = await runJson(['--out', out, '--files', '4', '--bytes', '5000', '--cameras', '2']);
    expect(Object.keys(report.closes).sort()).toEqual(
      ['cam1/IMG_0001.jpg', 'cam1/IMG_0002.jpg', 'cam2/IMG_0001.jpg', 'cam2/IMG_0002.jpg'].map((p) => join(out, p)),
    );
    // A folder that is not one of ours, even empty, is refused.
    const other = await tempDir();
    await mkdir(join(other, 'DCIM'));
    const cli = startCli(['burst', '--out', other, '--files', '1', '--bytes', '5000']);
    expect(await cli.exited).toBe(2);
    expect(cli.err().trim()).toBe(`hardware-sim: --out ${other} is not empty (DCIM): give a new or empty folder`);
  });

  it('a write that fails names the file and how many were written, exits 1 and leaves what was written', async () => {
    // A file size limit (ulimit -f, in 1 KiB blocks) makes the write past 40 KiB fail with EFBIG,
    // as a full disk fails with ENOSPC (Node ignores SIGXFSZ, so the write returns an error).
    const out = join(await tempDir(), 'burst');
    const child = spawn('bash', ['-c', 'ulimit -f 40 && exec "$0" "$@"', process.execPath, CLI, 'burst', '--out', out, '--files', '3', '--bytes', '60000', '--chunk-bytes', '16384'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    onCleanup(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    });
    expect(await exited).toBe(1);
    const first = join(out, 'cam1', 'IMG_0001.jpg');
    expect(err.trim()).toMatch(new RegExp(`^hardware-sim: cannot write ${first} \\(EFBIG[^)]*\\): 0 of 3 files were written before it`));
    expect((await stat(first)).size).toBe(40 * 1024);
    expect(await readdir(join(out, 'cam2'))).toEqual([]);
  });
});
