// NMEA 0183 decoding: received line → typed samples or a typed rejection (see ../nav/types.ts).
export * from './checksum.js';
export { splitSentence, type Frame, type FrameRejection, type FrameResult } from './frame.js';
export { NmeaDecoder, type NmeaDecoderOptions, type DecoderStats } from './decoder.js';
export { correctWeekRollover, WEEK_ROLLOVER_US, ROLLOVER_WINDOW_US } from './dates.js';
export { MPS_PER_KNOT, M_PER_FOOT } from './fields.js';
export { ALTITUDE_RANGE_M } from './sentences.js';
