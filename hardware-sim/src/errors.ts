/** What went wrong, for a caller (and the CLI's exit status) to branch on. */
export type SimErrorCode =
  /** An option or argument the user gave is not valid. */
  | 'BAD_INPUT'
  /** A log file could not be read. */
  | 'LOG_UNREADABLE'
  /** socat is not installed (scripts/setup.sh installs it). */
  | 'SOCAT_MISSING'
  /** A pseudo-terminal could not be created or kept. */
  | 'PORT_FAILED'
  /** The output folder could not be prepared. */
  | 'OUTPUT_FAILED'
  /** A file in the output folder could not be written (e.g. the disk is full). */
  | 'WRITE_FAILED';

export class SimError extends Error {
  readonly code: SimErrorCode;
  constructor(code: SimErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SimError';
    this.code = code;
  }
}
