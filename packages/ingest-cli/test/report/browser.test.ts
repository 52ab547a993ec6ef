// The report of a recorded simulated flight with faults (GPS unplugged, missing epochs), opened in
// a real headless browser (Debian's chromium driven by playwright-core): no request leaves the
// page, no console error, one point per posed picture in the flight DB, a gap row for each gap the
// simulator's truth says. A screenshot is kept in .test-results/report/ (git-ignored).
import { openFlightDb, readAssets } from '@flysnap/shared';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeReport } from '../../src/report/report.js';
import { recordFlight } from './record-flight.js';
import type { RecordedFlight } from './record-flight.js';
import { checkRfc7946 } from './rfc7946.js';

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const artifacts = join(root, '.test-results', 'report');

let dir: string;
let flight: RecordedFlight;
let reportDir: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup-report-browser.sh (Debian's chromium)`);
  dir = mkdtempSync(join(tmpdir(), 'report-browser-'));
  flight = await recordFlight(join(dir, 'flight'), [
    '--from', '240', '--duration', '30', '--cameras', '2', '--seed', '3', '--gps-hz', '5',
    '--fault', 'unplug:2@gps', '--fault', 'missing-epochs:4',
  ]);
  reportDir = join(dir, 'report');
  makeReport({ arrayPath: flight.array, outDir: reportDir, ledgerPath: join(dir, 'no-ledger.db') });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function posedInDb(array: string): number {
  const db = openFlightDb(join(array, 'flight.db'), { readonly: true });
  try {
    return readAssets(db).filter((a) => a.latDeg !== null && a.lonDeg !== null).length;
  } finally {
    db.close();
  }
}

describe('report in a headless browser', () => {
  it('loads with no request leaving the page and no console error; shows every posed picture and the truth’s gaps', async () => {
    const pageUrl = pathToFileURL(join(reportDir, 'report.html')).href;
    const context = await browser.newContext({ viewport: { width: 1000, height: 1200 } });
    const page = await context.newPage();
    const others: string[] = [];
    const problems: string[] = [];
    // Every request is intercepted: only the page itself may load.
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url === pageUrl) await route.continue();
      else {
        others.push(url);
        await route.abort();
      }
    });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    await page.goto(pageUrl, { waitUntil: 'load' });

    expect(others).toEqual([]);
    expect(problems).toEqual([]);

    const posed = posedInDb(flight.array);
    expect(posed).toBeGreaterThan(0);
    expect(await page.locator('#fig-track-map svg g.picture circle').count()).toBe(posed);
    expect(await page.locator('#posed-count').textContent()).toBe(String(posed));

    const gaps = await page.locator('table.gaps tbody tr[data-instrument="gps"]').evaluateAll((rows) =>
      rows.map((r) => ({ fromTUs: Number(r.getAttribute('data-from-t-us')), toTUs: Number(r.getAttribute('data-to-t-us')) })),
    );
    const unplugs = flight.faults.filter((f) => f.fault === 'unplug');
    const epochs = flight.faults.filter((f) => f.fault === 'missing-epochs');
    expect(unplugs.length).toBe(1);
    expect(epochs.length).toBe(4);
    for (const u of unplugs) expect(gaps.some((g) => g.fromTUs < u.detail.untilTUs! && g.toTUs > u.tUs), `GPS unplugged at ${u.tUs}`).toBe(true);
    for (const e of epochs) expect(gaps.some((g) => g.fromTUs < e.detail.epochTUs! && g.toTUs > e.detail.epochTUs!), `missing epoch ${e.detail.epochTUs}`).toBe(true);
    // The track is broken at the GPS gaps (one path per segment) and each is bridged by a dashed link.
    expect(await page.locator('#fig-track-map svg g.track path').count()).toBeGreaterThan(1);
    expect(await page.locator('#fig-track-map svg g.gps-gap path, #fig-track-map svg g.gps-gap line').count()).toBeGreaterThan(0);

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'report.png'), fullPage: true });
    await context.close();
  });

  it('the recorded flight’s GeoJSON follows RFC 7946 and its KML parses as XML with a gx:Track', () => {
    const geo = JSON.parse(readFileSync(join(reportDir, 'track.geojson'), 'utf8')) as { features: { geometry: { type: string } }[] };
    expect(checkRfc7946(geo)).toEqual([]);
    expect(geo.features.filter((f) => f.geometry.type === 'Point').length).toBe(posedInDb(flight.array));
    const kml = readFileSync(join(reportDir, 'flight.kml'), 'utf8');
    expect(XMLValidator.validate(kml)).toBe(true);
    const parsed = new XMLParser().parse(kml) as { kml: { Document: { Placemark: { 'gx:MultiTrack'?: { 'gx:Track': unknown[] } } } } };
    expect(parsed.kml.Document.Placemark['gx:MultiTrack']?.['gx:Track'].length).toBeGreaterThan(1);
  });
});
