import { cameraSources } from '../cameras/capture-source.js';
import { serialSources } from './serial.js';
import type { SourceFactory } from './types.js';

export * from './types.js';
export * from './serial.js';

/** What `run` starts, in order: serial ports, then the camera folders (issue 5, ../cameras/). */
export const DEFAULT_SOURCE_FACTORIES: readonly SourceFactory[] = [serialSources, cameraSources];
