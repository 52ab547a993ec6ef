// Arrays for tests: synthetic ones made with the shared contract's own writers (marker, flight
// DB, asset rows), and real ones recorded by `capture-agent run` from `hardware-sim flight`.
import { ARRAY_LAYOUT_VERSION, insertAsset, insertFlight, openFlightDb, writeArrayMarker } from '@flysnap/shared';
import type { FlightDb } from '@flysnap/shared';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const INGEST_CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
export const AGENT_CLI = fileURLToPath(new URL('../../../capture-agent/dist/cli.js', import.meta.url));
export const SIM_CLI = fileURLToPath(new URL('../../../../hardware-sim/dist/cli.js', import.meta.url));

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `ingest-${prefix}-`));
}

export interface SyntheticFile {
  device: string;
  relPath: string;
  content: Buffer;
  /** Record an asset row for it (default true). */
  hasRow?: boolean;
  /** The row's status (default 'complete'). */
  status?: 'complete' | 'incomplete';
  /** A row with another sha256 / size than the file (to test mismatches). */
  rowSha256?: string;
  rowSizeBytes?: number;
}

export interface SyntheticArray {
  root: string;
  flightId: string;
}

/** A writable flight DB left open in WAL mode (rows not checkpointed) until `close` is called. */
export async function makeArray(
  root: string,
  spec: { flightId?: string; aircraft?: string; files?: SyntheticFile[]; serial?: Record<string, Buffer>; keepOpen?: boolean } = {},
): Promise<SyntheticArray & { db: FlightDb | null }> {
  const flightId = spec.flightId ?? 'F20261208-0001';
  mkdirSync(root, { recursive: true });
  await writeArrayMarker(root, { layoutVersion: ARRAY_LAYOUT_VERSION, flightId, createdTUs: 1_796_000_000_000_000 });
  const db = openFlightDb(join(root, 'flight.db'), { create: true });
  insertFlight(db, { id: flightId, aircraft: spec.aircraft ?? 'D-TEST', startedTUs: 1_796_000_000_000_000, endedTUs: 1_796_000_100_000_000, layoutVersion: ARRAY_LAYOUT_VERSION, createdBy: 'test' });
  mkdirSync(join(root, 'serial'), { recursive: true });
  for (const [port, bytes] of Object.entries(spec.serial ?? { gps: Buffer.from('$GPRMC,hello*00\r\n'.repeat(100)) })) {
    writeFileSync(join(root, 'serial', `${port}.log`), bytes);
  }
  let t = 1_796_000_000_000_000;
  for (const f of spec.files ?? []) {
    const path = join(root, 'cameras', f.device, ...f.relPath.split('/'));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.content);
    if (f.hasRow === false) continue;
    t += 1_000_000;
    insertAsset(db, {
      device: f.device,
      relPath: f.relPath,
      sizeBytes: f.rowSizeBytes ?? f.content.byteLength,
      sha256: f.rowSha256 ?? sha256(f.content),
      captureTUs: t,
      timeSource: 'exif',
      appearedTUs: t,
      appearedMonoUs: null,
      recordedTUs: t,
      status: f.status ?? 'complete',
      latDeg: 50,
      lonDeg: 8,
      altitudeM: 300,
      pressureAltitudeM: null,
      headingDeg: 90,
      speedMps: 60,
      trackDeg: 90,
      poseQuality: null,
    });
  }
  if (spec.keepOpen === true) return { root, flightId, db };
  db.close();
  return { root, flightId, db: null };
}

/** `count` small JPEG-ish files per device (random bytes: incompressible). */
export function pictures(devices: string[], count: number, sizeBytes = 2048): SyntheticFile[] {
  const out: SyntheticFile[] = [];
  let seed = 1;
  for (const device of devices) {
    for (let i = 0; i < count; i++) {
      const content = Buffer.alloc(sizeBytes);
      for (let j = 0; j < sizeBytes; j += 4) content.writeUInt32LE((seed = (seed * 1664525 + 1013904223) >>> 0), j);
      out.push({ device, relPath: `IMG_${String(i).padStart(4, '0')}.JPG`, content });
    }
  }
  return out;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built ingest-cli; the environment has no FLYSNAP_* unless given. */
export function ingest(args: string[], env: Record<string, string> = {}): RunResult {
  const r = spawnSync(process.execPath, [INGEST_CLI, ...args], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Flies `hardware-sim flight` for `durationS` seconds with cameras (images and a video) and
 * records it with `capture-agent run`; the agent is SIGKILLed at the end, so the flight DB keeps
 * a WAL with rows not checkpointed, as after a power cut. Returns the array's path.
 */
export async function recordFlight(dir: string, options: { durationS?: number; cameras?: number; seed?: number } = {}): Promise<string> {
  const out = join(dir, 'flight');
  const sim = spawn(
    process.execPath,
    [SIM_CLI, 'flight', '--out', out, '--from', '240', '--duration', String(options.durationS ?? 12), '--speed', '1', '--cameras', String(options.cameras ?? 2), '--seed', String(options.seed ?? 5), '--gps-hz', '5', '--wait-reader'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let simErr = '';
  sim.stderr.on('data', (d: Buffer) => (simErr += d.toString()));
  const simExit = new Promise<number | null>((r) => sim.on('exit', (code) => r(code)));
  const config = join(out, 'agent-config.json');
  for (let i = 0; !existsSync(config); i++) {
    if (sim.exitCode !== null) throw new Error(`hardware-sim ended before writing its config: ${simErr}`);
    if (i > 600) throw new Error('no simulator config after 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const agent = spawn(process.execPath, [AGENT_CLI, 'run', '--config', config, '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const agentExit = new Promise<void>((r) => agent.on('exit', () => r()));
  const code = await simExit;
  if (code !== 0) {
    agent.kill('SIGKILL');
    throw new Error(`hardware-sim flight exited ${code}: ${simErr}`);
  }
  // Let the last pictures settle into asset rows (settleMs 1 s for images, 5 s for video).
  await new Promise((r) => setTimeout(r, 8000));
  agent.kill('SIGKILL');
  await agentExit;
  return join(out, 'array');
}
