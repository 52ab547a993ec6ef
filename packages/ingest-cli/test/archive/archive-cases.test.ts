// `ingest-cli archive` on synthetic arrays (made with the shared contract's own writers): every
// refusal and every odd input issue 13 names, each checked from outside (exit code, message,
// what is on disk, what the ledger says).
import { acquireArrayLock } from '@flysnap/capture-agent/lock';
import type { ArchiveManifest } from '@flysnap/shared';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../src/ledger/ledger.js';
import { INGEST_CLI, ingest, makeArray, pictures, sha256, tempDir } from '../helpers/arrays.js';

const dir = tempDir('cases');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
/** A fresh array + state folder per case. */
function fresh(): { root: string; state: string } {
  n += 1;
  return { root: join(dir, `array${n}`), state: join(dir, `state${n}`) };
}
const archivesIn = (state: string): string[] => (existsSync(join(state, 'archives')) ? readdirSync(join(state, 'archives')) : []);
const manifestOf = (stdout: string): ArchiveManifest => {
  const out = JSON.parse(stdout) as { manifestPath: string };
  return JSON.parse(readFileSync(out.manifestPath, 'utf8')) as ArchiveManifest;
};
function historyOf(state: string, flightId: string): string[] {
  const l = openLedger(join(state, 'ledger.db'), { create: false });
  try {
    return l.history(flightId).map((h) => `${h.step}:${h.outcome}`);
  } finally {
    l.close();
  }
}

describe('archive refuses what does not match, and says what', () => {
  it('a size mismatch, a missing file, a file without a row, an incomplete asset: refused before the pass, listed, nothing written', async () => {
    const { root, state } = fresh();
    const files = pictures(['cam1'], 4);
    files[0] = { ...files[0]!, rowSizeBytes: 999 };
    files[1] = { ...files[1]!, hasRow: false };
    files[2] = { ...files[2]!, status: 'incomplete' };
    const a = await makeArray(root, { files });
    // A row whose file is gone.
    const gone = pictures(['cam2'], 1);
    await makeArray(join(dir, 'scratch'), { files: gone });
    const { insertAsset, openFlightDb } = await import('@flysnap/shared');
    const db = openFlightDb(join(root, 'flight.db'));
    insertAsset(db, { device: 'cam2', relPath: 'LOST.JPG', sizeBytes: 10, sha256: 'c'.repeat(64), captureTUs: null, timeSource: null, appearedTUs: null, appearedMonoUs: null, recordedTUs: 1, status: 'complete', latDeg: null, lonDeg: null, altitudeM: null, pressureAltitudeM: null, headingDeg: null, speedMps: null, trackDeg: null, poseQuality: null });
    db.close();
    const r = ingest(['archive', root, '--state-dir', state, '--no-upload']);
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(/does not match its flight DB \(1 size-differs, 1 no-row, 1 incomplete, 1 missing-file\): nothing was archived/);
    expect(r.stderr).toContain('size-differs    cameras/cam1/IMG_0000.JPG: 2048 bytes on the array, 999 in its asset row');
    expect(r.stderr).toContain('no-row          cameras/cam1/IMG_0001.JPG');
    expect(r.stderr).toContain('incomplete      cameras/cam1/IMG_0002.JPG');
    expect(r.stderr).toContain('missing-file    cameras/cam2/LOST.JPG');
    expect(archivesIn(state)).toEqual([]);
    expect(historyOf(state, a.flightId)).toEqual(['archive:refused']);
    // Accepted: archived, every mismatch in the manifest.
    const ok = ingest(['archive', root, '--state-dir', state, '--no-upload', '--accept-mismatches', '--json']);
    expect(ok.status).toBe(0);
    const m = manifestOf(ok.stdout);
    expect(m.isMismatchAccepted).toBe(true);
    expect(m.mismatches.map((x) => x.kind)).toEqual(['size-differs', 'no-row', 'incomplete', 'missing-file']);
  });

  it('a hash mismatch is found in the pass: the archive is removed unless accepted, then recorded', async () => {
    const { root, state } = fresh();
    const files = pictures(['cam1'], 3);
    files[1] = { ...files[1]!, rowSha256: 'd'.repeat(64) };
    await makeArray(root, { files });
    const r = ingest(['archive', root, '--state-dir', state, '--no-upload']);
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(/1 file\(s\) on array .* differ from the SHA-256 the capture agent recorded: the archive was not kept/);
    expect(r.stderr).toContain(`hash-differs    cameras/cam1/IMG_0001.JPG: sha256 ${sha256(files[1]!.content)} on the array, ${'d'.repeat(64)} in its asset row`);
    expect(archivesIn(state)).toEqual([]); // the temporary file is gone too
    const ok = ingest(['archive', root, '--state-dir', state, '--no-upload', '--accept-mismatches', '--json']);
    expect(ok.status).toBe(0);
    const m = manifestOf(ok.stdout);
    expect(m.mismatches).toEqual([{ kind: 'hash-differs', path: 'cameras/cam1/IMG_0001.JPG', detail: expect.stringContaining('in its asset row') as string }]);
    expect(m.files.find((f) => f.path === 'cameras/cam1/IMG_0001.JPG')?.agentSha256).toBe('d'.repeat(64));
  });

  it('a corrupted flight DB is refused (exit 4), naming the check', async () => {
    const { root, state } = fresh();
    await makeArray(root, { files: pictures(['cam1'], 50) });
    const db = join(root, 'flight.db');
    const bytes = readFileSync(db);
    // Overwrite the pages after the schema page: the asset table's b-tree.
    bytes.fill(0x5a, 4096 * 2, Math.min(bytes.length, 4096 * 6));
    writeFileSync(db, bytes);
    const r = ingest(['archive', root, '--state-dir', state, '--no-upload']);
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/^ingest-cli: flight DB .*flight\.db/);
    expect(r.stderr).toMatch(/integrity|malformed|corrupt/i);
    expect(archivesIn(state)).toEqual([]);
  });

  it('not an array, an unknown layout version: exit 4 with the reason', async () => {
    const { root, state } = fresh();
    mkdirSync(root);
    const r = ingest(['archive', root, '--state-dir', state]);
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/is not a Fly and Snap array: .*flysnap-array\.json does not exist/);
    writeFileSync(join(root, 'flysnap-array.json'), JSON.stringify({ layoutVersion: 9, flightId: 'X', createdTUs: 1 }));
    const v = ingest(['archive', root, '--state-dir', state]);
    expect(v.status).toBe(4);
    expect(v.stderr).toMatch(/layoutVersion 9 is not supported/);
    const missing = ingest(['archive', join(dir, 'nowhere'), '--state-dir', state]);
    expect(missing.status).toBe(4);
    expect(missing.stderr).toMatch(/does not exist or cannot be read \(ENOENT\): is it mounted\?/);
  });
});

describe('locks', () => {
  it('an array a capture agent on this machine is recording is refused (exit 3); the agent lock of a dead one is a note', async () => {
    const { root, state } = fresh();
    const a = await makeArray(root, { files: pictures(['cam1'], 2) });
    const lock = acquireArrayLock(join(root, 'capture-agent.lock')); // this live process = a recording agent
    const r = ingest(['archive', root, '--state-dir', state, '--no-upload']);
    lock.release();
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/is being recorded by a capture-agent on this machine \(pid \d+\): stop it first/);
    // The lock of the aircraft's agent, from another machine's boot: a note, then archived.
    writeFileSync(join(root, 'capture-agent.lock'), JSON.stringify({ pid: 4242, hostname: 'aircraft-7', bootId: '00000000-0000-4000-8000-000000000000', startTicks: '1', lockedAtUs: 1_796_000_000_000_000 }));
    const ok = ingest(['archive', root, '--state-dir', state, '--no-upload']);
    expect(ok.status).toBe(0);
    expect(ok.stderr).toMatch(/note: the capture agent's lock is still on the array \(pid 4242 on aircraft-7, taken 2026-/);
    const hist = openLedger(join(state, 'ledger.db'), { create: false });
    const step = hist.history(a.flightId).at(-1);
    hist.close();
    expect(JSON.stringify(step?.data)).toContain('aircraft-7');
    expect(readFileSync(join(root, 'capture-agent.lock'), 'utf8')).toContain('aircraft-7'); // never touched
  });

  it('two ingest-cli on one flight: the second is refused (exit 3); a lock left by a killed one is taken over', async () => {
    const { root, state } = fresh();
    const a = await makeArray(root, { files: pictures(['cam1'], 2) });
    // Another ingest-cli holding the flight: a child process that takes the lock and waits.
    const holder = spawn(process.execPath, ['--input-type=module', '-e', `
      const { lockFlight } = await import(${JSON.stringify(new URL('../../dist/ledger/flight-lock.js', import.meta.url).href)});
      lockFlight(${JSON.stringify(join(state, 'locks'))}, ${JSON.stringify(a.flightId)});
      process.stdout.write('locked\\n');
      setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const busy = ingest(['archive', root, '--state-dir', state, '--no-upload']);
    expect(busy.status).toBe(3);
    expect(busy.stderr).toMatch(new RegExp(`flight ${a.flightId} is being worked on by another ingest-cli \\(pid ${holder.pid}`));
    holder.kill('SIGKILL');
    await new Promise((r) => holder.on('exit', r));
    const ok = ingest(['archive', root, '--state-dir', state, '--no-upload']);
    expect(ok.status).toBe(0);
    expect(ok.stderr).toMatch(new RegExp(`took over the lock of flight ${a.flightId} left by ingest-cli pid ${holder.pid}`));
  });
});

describe('names and links', () => {
  it('symlinks are archived as symlinks and never followed, also one pointing out of the array', async () => {
    const { root, state } = fresh();
    await makeArray(root, { files: pictures(['cam1'], 1) });
    const outside = join(dir, 'outside-secret.txt');
    writeFileSync(outside, 'SECRET-OUTSIDE-THE-ARRAY');
    symlinkSync(outside, join(root, 'cameras', 'cam1', 'evil.jpg'));
    symlinkSync(dir, join(root, 'cameras', 'cam1', 'dirlink'));
    const refused = ingest(['archive', root, '--state-dir', state, '--no-upload']);
    expect(refused.status).toBe(5);
    expect(refused.stderr).toContain('cameras/cam1/evil.jpg: symlink to');
    const r = ingest(['archive', root, '--state-dir', state, '--no-upload', '--accept-mismatches', '--json']);
    expect(r.status).toBe(0);
    const m = manifestOf(r.stdout);
    const archive = (JSON.parse(r.stdout) as { archivePath: string }).archivePath;
    expect(m.files.find((f) => f.path === 'cameras/cam1/evil.jpg')).toMatchObject({ type: 'symlink', linkTarget: outside, sizeBytes: 0 });
    expect(m.files.find((f) => f.path === 'cameras/cam1/dirlink')).toMatchObject({ type: 'symlink', linkTarget: dir });
    expect(readFileSync(archive).includes('SECRET-OUTSIDE-THE-ARRAY')).toBe(false);
    const listing = execFileSync('tar', ['-tvf', archive], { encoding: 'utf8' });
    expect(listing).toContain(`cameras/cam1/evil.jpg -> ${outside}`);
  });

  it('odd names are kept exactly: spaces, UTF-8, a leading dash, a very long path', async () => {
    const { root, state } = fresh();
    const long = `${'deep-folder-name-'.repeat(6)}/${'x'.repeat(120)}/${'y'.repeat(200)}.JPG`;
    const names = ['with space.JPG', 'Überflug_北京_ñ.JPG', '-rf --help.JPG', long, "quote'\"$(x).JPG"];
    const files = names.map((relPath, i) => ({ device: 'cam1', relPath, content: Buffer.from(`picture ${i}`.repeat(100)) }));
    await makeArray(root, { files });
    const r = ingest(['archive', root, '--state-dir', state, '--no-upload', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const archive = (JSON.parse(r.stdout) as { archivePath: string }).archivePath;
    const x = join(dir, `extract${n}`);
    mkdirSync(x);
    execFileSync('tar', ['-xf', archive, '-C', x]);
    const flightId = manifestOf(r.stdout).flightId;
    for (const f of files) expect(readFileSync(join(x, flightId, 'cameras', 'cam1', ...f.relPath.split('/'))).equals(f.content), f.relPath).toBe(true);
    expect(ingest(['verify', archive]).status).toBe(0);
  });
});

describe('idempotence, --again, Ctrl-C', () => {
  it('--again makes a second archive under a new name; the ledger keeps both', async () => {
    const { root, state } = fresh();
    const a = await makeArray(root, { files: pictures(['cam1'], 2) });
    expect(ingest(['archive', root, '--state-dir', state, '--no-upload']).status).toBe(0);
    const again = ingest(['archive', root, '--state-dir', state, '--no-upload', '--again', '--json']);
    expect(again.status).toBe(0);
    expect((JSON.parse(again.stdout) as { archivePath: string }).archivePath).toBe(join(state, 'archives', `${a.flightId}-2.tar`));
    const l = openLedger(join(state, 'ledger.db'), { create: false });
    expect(l.archivesOf(a.flightId).map((x) => x.path.split('/').at(-1))).toEqual([`${a.flightId}.tar`, `${a.flightId}-2.tar`]);
    l.close();
  });

  it('an archive whose last verify failed is not silently replaced', async () => {
    const { root, state } = fresh();
    await makeArray(root, { files: pictures(['cam1'], 2) });
    const r = JSON.parse(ingest(['archive', root, '--state-dir', state, '--no-upload', '--json']).stdout) as { archivePath: string };
    const bytes = readFileSync(r.archivePath);
    bytes[600] = (bytes[600] ?? 0) ^ 1;
    writeFileSync(r.archivePath, bytes);
    expect(ingest(['verify', r.archivePath, '--state-dir', state]).status).toBe(6);
    const again = ingest(['archive', root, '--state-dir', state, '--no-upload']);
    expect(again.status).toBe(7);
    expect(again.stderr).toMatch(/failed its last verify: run again with --again/);
  });

  it('Ctrl-C in the middle: exit 130, the partial file removed, nothing marked; a re-run starts clean', async () => {
    const { root, state } = fresh();
    const a = await makeArray(root, { files: pictures(['cam1', 'cam2'], 150, 1024 * 1024) });
    const child = spawn(process.execPath, [INGEST_CLI, 'archive', root, '--state-dir', state, '--no-upload'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const archives = join(state, 'archives');
    for (let i = 0; i < 2000 && !(existsSync(archives) && readdirSync(archives).some((f) => f.includes('.partial-'))); i++) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGINT');
    const code = await exited;
    expect(code).toBe(130);
    expect(stderr).toMatch(/SIGINT: stopping/);
    expect(stderr).toMatch(/interrupted by SIGINT: nothing was marked done/);
    expect(readdirSync(archives)).toEqual([]);
    expect(readdirSync(join(state, 'work'))).toEqual([]);
    expect(historyOf(state, a.flightId)).toEqual(['archive:failed']);
    const ok = ingest(['archive', root, '--state-dir', state, '--no-upload']);
    expect(ok.status).toBe(0);
    expect(historyOf(state, a.flightId)).toEqual(['archive:failed', 'archive:ok']);
  });
});

describe('--help', () => {
  it('archive --help names every option', () => {
    const r = spawnSync(process.execPath, [INGEST_CLI, 'archive', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const o of ['--out', '--no-upload', '--no-tape', '--accept-mismatches', '--again', '--json', '--state-dir', '--config']) expect(r.stdout).toContain(o);
  });
});
