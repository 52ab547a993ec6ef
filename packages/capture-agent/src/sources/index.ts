import { serialSources } from './serial.js';
import type { SourceFactory } from './types.js';

export * from './types.js';
export * from './serial.js';

/** What `run` starts, in order. Camera watchers join here (issue 5). */
export const DEFAULT_SOURCE_FACTORIES: readonly SourceFactory[] = [serialSources];
