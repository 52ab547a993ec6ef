// From FlightData and custody to the report's files (name → text). Pure except for the SVG
// drawing, which runs in a jsdom document of its own.
import type { Custody } from './custody.js';
import { altitudeFigure, devicesOf, FigureRenderer, hdopFigure, intervalFigure, pictureIntervals, seriesFigure, SERIES_BINS, trackMapFigure } from './figures.js';
import type { Figures } from './figures.js';
import { buildGeoJson } from './geojson.js';
import { buildPage } from './html.js';
import { buildKml } from './kml.js';
import type { FlightData } from './model.js';
import { extraQualityFields, unposedByReason } from './pose-quality.js';
import { binSeries, decimateForDrawing, localProjection, projectionFor, splitTrackAtGaps } from './track.js';

export const REPORT_FILES = ['report.html', 'track.geojson', 'flight.kml'] as const;

export interface BuildInput {
  data: FlightData;
  custody: Custody;
  source: { arrayPath: string; isCopy: boolean };
  generatedTUs: number;
  generator: string;
}

export function drawFigures(data: FlightData): Figures {
  const r = new FigureRenderer();
  const devices = devicesOf(data);
  const gpsPort = data.ports.find((p) => p.role === 'gps')?.name;
  const segments = splitTrackAtGaps(data.track, data.gaps.filter((g) => g.instrument === 'gps' && g.port === gpsPort));
  const posedPictures = data.pictures.filter((p) => p.latDeg !== null && p.lonDeg !== null).map((p) => ({ latDeg: p.latDeg!, lonDeg: p.lonDeg! }));
  const projection = projectionFor(data.track.length > 0 ? data.track : posedPictures) ?? localProjection(0, 0);
  const drawn = decimateForDrawing(segments, projection);
  const times = [data.startedTUs, ...(data.track.length > 0 ? [data.track[0]!.tUs, data.track[data.track.length - 1]!.tUs] : []), ...(data.endedTUs === null ? [] : [data.endedTUs])];
  const fromTUs = Math.min(...times);
  const toTUs = Math.max(...times, fromTUs + 1);
  const bin = <T extends { tUs: number }>(points: readonly T[], value: (p: T) => number | null, pick: 'min' | 'max' | 'mean') => binSeries(points, value, SERIES_BINS, pick, fromTUs, toTUs);
  return {
    'track-map.svg': trackMapFigure(r, { drawn, projection, track: data.track, gaps: data.gaps, pictures: data.pictures, devices }),
    'altitude.svg': altitudeFigure(r, bin(data.track, (p) => p.altitudeMslM, 'mean'), bin(data.pressureAltitude, (p) => p.value, 'mean')),
    'fix-quality.svg': seriesFigure(r, bin(data.track, (p) => p.fixQuality, 'min'), 'fix quality (GGA code)', { curve: 'step-after' }),
    'satellites.svg': seriesFigure(r, bin(data.track, (p) => p.satellites, 'min'), 'satellites', { curve: 'step-after' }),
    'hdop.svg': hdopFigure(r, bin(data.track, (p) => p.hdop, 'max')),
    'picture-intervals.svg': intervalFigure(r, pictureIntervals(data.pictures), devices),
    'clock-uncertainty.svg': seriesFigure(
      r,
      data.clockFits.map((f) => ({ tUs: f.fittedTUs, value: f.uncertaintyUs / 1000 })),
      'uncertainty (ms)',
      { color: '#2ca02c' },
    ),
  };
}

/** Every file of a report, by name: report.html, the figures, track.geojson, flight.kml. */
export function buildReportFiles(input: BuildInput): Map<string, string> {
  const { data } = input;
  const figures = drawFigures(data);
  const gpsPort = data.ports.find((p) => p.role === 'gps')?.name;
  const segments = splitTrackAtGaps(data.track, data.gaps.filter((g) => g.instrument === 'gps' && g.port === gpsPort));
  const files = new Map<string, string>();
  files.set(
    'report.html',
    buildPage({
      data,
      custody: input.custody,
      figures,
      unposed: unposedByReason(data.pictures),
      extraQualityFields: extraQualityFields(data.pictures),
      source: input.source,
      generatedTUs: input.generatedTUs,
      generator: input.generator,
    }),
  );
  for (const [name, svg] of Object.entries(figures)) files.set(name, `<?xml version="1.0" encoding="UTF-8"?>\n${svg}\n`);
  files.set('track.geojson', `${JSON.stringify(buildGeoJson({ flightId: data.flightId, segments, pictures: data.pictures }))}\n`);
  files.set('flight.kml', buildKml({ flightId: data.flightId, segments, pictures: data.pictures }));
  return files;
}
