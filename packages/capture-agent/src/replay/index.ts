export * from './readLog.js';
export * from './replayLogs.js';
