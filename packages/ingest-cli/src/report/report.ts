// `ingest-cli report`'s work: open the array's flight DB read-only, read the ledger's custody
// facts if a ledger knows the flight, build the files, write them. The command file only parses.
import { existsSync } from 'node:fs';
import { openLedger } from '../ledger/ledger.js';
import type { FlightFacts } from '../ledger/states.js';
import { nowUs } from '../ledger/ledger.js';
import { INGEST_VERSION } from '../version.js';
import { buildReportFiles } from './build.js';
import { custodyFromFacts } from './custody.js';
import type { Custody } from './custody.js';
import { extractFlightData } from './extract.js';
import type { FlightData } from './model.js';
import { openArrayFlightDb } from './open-db.js';
import { writeReportFiles } from './write.js';

export interface MakeReportOptions {
  arrayPath: string;
  /** The folder to write into, or how to name it from the flight id (known once the DB is read). */
  outDir: string | ((flightId: string) => string);
  /** The ledger file; missing or not knowing the flight = "not archived". */
  ledgerPath: string;
  /** Where a temporary copy of a WAL-mode DB on read-only media goes (default: the OS temp folder). */
  scratchDir?: string;
}

export interface MakeReportResult {
  flightId: string;
  outDir: string;
  files: string[];
  pictures: number;
  posedPictures: number;
  gaps: number;
  custody: Custody;
  isCopy: boolean;
}

/** The ledger's facts about a flight, or null when no ledger (or no entry) knows it. */
export function readCustodyFacts(ledgerPath: string, flightId: string): FlightFacts | null {
  if (!existsSync(ledgerPath)) return null;
  const ledger = openLedger(ledgerPath, { create: false, readonly: true });
  try {
    return ledger.flight(flightId) === null ? null : ledger.facts(flightId);
  } finally {
    ledger.close();
  }
}

export function makeReport(options: MakeReportOptions): MakeReportResult {
  const opened = openArrayFlightDb(options.arrayPath, options.scratchDir);
  let data: FlightData;
  try {
    data = extractFlightData(opened.db);
  } finally {
    opened.close();
  }
  const custody = custodyFromFacts(readCustodyFacts(options.ledgerPath, data.flightId));
  const files = buildReportFiles({
    data,
    custody,
    source: { arrayPath: options.arrayPath, isCopy: opened.isCopy },
    generatedTUs: nowUs(),
    generator: `ingest-cli ${INGEST_VERSION}`,
  });
  const outDir = typeof options.outDir === 'string' ? options.outDir : options.outDir(data.flightId);
  const written = writeReportFiles(outDir, files);
  return {
    flightId: data.flightId,
    outDir,
    files: written,
    pictures: data.pictures.length,
    posedPictures: data.pictures.filter((p) => p.latDeg !== null && p.lonDeg !== null).length,
    gaps: data.gaps.length,
    custody,
    isCopy: opened.isCopy,
  };
}
