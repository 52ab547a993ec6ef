// Library surface of hardware-sim, for tests and tools (never for production code).
export * from './errors.js';
export * from './random.js';
export * from './ports/pty.js';
export * from './ports/player.js';
export * from './replay/replay.js';
export * from './replay/schedule.js';
export * from './replay/log-source.js';
export * from './replay/nmea-time.js';
export * from './nmea/encode.js';
export * from './flight/trajectory.js';
export * from './flight/exif.js';
export * from './flight/jpeg.js';
export * from './flight/options.js';
export * from './flight/plan.js';
export * from './flight/run.js';
export * from './faults/spec.js';
export * from './faults/lines.js';
