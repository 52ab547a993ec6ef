// Is the array folder a mounted file system of its own? An agent started while the array is not
// mounted would write the whole flight onto the disk that holds the mount point (often the
// system disk), which fills up mid-flight. The systemd unit guards the service with
// RequiresMountsFor=; this check makes the same mistake visible when the agent is run by hand.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** True when `dir` is the root of a mounted file system (its device differs from its parent's). */
export function isMountPoint(dir: string): boolean {
  const abs = resolve(dir);
  const parent = dirname(abs);
  if (parent === abs) return true; // '/'
  return statSync(abs).dev !== statSync(parent).dev;
}
