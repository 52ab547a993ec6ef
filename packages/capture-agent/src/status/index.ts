export * from './readStatus.js';
