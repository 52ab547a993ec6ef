// Public surface of @flysnap/shared, one area per folder (see ../../DESIGN.md):
// nav = the sample contract, nmea = decoding, clock = flight clock, pose = interpolation,
// array = the storage array's layout, flightdb = schema and migrations, rawlog = raw serial log format,
// hash = SHA-256 of files and streams, format = numbers for people.
export * from './nav/types.js';
export * from './nav/fix-quality.js';
export * from './nmea/index.js';
export * from './clock/index.js';
export * from './pose/index.js';
export * from './array/index.js';
export * from './flightdb/index.js';
export * from './rawlog/index.js';
export * from './hash/index.js';
export * from './format/index.js';
export * from './manifest/index.js';
