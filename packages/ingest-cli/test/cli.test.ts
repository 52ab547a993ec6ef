// The built command explains itself and, having no subcommand yet, refuses anything else.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = (...args: string[]): ReturnType<typeof spawnSync> =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('ingest-cli', () => {
  it('--help says what it is for and exits 0', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: ingest-cli');
    expect(r.stdout).toContain('wipe the array only once every copy is verified');
  });

  it('an unknown subcommand is refused with a non-zero exit', () => {
    const r = run('wipe', '/mnt/array');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/too many arguments|unknown command/);
  });
});
