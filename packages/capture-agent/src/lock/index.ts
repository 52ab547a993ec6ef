export * from './arrayLock.js';
