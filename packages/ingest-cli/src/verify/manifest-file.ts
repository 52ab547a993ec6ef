// Reading a manifest file (beside an archive) with one clear error for anything wrong.
import { MANIFEST_FILE_SUFFIX, parseManifest } from '@flysnap/shared';
import type { ArchiveManifest } from '@flysnap/shared';
import { readFileSync } from 'node:fs';
import { IngestError, errnoCode } from '../errors.js';

/** `<archive>.manifest.json`. */
export function manifestPathFor(archivePath: string): string {
  return `${archivePath}${MANIFEST_FILE_SUFFIX}`;
}

export function readManifestFile(path: string): ArchiveManifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const why = errnoCode(err) === 'ENOENT' ? 'does not exist (give it with --manifest FILE)' : `cannot be read (${errnoCode(err) ?? String(err)})`;
    throw new IngestError('not-found', `manifest ${path} ${why}`, { cause: err });
  }
  const parsed = parseManifest(text);
  if (parsed.status === 'rejected') {
    throw new IngestError('verify-failed', `manifest ${path} is not a valid manifest: ${parsed.problems.slice(0, 3).join('; ')}`, { details: parsed.problems });
  }
  return parsed.manifest;
}
