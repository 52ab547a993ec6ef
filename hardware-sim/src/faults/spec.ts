// Which faults can be injected, how they are named on the command line (NAME[:PARAM][@TARGET]),
// and their defaults. Pure.
import { SimError } from '../errors.js';

export interface FaultInfo {
  /** What it does, for --help. */
  summary: string;
  /** What PARAM means; null when it takes none. */
  param: { meaning: string; default: number; min: number; max: number; isInteger: boolean } | null;
  /** What it applies to: a serial port, the GPS port only, or a camera. */
  targets: 'port' | 'gps' | 'camera';
  /** Default target. */
  defaultTarget: string;
}

export const FAULTS = {
  'corrupt-chars': {
    summary: 'N sentences each get one character replaced by another (checksum left as sent)',
    param: { meaning: 'sentences', default: 3, min: 1, max: 1000, isInteger: true },
    targets: 'port',
    defaultTarget: 'gps',
  },
  'bad-checksum': {
    summary: 'N sentences sent with a wrong *hh checksum',
    param: { meaning: 'sentences', default: 3, min: 1, max: 1000, isInteger: true },
    targets: 'port',
    defaultTarget: 'gps',
  },
  truncate: {
    summary: 'N sentences cut short (no checksum), still ended by CR LF',
    param: { meaning: 'sentences', default: 3, min: 1, max: 1000, isInteger: true },
    targets: 'port',
    defaultTarget: 'gps',
  },
  fuse: {
    summary: 'N sentences lose their CR LF and run into the next one',
    param: { meaning: 'sentences', default: 2, min: 1, max: 1000, isInteger: true },
    targets: 'port',
    defaultTarget: 'gps',
  },
  'binary-burst': {
    summary: 'a burst of random bytes (any value, CR/LF included) between two sentences',
    param: { meaning: 'bytes', default: 64, min: 1, max: 65536, isInteger: true },
    targets: 'port',
    defaultTarget: 'gps',
  },
  'missing-epochs': {
    summary: 'N whole GPS epochs are not sent',
    param: { meaning: 'epochs', default: 3, min: 1, max: 1000, isInteger: true },
    targets: 'gps',
    defaultTarget: 'gps',
  },
  silent: {
    summary: 'the port sends nothing for S seconds (flight time)',
    param: { meaning: 'seconds', default: 5, min: 0.1, max: 3600, isInteger: false },
    targets: 'port',
    defaultTarget: 'gps',
  },
  unplug: {
    summary: 'the port is unplugged (path gone, reads fail) and comes back after S seconds (wall time)',
    param: { meaning: 'seconds', default: 3, min: 0.1, max: 3600, isInteger: false },
    targets: 'port',
    defaultTarget: 'gps',
  },
  'time-jump': {
    summary: 'the GPS clock steps by S seconds (may be negative) and stays off',
    param: { meaning: 'seconds', default: 10, min: -86400, max: 86400, isInteger: false },
    targets: 'gps',
    defaultTarget: 'gps',
  },
  'week-rollover': {
    summary: 'the GPS receiver has the week-rollover bug: every date is 1024 weeks early',
    param: null,
    targets: 'gps',
    defaultTarget: 'gps',
  },
  'slow-camera': {
    summary: 'one image file is written slowly, over S seconds (wall time)',
    param: { meaning: 'seconds', default: 5, min: 0.1, max: 600, isInteger: false },
    targets: 'camera',
    defaultTarget: 'cam1',
  },
  'half-written': {
    summary: 'a camera loses power mid-file: a JPEG without its end (no EOI) stays, and the camera writes nothing more',
    param: null,
    targets: 'camera',
    defaultTarget: 'cam1',
  },
} as const satisfies Record<string, FaultInfo>;

export type FaultName = keyof typeof FAULTS;

export interface FaultSpec {
  name: FaultName;
  /** The PARAM (default filled in), or null for faults without one. */
  param: number | null;
  /** Port name ('gps', 'compass', 'altimeter') or camera device ('cam1'). */
  target: string;
}

function isFaultName(name: string): name is FaultName {
  return Object.hasOwn(FAULTS, name);
}

/** Parses 'NAME', 'NAME:PARAM', 'NAME@TARGET' or 'NAME:PARAM@TARGET'. Throws SimError('BAD_INPUT'). */
export function parseFaultSpec(text: string): FaultSpec {
  const m = /^([a-z-]+)(?::([^@]+))?(?:@(.+))?$/.exec(text.trim());
  const name = m?.[1] ?? '';
  if (!m || !isFaultName(name)) {
    throw new SimError('BAD_INPUT', `--fault ${JSON.stringify(text)}: unknown fault; known: ${Object.keys(FAULTS).join(', ')}`);
  }
  const info: FaultInfo = FAULTS[name];
  let param: number | null = null;
  if (info.param) {
    param = m[2] === undefined ? info.param.default : Number(m[2]);
    const p = info.param;
    if (!Number.isFinite(param) || param < p.min || param > p.max || (p.isInteger && !Number.isInteger(param))) {
      throw new SimError('BAD_INPUT', `--fault ${text}: ${p.meaning} must be ${p.isInteger ? 'an integer' : 'a number'} from ${p.min} to ${p.max}`);
    }
  } else if (m[2] !== undefined) {
    throw new SimError('BAD_INPUT', `--fault ${text}: ${name} takes no parameter`);
  }
  const target = m[3] ?? info.defaultTarget;
  return { name, param, target };
}

/** Checks every fault's target against what the flight has. Throws SimError('BAD_INPUT'). */
export function checkFaultTargets(faults: readonly FaultSpec[], portNames: readonly string[], cameraDevices: readonly string[]): void {
  for (const f of faults) {
    const info: FaultInfo = FAULTS[f.name];
    const allowed = info.targets === 'camera' ? cameraDevices : info.targets === 'gps' ? ['gps'] : portNames;
    if (!allowed.includes(f.target)) {
      throw new SimError('BAD_INPUT', `--fault ${f.name}@${f.target}: target must be one of ${allowed.join(', ') || '(none: add --cameras)'}`);
    }
  }
}

/** The fault list for --help. */
export function faultHelp(): string {
  return Object.entries(FAULTS)
    .map(([name, info]: [string, FaultInfo]) => {
      const param = info.param ? `[:${info.param.meaning.toUpperCase()}=${info.param.default}]` : '';
      return `  ${`${name}${param}`.padEnd(30)} ${info.summary} (@${info.defaultTarget})`;
    })
    .join('\n');
}
