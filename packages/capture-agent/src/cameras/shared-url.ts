// Worker threads started from eval'd source import @flysnap/shared by URL: resolved here, where
// the package resolves (from dist/ in production, from src/ under vitest alike).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** file: URL of the built @flysnap/shared entry point. */
export function sharedModuleUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('@flysnap/shared')).href;
}
