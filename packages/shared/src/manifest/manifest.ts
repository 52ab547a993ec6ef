// The archive manifest, version 1: what one archive of one flight holds, file by file, so that
// the archive can be checked (verify, tape read-back, remote copies) and one file pulled from it
// without reading the rest. Pure: types, formatting, parsing with validation. No I/O.
//
// The same manifest is stored twice:
// - inside the archive, as its LAST member (`<flightId>/flysnap-manifest.json`), without `archive`
//   (an archive cannot hold its own hash);
// - beside it, as `<archive file>.manifest.json`, with `archive` (the archive's own name, size and
//   SHA-256). Apart from `archive`, the two are the same JSON text.
//
// Paths: `path` is the file's path relative to the array root, POSIX separators, exactly as on
// the array (any bytes a file name may hold, as UTF-8). `storedPath` is the tar member's name:
// `<flightId>/<path>` for a plain member, `<flightId>/<path>.gz` for a gzip member.
// Offsets are byte offsets in the archive file: `headerOffsetBytes` where the member's first header
// block starts (its pax header, when it has one), `dataOffsetBytes` where its stored bytes start
// (`dd if=ARCHIVE bs=1 skip=dataOffsetBytes count=storedSizeBytes` gives them, or a ranged read).
import { isSha256Hex } from '../hash/sha256.js';

export const MANIFEST_FORMAT = 'flysnap-archive-manifest' as const;
export const MANIFEST_VERSION = 1 as const;
/** Name of the manifest member inside the archive, under the flight's folder. */
export const MANIFEST_MEMBER_NAME = 'flysnap-manifest.json';
/** Suffix of the manifest beside the archive: `<archive file>.manifest.json`. */
export const MANIFEST_FILE_SUFFIX = '.manifest.json';

/** How a file's bytes are stored in the archive. */
export type ManifestStorage = 'plain' | 'gzip';

/** A file of the array, as archived. */
export interface ManifestFile {
  /** Relative to the array root, POSIX separators. */
  path: string;
  type: 'file' | 'symlink';
  /** The file's own size (of the original bytes, before any compression); 0 for a symlink. */
  sizeBytes: number;
  /** SHA-256 of the original bytes (lower-case hex); for a symlink, of its target text. */
  sha256: string;
  /** For a symlink: its target, exactly as stored in the link (never followed). */
  linkTarget: string | null;
  /** The SHA-256 the capture agent recorded for it (asset row), or null for files the agent does not hash. */
  agentSha256: string | null;
  storage: ManifestStorage;
  /** The tar member's name. */
  storedPath: string;
  /** Bytes of the member's data in the archive (= sizeBytes for plain; the gzip size for gzip). */
  storedSizeBytes: number;
  /** SHA-256 of the member's data as stored (= sha256 for plain). */
  storedSha256: string;
  headerOffsetBytes: number;
  dataOffsetBytes: number;
  /** Modification time on the array, µs since epoch (what wipe compares to find a changed file). */
  mtimeUs: number;
  /** Permission bits (e.g. 0o644 = 420). */
  mode: number;
}

/** Why a file did not match the flight DB; recorded when the archive was made with them accepted. */
export type MismatchKind =
  /** A file under cameras/ that no asset row names. */
  | 'no-row'
  /** An asset row whose file is not on the array. */
  | 'missing-file'
  /** The file's size differs from its asset row. */
  | 'size-differs'
  /** The file's SHA-256 differs from its asset row (found while archiving). */
  | 'hash-differs'
  /** The asset row says 'incomplete' (the agent gave up waiting for the file to finish). */
  | 'incomplete'
  /** A file outside the array layout (not marker, flight DB, serial log, camera folder). */
  | 'unexpected-file'
  /** Not a regular file or symlink (fifo, socket, device): not archived. */
  | 'special-file';

export interface ManifestMismatch {
  kind: MismatchKind;
  /** Relative to the array root. */
  path: string;
  /** One line for a person: what differs. */
  detail: string;
}

export interface ManifestArchiveInfo {
  /** The archive's file name (no folder): it may be copied anywhere. */
  name: string;
  sizeBytes: number;
  sha256: string;
}

export interface ArchiveManifest {
  format: typeof MANIFEST_FORMAT;
  manifestVersion: typeof MANIFEST_VERSION;
  flightId: string;
  aircraft: string | null;
  /** The flight's start and end from its flight DB, µs UTC (end null if the agent never closed it). */
  flightStartedTUs: number | null;
  flightEndedTUs: number | null;
  /** When this archive was made, µs UTC. */
  createdTUs: number;
  /** e.g. 'ingest-cli 0.1.0'. */
  tool: string;
  arrayLayoutVersion: number;
  flightDbSchemaVersion: number;
  /** Archive member order; the manifest member itself is not listed. */
  files: ManifestFile[];
  /** Sum of `sizeBytes` of every file. */
  contentBytes: number;
  mismatches: ManifestMismatch[];
  /** True when the archive was made with --accept-mismatches (then `mismatches` may be non-empty). */
  isMismatchAccepted: boolean;
  /** Only in the manifest beside the archive. */
  archive?: ManifestArchiveInfo;
}

/** The manifest's text: stable JSON (fields in the order above), 1 space indent, '\n' at the end. */
export function formatManifest(m: ArchiveManifest): string {
  return `${JSON.stringify(m, null, 1)}\n`;
}

/** The manifest without its `archive` field: the form stored inside the archive. */
export function innerManifest(m: ArchiveManifest): ArchiveManifest {
  const { archive: _archive, ...rest } = m;
  return rest;
}

export type ParseManifestResult = { status: 'ok'; manifest: ArchiveManifest } | { status: 'rejected'; problems: string[] };

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isNonNegInt = (v: unknown): v is number => isInt(v) && v >= 0;
const isIntOrNull = (v: unknown): v is number | null => v === null || isInt(v);
const isStrOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

function checkFile(f: unknown, i: number, problems: string[]): void {
  const at = `files[${i}]`;
  if (typeof f !== 'object' || f === null) {
    problems.push(`${at}: not an object`);
    return;
  }
  const o = f as Record<string, unknown>;
  if (typeof o['path'] !== 'string' || o['path'] === '' || o['path'].startsWith('/') || o['path'].split('/').includes('..')) {
    problems.push(`${at}.path: ${JSON.stringify(o['path'])} is not a relative path inside the array`);
  }
  if (o['type'] !== 'file' && o['type'] !== 'symlink') problems.push(`${at}.type: must be 'file' or 'symlink'`);
  for (const k of ['sizeBytes', 'storedSizeBytes', 'headerOffsetBytes', 'dataOffsetBytes', 'mode'] as const) {
    if (!isNonNegInt(o[k])) problems.push(`${at}.${k}: not a non-negative integer`);
  }
  if (!isInt(o['mtimeUs'])) problems.push(`${at}.mtimeUs: not an integer`);
  for (const k of ['sha256', 'storedSha256'] as const) {
    if (typeof o[k] !== 'string' || !isSha256Hex(o[k])) problems.push(`${at}.${k}: not a lower-case SHA-256`);
  }
  if (o['agentSha256'] !== null && (typeof o['agentSha256'] !== 'string' || !isSha256Hex(o['agentSha256']))) {
    problems.push(`${at}.agentSha256: not a SHA-256 or null`);
  }
  if (!isStrOrNull(o['linkTarget'])) problems.push(`${at}.linkTarget: not a string or null`);
  if (o['type'] === 'symlink' && typeof o['linkTarget'] !== 'string') problems.push(`${at}.linkTarget: a symlink needs its target`);
  if (o['storage'] !== 'plain' && o['storage'] !== 'gzip') problems.push(`${at}.storage: must be 'plain' or 'gzip'`);
  if (typeof o['storedPath'] !== 'string' || o['storedPath'] === '') problems.push(`${at}.storedPath: not a name`);
  if (isNonNegInt(o['headerOffsetBytes']) && isNonNegInt(o['dataOffsetBytes']) && o['dataOffsetBytes'] < o['headerOffsetBytes'] + 512) {
    problems.push(`${at}: dataOffsetBytes is not after its header`);
  }
}

/**
 * Parses and validates a manifest's text. Never throws: a bad manifest is a list of problems,
 * one line each, naming the field.
 */
export function parseManifest(text: string): ParseManifestResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { status: 'rejected', problems: [`not valid JSON (${(e as Error).message})`] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { status: 'rejected', problems: ['not a JSON object'] };
  const o = value as Record<string, unknown>;
  const problems: string[] = [];
  if (o['format'] !== MANIFEST_FORMAT) problems.push(`format: ${JSON.stringify(o['format'])} is not '${MANIFEST_FORMAT}'`);
  if (o['manifestVersion'] !== MANIFEST_VERSION) {
    problems.push(`manifestVersion: ${JSON.stringify(o['manifestVersion'])} is not supported (this code reads ${MANIFEST_VERSION})`);
    return { status: 'rejected', problems };
  }
  if (typeof o['flightId'] !== 'string' || o['flightId'] === '') problems.push('flightId: missing');
  if (!isStrOrNull(o['aircraft'])) problems.push('aircraft: not a string or null');
  for (const k of ['flightStartedTUs', 'flightEndedTUs'] as const) if (!isIntOrNull(o[k])) problems.push(`${k}: not an integer or null`);
  if (!isInt(o['createdTUs'])) problems.push('createdTUs: not an integer');
  if (typeof o['tool'] !== 'string') problems.push('tool: missing');
  for (const k of ['arrayLayoutVersion', 'flightDbSchemaVersion', 'contentBytes'] as const) if (!isNonNegInt(o[k])) problems.push(`${k}: not a non-negative integer`);
  if (!Array.isArray(o['files'])) problems.push('files: not an array');
  else o['files'].forEach((f, i) => checkFile(f, i, problems));
  if (!Array.isArray(o['mismatches'])) problems.push('mismatches: not an array');
  if (typeof o['isMismatchAccepted'] !== 'boolean') problems.push('isMismatchAccepted: not a boolean');
  if (o['archive'] !== undefined) {
    const a = o['archive'] as Record<string, unknown> | null;
    if (typeof a !== 'object' || a === null) problems.push('archive: not an object');
    else {
      if (typeof a['name'] !== 'string' || a['name'] === '' || a['name'].includes('/')) problems.push('archive.name: not a file name');
      if (!isNonNegInt(a['sizeBytes'])) problems.push('archive.sizeBytes: not a non-negative integer');
      if (typeof a['sha256'] !== 'string' || !isSha256Hex(a['sha256'])) problems.push('archive.sha256: not a lower-case SHA-256');
    }
  }
  if (problems.length > 0) return { status: 'rejected', problems };
  return { status: 'ok', manifest: value as ArchiveManifest };
}
