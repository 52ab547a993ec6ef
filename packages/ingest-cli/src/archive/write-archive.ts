// The archive pass: every byte of the array read once, hashed as it is read, written once, into
// one POSIX tar under a temporary name; then the manifest as the last member, and an fsync.
// Member order: the marker, the plain members (media, as they are), then the compressed ones
// (flight DB, WAL, serial logs), which were gzipped in the thread pool while the media streamed.
import { MANIFEST_FORMAT, MANIFEST_MEMBER_NAME, MANIFEST_VERSION, formatManifest } from '@flysnap/shared';
import type { ArchiveManifest, ManifestFile, ManifestMismatch } from '@flysnap/shared';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { IngestError, errnoCode, isDiskFull, throwIfAborted } from '../errors.js';
import { gzipFile } from './compress.js';
import type { CompressedFile } from './compress.js';
import { readFileChunks } from './file-reader.js';
import type { FlightDbSnapshot } from './flight-db-snapshot.js';
import type { ArchivePlan, PlannedMember } from './plan.js';
import { TarWriter } from './tar-writer.js';

export interface ArchiveProgress {
  /** Bytes of the array's files read so far (of `totalBytes`). */
  doneBytes: number;
  totalBytes: number;
  doneFiles: number;
  totalFiles: number;
}

export interface WriteArchiveInput {
  arrayRoot: string;
  flightId: string;
  plan: ArchivePlan;
  snapshot: FlightDbSnapshot;
  /** The temporary file to create (must not exist). */
  tempPath: string;
  /** Scratch folder for compressed members (exists, empty, ours). */
  workDir: string;
  gzipLevel: number;
  isMismatchAccepted: boolean;
  createdTUs: number;
  tool: string;
  arrayLayoutVersion: number;
  onProgress?: (p: ArchiveProgress) => void;
  signal?: AbortSignal;
}

export interface WrittenArchive {
  /** The manifest as stored inside (no `archive` field). */
  manifest: ArchiveManifest;
  sizeBytes: number;
  sha256: string;
  /** Every mismatch: the plan's and the hash mismatches found in the pass. */
  mismatches: ManifestMismatch[];
}

const SHA256_OF_EMPTY = createHash('sha256').digest('hex');

/** The tar member name of a file: `<flightId>/<path>` (+ '.gz' when compressed). */
export function storedPathOf(flightId: string, path: string, storage: 'plain' | 'gzip'): string {
  return `${flightId}/${path}${storage === 'gzip' ? '.gz' : ''}`;
}

async function fsyncFile(path: string): Promise<void> {
  const fh = await fsp.open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function writeArchive(input: WriteArchiveInput): Promise<WrittenArchive> {
  const { plan, snapshot, flightId, signal } = input;
  const mismatches = [...plan.mismatches];
  const files: ManifestFile[] = [];
  const totalBytes = plan.members.reduce((n, m) => n + m.entry.sizeBytes, 0);
  const progress: ArchiveProgress = { doneBytes: 0, totalBytes, doneFiles: 0, totalFiles: plan.members.length };
  const report = (): void => input.onProgress?.(progress);

  // Compressed members are made meanwhile, one after another, from the snapshot copy (flight DB)
  // or the array (logs); each is read exactly once from where it lives.
  const snapshotOf = new Map(snapshot.files.map((f) => [f.entry.path, f]));
  const gzipMembers = plan.members.filter((m) => m.storage === 'gzip');
  const compressed = new Map<string, CompressedFile>();
  let compressing: Promise<void> = Promise.resolve();
  const compressAll = async (): Promise<void> => {
    let i = 0;
    for (const m of gzipMembers) {
      throwIfAborted(signal);
      const snap = snapshotOf.get(m.entry.path);
      const src = snap?.copyPath ?? join(input.arrayRoot, m.entry.path);
      const c = await gzipFile(src, m.entry.path, m.entry.sizeBytes, join(input.workDir, `member-${i++}.gz`), input.gzipLevel, signal);
      if (snap !== undefined && c.sha256 !== snap.sha256) {
        throw new IngestError('io', `the copy of ${m.entry.path} in ${input.workDir} changed after it was checked (sha256 ${c.sha256} ≠ ${snap.sha256})`);
      }
      compressed.set(m.entry.path, c);
      progress.doneBytes += m.entry.sizeBytes;
    }
  };

  const writer = new TarWriter(input.tempPath);
  try {
    compressing = compressAll();
    compressing.catch(() => undefined);

    const addPlain = async (m: PlannedMember): Promise<void> => {
      const e = m.entry;
      const storedPath = storedPathOf(flightId, e.path, 'plain');
      if (e.type === 'symlink') {
        const target = e.linkTarget ?? '';
        const off = await writer.member({ name: storedPath, type: 'symlink', sizeBytes: 0, mode: e.mode, mtimeUs: e.mtimeUs, linkTarget: target }).end();
        const sha = createHash('sha256').update(target).digest('hex');
        files.push({ path: e.path, type: 'symlink', sizeBytes: 0, sha256: sha, linkTarget: target, agentSha256: null, storage: 'plain', storedPath, storedSizeBytes: 0, storedSha256: SHA256_OF_EMPTY, ...off, mtimeUs: e.mtimeUs, mode: e.mode });
        return;
      }
      const hash = createHash('sha256');
      const sink = writer.member({ name: storedPath, type: 'file', sizeBytes: e.sizeBytes, mode: e.mode, mtimeUs: e.mtimeUs });
      await readFileChunks(join(input.arrayRoot, e.path), e.path, e.sizeBytes, async (chunk) => {
        hash.update(chunk);
        await sink.write(chunk);
        progress.doneBytes += chunk.byteLength;
        report();
      }, signal);
      const off = await sink.end();
      const sha256 = hash.digest('hex');
      if (m.agentSha256 !== null && m.agentSha256 !== sha256) {
        mismatches.push({ kind: 'hash-differs', path: e.path, detail: `sha256 ${sha256} on the array, ${m.agentSha256} in its asset row` });
      }
      files.push({ path: e.path, type: 'file', sizeBytes: e.sizeBytes, sha256, linkTarget: null, agentSha256: m.agentSha256, storage: 'plain', storedPath, storedSizeBytes: e.sizeBytes, storedSha256: sha256, ...off, mtimeUs: e.mtimeUs, mode: e.mode });
    };

    for (const m of plan.members) {
      if (m.storage !== 'plain') continue;
      throwIfAborted(signal);
      await addPlain(m);
      progress.doneFiles++;
      report();
    }
    await compressing;
    for (const m of gzipMembers) {
      throwIfAborted(signal);
      const c = compressed.get(m.entry.path) as CompressedFile;
      const storedPath = storedPathOf(flightId, m.entry.path, 'gzip');
      const sink = writer.member({ name: storedPath, type: 'file', sizeBytes: c.storedSizeBytes, mode: m.entry.mode, mtimeUs: m.entry.mtimeUs });
      const check = createHash('sha256');
      await readFileChunks(c.gzipPath, c.gzipPath, c.storedSizeBytes, async (chunk) => {
        check.update(chunk);
        await sink.write(chunk);
      }, signal);
      const off = await sink.end();
      if (check.digest('hex') !== c.storedSha256) throw new IngestError('io', `compressed copy of ${m.entry.path} in ${input.workDir} changed before it was archived`);
      files.push({ path: m.entry.path, type: 'file', sizeBytes: c.sizeBytes, sha256: c.sha256, linkTarget: null, agentSha256: m.agentSha256, storage: 'gzip', storedPath, storedSizeBytes: c.storedSizeBytes, storedSha256: c.storedSha256, ...off, mtimeUs: m.entry.mtimeUs, mode: m.entry.mode });
      progress.doneFiles++;
      report();
    }
    mismatches.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.kind < b.kind ? -1 : 1));
    const manifest: ArchiveManifest = {
      format: MANIFEST_FORMAT,
      manifestVersion: MANIFEST_VERSION,
      flightId,
      aircraft: snapshot.flight.aircraft,
      flightStartedTUs: snapshot.flight.startedTUs,
      flightEndedTUs: snapshot.flight.endedTUs,
      createdTUs: input.createdTUs,
      tool: input.tool,
      arrayLayoutVersion: input.arrayLayoutVersion,
      flightDbSchemaVersion: snapshot.schemaVersion,
      files,
      contentBytes: files.reduce((n, f) => n + f.sizeBytes, 0),
      mismatches,
      isMismatchAccepted: input.isMismatchAccepted,
    };
    await writer.addBuffer({ name: `${flightId}/${MANIFEST_MEMBER_NAME}`, mode: 0o644, mtimeUs: input.createdTUs }, Buffer.from(formatManifest(manifest)));
    const { sizeBytes, sha256 } = await writer.finish();
    await fsyncFile(input.tempPath);
    return { manifest, sizeBytes, sha256, mismatches };
  } catch (err) {
    await writer.abort(err as Error);
    await compressing.catch(() => undefined);
    if (err instanceof IngestError) throw err;
    if (isDiskFull(err)) throw new IngestError('disk-full', `no room left for the archive in ${dirname(input.tempPath)} (${errnoCode(err)}): free space or choose another --out`, { cause: err });
    throw new IngestError('io', `writing the archive ${input.tempPath}: ${(err as Error).message}`, { cause: err });
  }
}
