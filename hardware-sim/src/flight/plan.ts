// Everything a synthetic flight will do, decided up front from the options and the seed: every
// serial line with the flight time it is sent at, every picture, every fault, and the truth.
// Pure: running the plan (run.ts) only performs it.
import { Prng } from '../random.js';
import type { FaultName, FaultSpec } from '../faults/spec.js';
import { breakChecksum, corruptOneChar, dropLineEnd, truncateLine } from '../faults/lines.js';
import {
  encodeGga,
  encodeGsa,
  encodeHdg,
  encodeHdt,
  encodePgrmz,
  encodeRmc,
  encodeVtg,
  encodeZda,
  GPS_ROLLOVER_US,
  type GnssFix,
} from '../nmea/encode.js';
import { exifCaptureTime, type ExifCaptureTime } from './exif.js';
import { cameraDevices, type FlightOptions } from './options.js';
import { drawSurveyPlan, Trajectory, type FlightPhase, type TruePose } from './trajectory.js';

export type PortName = 'gps' | 'compass' | 'altimeter';
export const PORT_BAUD: Readonly<Record<PortName, number>> = { gps: 38400, compass: 38400, altimeter: 9600 };
export const PORT_NAMES: readonly PortName[] = ['gps', 'compass', 'altimeter'];

/** A receiver prints an epoch's sentences a little after the epoch (flight seconds). */
const GPS_OUTPUT_DELAY_S = 0.05;
/** Compass and altimeter run on their own clocks: offset their ticks from the GPS epochs. */
const COMPASS_PHASE_S = 0.013;
const ALTIMETER_PHASE_S = 0.37;
/** Shutter to start of file writing, flight seconds. */
const CAMERA_WRITE_DELAY_S = { min: 0.1, max: 0.3 };
/** A camera writes a file over this many wall milliseconds. */
const CAMERA_WRITE_MS = { min: 20, max: 80 };
/** Faults happen within this part of the window, so the agent has a normal start and end. */
const FAULT_WINDOW = { from: 0.2, to: 0.7 };
/** A power loss leaves this fraction of the file written. */
const HALF_WRITTEN_FRACTION = { min: 0.2, max: 0.8 };
/** Sampling of truth/trajectory.jsonl, flight seconds. */
const TRAJECTORY_STEP_S = 0.1;
/** The video camera appends a chunk this often (flight seconds), of this size. */
export const VIDEO_CHUNK_S = 0.5;
export const VIDEO_CHUNK_BYTES = 32 * 1024;

export type PlannedPortAction =
  | { kind: 'write'; simS: number; text: string; epoch: number | null; isFaulty: boolean }
  | { kind: 'unplug'; simS: number; forWallS: number };

export interface PortPlan {
  name: PortName;
  baudRate: number;
  actions: PlannedPortAction[];
}

export interface ImagePlan {
  device: string;
  /** 1-based picture number of this camera. */
  index: number;
  /** File name relative to the camera folder (the asset's rel_path on the array). */
  relPath: string;
  /** Shutter time, flight seconds from the start of the window. */
  triggerS: number;
  /** True shutter time, UTC µs. */
  tUs: number;
  /** The camera clock's reading at the shutter (tUs + its clock offset). */
  cameraClockUs: number;
  exif: ExifCaptureTime;
  /** Flight seconds at which the camera starts writing the file. */
  writeAtS: number;
  /** Wall ms the writing takes. */
  writeMs: number;
  /** When set, only this many bytes are written and the file is never finished (power loss). */
  cutAtFraction: number | null;
}

export interface VideoPlan {
  device: string;
  relPath: string;
}

/** The aircraft's true state at a UTC time (µs), as the truth files record it. */
export interface TrueState {
  tUs: number;
  latDeg: number;
  lonDeg: number;
  altitudeM: number;
  pressureAltitudeM: number;
  headingDeg: number;
  trackDeg: number;
  speedMps: number;
  phase: FlightPhase;
}

/** A picture's trigger: the true state at its shutter time, and what the camera made of it. */
export interface TriggerTruth extends TrueState {
  device: string;
  relPath: string;
  /** Path relative to the flight's output folder. */
  file: string;
  cameraClockUs: number;
  clockOffsetMs: number;
  exif: ExifCaptureTime;
  /** False for the file a camera left half-written. */
  isComplete: boolean;
}

/** One line of truth/trajectory.jsonl. */
export interface TrajectorySample extends TrueState {
  climbMps: number;
}

export interface FaultRecord {
  fault: FaultName;
  target: string;
  param: number | null;
  /** UTC µs (true time) at which it happens. */
  tUs: number;
  /** Flight seconds from the start of the window. */
  simS: number;
  detail: Record<string, unknown>;
}

export interface FlightConstants {
  seed: number;
  startUtcUs: number;
  /** Pressure altitude minus true altitude, metres (what PGRMZ is off by). */
  pressureAltitudeOffsetM: number;
  /** Magnetic variation, degrees, east positive (HDG). */
  magneticVariationDeg: number;
  /** Compass deviation, degrees, east positive (HDG). */
  compassDeviationDeg: number;
  geoidSeparationM: number;
  satellites: number;
  hdop: number;
}

export interface FlightPlan {
  options: FlightOptions;
  constants: FlightConstants;
  trajectory: Trajectory;
  ports: PortPlan[];
  images: ImagePlan[];
  video: VideoPlan | null;
  triggers: TriggerTruth[];
  faults: FaultRecord[];
}

function tUsAt(startUtcUs: number, simS: number): number {
  return startUtcUs + Math.round(simS * 1_000_000);
}

/** The GPS clock as the receiver has it: a time jump and the week-rollover bug live here. */
interface GpsClock {
  jumpAtS: number | null;
  jumpUs: number;
  rolloverUs: number;
}

function gpsLines(plan: { trajectory: Trajectory; options: FlightOptions; constants: FlightConstants; clock: GpsClock; prns: number[] }): PlannedPortAction[] {
  const { trajectory, options, constants, clock, prns } = plan;
  const out: PlannedPortAction[] = [];
  const epochs = Math.ceil(options.durationS * options.gpsHz);
  for (let k = 0; k < epochs; k++) {
    const simS = k / options.gpsHz;
    const pose = trajectory.poseAt(options.fromS + simS);
    const trueUs = tUsAt(constants.startUtcUs, simS);
    const shownUs = trueUs + (clock.jumpAtS !== null && simS >= clock.jumpAtS ? clock.jumpUs : 0);
    const fix: GnssFix = {
      tUs: shownUs,
      dateUs: shownUs - clock.rolloverUs,
      latDeg: pose.latDeg,
      lonDeg: pose.lonDeg,
      altitudeM: pose.altitudeM,
      speedMps: pose.speedMps,
      trackDeg: pose.trackDeg,
      geoidSepM: constants.geoidSeparationM,
      satellites: constants.satellites,
      hdop: constants.hdop,
      pdop: Math.round(constants.hdop * 17) / 10,
      vdop: Math.round(constants.hdop * 13) / 10,
      prns,
    };
    const writeS = simS + GPS_OUTPUT_DELAY_S;
    for (const text of [encodeRmc(fix), encodeGga(fix), encodeGsa(fix), encodeVtg(fix), encodeZda(fix)]) {
      out.push({ kind: 'write', simS: writeS, text, epoch: k, isFaulty: false });
    }
  }
  return out;
}

function tickLines(durationS: number, hz: number, phaseS: number, line: (simS: number) => string): PlannedPortAction[] {
  const out: PlannedPortAction[] = [];
  for (let k = 0; ; k++) {
    const simS = k / hz + phaseS;
    if (simS >= durationS) return out;
    out.push({ kind: 'write', simS, text: line(simS), epoch: null, isFaulty: false });
  }
}

function imagePlans(options: FlightOptions, startUtcUs: number, seed: number): ImagePlan[] {
  const devices = cameraDevices(options);
  const images: ImagePlan[] = [];
  devices.forEach((device, c) => {
    const rng = new Prng(seed).fork(`camera:${device}`);
    const offsetMs = options.cameraClockOffsetMs[device] ?? 0;
    // Cameras are staggered over one interval so they do not all fire at once.
    const staggerS = (options.cameraIntervalS * c) / devices.length;
    for (let n = 0; ; n++) {
      const triggerS = staggerS + n * options.cameraIntervalS;
      if (triggerS >= options.durationS) break;
      const tUs = tUsAt(startUtcUs, triggerS);
      const cameraClockUs = tUs + Math.round(offsetMs * 1000);
      images.push({
        device,
        index: n + 1,
        relPath: `IMG_${String(n + 1).padStart(4, '0')}.jpg`,
        triggerS,
        tUs,
        cameraClockUs,
        exif: exifCaptureTime(cameraClockUs, options.cameraUtcOffset),
        writeAtS: triggerS + rng.range(CAMERA_WRITE_DELAY_S.min, CAMERA_WRITE_DELAY_S.max),
        writeMs: Math.round(rng.range(CAMERA_WRITE_MS.min, CAMERA_WRITE_MS.max)),
        cutAtFraction: null,
      });
    }
  });
  return images.sort((a, b) => a.writeAtS - b.writeAtS);
}

/** A time inside the fault window of the flight, flight seconds. */
function faultTimeS(rng: Prng, durationS: number): number {
  return rng.range(FAULT_WINDOW.from * durationS, FAULT_WINDOW.to * durationS);
}

export function buildFlightPlan(options: FlightOptions, startUtcUs: number): FlightPlan {
  const seed = options.seed;
  const trajectory = new Trajectory(drawSurveyPlan(seed));
  const rng = new Prng(seed).fork('instruments');
  const constants: FlightConstants = {
    seed,
    startUtcUs,
    pressureAltitudeOffsetM: Math.round(rng.range(-60, 60) * 10) / 10,
    magneticVariationDeg: Math.round(rng.range(-3, 8) * 10) / 10,
    compassDeviationDeg: Math.round(rng.range(-2, 2) * 10) / 10,
    geoidSeparationM: Math.round(rng.range(35, 50) * 10) / 10,
    satellites: rng.int(9, 14),
    hdop: Math.round(rng.range(0.6, 1.1) * 10) / 10,
  };
  const prns = Array.from({ length: constants.satellites }, (_, i) => 2 + i * 2 + rng.int(0, 1)).slice(0, 12);
  const faultRecords: FaultRecord[] = [];
  const faults = options.faults.map((spec, i) => ({ spec, rng: new Prng(seed).fork(`fault:${i}:${spec.name}:${spec.target}`) }));
  const record = (spec: FaultSpec, simS: number, detail: Record<string, unknown>): void => {
    faultRecords.push({ fault: spec.name, target: spec.target, param: spec.param, tUs: tUsAt(startUtcUs, simS), simS: Math.round(simS * 1e6) / 1e6, detail });
  };

  // The receiver's clock faults shape the GPS sentences themselves.
  const clock: GpsClock = { jumpAtS: null, jumpUs: 0, rolloverUs: 0 };
  for (const { spec, rng: frng } of faults) {
    if (spec.name === 'time-jump') {
      const epochS = Math.round(faultTimeS(frng, options.durationS) * options.gpsHz) / options.gpsHz;
      clock.jumpAtS = epochS;
      clock.jumpUs = Math.round((spec.param ?? 0) * 1_000_000);
      record(spec, epochS, { jumpUs: clock.jumpUs });
    } else if (spec.name === 'week-rollover') {
      clock.rolloverUs = GPS_ROLLOVER_US;
      record(spec, 0, { shiftUs: -GPS_ROLLOVER_US, weeks: 1024 });
    }
  }

  const pose = (simS: number): TruePose => trajectory.poseAt(options.fromS + simS);
  const ports: PortPlan[] = [
    { name: 'gps', baudRate: PORT_BAUD.gps, actions: gpsLines({ trajectory, options, constants, clock, prns }) },
    {
      name: 'compass',
      baudRate: PORT_BAUD.compass,
      actions: tickLines(options.durationS, options.compassHz, COMPASS_PHASE_S, (s) =>
        options.compassSentence === 'hdt' ? encodeHdt(pose(s).headingDeg) : encodeHdg(pose(s).headingDeg, constants.compassDeviationDeg, constants.magneticVariationDeg),
      ),
    },
    {
      name: 'altimeter',
      baudRate: PORT_BAUD.altimeter,
      actions: tickLines(options.durationS, options.altimeterHz, ALTIMETER_PHASE_S, (s) => encodePgrmz(pose(s).altitudeM + constants.pressureAltitudeOffsetM)),
    },
  ];
  const portByName = (name: string): PortPlan => {
    const p = ports.find((x) => x.name === name);
    if (!p) throw new Error(`no port ${name}`);
    return p;
  };

  // Faults that take lines away come first, so that line faults only touch lines that are sent.
  const order: FaultName[] = ['missing-epochs', 'silent', 'unplug', 'corrupt-chars', 'bad-checksum', 'truncate', 'fuse', 'binary-burst'];
  const portFaults = faults.filter((f) => order.includes(f.spec.name)).sort((a, b) => order.indexOf(a.spec.name) - order.indexOf(b.spec.name));
  /** Flight-second intervals in which a port is unplugged (its writes are lost). */
  const unpluggedS: Record<string, Array<[number, number]>> = {};
  for (const { spec, rng: frng } of portFaults) {
    const port = portByName(spec.target);
    const param = spec.param ?? 0;
    switch (spec.name) {
      case 'missing-epochs': {
        const epochs = [...new Set(port.actions.flatMap((a) => (a.kind === 'write' && a.epoch !== null ? [a.epoch] : [])))];
        const inWindow = epochs.filter((k) => {
          const s = k / options.gpsHz;
          return s >= FAULT_WINDOW.from * options.durationS && s <= FAULT_WINDOW.to * options.durationS;
        });
        const dropped = new Set<number>();
        while (dropped.size < Math.min(param, inWindow.length)) dropped.add(frng.pick(inWindow));
        port.actions = port.actions.filter((a) => !(a.kind === 'write' && a.epoch !== null && dropped.has(a.epoch)));
        for (const k of [...dropped].sort((a, b) => a - b)) record(spec, k / options.gpsHz, { epochTUs: tUsAt(startUtcUs, k / options.gpsHz) });
        break;
      }
      case 'silent': {
        const fromS = faultTimeS(frng, options.durationS);
        const toS = fromS + param;
        const before = port.actions.length;
        port.actions = port.actions.filter((a) => a.simS < fromS || a.simS >= toS);
        record(spec, fromS, { untilTUs: tUsAt(startUtcUs, toS), droppedLines: before - port.actions.length });
        break;
      }
      case 'unplug': {
        const atS = faultTimeS(frng, options.durationS);
        port.actions.push({ kind: 'unplug', simS: atS, forWallS: param });
        (unpluggedS[port.name] ??= []).push([atS, atS + param * options.speed]);
        record(spec, atS, { forWallS: param, untilTUs: tUsAt(startUtcUs, atS + param * options.speed) });
        break;
      }
      case 'corrupt-chars':
      case 'bad-checksum':
      case 'truncate':
      case 'fuse': {
        const candidates = port.actions.flatMap((a, i) => {
          if (a.kind !== 'write' || a.isFaulty || !a.text.startsWith('$')) return [];
          if (a.simS < FAULT_WINDOW.from * options.durationS || a.simS > FAULT_WINDOW.to * options.durationS) return [];
          if ((unpluggedS[port.name] ?? []).some(([f, t]) => a.simS >= f - 1 && a.simS <= t + 1)) return [];
          // A fused line needs a next line to run into, at the same time.
          if (spec.name === 'fuse') {
            const next = port.actions[i + 1];
            if (!next || next.kind !== 'write' || next.isFaulty || next.simS !== a.simS) return [];
          }
          return [i];
        });
        const chosen = new Set<number>();
        while (chosen.size < Math.min(param, candidates.length)) {
          const i = frng.pick(candidates);
          if (spec.name === 'fuse' && (chosen.has(i - 1) || chosen.has(i + 1))) continue;
          chosen.add(i);
        }
        for (const i of [...chosen].sort((a, b) => a - b)) {
          const a = port.actions[i];
          if (!a || a.kind !== 'write') continue;
          const original = a.text;
          const sent =
            spec.name === 'corrupt-chars' ? corruptOneChar(original, frng)
            : spec.name === 'bad-checksum' ? breakChecksum(original, frng)
            : spec.name === 'truncate' ? truncateLine(original, frng)
            : dropLineEnd(original);
          port.actions[i] = { ...a, text: sent, isFaulty: true };
          const detail: Record<string, unknown> = { original, sent };
          if (spec.name === 'fuse') {
            const next = port.actions[i + 1];
            if (next && next.kind === 'write') {
              port.actions[i + 1] = { ...next, isFaulty: true };
              detail.fusedWith = next.text;
            }
          }
          record(spec, a.simS, detail);
        }
        break;
      }
      case 'binary-burst': {
        const atS = faultTimeS(frng, options.durationS);
        const burst = frng.bytes(param).toString('latin1');
        // Between two lines: after the last line at or before atS.
        let insertAt = port.actions.findIndex((a) => a.simS > atS);
        if (insertAt < 0) insertAt = port.actions.length;
        const simS = port.actions[insertAt - 1]?.simS ?? atS;
        port.actions.splice(insertAt, 0, { kind: 'write', simS, text: burst, epoch: null, isFaulty: true });
        record(spec, simS, { bytes: param, hex: Buffer.from(burst, 'latin1').toString('hex') });
        break;
      }
      default:
        break;
    }
  }
  for (const port of ports) port.actions.sort((a, b) => a.simS - b.simS);

  // Cameras: the file faults.
  let images = imagePlans(options, startUtcUs, seed);
  for (const { spec, rng: frng } of faults) {
    if (spec.name !== 'slow-camera' && spec.name !== 'half-written') continue;
    const candidates = images.filter((im) => im.device === spec.target && im.cutAtFraction === null && im.triggerS >= FAULT_WINDOW.from * options.durationS && im.triggerS <= FAULT_WINDOW.to * options.durationS);
    if (candidates.length === 0) continue;
    const chosen = frng.pick(candidates);
    if (spec.name === 'slow-camera') {
      chosen.writeMs = Math.round((spec.param ?? 0) * 1000);
      record(spec, chosen.triggerS, { relPath: chosen.relPath, writeMs: chosen.writeMs });
    } else {
      chosen.cutAtFraction = Math.round(frng.range(HALF_WRITTEN_FRACTION.min, HALF_WRITTEN_FRACTION.max) * 100) / 100;
      // The camera is dead from then on.
      images = images.filter((im) => im.device !== spec.target || im.index <= chosen.index);
      record(spec, chosen.triggerS, { relPath: chosen.relPath, writtenFraction: chosen.cutAtFraction });
    }
  }

  const triggers: TriggerTruth[] = images
    .slice()
    .sort((a, b) => a.tUs - b.tUs || a.device.localeCompare(b.device))
    .map((im) => {
      const p = pose(im.triggerS);
      return {
        device: im.device,
        relPath: im.relPath,
        file: `array/cameras/${im.device}/${im.relPath}`,
        tUs: im.tUs,
        cameraClockUs: im.cameraClockUs,
        clockOffsetMs: options.cameraClockOffsetMs[im.device] ?? 0,
        exif: im.exif,
        ...trueMotion(p, constants),
        phase: p.phase,
        isComplete: im.cutAtFraction === null,
      };
    });

  return {
    options,
    constants,
    trajectory,
    ports,
    images,
    video: options.hasVideo ? { device: 'video1', relPath: 'VID_0001.mp4' } : null,
    triggers,
    faults: faultRecords.sort((a, b) => a.tUs - b.tUs),
  };
}

/** The truth files' position, altitudes and motion at a true pose (pressure altitude = true + the flight's offset). */
function trueMotion(p: TruePose, constants: FlightConstants): Omit<TrueState, 'tUs' | 'phase'> {
  return {
    latDeg: p.latDeg,
    lonDeg: p.lonDeg,
    altitudeM: p.altitudeM,
    pressureAltitudeM: p.altitudeM + constants.pressureAltitudeOffsetM,
    headingDeg: p.headingDeg,
    trackDeg: p.trackDeg,
    speedMps: p.speedMps,
  };
}

/** The true trajectory over the window, every TRAJECTORY_STEP_S. */
export function* trajectorySamples(plan: FlightPlan): Generator<TrajectorySample> {
  const { options, constants, trajectory } = plan;
  const steps = Math.floor(options.durationS / TRAJECTORY_STEP_S);
  for (let i = 0; i <= steps; i++) {
    const simS = i * TRAJECTORY_STEP_S;
    const p = trajectory.poseAt(options.fromS + simS);
    yield {
      tUs: tUsAt(constants.startUtcUs, simS),
      ...trueMotion(p, constants),
      climbMps: p.climbMps,
      phase: p.phase,
    };
  }
}

