// The flight clock: monotonic time of the capture machine → UTC, disciplined by GPS time.
export {
  FlightClock,
  clockFitToUtc,
  type FlightClockOptions,
  type ClockFit,
  type ClockJump,
  type ClockObservation,
  type ClockPairStatus,
} from './flight-clock.js';
