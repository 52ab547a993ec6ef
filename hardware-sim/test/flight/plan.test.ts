import { NmeaDecoder } from '@flysnap/shared';
import { describe, expect, it } from 'vitest';
import { parseFaultSpec } from '../../src/faults/spec.js';
import { DEFAULT_FLIGHT_OPTIONS, type FlightOptions } from '../../src/flight/options.js';
import { buildFlightPlan, trajectorySamples, type FlightPlan, type PortPlan } from '../../src/flight/plan.js';
import { GPS_ROLLOVER_US } from '../../src/nmea/encode.js';

const START = Date.UTC(2024, 5, 1, 9, 0, 0) * 1000;

function plan(over: Partial<FlightOptions> = {}, faults: string[] = []): FlightPlan {
  return buildFlightPlan({ ...DEFAULT_FLIGHT_OPTIONS, durationS: 60, fromS: 300, seed: 42, ...over, faults: faults.map(parseFaultSpec) }, START);
}

function port(p: FlightPlan, name: string): PortPlan {
  const found = p.ports.find((x) => x.name === name);
  if (!found) throw new Error(name);
  return found;
}

function texts(p: PortPlan): string[] {
  return p.actions.flatMap((a) => (a.kind === 'write' ? [a.text] : []));
}

describe('flight plan', () => {
  it('is reproducible from the seed', () => {
    const a = plan({}, ['bad-checksum', 'silent@compass', 'half-written']);
    const b = plan({}, ['bad-checksum', 'silent@compass', 'half-written']);
    expect(a.ports).toEqual(b.ports);
    expect(a.faults).toEqual(b.faults);
    expect(a.triggers).toEqual(b.triggers);
    expect(plan({ seed: 43 }).triggers[0]?.latDeg).not.toBe(a.triggers[0]?.latDeg);
  });

  it('sends five GPS sentences per epoch at the chosen rate, compass and altimeter at theirs', () => {
    const p = plan({ gpsHz: 10, compassHz: 20, altimeterHz: 2 });
    expect(texts(port(p, 'gps'))).toHaveLength(60 * 10 * 5);
    expect(texts(port(p, 'compass'))).toHaveLength(60 * 20);
    expect(texts(port(p, 'altimeter'))).toHaveLength(60 * 2);
    expect(texts(port(p, 'compass'))[0]).toMatch(/^\$HCHDT,/);
    expect(texts(plan({ compassSentence: 'hdg' }).ports[1] as PortPlan)[0]).toMatch(/^\$HCHDG,/);
  });

  it('GPS sentences agree with the true trajectory within NMEA precision', () => {
    const p = plan({ gpsHz: 5 });
    const truth = new Map([...trajectorySamples(p)].map((s) => [s.tUs, s]));
    const decoder = new NmeaDecoder();
    let compared = 0;
    for (const line of texts(port(p, 'gps'))) {
      const r = decoder.decode(line);
      expect(r.status).toBe('accepted');
      if (r.status !== 'accepted') continue;
      for (const s of r.samples) {
        if (s.tUs === null) continue;
        const t = truth.get(s.tUs);
        if (!t) continue; // 5 Hz epochs at .2 s: truth is sampled every .1 s, so every epoch has one
        if (s.kind === 'position') {
          expect(Math.abs(s.latDeg - t.latDeg) * 60).toBeLessThanOrEqual(0.5e-5 + 1e-12);
          expect(Math.abs(s.lonDeg - t.lonDeg) * 60).toBeLessThanOrEqual(0.5e-5 + 1e-12);
          if (s.altitudeM !== null) expect(Math.abs(s.altitudeM - t.altitudeM)).toBeLessThanOrEqual(0.05 + 1e-9);
          compared++;
        } else if (s.kind === 'velocity' && s.speedMps !== null) {
          expect(Math.abs(s.speedMps - t.speedMps)).toBeLessThanOrEqual(0.05 * (1852 / 3600) + 1e-9);
          expect(Math.abs(((s.trackDeg ?? 0) - t.trackDeg + 540) % 360 - 180)).toBeLessThanOrEqual(0.05 + 1e-9);
        }
      }
    }
    expect(compared).toBeGreaterThanOrEqual(2 * 60 * 5);
  });

  it('compass and altimeter agree with the true state at the instant each line is sent', () => {
    for (const compassSentence of ['hdt', 'hdg'] as const) {
      const p = plan({ compassSentence });
      const decoder = new NmeaDecoder();
      for (const a of port(p, 'compass').actions) {
        if (a.kind !== 'write') continue;
        const r = decoder.decode(a.text);
        const truth = p.trajectory.poseAt(p.options.fromS + a.simS);
        expect(r.status === 'accepted' && r.samples[0]?.kind === 'heading' && r.samples[0].reference).toBe('true');
        const heading = r.status === 'accepted' && r.samples[0]?.kind === 'heading' ? r.samples[0].headingDeg : NaN;
        expect(Math.abs(((heading - truth.headingDeg + 540) % 360) - 180)).toBeLessThanOrEqual(0.05 + 1e-6);
      }
    }
    const p = plan();
    for (const a of port(p, 'altimeter').actions) {
      if (a.kind !== 'write') continue;
      const r = new NmeaDecoder().decode(a.text);
      const truth = p.trajectory.poseAt(p.options.fromS + a.simS).altitudeM + p.constants.pressureAltitudeOffsetM;
      const alt = r.status === 'accepted' && r.samples[0]?.kind === 'pressure-altitude' ? r.samples[0].altitudeM : NaN;
      expect(Math.abs(alt - truth)).toBeLessThanOrEqual(0.3048 / 2 + 1e-9);
    }
  });

  it('bad-checksum, corrupt-chars and truncate lines are recorded and fail to decode', () => {
    const p = plan({}, ['bad-checksum:4', 'corrupt-chars:4', 'truncate:4']);
    const sent = texts(port(p, 'gps'));
    expect(p.faults).toHaveLength(12);
    for (const f of p.faults) {
      const detail = f.detail as { original: string; sent: string };
      expect(sent).toContain(detail.sent);
      expect(detail.sent).not.toBe(detail.original);
    }
    // Exactly the faulted lines fail (GSA and VTG repeat on a straight line, so count, not search).
    const decoder = new NmeaDecoder({ missingChecksum: 'reject' });
    expect(sent.filter((l) => decoder.decode(l).status === 'rejected')).toHaveLength(12);
  });

  it('missing epochs are not sent; a silent port sends nothing in its window', () => {
    const p = plan({}, ['missing-epochs:3', 'silent:4@compass']);
    const gpsTimes = new Set(port(p, 'gps').actions.map((a) => Math.round(a.simS * 1000)));
    const missing = p.faults.filter((f) => f.fault === 'missing-epochs');
    expect(missing).toHaveLength(3);
    for (const m of missing) expect(gpsTimes.has(Math.round((m.simS + 0.05) * 1000))).toBe(false);
    const silent = p.faults.find((f) => f.fault === 'silent');
    const untilTUs = (silent?.detail as { untilTUs: number }).untilTUs;
    const compassUs = port(p, 'compass').actions.map((a) => START + a.simS * 1e6);
    expect(compassUs.some((t) => t >= (silent?.tUs ?? 0) && t < untilTUs)).toBe(false);
    expect(texts(port(p, 'compass'))).toHaveLength(60 * 10 - 40);
  });

  it('week rollover dates the GPS 1024 weeks back; a time jump shifts times from its epoch on', () => {
    const rolled = plan({}, ['week-rollover']);
    const rmc = texts(port(rolled, 'gps')).find((l) => l.includes('RMC')) ?? '';
    const r = new NmeaDecoder().decode(rmc);
    expect(r.status === 'accepted' && r.samples[0]?.tUs).toBe(START - GPS_ROLLOVER_US);
    expect(new NmeaDecoder({ rolloverReferenceUs: START }).decode(rmc)).toMatchObject({ flags: ['week-rollover'] });

    const jumped = plan({}, ['time-jump:30']);
    const jump = jumped.faults[0];
    const decoder = new NmeaDecoder();
    const zdaTimes = texts(port(jumped, 'gps'))
      .filter((l) => l.includes('ZDA'))
      .map((l) => {
        const d = decoder.decode(l);
        return d.status === 'accepted' ? (d.samples[0]?.tUs ?? 0) : 0;
      });
    const steps = zdaTimes.slice(1).map((t, i) => t - (zdaTimes[i] ?? 0));
    expect(steps.filter((s) => s !== 200_000)).toEqual([30_200_000]);
    expect(zdaTimes).toContain((jump?.tUs ?? 0) + 30_000_000);
  });

  it('a half-written file is the last of its camera; a slow camera takes the given time', () => {
    const p = plan({ cameraCount: 2 }, ['half-written@cam2', 'slow-camera:5@cam1']);
    const half = p.images.filter((im) => im.cutAtFraction !== null);
    expect(half).toHaveLength(1);
    expect(half[0]?.device).toBe('cam2');
    expect(Math.max(...p.images.filter((im) => im.device === 'cam2').map((im) => im.index))).toBe(half[0]?.index);
    expect(p.triggers.find((t) => t.device === 'cam2' && t.relPath === half[0]?.relPath)?.isComplete).toBe(false);
    expect(p.images.filter((im) => im.writeMs === 5000)).toHaveLength(1);
  });

  it('unplug and binary-burst are planned as port actions', () => {
    const p = plan({ speed: 10 }, ['unplug:2', 'binary-burst:100@altimeter']);
    expect(port(p, 'gps').actions.filter((a) => a.kind === 'unplug')).toEqual([expect.objectContaining({ forWallS: 2 })]);
    const burst = p.faults.find((f) => f.fault === 'binary-burst');
    const hex = (burst?.detail as { hex: string }).hex;
    expect(texts(port(p, 'altimeter')).map((t) => Buffer.from(t, 'latin1').toString('hex'))).toContain(hex);
  });
});
