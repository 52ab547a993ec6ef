// Raw serial log format v2 (v1 read too): line encode/decode (format.ts) and file/stream decoders (decoder.ts).
export * from './format.js';
export * from './decoder.js';
