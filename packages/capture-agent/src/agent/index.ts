export * from './runAgent.js';
