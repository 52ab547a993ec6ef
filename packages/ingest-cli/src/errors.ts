// The ingest CLI's one error type and its exit codes. Every failure a user can meet is an
// IngestError with a code a caller branches on; the CLI prints its message as one line.

/** Exit codes of `ingest-cli` (README "Errors and exit codes"; 0-4 mean what they mean for capture-agent). */
export const EXIT = {
  OK: 0,
  /** Anything unexpected (a bug, an I/O error not foreseen). */
  FAILURE: 1,
  /** Bad command line or config file. */
  USAGE: 2,
  /** Held by someone else: a capture agent recording the array, or another ingest-cli on the flight. */
  LOCKED: 3,
  /** The array or its flight DB cannot be used (not an array, DB corrupt, unreadable). */
  ARRAY: 4,
  /** The array does not match its flight DB (missing, extra or changed files): refused without --accept-mismatches. */
  MISMATCH: 5,
  /** A verification failed: an archive, a remote copy or a tape differs from its manifest. */
  VERIFY: 6,
  /** Refused by the chain's rules (e.g. wipe before every copy is verified). */
  REFUSED: 7,
  /** A transfer failed after its retries (server down, connection cut, disk full on the server). */
  TRANSFER: 8,
  /** No room on the local disk for the output. */
  DISK_FULL: 9,
  /** Interrupted (Ctrl-C, SIGTERM): nothing was marked, partial output removed. */
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export type IngestErrorCode =
  | 'usage'
  | 'config'
  | 'not-an-array'
  | 'flight-db'
  | 'array-read'
  | 'agent-recording'
  | 'flight-busy'
  | 'mismatch'
  | 'verify-failed'
  | 'disk-full'
  | 'io'
  | 'interrupted'
  | 'ledger'
  | 'not-found'
  | 'refused'
  | 'transfer';

const EXIT_FOR: Record<IngestErrorCode, ExitCode> = {
  usage: EXIT.USAGE,
  config: EXIT.USAGE,
  'not-an-array': EXIT.ARRAY,
  'flight-db': EXIT.ARRAY,
  'array-read': EXIT.ARRAY,
  'agent-recording': EXIT.LOCKED,
  'flight-busy': EXIT.LOCKED,
  mismatch: EXIT.MISMATCH,
  'verify-failed': EXIT.VERIFY,
  'disk-full': EXIT.DISK_FULL,
  io: EXIT.FAILURE,
  interrupted: EXIT.INTERRUPTED,
  ledger: EXIT.FAILURE,
  'not-found': EXIT.USAGE,
  refused: EXIT.REFUSED,
  transfer: EXIT.TRANSFER,
};

export class IngestError extends Error {
  override readonly name = 'IngestError';
  readonly code: IngestErrorCode;
  /** Further lines (one per mismatch, per refusal reason…) printed after the message. */
  readonly details: readonly string[];
  constructor(code: IngestErrorCode, message: string, options: { cause?: unknown; details?: readonly string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? [];
  }
  get exitCode(): ExitCode {
    return EXIT_FOR[this.code];
  }
}

/** The errno code of a Node fs error, or undefined. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True for the errors a full disk (or quota) gives. */
export function isDiskFull(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Throws the signal's reason when aborted (an IngestError 'interrupted' from runCommand). */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw signal.reason instanceof Error ? signal.reason : new IngestError('interrupted', 'interrupted');
  }
}
