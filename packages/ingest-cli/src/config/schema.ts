// The ingest config file (JSON), validated field by field at start. Every setting has a default,
// so no file is needed for `archive`. Each section belongs to one link of the chain; a later
// link adds its own section here (upload, tape).
import { z } from 'zod';

/** File name endings (lower case, with the dot) of files worth compressing in an archive. */
export const DEFAULT_COMPRESS_EXTENSIONS = [
  '.db',
  '.db-wal',
  '.log',
  '.txt',
  '.csv',
  '.json',
  '.nmea',
  '.xml',
  '.kml',
  '.geojson',
] as const;

export const archiveConfigSchema = z.strictObject({
  /** Where archives are written. Default: `<state dir>/archives`. */
  outDir: z.string().min(1, 'must not be empty').optional(),
  /**
   * gzip level of compressed members, 1-9. Default 6: these members (flight DB, serial logs) are
   * small beside the media, and are compressed while the media stream, so a higher level costs
   * no wall time on two cores.
   */
  gzipLevel: z.number().int().min(1).max(9).default(6),
  /**
   * Endings of files compressed into gzip members (matched case-insensitively on the file name;
   * `flight.db-wal` matches '.db-wal'). Media (JPEG, RAW, MP4, …) are never in it by default:
   * they are compressed already. Default DEFAULT_COMPRESS_EXTENSIONS.
   */
  compressExtensions: z
    .array(z.string().regex(/^\.[a-z0-9._-]{1,32}$/, 'must be a lower-case ending with its dot, e.g. ".log"'))
    .default([...DEFAULT_COMPRESS_EXTENSIONS]),
});

export const ingestConfigSchema = z.strictObject({
  /** The archive link (`ingest-cli archive`). */
  archive: archiveConfigSchema.default(() => archiveConfigSchema.parse({})),
});

export type IngestConfig = z.infer<typeof ingestConfigSchema>;
export type ArchiveConfig = z.infer<typeof archiveConfigSchema>;
