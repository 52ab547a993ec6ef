export * from './openFlight.js';
export * from './mountPoint.js';
