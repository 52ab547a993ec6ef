// End to end through the built CLI: `hardware-sim flight` with real PTYs read by serialport,
// files read back from the camera folders, everything compared with the truth files.
import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { NmeaDecoder, type NavSample } from '@flysnap/shared';
import exifr from 'exifr';
import { afterEach, describe, expect, it } from 'vitest';
import type { TrajectorySample, TriggerTruth } from '../../src/flight/plan.js';
import { Collector, runCleanups, startCli, tempDir, until } from '../helpers.js';

afterEach(runCleanups);

const exists = (path: string): Promise<boolean> => lstat(path).then(() => true, () => false);

async function jsonl<T>(path: string): Promise<T[]> {
  return (await readFile(path, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
}

function lines(bytes: Buffer): string[] {
  return bytes.toString('latin1').split('\n').filter((l) => l.length > 0).map((l) => `${l}\n`);
}

/**
 * Opens a port once it exists; reopens it after an unplug, keeping everything read. `timeline`
 * gets what happened when (ms since `t0`), for a failure's message.
 */
async function followPort(path: string, events: string[], chunks: Buffer[], done: () => boolean, timeline: string[] = [], t0 = Date.now()): Promise<void> {
  const at = (what: string): number => timeline.push(`${new Date().toISOString()} (+${Date.now() - t0} ms) ${what}`);
  for (;;) {
    await until(async () => done() || (await exists(path)), `port ${path}`, 60_000);
    if (done()) return void at('done');
    at('port exists');
    const reader = await Collector.open(path);
    at('reader open');
    await until(() => reader.closed || done(), `end of ${path}`, 120_000);
    at(reader.closed ? `reader closed after ${reader.size} bytes` : `flight done, reader still open after ${reader.size} bytes`);
    chunks.push(reader.bytes);
    await reader.close();
    if (done()) return;
    events.push('closed');
    await until(async () => done() || !(await exists(path)), `${path} to vanish`, 30_000).catch(() => undefined);
    events.push(done() ? 'done' : 'gone');
    at(done() ? 'flight done' : 'port gone');
  }
}

describe('hardware-sim flight', () => {
  it('streams GPS, compass and altimeter that agree with the truth, writes pictures with EXIF times, and injects faults', async () => {
    const dir = await tempDir();
    const out = join(dir, 'flight');
    const cli = startCli([
      'flight', '--out', out, '--from', '300', '--duration', '16', '--speed', '8', '--cameras', '2', '--seed', '7',
      '--gps-hz', '5', '--camera-interval', '2', '--image-bytes', '20000', '--camera-clock-offset', 'cam2=-250',
      '--start-delay', '0.5', '--wait-reader', '--linger', '500', '--json',
      '--fault', 'bad-checksum:3', '--fault', 'unplug:1', '--fault', 'half-written@cam2', '--fault', 'silent:2@compass',
    ]);
    let isDone = false;
    void cli.exited.then(() => (isDone = true));
    const gps: Buffer[] = [];
    const compass: Buffer[] = [];
    const altimeter: Buffer[] = [];
    const gpsEvents: string[] = [];
    const gpsTimeline: string[] = [];
    const following = Promise.all([
      followPort(join(out, 'ports', 'gps'), gpsEvents, gps, () => isDone, gpsTimeline),
      followPort(join(out, 'ports', 'compass'), [], compass, () => isDone),
      followPort(join(out, 'ports', 'altimeter'), [], altimeter, () => isDone),
    ]);
    expect(await cli.exited, cli.err()).toBe(0);
    await following;
    const report = JSON.parse(cli.out()) as { ports: Array<{ name: string; bytes: number; droppedBytes: number }>; images: { written: number; halfWritten: number } };

    // The config the agent starts from.
    const config = JSON.parse(await readFile(join(out, 'agent-config.json'), 'utf8'));
    expect(config).toEqual({
      array: join(out, 'array'),
      aircraft: 'SIM-1',
      ports: [
        { name: 'gps', role: 'gps', path: join(out, 'ports', 'gps'), baudRate: 38400 },
        { name: 'compass', role: 'compass', path: join(out, 'ports', 'compass'), baudRate: 38400 },
        { name: 'altimeter', role: 'altimeter', path: join(out, 'ports', 'altimeter'), baudRate: 9600 },
      ],
      cameras: [
        { device: 'cam1', kind: 'image', folder: join(out, 'array', 'cameras', 'cam1'), extensions: ['.jpg'] },
        { device: 'cam2', kind: 'image', folder: join(out, 'array', 'cameras', 'cam2'), extensions: ['.jpg'], clockOffsetMs: -250 },
        { device: 'video1', kind: 'video', folder: join(out, 'array', 'cameras', 'video1'), extensions: ['.mp4'] },
      ],
    });

    // Ports are gone at the end.
    for (const name of ['gps', 'compass', 'altimeter']) expect(await exists(join(out, 'ports', name))).toBe(false);

    // Every byte sent on compass and altimeter arrived (no unplug there).
    const sent = Object.fromEntries(report.ports.map((p) => [p.name, p]));
    expect(Buffer.concat(compass).length).toBe(sent.compass?.bytes);
    expect(Buffer.concat(altimeter).length).toBe(sent.altimeter?.bytes);

    // Unplug: the reader saw the port close and the path vanish, then came back.
    // (Failed once in ~10 CI runs with [] here: the timeline and the simulator's stderr say which
    // side missed the unplug if it happens again.)
    expect(gpsEvents.slice(0, 2), `gps reader: ${gpsTimeline.join('; ')}\nsimulator's gps report: ${JSON.stringify(sent.gps)}\nsimulator stderr:\n${cli.err().slice(-3000)}`).toEqual(['closed', 'gone']);
    expect(sent.gps?.droppedBytes).toBeGreaterThan(0);
    // The simulator says when it happened, in order.
    const said = cli.err().split('\n').map((l) => l.replace(/^\S+Z /, ''));
    const order = ['streaming', 'port gps unplugged', 'port gps plugged back in'].map((w) => said.findIndex((l) => l.startsWith(w)));
    expect(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!)), cli.err()).toBe(true);

    // GPS agrees with the true trajectory within NMEA precision.
    const truth = new Map((await jsonl<TrajectorySample>(join(out, 'truth', 'trajectory.jsonl'))).map((t) => [t.tUs, t]));
    const decoder = new NmeaDecoder({ missingChecksum: 'reject' });
    // Lines at the edges of a reading session (around the unplug) may be cut: keep them apart.
    const rejected: string[] = [];
    let positions = 0;
    const sessions = gps.map((chunk) => lines(chunk));
    for (const [k, session] of sessions.entries()) session.forEach((line, i) => {
      const r = decoder.decode(line);
      const isEdge = (i === 0 && k > 0) || (i === session.length - 1 && k < sessions.length - 1);
      if (r.status !== 'accepted') {
        if (!isEdge) rejected.push(line);
        return;
      }
      for (const s of r.samples as NavSample[]) {
        const t = s.tUs === null ? undefined : truth.get(s.tUs);
        if (!t) continue;
        if (s.kind === 'position') {
          positions++;
          expect(Math.abs(s.latDeg - t.latDeg) * 60).toBeLessThanOrEqual(0.5e-5 + 1e-12);
          expect(Math.abs(s.lonDeg - t.lonDeg) * 60).toBeLessThanOrEqual(0.5e-5 + 1e-12);
          if (s.altitudeM !== null) expect(Math.abs(s.altitudeM - t.altitudeM)).toBeLessThanOrEqual(0.05 + 1e-9);
        }
        if (s.kind === 'velocity' && s.speedMps !== null) expect(Math.abs(s.speedMps - t.speedMps)).toBeLessThanOrEqual(0.03);
      }
    });
    expect(positions).toBeGreaterThan(50);

    // The bad-checksum lines arrived and are exactly what the decoder rejected.
    const faults = await jsonl<{ fault: string; target: string; tUs: number; detail: Record<string, unknown> }>(join(out, 'truth', 'faults.jsonl'));
    const badSent = faults.filter((f) => f.fault === 'bad-checksum').map((f) => f.detail.sent as string);
    expect(badSent).toHaveLength(3);
    for (const b of badSent) expect(rejected).toContain(b);
    expect(rejected.length).toBe(3);

    // Compass: headings within the truth's range, a gap where it was silent.
    const headings = lines(Buffer.concat(compass)).map((l) => new NmeaDecoder().decode(l));
    expect(headings.every((h) => h.status === 'accepted')).toBe(true);
    const silent = faults.find((f) => f.fault === 'silent');
    expect(silent?.detail.droppedLines).toBe(20);
    expect(lines(Buffer.concat(compass))).toHaveLength(16 * 10 - 20);

    // Altimeter: pressure altitude = truth + offset, in whole feet.
    const flight = JSON.parse(await readFile(join(out, 'truth', 'flight.json'), 'utf8'));
    const truthPressure = [...truth.values()].map((t) => t.pressureAltitudeM);
    expect(truthPressure[0]! - [...truth.values()][0]!.altitudeM).toBeCloseTo(flight.pressureAltitudeOffsetM, 9);
    for (const l of lines(Buffer.concat(altimeter))) {
      const r = new NmeaDecoder().decode(l);
      expect(r.status).toBe('accepted');
      const alt = r.status === 'accepted' && r.samples[0]?.kind === 'pressure-altitude' ? r.samples[0].altitudeM : NaN;
      expect(alt).toBeGreaterThanOrEqual(Math.min(...truthPressure) - 0.2);
      expect(alt).toBeLessThanOrEqual(Math.max(...truthPressure) + 0.2);
    }

    // Pictures: each complete one is a JPEG with the trigger's EXIF time; the half-written one is not.
    const triggers = await jsonl<TriggerTruth>(join(out, 'truth', 'triggers.jsonl'));
    expect(triggers.length).toBe(report.images.written);
    const half = triggers.filter((t) => !t.isComplete);
    expect(half).toHaveLength(1);
    expect(half[0]?.device).toBe('cam2');
    for (const t of triggers) {
      const bytes = await readFile(join(out, t.file));
      expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
      const hasEoi = bytes.subarray(-2).equals(Buffer.from([0xff, 0xd9]));
      expect(hasEoi).toBe(t.isComplete);
      if (!t.isComplete) continue;
      const tags = await exifr.parse(bytes, { pick: ['DateTimeOriginal', 'SubSecTimeOriginal', 'OffsetTimeOriginal'], reviveValues: false });
      expect(tags).toEqual({ DateTimeOriginal: t.exif.dateTimeOriginal, SubSecTimeOriginal: t.exif.subSecTimeOriginal, OffsetTimeOriginal: '+00:00' });
      const exifUs = Date.parse(`${t.exif.dateTimeOriginal.replace(/^(\d+):(\d+):(\d+) /, '$1-$2-$3T')}.${t.exif.subSecTimeOriginal}Z`) * 1000;
      expect(exifUs).toBe(Math.floor(t.cameraClockUs / 1000) * 1000);
      expect(t.cameraClockUs - t.tUs).toBe(t.device === 'cam2' ? -250_000 : 0);
    }
    const cam2Files = await readdir(join(out, 'array', 'cameras', 'cam2'));
    expect(cam2Files.sort().pop()).toBe(half[0]?.relPath);

    // The video is a finished MP4: ftyp, mdat of the right size, then moov.
    const video = await readFile(join(out, 'array', 'cameras', 'video1', 'VID_0001.mp4'));
    expect(video.subarray(4, 8).toString()).toBe('ftyp');
    const mdatAt = video.readUInt32BE(0);
    expect(video.subarray(mdatAt + 4, mdatAt + 8).toString()).toBe('mdat');
    const moovAt = mdatAt + video.readUInt32BE(mdatAt);
    expect(video.subarray(moovAt + 4, moovAt + 8).toString()).toBe('moov');
    expect(moovAt + video.readUInt32BE(moovAt)).toBe(video.length);
  });

  it('week rollover and a time jump show in the GPS times it sends', async () => {
    const dir = await tempDir();
    const out = join(dir, 'flight');
    const start = '2024-06-01T09:00:00Z';
    const cli = startCli([
      'flight', '--out', out, '--duration', '10', '--speed', '10', '--cameras', '0', '--no-video', '--start-utc', start,
      '--start-delay', '0.2', '--wait-reader', '--linger', '300', '--fault', 'week-rollover', '--fault', 'time-jump:60',
    ]);
    const gpsPath = join(out, 'ports', 'gps');
    await until(() => exists(gpsPath), 'gps port');
    const reader = await Collector.open(gpsPath);
    // The other ports must be opened too, since --wait-reader waits for all of them.
    await until(() => exists(join(out, 'ports', 'altimeter')), 'altimeter port');
    await Collector.open(join(out, 'ports', 'compass'));
    await Collector.open(join(out, 'ports', 'altimeter'));
    expect(await cli.exited, cli.err()).toBe(0);
    const decoder = new NmeaDecoder();
    const zda = lines(reader.bytes).filter((l) => l.includes('ZDA')).map((l) => decoder.decode(l));
    const times = zda.map((r) => (r.status === 'accepted' ? (r.samples[0]?.tUs ?? 0) : 0));
    expect(times.length).toBe(50);
    const startUs = Date.parse(start) * 1000;
    const rollover = 1024 * 7 * 86_400 * 1_000_000;
    expect(times[0]).toBe(startUs - rollover);
    const faults = await jsonl<{ fault: string; tUs: number }>(join(out, 'truth', 'faults.jsonl'));
    const jump = faults.find((f) => f.fault === 'time-jump');
    const steps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    expect(steps.filter((s) => s !== 200_000)).toEqual([60_200_000]);
    expect(times).toContain((jump?.tUs ?? 0) + 60_000_000 - rollover);
  });
});
