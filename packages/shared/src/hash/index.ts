// Hashing: SHA-256 of files (1 MiB reads), an incremental hasher, a pass-through hashing stream.
export * from './sha256.js';
