// The agent's one config file, validated at start. Every option but the array and the port paths
// has a default; each is documented here with its unit.
import { z } from 'zod';

/** Serial framing accepted by serialport. */
const PARITIES = ['none', 'even', 'odd', 'mark', 'space'] as const;

/** Port roles: 'gps' disciplines the flight clock; the others only give samples. */
export const PORT_ROLES = ['gps', 'compass', 'altimeter', 'other'] as const;
export type PortRole = (typeof PORT_ROLES)[number];

/** A name that is safe as a file name on the array (serial/<name>.log). */
const fileSafeName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit')
  .refine((name) => !name.includes('..'), 'must not contain ".."');

const nonEmptyPath = z.string().min(1, 'must not be empty');

export const portConfigSchema = z.strictObject({
  /** Port name: the raw log is serial/<name>.log and the DB's port row carries it. */
  name: fileSafeName,
  /** What the instrument is; 'gps' feeds the flight clock. Default 'other'. */
  role: z.enum(PORT_ROLES).default('other'),
  /** Device path; prefer a stable /dev/serial/by-id/... path. */
  path: nonEmptyPath,
  /** Baud rate, bits/s. Default 4800 (NMEA 0183 standard). */
  baudRate: z.number().int().positive().max(4_000_000).default(4800),
  /** Data bits. Default 8. */
  dataBits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).default(8),
  /** Parity. Default 'none'. */
  parity: z.enum(PARITIES).default('none'),
  /** Stop bits. Default 1. */
  stopBits: z.union([z.literal(1), z.literal(1.5), z.literal(2)]).default(1),
  /** Lines without a `*hh` checksum: 'accept-flag' keeps them with a flag, 'reject' counts them out. */
  checksumPolicy: z.enum(['accept-flag', 'reject']).default('accept-flag'),
  /** Receive latency of this port, ms: subtracted from receive times before they feed the clock. Default 0. */
  latencyMs: z.number().min(0).max(10_000).default(0),
  /** No byte for this long, ms, and the port is declared silent and reopened. Default 3000. */
  watchdogMs: z.number().int().min(100).max(3_600_000).default(3000),
  /** A line longer than this, bytes, is cut and counted: binary junk cannot grow a buffer. Default 4096. */
  maxLineBytes: z.number().int().min(82).max(1_048_576).default(4096),
  /** First reopen delay after a failure, ms; doubles up to reconnectMaxMs. Default 250. */
  reconnectMinMs: z.number().int().min(10).max(60_000).default(250),
  /** Longest reopen delay, ms. Default 5000. */
  reconnectMaxMs: z.number().int().min(10).max(600_000).default(5000),
});
export type PortConfig = z.infer<typeof portConfigSchema>;

/** Default file extensions per camera kind (lower case, with the dot). */
export const DEFAULT_CAMERA_EXTENSIONS = {
  image: ['.jpg', '.jpeg', '.tif', '.tiff', '.dng', '.cr2', '.cr3', '.nef', '.arw'],
  video: ['.mp4', '.mov', '.mts'],
} as const;

/** Camera defaults that depend on the kind (the camera side's settle and give-up times). */
export const CAMERA_KIND_DEFAULTS = {
  image: { settleMs: 1000, incompleteAfterMs: 30_000 },
  video: { settleMs: 5000, incompleteAfterMs: 120_000 },
} as const;

export const cameraConfigSchema = z
  .strictObject({
    /** Camera name; its files live under cameras/<device>/ on the array. */
    device: fileSafeName,
    /** 'image' (stills, usually with EXIF time) or 'video'. Default 'image'. */
    kind: z.enum(['image', 'video']).default('image'),
    /** Folder the camera writes into (watched). */
    folder: nonEmptyPath,
    /** File extensions that are assets, with the dot; compared case-insensitively. Default per kind. */
    extensions: z
      .array(z.string().regex(/^\.[A-Za-z0-9]{1,10}$/, 'must look like ".jpg"'))
      .min(1, 'must list at least one extension')
      .optional(),
    /** Camera clock minus UTC, ms, applied to embedded (EXIF) times. Default 0. */
    clockOffsetMs: z.number().min(-86_400_000).max(86_400_000).default(0),
    /** Shutter-to-file latency, ms, subtracted from file-appearance times. Default 0. */
    latencyMs: z.number().min(0).max(600_000).default(0),
    /** A file is finished when its size has not changed for this long (closing not provable), ms. Default 1000 image / 5000 video. */
    settleMs: z.number().int().min(0).max(600_000).optional(),
    /** Size-stable time when the writer has provably closed the file and its ending is valid, ms. Default 100. */
    closedSettleMs: z.number().int().min(0).max(600_000).default(100),
    /** Unchanged this long but never provably complete: recorded as incomplete, ms. Default 30000 image / 120000 video. */
    incompleteAfterMs: z.number().int().min(0).max(86_400_000).optional(),
  })
  .transform((c) => ({
    ...c,
    extensions: (c.extensions ?? [...DEFAULT_CAMERA_EXTENSIONS[c.kind]]).map((e) => e.toLowerCase()),
    settleMs: c.settleMs ?? CAMERA_KIND_DEFAULTS[c.kind].settleMs,
    incompleteAfterMs: c.incompleteAfterMs ?? CAMERA_KIND_DEFAULTS[c.kind].incompleteAfterMs,
  }))
  // The short wait is for when closing is proven; longer than the wait without proof makes no sense
  // (and the settle tracker then decides by settleMs alone).
  .superRefine((c, ctx) => {
    if (c.closedSettleMs > c.settleMs) {
      ctx.addIssue({ code: 'custom', path: ['closedSettleMs'], message: `must not be longer than settleMs (${c.settleMs})` });
    }
  });
export type CameraConfig = z.infer<typeof cameraConfigSchema>;

export const agentConfigSchema = z
  .strictObject({
    /** Mount point of the storage array (absolute, or relative to the config file). */
    array: nonEmptyPath,
    /** Aircraft registration, stored on the flight. Default 'unknown'. */
    aircraft: z.string().min(1).max(64).default('unknown'),
    /** Serial instruments. Default none. */
    ports: z.array(portConfigSchema).default([]),
    /** Camera folders (watched by the camera side). Default none. */
    cameras: z.array(cameraConfigSchema).default([]),
    /**
     * Names of processes (as `ps -o comm` and /proc/PID/comm show them) that never write camera
     * files, for when the agent cannot see which files they hold open (the agent says which at
     * start). Only for processes even root cannot see, such as a VM's or container's supervisor:
     * otherwise run the agent as root or with CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE. Default none.
     */
    notCameraWriters: z
      .array(
        z
          .string()
          .min(1)
          .refine((n) => Buffer.byteLength(n) <= 15, 'process names in /proc are at most 15 bytes (longer ones are cut there)'),
      )
      .default([]),
    /** Raw logs are written to disk and fsynced at least this often, ms. Default 1000 (the most lost on a crash). */
    rawFlushMs: z.number().int().min(10).max(1000).default(1000),
    /** Samples are committed to the flight DB at least this often, ms. Default 500. */
    dbFlushMs: z.number().int().min(10).max(10_000).default(500),
    /** The flight clock is re-fitted and its fit stored this often, ms. Default 10000. */
    clockFitMs: z.number().int().min(100).max(3_600_000).default(10_000),
    /** Log level. Default 'info'. */
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  })
  .superRefine((c, ctx) => {
    unique(c.ports.map((p) => p.name), ['ports'], 'name', ctx);
    unique(c.ports.map((p) => p.path), ['ports'], 'path', ctx);
    unique(c.cameras.map((p) => p.device), ['cameras'], 'device', ctx);
    c.ports.forEach((p, i) => {
      if (p.reconnectMaxMs < p.reconnectMinMs) {
        ctx.addIssue({ code: 'custom', path: ['ports', i, 'reconnectMaxMs'], message: `must be >= reconnectMinMs (${p.reconnectMinMs})` });
      }
    });
  });
export type AgentConfig = z.infer<typeof agentConfigSchema>;

function unique(values: string[], base: (string | number)[], field: string, ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  values.forEach((v, i) => {
    const first = seen.get(v);
    if (first !== undefined) {
      ctx.addIssue({ code: 'custom', path: [...base, i, field], message: `duplicates ${base.join('.')}[${first}].${field} "${v}"` });
    } else seen.set(v, i);
  });
}
