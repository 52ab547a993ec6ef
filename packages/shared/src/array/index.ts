// The storage array's layout (v1): pure path functions (layout.ts), the typed error (errors.ts)
// and the one piece of I/O, the crash-safe marker writer/reader (marker.ts).
export * from './errors.js';
export * from './layout.js';
export * from './marker.js';
