// Issue 5's acceptance run: `hardware-sim flight` (real PTYs, real camera files with EXIF, a growing
// video, a slow writer, a camera that loses power mid-file) recorded by `capture-agent run` as a
// process, then checked against the simulator's ground truth. No durations asserted.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { currentBootId, openFlightDb, readAssets, readClockFits, serialLogPath, type AssetRow } from '@flysnap/shared';
import { CLI, killAgent, startAgent, type AgentProcess } from '../helpers/agent.js';
import { waitFor } from './helpers/env.js';

const SIM = fileURLToPath(new URL('../../../../hardware-sim/dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ca-sim-flight-'));
const out = join(dir, 'flight');
let agent: AgentProcess | null = null;
afterAll(async () => {
  if (agent) await killAgent(agent);
  rmSync(dir, { recursive: true, force: true });
});

interface Trigger {
  device: string;
  relPath: string;
  tUs: number;
  latDeg: number;
  lonDeg: number;
  altitudeM: number;
  headingDeg: number;
  isComplete: boolean;
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const lines = <T>(path: string): T[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);

function rows(): AssetRow[] {
  const path = join(out, 'array', 'flight.db');
  if (!existsSync(path)) return [];
  try {
    const db = openFlightDb(path, { readonly: true });
    try {
      return readAssets(db);
    } finally {
      db.close();
    }
  } catch {
    return [];
  }
}

/** Metres between two positions (equirectangular: exact enough at these distances). */
function metres(aLat: number, aLon: number, bLat: number, bLon: number): number {
  const north = (aLat - bLat) * 111_320;
  const east = (aLon - bLon) * 111_320 * Math.cos((bLat * Math.PI) / 180);
  return Math.hypot(north, east);
}
const angleDiff = (a: number, b: number): number => Math.abs(((a - b + 540) % 360) - 180);

it('records a simulated flight: every closed file once with the right hash, EXIF times, poses within tolerance, slow and half-written files', async () => {
  const sim = spawn(
    process.execPath,
    [SIM, 'flight', '--out', out, '--duration', '40', '--speed', '1', '--cameras', '3', '--seed', '11', '--fault', 'slow-camera:5@cam1', '--fault', 'half-written@cam2'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let simErr = '';
  sim.stderr.on('data', (d: Buffer) => (simErr += d.toString()));
  const simExit = new Promise<number | null>((r) => sim.on('exit', (code) => r(code)));
  const configPath = join(out, 'agent-config.json');
  await waitFor('the simulator config', () => existsSync(configPath));
  // The half-written file is given up on after 3 s instead of 30 s (a config option).
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { cameras: { device: string; incompleteAfterMs?: number }[] };
  for (const c of config.cameras) if (c.device === 'cam2') c.incompleteAfterMs = 3000;
  writeFileSync(`${configPath}.tmp`, JSON.stringify(config));
  renameSync(`${configPath}.tmp`, configPath);

  agent = startAgent(['run', '--config', configPath]);
  await agent.waitForLog((r) => typeof r.msg === 'string' && r.msg.startsWith('capturing'), 'agent ready');
  expect(await simExit, simErr).toBe(0);

  const triggers = lines<Trigger>(join(out, 'truth', 'triggers.jsonl'));
  const complete = triggers.filter((t) => t.isComplete);
  const half = triggers.filter((t) => !t.isComplete);
  const videoDir = join(out, 'array', 'cameras', 'video1');
  const videos = readdirSync(videoDir).filter((n) => n.endsWith('.mp4'));
  expect(half).toHaveLength(1);
  expect(videos.length).toBeGreaterThan(0);
  const total = complete.length + half.length + videos.length;
  await waitFor('every file recorded', () => rows().length >= total, 60_000);
  await waitFor('the catch-up pass', () => rows().filter((r) => (r.poseQuality as { isAwaitingData?: boolean }).isAwaitingData).length <= 6, 30_000);

  const statusRun = spawnSync(process.execPath, [CLI, 'status', '--array', join(out, 'array'), '--json'], { encoding: 'utf8' });
  expect(statusRun.status, statusRun.stderr).toBe(0);
  agent.child.kill('SIGTERM');
  expect((await agent.exited).code, agent.stderr()).toBe(0);

  const all = rows();
  expect(all).toHaveLength(total);
  const byKey = new Map(all.map((r) => [`${r.device}/${r.relPath}`, r]));
  expect(byKey.size).toBe(all.length); // no path twice

  let fullyPosed = 0;
  for (const t of complete) {
    const key = `${t.device}/${t.relPath}`;
    const r = byKey.get(key);
    expect(r, key).toBeDefined();
    if (!r) continue;
    expect(r.status, key).toBe('complete');
    expect(r.sha256, key).toBe(sha(join(out, 'array', 'cameras', t.device, t.relPath)));
    expect(r.timeSource, key).toBe('exif');
    // EXIF carries milliseconds: the time is the truth's to within 1 ms.
    expect(Math.abs((r.captureTUs ?? 0) - t.tUs), key).toBeLessThanOrEqual(1000);
    const missing = (r.poseQuality as { missing: Record<string, string> }).missing;
    if (r.latDeg !== null && r.lonDeg !== null) expect(metres(r.latDeg, r.lonDeg, t.latDeg, t.lonDeg), key).toBeLessThanOrEqual(0.5);
    else expect(typeof missing['latDeg'], `${key}: why no position`).toBe('string');
    if (r.headingDeg !== null) expect(angleDiff(r.headingDeg, t.headingDeg), key).toBeLessThanOrEqual(0.5);
    else expect(typeof missing['headingDeg'], `${key}: why no heading`).toBe('string');
    if (r.altitudeM !== null) expect(Math.abs(r.altitudeM - t.altitudeM), key).toBeLessThanOrEqual(1);
    else expect(typeof missing['altitudeM'], `${key}: why no altitude`).toBe('string');
    if (r.latDeg !== null && r.headingDeg !== null && r.altitudeM !== null) fullyPosed++;
  }
  // Only the first pictures (before the first fixes) and the last ones (no data after) may lack a pose.
  expect(fullyPosed).toBeGreaterThanOrEqual(complete.length - 6);

  // The slow writer's file: once, complete, its final content.
  const slow = lines<{ fault: string; target: string; detail: { relPath: string } }>(join(out, 'truth', 'faults.jsonl')).find((f) => f.fault === 'slow-camera');
  expect(slow).toBeDefined();
  const slowRows = all.filter((r) => r.device === 'cam1' && r.relPath === slow?.detail.relPath);
  expect(slowRows.map((r) => [r.status, r.sha256])).toEqual([['complete', sha(join(out, 'array', 'cameras', 'cam1', slow?.detail.relPath ?? ''))]]);

  // The half-written file: recorded as incomplete, not dropped, not accepted; status says why.
  const h = half[0]!;
  expect(byKey.get(`${h.device}/${h.relPath}`)).toMatchObject({ status: 'incomplete', sha256: sha(join(out, 'array', 'cameras', h.device, h.relPath)) });
  const status = JSON.parse(statusRun.stdout) as { cameras: { incompleteFiles: unknown[]; devices: Record<string, { assets: number }> } };
  expect(status.cameras.incompleteFiles).toEqual([expect.objectContaining({ device: h.device, relPath: h.relPath, reason: 'bad-ending' })]);

  // Clock fits and raw logs say which boot's monotonic clock they are on (this machine's boot).
  const db = openFlightDb(join(out, 'array', 'flight.db'), { readonly: true });
  try {
    const fits = readClockFits(db);
    expect(fits.length).toBeGreaterThan(0);
    expect(new Set(fits.map((f) => f.bootId))).toEqual(new Set([currentBootId()]));
  } finally {
    db.close();
  }
  expect(readFileSync(serialLogPath(join(out, 'array'), 'gps'), 'latin1').split('\n')[0]).toContain(`boot=${currentBootId()}`);
  expect(status.cameras.devices['cam1']?.assets).toBe(complete.filter((t) => t.device === 'cam1').length);

  // The video: one complete asset once the recording ended, with its final content.
  for (const v of videos) {
    expect(byKey.get(`video1/${v}`)).toMatchObject({ status: 'complete', sha256: sha(join(videoDir, v)) });
  }
}, 180_000); // a 40 s flight in real time, then the agent's catch-up
