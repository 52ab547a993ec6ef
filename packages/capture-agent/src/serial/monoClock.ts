/** The capture machine's monotonic clock (CLOCK_MONOTONIC on Linux: shared by every process since boot), µs. */
export function monoNowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
