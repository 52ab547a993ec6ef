import { readFileSync } from 'node:fs';

/** This package's version, from its package.json (one level above dist/). */
export const INGEST_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

export const INGEST_NAME_VERSION = `ingest-cli ${INGEST_VERSION}`;
