import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { agentConfigSchema, type AgentConfig } from './schema.js';

export type ConfigErrorCode = 'NOT_FOUND' | 'UNREADABLE' | 'NOT_JSON' | 'INVALID';

/** A config file that cannot be used. `issues` has one entry per wrong field ("ports[1].baudRate: ..."). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly code: ConfigErrorCode,
    readonly file: string,
    readonly issues: string[],
  ) {
    super(`config ${file}: ${issues.join('; ')}`);
  }
}

/** `ports[1].baudRate` from zod's path array. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(top level)' : out;
}

/** One readable line per issue: "<path>: <what is wrong>". */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    return `${formatIssuePath(issue.path)}: ${issue.message}`;
  });
}

/** Validates an already-parsed config; relative paths are resolved against `baseDir`. */
export function parseConfig(raw: unknown, file: string, baseDir: string): AgentConfig {
  // A missing field reads better as "required" than as "expected string, received undefined".
  const result = agentConfigSchema.safeParse(raw, {
    error: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'required' : undefined),
  });
  if (!result.success) throw new ConfigError('INVALID', file, formatIssues(result.error));
  const config = result.data;
  return {
    ...config,
    array: resolve(baseDir, config.array),
    ports: config.ports.map((p) => ({ ...p, path: resolve(baseDir, p.path) })),
    cameras: config.cameras.map((c) => ({ ...c, folder: resolve(baseDir, c.folder) })),
  };
}

/** Reads and validates the config file. Throws ConfigError naming the file and every wrong field. */
export function loadConfig(file: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError('NOT_FOUND', file, ['file not found']);
    throw new ConfigError('UNREADABLE', file, [`cannot read (${code ?? String(err)})`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('NOT_JSON', file, [`not valid JSON (${(err as Error).message})`]);
  }
  return parseConfig(raw, file, dirname(resolve(file)));
}
