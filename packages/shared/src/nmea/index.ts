export * from './checksum.js';
