// Where the ingest side keeps its state (the ledger, archives, locks) and looks for its config.
// Pure: the environment and the user id are arguments, so every rule is tested without root.
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export interface PathEnv {
  env: Readonly<Record<string, string | undefined>>;
  /** Effective uid (0 = root). */
  uid: number;
  home: string;
}

export function currentPathEnv(): PathEnv {
  return { env: process.env, uid: process.getuid?.() ?? 1000, home: homedir() };
}

/** The system-wide state folder, used as root. */
export const SYSTEM_STATE_DIR = '/var/lib/flysnap';
/** The system-wide ingest config, used as root. */
export const SYSTEM_CONFIG_FILE = '/etc/flysnap/ingest.json';

function xdg(env: PathEnv, name: 'XDG_STATE_HOME' | 'XDG_CONFIG_HOME', fallback: string): string {
  const v = env.env[name];
  // The XDG spec: a relative value is invalid and must be ignored.
  return v !== undefined && v !== '' && isAbsolute(v) ? v : join(env.home, fallback);
}

/**
 * The state folder: `--state-dir`, else `$FLYSNAP_STATE_DIR`, else `/var/lib/flysnap` as root,
 * else `$XDG_STATE_HOME/flysnap` (or `~/.local/state/flysnap`).
 */
export function resolveStateDir(option: string | undefined, env: PathEnv = currentPathEnv()): string {
  if (option !== undefined && option !== '') return resolve(option);
  const fromEnv = env.env['FLYSNAP_STATE_DIR'];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  if (env.uid === 0) return SYSTEM_STATE_DIR;
  return join(xdg(env, 'XDG_STATE_HOME', '.local/state'), 'flysnap');
}

export interface ConfigLocation {
  file: string;
  /** True when the user named the file (--config): then it must exist. */
  isExplicit: boolean;
}

/** The ingest config: `--config`, else `/etc/flysnap/ingest.json` as root, else `$XDG_CONFIG_HOME/flysnap/ingest.json`. */
export function resolveConfigFile(option: string | undefined, env: PathEnv = currentPathEnv()): ConfigLocation {
  if (option !== undefined && option !== '') return { file: resolve(option), isExplicit: true };
  if (env.uid === 0) return { file: SYSTEM_CONFIG_FILE, isExplicit: false };
  return { file: join(xdg(env, 'XDG_CONFIG_HOME', '.config'), 'flysnap', 'ingest.json'), isExplicit: false };
}

/** The folders inside a state folder. */
export interface StatePaths {
  root: string;
  /** The ledger DB. */
  ledger: string;
  /** Default output folder of `archive`. */
  archives: string;
  /** Per-flight lock files of ingest-cli processes. */
  locks: string;
  /** Scratch space (DB snapshots, compressed members being made); emptied of our own leftovers. */
  work: string;
}

export function statePaths(root: string): StatePaths {
  return {
    root,
    ledger: join(root, 'ledger.db'),
    archives: join(root, 'archives'),
    locks: join(root, 'locks'),
    work: join(root, 'work'),
  };
}
