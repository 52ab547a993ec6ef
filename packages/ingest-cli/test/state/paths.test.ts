import { describe, expect, it } from 'vitest';
import { resolveConfigFile, resolveStateDir } from '../../src/state/paths.js';

const env = (vars: Record<string, string>, uid = 1000) => ({ env: vars, uid, home: '/home/op' });

describe('resolveStateDir', () => {
  it('option, then $FLYSNAP_STATE_DIR, then /var/lib/flysnap as root, then XDG', () => {
    expect(resolveStateDir('/s', env({ FLYSNAP_STATE_DIR: '/e' }, 0))).toBe('/s');
    expect(resolveStateDir(undefined, env({ FLYSNAP_STATE_DIR: '/e' }, 0))).toBe('/e');
    expect(resolveStateDir(undefined, env({}, 0))).toBe('/var/lib/flysnap');
    expect(resolveStateDir(undefined, env({ XDG_STATE_HOME: '/x' }))).toBe('/x/flysnap');
    expect(resolveStateDir(undefined, env({}))).toBe('/home/op/.local/state/flysnap');
    // A relative XDG value is invalid per the spec and ignored.
    expect(resolveStateDir(undefined, env({ XDG_STATE_HOME: 'rel' }))).toBe('/home/op/.local/state/flysnap');
  });
});

describe('resolveConfigFile', () => {
  it('names an explicit file as such; defaults by uid', () => {
    expect(resolveConfigFile('/c.json', env({}))).toEqual({ file: '/c.json', isExplicit: true });
    expect(resolveConfigFile(undefined, env({}, 0))).toEqual({ file: '/etc/flysnap/ingest.json', isExplicit: false });
    expect(resolveConfigFile(undefined, env({ XDG_CONFIG_HOME: '/cfg' }))).toEqual({ file: '/cfg/flysnap/ingest.json', isExplicit: false });
    expect(resolveConfigFile(undefined, env({}))).toEqual({ file: '/home/op/.config/flysnap/ingest.json', isExplicit: false });
  });
});
