// Checks an archive against its manifest: every member's name, type, size and SHA-256 (the
// stored bytes, and for a gzip member the original bytes after gunzip), the member order, the
// manifest member inside, and the archive's own size and SHA-256. Works on a byte stream (a file,
// a tape read back, a download), so every copy is judged by the same code; a file is also
// checked at the manifest's byte offsets, which is what pulling one file out relies on.
import { MANIFEST_MEMBER_NAME, formatManifest, innerManifest } from '@flysnap/shared';
import type { ArchiveManifest, ManifestFile } from '@flysnap/shared';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, promises as fsp } from 'node:fs';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { IngestError, errnoCode, throwIfAborted } from '../errors.js';

/** How many leading bytes of each member are kept to check its offset in a file. */
const OFFSET_PROBE_BYTES = 64;

export interface StreamVerifyResult {
  /** Bytes and SHA-256 of the whole stream. */
  sizeBytes: number;
  sha256: string;
  /** One line per difference; empty = every member as the manifest says. */
  problems: string[];
  membersChecked: number;
  /** The first bytes of each member's data, by stored path (for the offset check). */
  probes: Map<string, Buffer>;
}

export interface VerifyOptions {
  signal?: AbortSignal;
  /** Called with bytes read so far. */
  onProgress?: (doneBytes: number) => void;
  /** Stop collecting after this many problems (the count still says there were more). Default 200. */
  maxProblems?: number;
}

interface Digest {
  sha256: string;
  sizeBytes: number;
}

/** Hash of a stream's bytes, and for a gzip member the hash of what it inflates to. */
async function digestEntry(entry: AsyncIterable<Buffer>, isGzip: boolean, probe: Buffer[]): Promise<{ stored: Digest; original: Digest | null; gzipError: string | null }> {
  const stored = createHash('sha256');
  let storedSize = 0;
  let probeSize = 0;
  const original = createHash('sha256');
  let originalSize = 0;
  let gzipError: string | null = null;
  const gunzip = isGzip ? createGunzip() : null;
  let gunzipDone: Promise<void> = Promise.resolve();
  if (gunzip !== null) {
    gunzip.on('data', (c: Buffer) => {
      original.update(c);
      originalSize += c.byteLength;
    });
    gunzipDone = new Promise<void>((resolve) => {
      gunzip.on('end', () => resolve());
      gunzip.on('error', (err) => {
        gzipError = err.message;
        resolve();
      });
    });
  }
  for await (const chunk of entry) {
    stored.update(chunk);
    storedSize += chunk.byteLength;
    if (probeSize < OFFSET_PROBE_BYTES) {
      probe.push(chunk.subarray(0, OFFSET_PROBE_BYTES - probeSize));
      probeSize += Math.min(chunk.byteLength, OFFSET_PROBE_BYTES - probeSize);
    }
    if (gunzip !== null && gzipError === null && !gunzip.write(chunk)) {
      await Promise.race([once(gunzip, 'drain'), gunzipDone]);
    }
  }
  if (gunzip !== null) {
    gunzip.end();
    await gunzipDone;
  }
  return {
    stored: { sha256: stored.digest('hex'), sizeBytes: storedSize },
    original: gunzip === null ? null : { sha256: original.digest('hex'), sizeBytes: originalSize },
    gzipError,
  };
}

function compareMember(f: ManifestFile, header: { name: string; type: string | null | undefined; size?: number | undefined; linkname?: string | null | undefined }, problems: string[]): void {
  if (header.name !== f.storedPath) problems.push(`${f.path}: member name ${JSON.stringify(header.name)}, manifest says ${JSON.stringify(f.storedPath)}`);
  if (header.type !== f.type) problems.push(`${f.path}: member type ${header.type ?? '?'}, manifest says ${f.type}`);
  if (f.type === 'symlink' && header.linkname !== f.linkTarget) problems.push(`${f.path}: symlink target ${JSON.stringify(header.linkname)}, manifest says ${JSON.stringify(f.linkTarget)}`);
  if (f.type === 'file' && header.size !== f.storedSizeBytes) problems.push(`${f.path}: stored size ${header.size ?? '?'} bytes, manifest says ${f.storedSizeBytes}`);
}

/**
 * Reads `source` to its end as a tar and checks it against `manifest` (the `archive` field, if
 * any, is not used here: a stream verifier does not know which copy it reads).
 */
export async function verifyArchiveStream(source: AsyncIterable<Buffer>, manifest: ArchiveManifest, options: VerifyOptions = {}): Promise<StreamVerifyResult> {
  const maxProblems = options.maxProblems ?? 200;
  const problems: string[] = [];
  let problemCount = 0;
  const problem = (line: string): void => {
    problemCount++;
    if (problems.length < maxProblems) problems.push(line);
  };
  const whole = createHash('sha256');
  let sizeBytes = 0;
  const extract = tarStream.extract();
  const feeding = (async (): Promise<void> => {
    try {
      for await (const chunk of source) {
        throwIfAborted(options.signal);
        whole.update(chunk);
        sizeBytes += chunk.byteLength;
        options.onProgress?.(sizeBytes);
        if (!extract.write(chunk)) await once(extract, 'drain');
      }
      (extract as unknown as { end(): void }).end(); // streamx: end() takes no callback
    } catch (err) {
      extract.destroy(err as Error);
      throw err;
    }
  })();
  feeding.catch(() => undefined);

  const probes = new Map<string, Buffer>();
  const manifestName = `${manifest.flightId}/${MANIFEST_MEMBER_NAME}`;
  const expectedInner = formatManifest(innerManifest(manifest));
  let index = 0;
  let sawManifest = false;
  let membersChecked = 0;
  try {
    for await (const entry of extract) {
      const h = entry.header;
      if (sawManifest) {
        problem(`extra member ${JSON.stringify(h.name)} after the manifest`);
        for await (const _ of entry) void _;
        continue;
      }
      if (h.name === manifestName && index === manifest.files.length) {
        const chunks: Buffer[] = [];
        for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
        sawManifest = true;
        if (Buffer.concat(chunks).toString('utf8') !== expectedInner) problem(`the manifest inside the archive (${manifestName}) differs from the manifest given`);
        continue;
      }
      const f = manifest.files[index];
      index++;
      if (f === undefined) {
        problem(`extra member ${JSON.stringify(h.name)} that the manifest does not list`);
        for await (const _ of entry) void _;
        continue;
      }
      const before = problemCount;
      const local: string[] = [];
      compareMember(f, h, local);
      const probe: Buffer[] = [];
      const d = await digestEntry(entry as AsyncIterable<Buffer>, f.storage === 'gzip', probe);
      probes.set(f.storedPath, Buffer.concat(probe));
      if (f.type === 'file') {
        if (d.stored.sha256 !== f.storedSha256) local.push(`${f.path}: stored bytes have sha256 ${d.stored.sha256}, manifest says ${f.storedSha256}`);
        if (f.storage === 'gzip') {
          if (d.gzipError !== null) local.push(`${f.path}: its gzip member does not inflate (${d.gzipError})`);
          else if (d.original !== null && (d.original.sha256 !== f.sha256 || d.original.sizeBytes !== f.sizeBytes)) {
            local.push(`${f.path}: inflates to ${d.original.sizeBytes} bytes with sha256 ${d.original.sha256}, manifest says ${f.sizeBytes} bytes, ${f.sha256}`);
          }
        }
      }
      for (const l of local) problem(l);
      if (problemCount === before) membersChecked++;
    }
    await feeding;
  } catch (err) {
    if (err instanceof IngestError && err.code === 'interrupted') throw err;
    if (options.signal?.aborted) throw options.signal.reason as Error;
    problem(`not a readable tar after ${sizeBytes} bytes (${(err as Error).message})`);
    await feeding.catch(() => undefined);
  }
  for (const f of manifest.files.slice(index)) problem(`${f.path}: missing from the archive`);
  if (!sawManifest) problem(`the manifest member ${manifestName} is missing at the end of the archive`);
  if (problemCount > problems.length) problems.push(`… and ${problemCount - problems.length} more`);
  return { sizeBytes, sha256: whole.digest('hex'), problems, membersChecked, probes };
}

export interface FileVerifyReport {
  archivePath: string;
  isOk: boolean;
  problems: string[];
  sizeBytes: number;
  sha256: string;
  membersChecked: number;
  fileCount: number;
}

/** Reads the file at `archivePath` in 1 MiB chunks. */
export function readArchiveChunks(archivePath: string): AsyncIterable<Buffer> {
  return createReadStream(archivePath, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>;
}

/**
 * Verifies an archive file: the stream check, the archive's own size and SHA-256 against the
 * manifest's `archive` (when the manifest has it), and every member's data at its byte offset.
 */
export async function verifyArchiveFile(archivePath: string, manifest: ArchiveManifest, options: VerifyOptions = {}): Promise<FileVerifyReport> {
  let st;
  try {
    st = await fsp.stat(archivePath);
  } catch (err) {
    throw new IngestError('not-found', `archive ${archivePath} cannot be read (${errnoCode(err) ?? String(err)})`, { cause: err });
  }
  const r = await verifyArchiveStream(readArchiveChunks(archivePath), manifest, options);
  const problems = [...r.problems];
  if (manifest.archive !== undefined) {
    if (st.size !== manifest.archive.sizeBytes) problems.unshift(`archive is ${st.size} bytes, manifest says ${manifest.archive.sizeBytes}`);
    if (r.sha256 !== manifest.archive.sha256) problems.unshift(`archive sha256 is ${r.sha256}, manifest says ${manifest.archive.sha256}`);
  }
  // Offsets: each member's first bytes, read where the manifest says they are.
  const fh = await fsp.open(archivePath, 'r');
  try {
    let bad = 0;
    for (const f of manifest.files) {
      const probe = r.probes.get(f.storedPath);
      if (probe === undefined || probe.byteLength === 0) continue;
      const buf = Buffer.alloc(probe.byteLength);
      const { bytesRead } = await fh.read(buf, 0, buf.byteLength, f.dataOffsetBytes);
      if (bytesRead !== buf.byteLength || !buf.equals(probe)) {
        if (bad++ < 20) problems.push(`${f.path}: its data is not at byte ${f.dataOffsetBytes} as the manifest says`);
      }
    }
    if (bad > 20) problems.push(`… and ${bad - 20} more members not at their offsets`);
  } finally {
    await fh.close();
  }
  return { archivePath, isOk: problems.length === 0, problems, sizeBytes: st.size, sha256: r.sha256, membersChecked: r.membersChecked, fileCount: manifest.files.length };
}
