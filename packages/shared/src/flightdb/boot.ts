// Boot ids: which boot of the capture machine a monotonic time belongs to. `*_mono_us` values are
// CLOCK_MONOTONIC, which restarts at every boot, so a monotonic time may only be converted to UTC
// through a clock fit of the SAME boot; the flight DB stores the boot id beside every monotonic
// time that is converted later (clock_fit.boot_id, asset.appeared_boot_id; schema v2).
//
// The id is Linux's /proc/sys/kernel/random/boot_id (a random UUID the kernel draws at boot, the
// same for every process and thread of that boot). Where it cannot be read (not Linux), the
// fallback is a random id per process, 'process-<uuid>': a process never outlives a boot, so it
// can only be more cautious than the kernel's (a restarted agent on the same boot cannot use the
// fits of the one before it). It is put into FLYSNAP_BOOT_ID so that the worker threads and child
// processes started afterwards (which copy the environment) use the same id.
//
// FLYSNAP_BOOT_ID, when set, wins over the kernel's: for the simulator and tests (a "reboot" of a
// child agent on one machine) and the fallback above. Never set it to a value that outlives a boot.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FlightDbError } from './errors.js';

/** Where Linux publishes the current boot's id. */
export const KERNEL_BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';
/** Environment variable that overrides (and carries the fallback of) the boot id. */
export const BOOT_ID_ENV = 'FLYSNAP_BOOT_ID';
/** Prefix of the fallback id of a machine without a kernel boot id. */
export const PROCESS_BOOT_ID_PREFIX = 'process-';

/** Printable ASCII without spaces, 1–64 characters (what the schema's CHECK also allows in length). */
const BOOT_ID_RE = /^[\x21-\x7e]{1,64}$/;
const KERNEL_BOOT_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True when `text` can be stored as a boot id. */
export function isBootId(text: unknown): text is string {
  return typeof text === 'string' && BOOT_ID_RE.test(text);
}

/** Pure: the content of /proc/sys/kernel/random/boot_id → the id (lower-case UUID), or null when it is not one. */
export function parseKernelBootId(text: string): string | null {
  const id = text.trim().toLowerCase();
  return KERNEL_BOOT_ID_RE.test(id) ? id : null;
}

let cached: string | undefined;

/**
 * The current boot's id (see the file comment): FLYSNAP_BOOT_ID if set, else the kernel's, else a
 * per-process random id (then also written to FLYSNAP_BOOT_ID). Read once per thread, then cached.
 * Throws FlightDbError('bad-options') when FLYSNAP_BOOT_ID is set but is not a boot id.
 */
export function currentBootId(): string {
  if (cached !== undefined) return cached;
  const env = process.env[BOOT_ID_ENV];
  if (env !== undefined && env !== '') {
    if (!isBootId(env)) {
      throw new FlightDbError('bad-options', `${BOOT_ID_ENV}=${JSON.stringify(env)} is not a boot id (1-64 printable characters, no spaces)`);
    }
    cached = env;
    return cached;
  }
  let kernel: string | null = null;
  try {
    kernel = parseKernelBootId(readFileSync(KERNEL_BOOT_ID_PATH, 'latin1'));
  } catch {
    // Not Linux (or no /proc): the per-process fallback below.
  }
  cached = kernel ?? `${PROCESS_BOOT_ID_PREFIX}${randomUUID()}`;
  if (kernel === null) process.env[BOOT_ID_ENV] = cached;
  return cached;
}
