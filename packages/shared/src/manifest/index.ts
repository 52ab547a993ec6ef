// The archive manifest (format v1): types, stable text form, validating parser.
export * from './manifest.js';
