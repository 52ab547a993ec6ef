// `ingest-cli archive ARRAY`: check the array, archive it in one pass, verify what was written,
// put it in place, and only then mark the flight `archived` in the ledger. Idempotent: a flight
// with a verified archive is reported, not archived again (unless --again).
import { ARRAY_LAYOUT_VERSION, ArrayLayoutError, arrayPaths, formatManifest, readArrayMarker } from '@flysnap/shared';
import type { ManifestMismatch } from '@flysnap/shared';
import { isOwnerAlive, readLock } from '@flysnap/capture-agent/lock';
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { IngestConfig } from '../config/schema.js';
import { IngestError, errnoCode, isDiskFull } from '../errors.js';
import { lockFlight } from '../ledger/flight-lock.js';
import { nowUs, openLedger } from '../ledger/ledger.js';
import type { ArchiveRecord, Ledger } from '../ledger/ledger.js';
import type { StatePaths } from '../state/paths.js';
import { INGEST_NAME_VERSION } from '../version.js';
import { manifestPathFor } from '../verify/manifest-file.js';
import { verifyArchiveFile } from '../verify/verify-archive.js';
import { snapshotFlightDb } from './flight-db-snapshot.js';
import { planArchive } from './plan.js';
import { walkArray } from './walk-array.js';
import { writeArchive } from './write-archive.js';
import type { ArchiveProgress } from './write-archive.js';

export interface ArchiveArrayOptions {
  arrayRoot: string;
  /** Output folder; default config.archive.outDir, else `<state>/archives`. */
  outDir?: string;
  /** Archive even when files do not match the flight DB; the manifest records each mismatch. */
  isMismatchAccepted?: boolean;
  /** Make a new archive although the flight has one (the ledger keeps both). */
  isAgain?: boolean;
  /** Queue the archive for tape (false = --no-tape). Default true. */
  isTapeWanted?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: ArchiveProgress & { phase: 'archive' | 'verify' }) => void;
  /** A line for the operator (a stale agent lock, a takeover…). */
  onNotice?: (line: string) => void;
}

export interface ArchiveArrayResult {
  status: 'archived' | 'already-archived';
  flightId: string;
  aircraft: string | null;
  archiveId: number;
  archivePath: string;
  manifestPath: string;
  sizeBytes: number;
  sha256: string;
  fileCount: number;
  contentBytes: number;
  mismatches: ManifestMismatch[];
  notices: string[];
}

/** One line per mismatch, for the refusal and the report. */
export function formatMismatch(m: ManifestMismatch): string {
  return `${m.kind.padEnd(15)} ${m.path}: ${m.detail}`;
}

function mismatchSummary(ms: readonly ManifestMismatch[]): string {
  const byKind = new Map<string, number>();
  for (const m of ms) byKind.set(m.kind, (byKind.get(m.kind) ?? 0) + 1);
  return [...byKind].map(([k, n]) => `${n} ${k}`).join(', ');
}

/** `<flight>.tar`, then `<flight>-2.tar`, … : the first name neither on disk nor in the ledger. */
function chooseArchiveName(outDir: string, flightId: string, ledger: Ledger): string {
  const taken = new Set(ledger.archivesOf(flightId).map((a) => basename(a.path)));
  for (let n = 1; ; n++) {
    const name = n === 1 ? `${flightId}.tar` : `${flightId}-${n}.tar`;
    if (!taken.has(name) && !existsSync(join(outDir, name)) && !existsSync(join(outDir, `${name}.manifest.json`))) return name;
  }
}

/** Removes what a killed `archive` of this flight left in `outDir` (we hold the flight's lock). */
async function removeLeftovers(outDir: string, flightId: string): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(outDir);
  } catch {
    return;
  }
  for (const n of names) {
    if (n.startsWith(`.${flightId}.`) || n.startsWith(`.${flightId}-`)) {
      if (/\.partial-\d+$/.test(n)) await fsp.rm(join(outDir, n), { force: true });
    }
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes `text` to `path` crash-safe: temp name, fsync, link (never replaces), fsync folder. */
async function writeNewFile(path: string, text: string): Promise<void> {
  const tmp = join(resolve(path, '..'), `.${basename(path)}.partial-${process.pid}`);
  const fh = await fsp.open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fsp.link(tmp, path);
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}

function isArchiveIntact(a: ArchiveRecord): boolean {
  try {
    return statSync(a.path).size === a.sizeBytes && existsSync(a.manifestPath);
  } catch {
    return false;
  }
}

function resultOf(status: ArchiveArrayResult['status'], a: ArchiveRecord, aircraft: string | null, mismatches: ManifestMismatch[], notices: string[]): ArchiveArrayResult {
  return {
    status,
    flightId: a.flightId,
    aircraft,
    archiveId: a.id,
    archivePath: a.path,
    manifestPath: a.manifestPath,
    sizeBytes: a.sizeBytes,
    sha256: a.sha256,
    fileCount: a.fileCount,
    contentBytes: a.contentBytes,
    mismatches,
    notices,
  };
}

/** Checks the capture agent's lock on the array: refused when live here, a notice when left behind. */
function checkAgentLock(root: string, notice: (line: string) => void): void {
  const lockPath = arrayPaths(root).lock;
  const owner = readLock(lockPath);
  if (owner === null) {
    if (existsSync(lockPath)) notice(`the capture agent's lock ${lockPath} is unreadable: taken as left behind`);
    return;
  }
  if (isOwnerAlive(owner)) {
    throw new IngestError('agent-recording', `array ${root} is being recorded by a capture-agent on this machine (pid ${owner.pid}): stop it first (a flight is archived once it has ended)`);
  }
  const when = owner.lockedAtUs > 0 ? new Date(owner.lockedAtUs / 1000).toISOString() : 'an unknown time';
  notice(`the capture agent's lock is still on the array (pid ${owner.pid} on ${owner.hostname || 'an unknown host'}, taken ${when}): the agent did not stop cleanly (power cut, array pulled); archiving what is on the array`);
}

export async function archiveArray(state: StatePaths, config: IngestConfig, options: ArchiveArrayOptions): Promise<ArchiveArrayResult> {
  const root = resolve(options.arrayRoot);
  const notices: string[] = [];
  const notice = (line: string): void => {
    notices.push(line);
    options.onNotice?.(line);
  };
  let st;
  try {
    st = statSync(root);
  } catch (err) {
    throw new IngestError('not-an-array', `array ${root} does not exist or cannot be read (${errnoCode(err) ?? String(err)}): is it mounted?`, { cause: err });
  }
  if (!st.isDirectory()) throw new IngestError('not-an-array', `array ${root} is not a folder`);
  let marker;
  try {
    marker = await readArrayMarker(root);
  } catch (err) {
    if (err instanceof ArrayLayoutError) throw new IngestError('not-an-array', `${root} is not a Fly and Snap array: ${err.message}`, { cause: err });
    throw new IngestError('array-read', `array ${root}: cannot read its marker (${errnoCode(err) ?? String(err)})`, { cause: err });
  }
  checkAgentLock(root, notice);
  const flightId = marker.flightId;

  const ledger = openLedger(state.ledger);
  let lock;
  try {
    lock = lockFlight(state.locks, flightId);
  } catch (err) {
    ledger.close();
    throw err;
  }
  if (lock.tookOverFromPid !== null) notice(`took over the lock of flight ${flightId} left by ingest-cli pid ${lock.tookOverFromPid}, which is gone`);
  const workDir = join(state.work, `${flightId}-${process.pid}`);
  let tempPath: string | null = null;
  let stepId: number | null = null;
  try {
    const abandoned = ledger.closeAbandonedSteps(flightId);
    if (abandoned > 0) notice(`${abandoned} step(s) of flight ${flightId} left running by a process that died were marked failed`);
    const known = ledger.flight(flightId);
    const current = ledger.currentArchive(flightId);
    if (current !== null && options.isAgain !== true) {
      if (current.verifyStatus === 'verified' && isArchiveIntact(current)) {
        ledger.recordFlightSeen({ id: flightId, aircraft: known?.aircraft ?? null, startedTUs: null, endedTUs: null, arrayPath: root });
        return resultOf('already-archived', current, known?.aircraft ?? null, [], notices);
      }
      const why = current.verifyStatus !== 'verified' ? 'failed its last verify' : 'is missing or changed on disk';
      throw new IngestError('refused', `flight ${flightId} already has archive #${current.id} (${current.path}), which ${why}: run again with --again to make a new archive (the ledger keeps both)`);
    }

    ledger.recordFlightSeen({ id: flightId, aircraft: null, startedTUs: null, endedTUs: null, arrayPath: root });
    stepId = ledger.startStep({ flightId, step: 'archive', data: { array: root, isAgain: options.isAgain === true } });

    await fsp.rm(workDir, { recursive: true, force: true });
    await fsp.mkdir(workDir, { recursive: true, mode: 0o700 });
    const walk = await walkArray(root);
    const snapshot = await snapshotFlightDb(root, workDir, walk.entries, options.signal);
    ledger.recordFlightSeen({ id: flightId, aircraft: snapshot.flight.aircraft, startedTUs: snapshot.flight.startedTUs, endedTUs: snapshot.flight.endedTUs, arrayPath: root });
    const plan = planArchive(walk.entries, snapshot.assets, { compressExtensions: config.archive.compressExtensions });
    for (const bad of walk.badNames) plan.mismatches.push({ kind: 'special-file', path: bad, detail: 'its name is not valid UTF-8: it cannot be archived under its exact name, and was not' });
    if (plan.mismatches.length > 0 && options.isMismatchAccepted !== true) {
      throw new IngestError('mismatch', `array ${root} does not match its flight DB (${mismatchSummary(plan.mismatches)}): nothing was archived; look at the list, then run again with --accept-mismatches to archive it as it is (each mismatch is recorded in the manifest)`, { details: plan.mismatches.map(formatMismatch) });
    }

    const outDir = resolve(options.outDir ?? config.archive.outDir ?? state.archives);
    try {
      await fsp.mkdir(outDir, { recursive: true });
    } catch (err) {
      throw new IngestError('io', `output folder ${outDir}: cannot create (${errnoCode(err) ?? String(err)})`, { cause: err });
    }
    await removeLeftovers(outDir, flightId);
    const name = chooseArchiveName(outDir, flightId, ledger);
    const archivePath = join(outDir, name);
    const manifestPath = manifestPathFor(archivePath);
    tempPath = join(outDir, `.${name}.partial-${process.pid}`);
    const createdTUs = nowUs();
    const written = await writeArchive({
      arrayRoot: root,
      flightId,
      plan,
      snapshot,
      tempPath,
      workDir,
      gzipLevel: config.archive.gzipLevel,
      isMismatchAccepted: options.isMismatchAccepted === true,
      createdTUs,
      tool: INGEST_NAME_VERSION,
      arrayLayoutVersion: ARRAY_LAYOUT_VERSION,
      ...(options.onProgress ? { onProgress: (p: ArchiveProgress): void => options.onProgress?.({ ...p, phase: 'archive' }) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const hashMismatches = written.mismatches.filter((m) => m.kind === 'hash-differs');
    if (hashMismatches.length > 0 && options.isMismatchAccepted !== true) {
      throw new IngestError('mismatch', `${hashMismatches.length} file(s) on array ${root} differ from the SHA-256 the capture agent recorded: the archive was not kept; run again with --accept-mismatches to archive them as they are`, { details: hashMismatches.map(formatMismatch) });
    }

    // Read what was written back and check it against the manifest, before it is put in place.
    const beside = { ...written.manifest, archive: { name, sizeBytes: written.sizeBytes, sha256: written.sha256 } };
    const verify = await verifyArchiveFile(tempPath, beside, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: (doneBytes: number): void => options.onProgress?.({ doneBytes, totalBytes: written.sizeBytes, doneFiles: 0, totalFiles: written.manifest.files.length, phase: 'verify' }) } : {}),
    });
    if (!verify.isOk) {
      throw new IngestError('verify-failed', `the archive written to ${tempPath} does not read back as written: not kept (is the disk failing?)`, { details: verify.problems });
    }

    // In place: the archive, then the manifest beside it (its presence = a complete archive).
    // link() never replaces an existing file, unlike rename().
    try {
      await fsp.link(tempPath, archivePath);
    } catch (err) {
      throw new IngestError('io', `cannot put the archive in place as ${archivePath} (${errnoCode(err) ?? String(err)})`, { cause: err });
    }
    await fsp.rm(tempPath, { force: true });
    tempPath = null;
    const manifestText = formatManifest(beside);
    await writeNewFile(manifestPath, manifestText);
    await fsyncDir(outDir);
    const manifestSha256 = createHash('sha256').update(manifestText).digest('hex');

    const verifiedTUs = nowUs();
    const archiveId = ledger.transaction(() => {
      const id = ledger.insertArchive({
        flightId,
        path: archivePath,
        manifestPath,
        sizeBytes: written.sizeBytes,
        sha256: written.sha256,
        manifestSha256,
        fileCount: written.manifest.files.length,
        contentBytes: written.manifest.contentBytes,
        mismatchCount: written.mismatches.length,
        isMismatchAccepted: options.isMismatchAccepted === true,
        arrayPath: root,
        createdTUs,
        verifiedTUs,
        isTapeWanted: options.isTapeWanted !== false,
      });
      ledger.finishStep(stepId as number, 'ok', { archiveId: id, data: { array: root, archive: archivePath, sizeBytes: written.sizeBytes, sha256: written.sha256, mismatches: written.mismatches.length, notices } });
      ledger.refreshState(flightId);
      return id;
    });
    stepId = null;
    return resultOf('archived', ledger.archive(archiveId) as ArchiveRecord, snapshot.flight.aircraft, written.mismatches, notices);
  } catch (err) {
    const e = err instanceof IngestError ? err : isDiskFull(err) ? new IngestError('disk-full', `no room left (${errnoCode(err)}): ${(err as Error).message}`, { cause: err }) : err;
    if (stepId !== null) {
      const outcome = e instanceof IngestError && e.code === 'mismatch' ? 'refused' : 'failed';
      try {
        ledger.finishStep(stepId, outcome, { error: e instanceof Error ? e.message : String(e), ...(e instanceof IngestError && e.details.length > 0 ? { data: { details: e.details.slice(0, 1000) } } : {}) });
      } catch {
        /* the ledger itself failed (disk full on the state folder): the error below says enough */
      }
    }
    throw e;
  } finally {
    if (tempPath !== null) await fsp.rm(tempPath, { force: true }).catch(() => undefined);
    await fsp.rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    lock.release();
    ledger.close();
  }
}
