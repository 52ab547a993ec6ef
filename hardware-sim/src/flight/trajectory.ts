// The true flight path: straight segments (with constant acceleration and climb) and constant-rate
// turns, in a local east/north plane around an origin. Pure: `poseAt` gives position, altitude,
// heading, track and speed at any instant exactly, so every sentence and every camera trigger can
// be compared with the truth.
import { Prng } from '../random.js';

/** Mean Earth radius, metres: the plane-to-lat/lon mapping below is the definition of the truth. */
const EARTH_RADIUS_M = 6_371_000;
const DEG = Math.PI / 180;

export type FlightPhase = 'takeoff-roll' | 'climb' | 'survey-line' | 'turn' | 'descent' | 'landing-roll';

export interface TruePose {
  /** Seconds since the start of the flight plan (take-off roll). */
  planS: number;
  latDeg: number;
  lonDeg: number;
  /** Altitude above mean sea level, metres. */
  altitudeM: number;
  /** Where the nose points, degrees true [0, 360). */
  headingDeg: number;
  /** Course over ground, degrees true [0, 360). */
  trackDeg: number;
  /** Ground speed, m/s. */
  speedMps: number;
  /** Vertical speed, m/s (positive up). */
  climbMps: number;
  phase: FlightPhase;
}

interface SegmentBase {
  phase: FlightPhase;
  startS: number;
  durationS: number;
  /** Start point in the local plane, metres east/north of the origin. */
  startE: number;
  startN: number;
  startAltM: number;
  endAltM: number;
  /** Heading minus track (wind correction), degrees; 0 on the ground. */
  crabDeg: number;
}
interface LineSegment extends SegmentBase {
  kind: 'line';
  trackDeg: number;
  startSpeedMps: number;
  endSpeedMps: number;
}
interface TurnSegment extends SegmentBase {
  kind: 'turn';
  startTrackDeg: number;
  /** +1 turns right (clockwise), -1 left. */
  direction: 1 | -1;
  radiusM: number;
  speedMps: number;
}
type Segment = LineSegment | TurnSegment;

export interface SurveyPlanParams {
  originLatDeg: number;
  originLonDeg: number;
  /** Field elevation, metres above mean sea level. */
  fieldElevationM: number;
  /** Runway heading = heading of the first survey line, degrees true. */
  runwayDeg: number;
  cruiseAglM: number;
  cruiseSpeedMps: number;
  lineCount: number;
  lineLengthM: number;
  /** Distance between adjacent survey lines, metres (= turn diameter). */
  lineSpacingM: number;
  crabDeg: number;
}

/** Named numbers of the synthetic aircraft (a light twin doing photogrammetry). */
const ROTATE_SPEED_MPS = 35;
const TAKEOFF_ROLL_S = 25;
const CLIMB_S = 180;
const DESCENT_S = 180;
const LANDING_ROLL_S = 20;

/** Draws a plausible survey flight from a seed. */
export function drawSurveyPlan(seed: number): SurveyPlanParams {
  const rng = new Prng(seed).fork('plan');
  return {
    originLatDeg: rng.range(40, 55),
    originLonDeg: rng.range(-5, 20),
    fieldElevationM: Math.round(rng.range(20, 450)),
    runwayDeg: Math.round(rng.range(0, 360)) % 360,
    cruiseAglM: Math.round(rng.range(700, 1200)),
    cruiseSpeedMps: Math.round(rng.range(50, 65)),
    lineCount: rng.int(4, 7),
    lineLengthM: Math.round(rng.range(4000, 6500)),
    lineSpacingM: Math.round(rng.range(800, 1200)),
    crabDeg: Math.round(rng.range(-5, 5) * 10) / 10,
  };
}

function unit(bearingDeg: number): { e: number; n: number } {
  return { e: Math.sin(bearingDeg * DEG), n: Math.cos(bearingDeg * DEG) };
}

function norm360(deg: number): number {
  const d = deg % 360;
  return d < 0 ? d + 360 : d;
}

/** The flight as a chain of segments; `poseAt(planS)` is exact for any instant. */
export class Trajectory {
  readonly params: SurveyPlanParams;
  readonly #segments: Segment[];
  readonly durationS: number;

  constructor(params: SurveyPlanParams) {
    this.params = params;
    this.#segments = buildSegments(params);
    const last = this.#segments[this.#segments.length - 1];
    this.durationS = last ? last.startS + last.durationS : 0;
  }

  /** Start times of each phase, for choosing a window (`--from`). */
  phases(): Array<{ phase: FlightPhase; startS: number; durationS: number }> {
    return this.#segments.map((s) => ({ phase: s.phase, startS: s.startS, durationS: s.durationS }));
  }

  poseAt(planS: number): TruePose {
    const t = Math.min(Math.max(planS, 0), this.durationS);
    let seg = this.#segments[0];
    for (const s of this.#segments) {
      if (s.startS <= t) seg = s;
      else break;
    }
    if (!seg) throw new Error('Trajectory has no segments');
    const dt = t - seg.startS;
    const p = stateOnSegment(seg, dt);
    const { originLatDeg, originLonDeg } = this.params;
    return {
      planS,
      latDeg: originLatDeg + p.n / EARTH_RADIUS_M / DEG,
      lonDeg: originLonDeg + p.e / (EARTH_RADIUS_M * Math.cos(originLatDeg * DEG)) / DEG,
      altitudeM: seg.startAltM + ((seg.endAltM - seg.startAltM) * dt) / seg.durationS,
      headingDeg: norm360(p.trackDeg + seg.crabDeg),
      trackDeg: norm360(p.trackDeg),
      speedMps: p.speedMps,
      climbMps: (seg.endAltM - seg.startAltM) / seg.durationS,
      phase: seg.phase,
    };
  }
}

function stateOnSegment(seg: Segment, dt: number): { e: number; n: number; trackDeg: number; speedMps: number } {
  if (seg.kind === 'line') {
    const accel = (seg.endSpeedMps - seg.startSpeedMps) / seg.durationS;
    const dist = seg.startSpeedMps * dt + 0.5 * accel * dt * dt;
    const u = unit(seg.trackDeg);
    return { e: seg.startE + u.e * dist, n: seg.startN + u.n * dist, trackDeg: seg.trackDeg, speedMps: seg.startSpeedMps + accel * dt };
  }
  const omegaDeg = ((seg.speedMps / seg.radiusM) / DEG) * seg.direction;
  const center = unit(seg.startTrackDeg + 90 * seg.direction);
  const cE = seg.startE + center.e * seg.radiusM;
  const cN = seg.startN + center.n * seg.radiusM;
  const trackDeg = seg.startTrackDeg + omegaDeg * dt;
  const radial = unit(trackDeg - 90 * seg.direction);
  return { e: cE + radial.e * seg.radiusM, n: cN + radial.n * seg.radiusM, trackDeg, speedMps: seg.speedMps };
}

function buildSegments(p: SurveyPlanParams): Segment[] {
  const segments: Segment[] = [];
  let t = 0;
  let e = 0;
  let n = 0;
  let alt = p.fieldElevationM;
  const cruiseAlt = p.fieldElevationM + p.cruiseAglM;
  const line = (phase: FlightPhase, trackDeg: number, v0: number, v1: number, durationS: number, alt1: number, crabDeg: number): void => {
    const seg: LineSegment = { kind: 'line', phase, startS: t, durationS, startE: e, startN: n, startAltM: alt, endAltM: alt1, crabDeg, trackDeg, startSpeedMps: v0, endSpeedMps: v1 };
    segments.push(seg);
    const end = stateOnSegment(seg, durationS);
    ({ e, n } = end);
    alt = alt1;
    t += durationS;
  };
  const turn = (startTrackDeg: number, direction: 1 | -1): void => {
    const radiusM = p.lineSpacingM / 2;
    const durationS = (Math.PI * radiusM) / p.cruiseSpeedMps;
    const seg: TurnSegment = { kind: 'turn', phase: 'turn', startS: t, durationS, startE: e, startN: n, startAltM: alt, endAltM: alt, crabDeg: p.crabDeg, startTrackDeg, direction, radiusM, speedMps: p.cruiseSpeedMps };
    segments.push(seg);
    ({ e, n } = stateOnSegment(seg, durationS));
    t += durationS;
  };

  line('takeoff-roll', p.runwayDeg, 0, ROTATE_SPEED_MPS, TAKEOFF_ROLL_S, alt, 0);
  line('climb', p.runwayDeg, ROTATE_SPEED_MPS, p.cruiseSpeedMps, CLIMB_S, cruiseAlt, p.crabDeg);
  const lineS = p.lineLengthM / p.cruiseSpeedMps;
  for (let i = 0; i < p.lineCount; i++) {
    const trackDeg = i % 2 === 0 ? p.runwayDeg : p.runwayDeg + 180;
    line('survey-line', trackDeg, p.cruiseSpeedMps, p.cruiseSpeedMps, lineS, cruiseAlt, p.crabDeg);
    if (i < p.lineCount - 1) turn(trackDeg, i % 2 === 0 ? 1 : -1);
  }
  const lastTrack = p.lineCount % 2 === 1 ? p.runwayDeg : p.runwayDeg + 180;
  line('descent', lastTrack, p.cruiseSpeedMps, ROTATE_SPEED_MPS, DESCENT_S, p.fieldElevationM, p.crabDeg);
  line('landing-roll', lastTrack, ROTATE_SPEED_MPS, 0, LANDING_ROLL_S, p.fieldElevationM, 0);
  return segments;
}
