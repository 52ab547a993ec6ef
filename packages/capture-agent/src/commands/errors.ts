// How a command failure reaches the user: one line on stderr (the stack only with --verbose) and
// an exit code a script can branch on. See the README's "Errors and exit codes".
import { ArrayLayoutError, FlightDbError } from '@flysnap/shared';
import { ConfigError } from '../config/index.js';
import { FlightOpenError } from '../flight/index.js';
import { LockError } from '../lock/index.js';

export const EXIT = {
  OK: 0,
  /** Anything unexpected (a bug, an I/O error). */
  FAILURE: 1,
  /** Bad command line or config file. */
  USAGE: 2,
  /** Another capture-agent holds the array. */
  LOCKED: 3,
  /** The array or its flight DB cannot be used (not an array, not mounted, DB refused). */
  ARRAY: 4,
} as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError) return EXIT.USAGE;
  if (err instanceof LockError) return err.code === 'LOCKED' ? EXIT.LOCKED : EXIT.ARRAY;
  if (err instanceof ArrayLayoutError || err instanceof FlightDbError || err instanceof FlightOpenError) return EXIT.ARRAY;
  return EXIT.FAILURE;
}

/** Prints the failure as one line (plus the stack when verbose) and sets the exit code. */
export function reportFailure(err: unknown, isVerbose: boolean): void {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`capture-agent: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  if (isVerbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exitCode = exitCodeFor(err);
}
