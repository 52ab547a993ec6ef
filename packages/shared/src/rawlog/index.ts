// Raw serial log format v1: line encode/decode (format.ts) and file/stream decoders (decoder.ts).
export * from './format.js';
export * from './decoder.js';
