// kill -9 of the agent (dist/cli.js run, as systemd runs it) while cameras write bursts, then a
// restart: every file is an asset exactly once, with the right hash, and the DB is intact.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { checkFlightDbIntegrity, openFlightDb, readAssets, type AssetRow } from '@flysnap/shared';
import { AgentPool } from '../helpers/agent.js';
import { exifFieldsFor, makeJpeg } from './helpers/jpeg.js';
import { waitFor } from './helpers/env.js';

const WRITER = fileURLToPath(new URL('./helpers/writer.mjs', import.meta.url));
const T_US = Date.UTC(2024, 4, 1, 12, 0, 0) * 1000;
const DEVICES = ['cam1', 'cam2', 'cam3'];
const FILES_PER_CAMERA = 40;

let dir: string;
let array: string;
const agents = new AgentPool();
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-cam-kill-'));
  array = join(dir, 'array');
});
afterEach(async () => {
  await agents.killAll();
  rmSync(dir, { recursive: true, force: true });
});

function rows(): AssetRow[] {
  try {
    const db = openFlightDb(join(array, 'flight.db'), { readonly: true });
    try {
      return readAssets(db);
    } finally {
      db.close();
    }
  } catch {
    return []; // not created yet
  }
}

/** One camera writing FILES_PER_CAMERA files in bursts of 5, chunked, as its own process per file. */
async function camera(device: string, folder: string, expected: Map<string, string>): Promise<void> {
  for (let i = 0; i < FILES_PER_CAMERA; i++) {
    const bytes = makeJpeg(exifFieldsFor(T_US + i * 1e6), 60_000 + i * 37);
    const src = join(dir, `src-${device}-${i}`);
    writeFileSync(src, bytes);
    const name = `IMG_${String(i).padStart(4, '0')}.jpg`;
    expected.set(`${device}/${name}`, createHash('sha256').update(bytes).digest('hex'));
    await new Promise<void>((resolve, reject) => {
      const w = spawn(process.execPath, [WRITER, src, join(folder, name), '6', '3']);
      w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
    });
    if (i % 5 === 4) await new Promise((r) => setTimeout(r, 150)); // pause between bursts
  }
}

it('kill -9 during camera bursts, restart: no asset lost or duplicated', async () => {
  const folders = DEVICES.map((d) => join(array, 'cameras', d));
  for (const f of folders) mkdirSync(f, { recursive: true });
  const config = join(dir, 'agent.json');
  writeFileSync(
    config,
    JSON.stringify({ array, ports: [], cameras: DEVICES.map((device, i) => ({ device, kind: 'image', folder: folders[i], extensions: ['.jpg'] })) }),
  );
  const first = agents.run(config);
  await first.waitForLog((r) => typeof r.msg === 'string' && r.msg.startsWith('capturing'), 'agent ready');

  const expected = new Map<string, string>();
  const cameras = Promise.all(DEVICES.map((d, i) => camera(d, folders[i]!, expected)));
  // Kill in the middle of the bursts: some files recorded, others being written or hashed.
  await waitFor('some assets before the kill', () => rows().length >= 20, 60_000);
  first.child.kill('SIGKILL');
  await first.exited;
  const atKill = rows().length;
  expect(atKill).toBeLessThan(DEVICES.length * FILES_PER_CAMERA);

  const second = agents.run(config);
  await second.waitForLog((r) => typeof r.msg === 'string' && r.msg.startsWith('capturing'), 'agent ready again');
  await cameras;
  await waitFor('every file recorded', () => rows().length >= expected.size, 60_000);
  second.child.kill('SIGTERM');
  const { code } = await second.exited;
  expect(code, second.stderr()).toBe(0);

  const all = rows();
  expect(all).toHaveLength(expected.size);
  const seen = new Set<string>();
  for (const r of all) {
    const key = `${r.device}/${r.relPath}`;
    expect(seen.has(key), `${key} recorded twice`).toBe(false);
    seen.add(key);
    expect(r.sha256, key).toBe(expected.get(key));
    expect(r.status).toBe('complete');
    expect(r.timeSource).toBe('exif');
  }
  // The files on disk are exactly the assets.
  const onDisk = folders.flatMap((f, i) => readdirSync(f).map((n) => `${DEVICES[i]}/${n}`));
  expect(onDisk.sort()).toEqual([...seen].sort());
  const db = openFlightDb(join(array, 'flight.db'), { readonly: true });
  try {
    expect(checkFlightDbIntegrity(db)).toEqual({ ok: true, problems: [] });
  } finally {
    db.close();
  }
});
