import { describe, expect, it } from 'vitest';
import { drawSurveyPlan, Trajectory } from '../../src/flight/trajectory.js';

const M_PER_DEG_LAT = (6_371_000 * Math.PI) / 180;

function distanceM(a: { latDeg: number; lonDeg: number }, b: { latDeg: number; lonDeg: number }): number {
  const n = (b.latDeg - a.latDeg) * M_PER_DEG_LAT;
  const e = (b.lonDeg - a.lonDeg) * M_PER_DEG_LAT * Math.cos((a.latDeg * Math.PI) / 180);
  return Math.hypot(n, e);
}

function angleDiff(a: number, b: number): number {
  return Math.abs(((a - b + 540) % 360) - 180);
}

describe('Trajectory', () => {
  it('is the same for the same seed and differs for another', () => {
    expect(drawSurveyPlan(7)).toEqual(drawSurveyPlan(7));
    expect(drawSurveyPlan(7)).not.toEqual(drawSurveyPlan(8));
  });

  it('takes off from rest, climbs, flies lines with turns, lands at rest', () => {
    const t = new Trajectory(drawSurveyPlan(3));
    const phases = t.phases().map((p) => p.phase);
    expect(phases[0]).toBe('takeoff-roll');
    expect(phases).toContain('survey-line');
    expect(phases).toContain('turn');
    expect(phases[phases.length - 1]).toBe('landing-roll');
    expect(t.poseAt(0).speedMps).toBe(0);
    expect(t.poseAt(t.durationS).speedMps).toBeCloseTo(0, 9);
    expect(t.poseAt(0).altitudeM).toBe(t.params.fieldElevationM);
    const cruise = t.phases().find((p) => p.phase === 'survey-line');
    expect(t.poseAt((cruise?.startS ?? 0) + 1).altitudeM).toBe(t.params.fieldElevationM + t.params.cruiseAglM);
  });

  it('moves continuously, as fast as it says, along its track', () => {
    const t = new Trajectory(drawSurveyPlan(11));
    const dt = 0.1;
    for (let s = 0; s + dt <= t.durationS; s += dt) {
      const a = t.poseAt(s);
      const b = t.poseAt(s + dt);
      const mid = t.poseAt(s + dt / 2);
      const d = distanceM(a, b);
      expect(Math.abs(d - mid.speedMps * dt)).toBeLessThan(0.05);
      if (mid.speedMps > 5) {
        const n = (b.latDeg - a.latDeg) * M_PER_DEG_LAT;
        const e = (b.lonDeg - a.lonDeg) * M_PER_DEG_LAT * Math.cos((a.latDeg * Math.PI) / 180);
        const bearing = ((Math.atan2(e, n) * 180) / Math.PI + 360) % 360;
        expect(angleDiff(bearing, mid.trackDeg)).toBeLessThan(0.5);
      }
      expect(angleDiff(mid.headingDeg, mid.trackDeg)).toBeLessThanOrEqual(Math.abs(t.params.crabDeg) + 1e-9);
    }
  });

  it('turns at a constant rate through 180 degrees between lines', () => {
    const t = new Trajectory(drawSurveyPlan(5));
    const turn = t.phases().find((p) => p.phase === 'turn');
    expect(turn).toBeDefined();
    if (!turn) return;
    const start = t.poseAt(turn.startS);
    const end = t.poseAt(turn.startS + turn.durationS);
    expect(angleDiff(end.trackDeg, start.trackDeg + 180)).toBeLessThan(1e-6);
    const quarter = t.poseAt(turn.startS + turn.durationS / 4);
    expect(angleDiff(quarter.trackDeg, start.trackDeg)).toBeCloseTo(45, 6);
  });
});
