/** Why a port is not delivering data; callers branch on `code`, never on the message. */
export type PortErrorCode =
  /** The device path does not exist (not plugged in, wrong by-id path). */
  | 'MISSING'
  /** open() failed (permissions, busy, not a tty, …). */
  | 'OPEN_FAILED'
  /** The device went away while open (USB unplug, PTY master closed). */
  | 'UNPLUGGED'
  /** A read failed while the device was still there. */
  | 'READ_ERROR'
  /** No byte for watchdogMs. */
  | 'SILENT';

export class PortError extends Error {
  override readonly name = 'PortError';
  constructor(
    readonly code: PortErrorCode,
    /** Port name from the config. */
    readonly port: string,
    /** Device path. */
    readonly path: string,
    detail: string,
  ) {
    super(`port ${port} (${path}): ${detail}`);
  }
}
