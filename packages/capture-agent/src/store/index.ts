export * from './flightStore.js';
