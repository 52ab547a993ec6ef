// The seam of the run loop: `run` opens the flight, then composes "sources" around one store and
// one pipeline. Serial ports are sources (serial.ts); camera folder watchers are added the same way
// (a SourceFactory in DEFAULT_SOURCE_FACTORIES, see index.ts).
import type { AgentConfig } from '../config/index.js';
import type { FlightDb, FlightRow } from '@flysnap/shared';
import type { Logger } from '../log/index.js';
import type { CapturePipeline } from '../pipeline/index.js';
import type { FlightStore } from '../store/index.js';

export interface CaptureSource {
  /** For logs: 'serial:gps', 'camera:cam1'. */
  readonly name: string;
  /** Starts capturing; must not throw for a device that is merely absent (retry instead). */
  start(): Promise<void> | void;
  /** Stops, handing everything received to the pipeline/store before it resolves. */
  stop(): Promise<void>;
  /** Called on the raw-log timer (at least once a second): write out and fsync buffered data. */
  flush?(): void;
}

export interface SourceContext {
  config: AgentConfig;
  /** Array root (absolute). */
  arrayRoot: string;
  flight: FlightRow;
  flightDb: FlightDb;
  store: FlightStore;
  pipeline: CapturePipeline;
  log: Logger;
}

/** Makes the sources of one kind from the config (none when the config has none of that kind). */
export type SourceFactory = (ctx: SourceContext) => CaptureSource[];
