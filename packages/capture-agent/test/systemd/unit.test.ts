// The systemd unit: valid for systemd (`systemd-analyze verify`) and hardened (`security` exposure).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const UNIT = fileURLToPath(new URL('../../systemd/capture-agent.service', import.meta.url));
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

/** The unit with ExecStart pointing at this machine's node and built CLI (verify needs them to exist). */
function localUnit(dir: string): string {
  const text = readFileSync(UNIT, 'utf8').replace(
    /^ExecStart=\S+ \S+/m,
    `ExecStart=${process.execPath} ${CLI}`,
  );
  const path = join(dir, 'capture-agent.service');
  writeFileSync(path, text);
  return path;
}

describe.skipIf(!hasAnalyze)('systemd unit', () => {
  it('passes systemd-analyze verify and scores OK (≤ 2.0) in systemd-analyze security', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-unit-'));
    try {
      const unit = localUnit(dir);
      const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', cwd: dir });
      expect(verify.status, verify.stderr).toBe(0);
      expect(verify.stderr).not.toMatch(/Unknown (key|section)|Failed to parse|not executable/i);

      const sec = spawnSync('systemd-analyze', ['security', '--offline=true', unit], { encoding: 'utf8', cwd: dir });
      const m = /Overall exposure level for capture-agent\.service: (\d+\.\d+)/.exec(sec.stdout);
      expect(m, sec.stdout + sec.stderr).not.toBeNull();
      expect(Number(m![1])).toBeLessThanOrEqual(2.0);
      // The score written in the unit's comment is the one measured.
      expect(readFileSync(UNIT, 'utf8')).toContain(`scores ${m![1]} OK`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps what serial capture needs: the dialout group, serial devices, the array writable, no capabilities', () => {
    const text = readFileSync(UNIT, 'utf8');
    for (const line of [
      'SupplementaryGroups=dialout',
      'DeviceAllow=char-ttyUSB rw',
      'DeviceAllow=char-ttyACM rw',
      'ProtectSystem=strict',
      'ReadWritePaths=/mnt/flysnap-array',
      'NoNewPrivileges=yes',
      'PrivateTmp=yes',
      'CapabilityBoundingSet=',
      'SystemCallFilter=@system-service',
      'Restart=on-failure',
      'StandardOutput=journal',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
    expect(text).not.toMatch(/^PrivateDevices=yes/m);
    expect(text).not.toMatch(/^MemoryDenyWriteExecute=yes/m);
  });
});
