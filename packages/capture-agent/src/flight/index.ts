export * from './openFlight.js';
