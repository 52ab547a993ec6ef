// The report from a flight DB written with the shared helpers: what is extracted, the files
// written, the command by array path and by flight id (the ledger's last array path, custody),
// and a WAL-mode DB on read-only media (no -shm beside it) read through a temporary copy.
import { openFlightDb } from '@flysnap/shared';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../src/ledger/ledger.js';
import { extractFlightData } from '../../src/report/extract.js';
import { openArrayFlightDb } from '../../src/report/open-db.js';
import { makeReport } from '../../src/report/report.js';
import { T0_US, writeSyntheticFlight } from './synthetic.js';
import type { SyntheticFlight } from './synthetic.js';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const FIGURES = ['track-map.svg', 'altitude.svg', 'fix-quality.svg', 'satellites.svg', 'hdop.svg', 'picture-intervals.svg', 'clock-uncertainty.svg'];

let dir: string;
let flight: SyntheticFlight;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'report-test-'));
  flight = writeSyntheticFlight(dir, { seconds: 120, gpsHz: 5, gpsGapS: [40, 43], pictureIntervalS: 2, cameras: ['cam1', 'cam2'], unposedEvery: 11 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('report from a flight DB', () => {
  it('extracts the track (RMC+GGA merged), gaps per instrument, rejected lines, clock fits and pictures', () => {
    const opened = openArrayFlightDb(flight.arrayRoot);
    try {
      expect(opened.isCopy).toBe(false);
      const data = extractFlightData(opened.db);
      expect(data.track.length).toBe(flight.epochs);
      expect(data.track[0]).toMatchObject({ altitudeMslM: 500, satellites: 9, hdop: 0.9, fixQuality: 1 });
      const gpsGaps = data.gaps.filter((g) => g.instrument === 'gps');
      expect(gpsGaps).toEqual([{ instrument: 'gps', port: 'gps', kind: 'data', fromTUs: T0_US + 39_800_000, toTUs: T0_US + 43_000_000 }]);
      expect(data.gaps.filter((g) => g.instrument === 'compass')).toContainEqual({ instrument: 'compass', port: 'compass', kind: 'port-down', fromTUs: T0_US + 2_000_000, toTUs: T0_US + 3_500_000 });
      expect(data.rejected).toEqual([
        { port: 'compass', reason: 'truncated', count: 1 },
        { port: 'gps', reason: 'bad-checksum', count: 5 },
        { port: 'gps', reason: 'non-nmea', count: 2 },
      ]);
      expect(data.clockFits.length).toBe(11);
      expect(data.pictures.length).toBe(flight.pictures);
      expect(data.pictures.filter((p) => p.latDeg !== null).length).toBe(flight.posedPictures);
      expect(data.pictures.find((p) => p.latDeg !== null)!.quality.extra).toMatchObject({ positionErrorBoundM: 0.4 });
    } finally {
      opened.close();
    }
  });

  it('writes report.html, every figure, track.geojson and flight.kml; the page inlines the same SVG as the files', () => {
    const out = join(dir, 'out1');
    const r = makeReport({ arrayPath: flight.arrayRoot, outDir: out, ledgerPath: join(dir, 'no-state', 'ledger.db') });
    expect(readdirSync(out).sort()).toEqual([...FIGURES, 'flight.kml', 'report.html', 'track.geojson'].sort());
    expect(r.posedPictures).toBe(flight.posedPictures);
    expect(r.custody.verdict).toMatch(/^not archived/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    for (const f of FIGURES) {
      const svg = readFileSync(join(out, f), 'utf8');
      expect(svg.startsWith('<?xml')).toBe(true);
      expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
      expect(html).toContain(svg.slice(svg.indexOf('<svg'), svg.lastIndexOf('</svg>')));
    }
    expect(html).toContain('Content-Security-Policy');
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
    // Pose-quality fields the report does not interpret are listed, not dropped.
    expect(html).toContain('positionErrorBoundM');
    expect(html).toContain('isTimingUnreliable');
  });

  it('the command: by array path, then by flight id through the ledger (default folder in the state folder, custody from its facts)', () => {
    const state = join(dir, 'state');
    const byArray = spawnSync(process.execPath, [cli, 'report', flight.arrayRoot, '--out', join(dir, 'out2'), '--state-dir', state], { encoding: 'utf8' });
    expect(byArray.stderr).toBe('');
    expect(byArray.status).toBe(0);
    expect(byArray.stdout).toContain('not archived');

    const flightId = 'TEST-20260601T100000Z';
    const ledger = openLedger(join(state, 'ledger.db'));
    try {
      ledger.recordFlightSeen({ id: flightId, aircraft: 'D-TEST', startedTUs: T0_US, endedTUs: null, arrayPath: flight.arrayRoot });
      const archiveId = ledger.insertArchive({
        flightId, path: join(state, 'a.tar'), manifestPath: join(state, 'a.manifest.json'), sizeBytes: 1, sha256: '0'.repeat(64), manifestSha256: '0'.repeat(64),
        fileCount: 1, contentBytes: 1, mismatchCount: 0, isMismatchAccepted: false, arrayPath: flight.arrayRoot, createdTUs: T0_US, verifiedTUs: T0_US, isTapeWanted: true,
      });
      ledger.setArchiveVerify(archiveId, 'verified');
    } finally {
      ledger.close();
    }
    const byId = spawnSync(process.execPath, [cli, 'report', flightId, '--state-dir', state], { encoding: 'utf8' });
    expect(byId.stderr).toBe('');
    expect(byId.status).toBe(0);
    const html = readFileSync(join(state, 'reports', flightId, 'report.html'), 'utf8');
    expect(html).toContain('not safe to wipe: missing a verified upload, a verified tape copy');

    const unknown = spawnSync(process.execPath, [cli, 'report', 'NO-SUCH-FLIGHT', '--state-dir', state], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^ingest-cli: NO-SUCH-FLIGHT is neither an array folder nor a flight in the ledger/);
  });

  it('a WAL-mode flight DB on read-only media without its -shm: read through a temporary copy, WAL content included, the array untouched', (ctx) => {
    const live = writeSyntheticFlight(join(dir, 'wal'), { seconds: 30, gpsHz: 5, pictureIntervalS: 2, cameras: ['cam1'], keepOpen: true });
    try {
      // What a killed agent leaves on the array: the DB and its WAL; no -shm (it is not copied).
      const src = join(dir, 'wal-media');
      mkdirSync(src);
      copyFileSync(live.dbPath, join(src, 'flight.db'));
      copyFileSync(`${live.dbPath}-wal`, join(src, 'flight.db-wal'));
      const ro = join(dir, 'wal-ro');
      mkdirSync(ro);
      const mounted = spawnSync('mount', ['--bind', src, ro]);
      if (mounted.status !== 0) return ctx.skip(`cannot bind-mount here (${String(mounted.stderr).trim()}): the read-only media case needs root`);
      try {
        const remount = spawnSync('mount', ['-o', 'remount,bind,ro', ro]);
        if (remount.status !== 0) return ctx.skip(`cannot remount read-only (${String(remount.stderr).trim()})`);
        // The premise: in place, SQLite cannot read it.
        expect(() => {
          const db = openFlightDb(join(ro, 'flight.db'), { readonly: true });
          try {
            db.db.prepare('SELECT count(*) FROM asset').get();
          } finally {
            db.close();
          }
        }).toThrow();
        const r = makeReport({ arrayPath: ro, outDir: join(dir, 'out-wal'), ledgerPath: join(dir, 'none.db') });
        expect(r.isCopy).toBe(true);
        expect(r.pictures).toBe(live.pictures);
        expect(readdirSync(ro).sort()).toEqual(['flight.db', 'flight.db-wal']);
        expect(readdirSync(tmpdir()).filter((n) => n.startsWith('flysnap-report-db-'))).toEqual([]);
      } finally {
        spawnSync('umount', [ro]);
      }
    } finally {
      live.writer?.close({ keepWal: true });
    }
    expect(existsSync(join(dir, 'out-wal', 'report.html'))).toBe(true);
  });
});
