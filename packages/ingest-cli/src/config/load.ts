// Reading the ingest config: a missing default file means "all defaults"; a file named with
// --config must exist. Every wrong field is named in one error.
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { IngestError, errnoCode } from '../errors.js';
import type { ConfigLocation } from '../state/paths.js';
import { ingestConfigSchema } from './schema.js';
import type { IngestConfig } from './schema.js';

export interface LoadedConfig {
  config: IngestConfig;
  /** The file read, or null when there was none and the defaults apply. */
  file: string | null;
  /** The file's permission bits (e.g. 0o600), or null: the upload link refuses secrets in a readable file. */
  mode: number | null;
}

/** `ports[1].baudRate` from zod's path array. */
function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out === '' ? '(top level)' : out;
}

/** One line per wrong field: "<path>: <what is wrong>". */
export function formatConfigIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issuePath(issue.path)}: ${issue.message}`);
}

/** Validates a parsed config. Relative paths are resolved against the config file's folder. */
export function parseIngestConfig(raw: unknown, file: string): IngestConfig {
  const result = ingestConfigSchema.safeParse(raw, {
    error: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'required' : undefined),
  });
  if (!result.success) {
    const issues = formatConfigIssues(result.error);
    throw new IngestError('config', `config ${file}: ${issues.join('; ')}`, { details: issues });
  }
  const config = result.data;
  const base = dirname(resolve(file));
  if (config.archive.outDir !== undefined) config.archive.outDir = resolve(base, config.archive.outDir);
  return config;
}

/** The defaults, as a config file without any field gives them. */
export function defaultIngestConfig(): IngestConfig {
  return ingestConfigSchema.parse({});
}

export function loadIngestConfig(location: ConfigLocation): LoadedConfig {
  let text: string;
  let mode: number;
  try {
    mode = statSync(location.file).mode & 0o777;
    text = readFileSync(location.file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' && !location.isExplicit) return { config: defaultIngestConfig(), file: null, mode: null };
    const why = errnoCode(err) === 'ENOENT' ? 'file not found' : `cannot read (${errnoCode(err) ?? String(err)})`;
    throw new IngestError('config', `config ${location.file}: ${why}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new IngestError('config', `config ${location.file}: not valid JSON (${(err as Error).message})`);
  }
  return { config: parseIngestConfig(raw, location.file), file: location.file, mode };
}
