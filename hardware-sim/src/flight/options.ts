// Options of a synthetic flight, their defaults and their checks (pure).
import { SimError } from '../errors.js';
import type { FaultSpec } from '../faults/spec.js';
import { parseUtcOffset } from './exif.js';

/** GPS rates whose epochs fall on whole hundredths of a second (NMEA prints hhmmss.ss). */
export const GPS_RATES_HZ = [1, 2, 4, 5, 10] as const;

export interface FlightOptions {
  /** Flight time simulated, seconds. Default 120. */
  durationS: number;
  /** Where in the flight plan the window starts, seconds after the take-off roll begins. Default 0. */
  fromS: number;
  /** Time compression: 10 = ten seconds of flight per wall second. Default 1. */
  speed: number;
  /** Number of image cameras (cam1 … camN). Default 2. */
  cameraCount: number;
  /** Seed of every random choice (flight pattern, file contents, faults). Default 1. */
  seed: number;
  /** GPS epochs per second (1, 2, 4, 5, 10). Default 5. */
  gpsHz: number;
  /** Compass sentences per second (10–20). Default 10. */
  compassHz: number;
  /** Altimeter sentences per second (1–2). Default 1. */
  altimeterHz: number;
  /** 'hdt' (true heading) or 'hdg' (magnetic with deviation and variation). Default 'hdt'. */
  compassSentence: 'hdt' | 'hdg';
  /** Seconds of flight time between two pictures of one camera. Default 2. */
  cameraIntervalS: number;
  /** Approximate size of each image file, bytes. Default 200000. */
  imageBytes: number;
  /** Camera clock minus UTC, ms, per device (default 0). */
  cameraClockOffsetMs: Record<string, number>;
  /** Local time zone the cameras show in EXIF, '±HH:MM'. Default '+00:00'. */
  cameraUtcOffset: string;
  /** Whether a video camera (video1) records too. Default true. */
  hasVideo: boolean;
  faults: FaultSpec[];
}

export const DEFAULT_FLIGHT_OPTIONS: FlightOptions = {
  durationS: 120,
  fromS: 0,
  speed: 1,
  cameraCount: 2,
  seed: 1,
  gpsHz: 5,
  compassHz: 10,
  altimeterHz: 1,
  compassSentence: 'hdt',
  cameraIntervalS: 2,
  imageBytes: 200_000,
  cameraClockOffsetMs: {},
  cameraUtcOffset: '+00:00',
  hasVideo: true,
  faults: [],
};

function bad(message: string): never {
  throw new SimError('BAD_INPUT', message);
}

export function cameraDevices(options: FlightOptions): string[] {
  return Array.from({ length: options.cameraCount }, (_, i) => `cam${i + 1}`);
}

/** Throws SimError('BAD_INPUT') naming the first wrong option. */
export function checkFlightOptions(o: FlightOptions, planDurationS: number): void {
  if (!(o.durationS > 0)) bad(`--duration ${o.durationS}: must be a positive number of seconds`);
  if (!(o.fromS >= 0)) bad(`--from ${o.fromS}: must be 0 or more seconds`);
  if (o.fromS + o.durationS > planDurationS) {
    bad(`--from ${o.fromS} --duration ${o.durationS}: this flight plan (seed ${o.seed}) lasts ${Math.floor(planDurationS)} s`);
  }
  if (!(o.speed > 0 && o.speed <= 1000)) bad(`--speed ${o.speed}: must be more than 0 and at most 1000`);
  if (!Number.isInteger(o.cameraCount) || o.cameraCount < 0 || o.cameraCount > 16) bad(`--cameras ${o.cameraCount}: must be an integer from 0 to 16`);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) bad(`--seed ${o.seed}: must be an integer from 0 to 4294967295`);
  if (!(GPS_RATES_HZ as readonly number[]).includes(o.gpsHz)) bad(`--gps-hz ${o.gpsHz}: must be one of ${GPS_RATES_HZ.join(', ')}`);
  if (!(o.compassHz >= 10 && o.compassHz <= 20)) bad(`--compass-hz ${o.compassHz}: must be from 10 to 20`);
  if (!(o.altimeterHz >= 1 && o.altimeterHz <= 2)) bad(`--altimeter-hz ${o.altimeterHz}: must be from 1 to 2`);
  if (!(o.cameraIntervalS >= 0.2)) bad(`--camera-interval ${o.cameraIntervalS}: must be at least 0.2 seconds`);
  if (!Number.isInteger(o.imageBytes) || o.imageBytes < 1000 || o.imageBytes > 50_000_000) bad(`--image-bytes ${o.imageBytes}: must be an integer from 1000 to 50000000`);
  if (parseUtcOffset(o.cameraUtcOffset) === null) bad(`--camera-utc-offset ${o.cameraUtcOffset}: must look like +02:00 or -05:30`);
  const devices = cameraDevices(o);
  for (const [device, ms] of Object.entries(o.cameraClockOffsetMs)) {
    if (!devices.includes(device)) bad(`--camera-clock-offset ${device}=${ms}: no camera ${device} (cameras: ${devices.join(', ') || 'none'})`);
    if (!Number.isFinite(ms) || Math.abs(ms) > 86_400_000) bad(`--camera-clock-offset ${device}=${ms}: must be a number of ms within a day`);
  }
}
