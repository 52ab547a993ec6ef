// GeoJSON (RFC 7946) of a flight: the track as a LineString (MultiLineString when GPS gaps break
// it) and one Point per picture with a position. Pure.
//
// Positions are [lon, lat] only, no third element: RFC 7946 §4 defines it as height above the
// WGS 84 ellipsoid, and the GPS altitude we have (GGA) is above mean sea level — the geoid
// separation is not stored, so an ellipsoidal height cannot be given honestly. Altitudes travel
// as properties instead (altitudeMslM, pressureAltitudeM).
import type { Picture, TrackPoint } from './model.js';
import { isPosed } from './pose-quality.js';
import { isoUtc } from './time.js';

/** 7 decimals of a degree ≈ 1 cm: finer than any GNSS fix here (RFC 7946 §11.2 asks for no false precision). */
const COORD_DECIMALS = 7;

export type Position = [lonDeg: number, latDeg: number];

export interface GeoJsonFeature {
  type: 'Feature';
  geometry:
    | { type: 'LineString'; coordinates: Position[] }
    | { type: 'MultiLineString'; coordinates: Position[][] }
    | { type: 'Point'; coordinates: Position };
  properties: Record<string, unknown>;
}

export interface GeoJsonFeatureCollection {
  type: 'FeatureCollection';
  bbox?: [number, number, number, number];
  features: GeoJsonFeature[];
}

function round(v: number): number {
  const f = 10 ** COORD_DECIMALS;
  return Math.round(v * f) / f;
}

function position(latDeg: number, lonDeg: number): Position {
  // Normalise into RFC 7946 ranges (a decoder never gives more, but the file must be valid).
  let lon = ((((lonDeg + 180) % 360) + 360) % 360) - 180;
  if (lon === -180 && lonDeg > 0) lon = 180;
  return [round(lon), round(Math.max(-90, Math.min(90, latDeg)))];
}

export interface GeoJsonInput {
  flightId: string;
  /** The track in segments without GPS gaps (splitTrackAtGaps). */
  segments: readonly TrackPoint[][];
  pictures: readonly Picture[];
}

export function buildGeoJson(input: GeoJsonInput): GeoJsonFeatureCollection {
  const features: GeoJsonFeature[] = [];
  // A LineString needs two positions (RFC 7946 §3.1.4): a lone fix between two gaps is no line.
  const lines = input.segments.filter((s) => s.length >= 2);
  if (lines.length > 0) {
    const coords = lines.map((s) => s.map((p) => position(p.latDeg, p.lonDeg)));
    const first = lines[0]![0]!;
    const lastSeg = lines[lines.length - 1]!;
    const last = lastSeg[lastSeg.length - 1]!;
    features.push({
      type: 'Feature',
      geometry: coords.length === 1 ? { type: 'LineString', coordinates: coords[0]! } : { type: 'MultiLineString', coordinates: coords },
      properties: {
        kind: 'track',
        flightId: input.flightId,
        fromUtc: isoUtc(first.tUs),
        toUtc: isoUtc(last.tUs),
        segments: coords.length,
        // Per vertex, parallel to the coordinates: time and GNSS altitude above mean sea level.
        timesUtc: lines.map((s) => s.map((p) => isoUtc(p.tUs))),
        altitudesMslM: lines.map((s) => s.map((p) => p.altitudeMslM)),
      },
    });
  }
  for (const p of input.pictures) {
    if (!isPosed(p)) continue;
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: position(p.latDeg!, p.lonDeg!) },
      properties: {
        kind: 'picture',
        device: p.device,
        file: p.relPath,
        timeUtc: p.captureTUs === null ? null : isoUtc(p.captureTUs),
        timeSource: p.timeSource,
        status: p.status,
        altitudeMslM: p.altitudeM,
        pressureAltitudeM: p.pressureAltitudeM,
        headingDeg: p.headingDeg,
        poseQuality: p.quality.raw,
      },
    });
  }
  const collection: GeoJsonFeatureCollection = { type: 'FeatureCollection', features };
  const box = bboxOf(features);
  if (box) collection.bbox = box;
  return collection;
}

function bboxOf(features: readonly GeoJsonFeature[]): [number, number, number, number] | null {
  let w = Infinity;
  let s = Infinity;
  let e = -Infinity;
  let n = -Infinity;
  const see = ([lon, lat]: Position): void => {
    w = Math.min(w, lon);
    e = Math.max(e, lon);
    s = Math.min(s, lat);
    n = Math.max(n, lat);
  };
  for (const f of features) {
    const g = f.geometry;
    if (g.type === 'Point') see(g.coordinates);
    else if (g.type === 'LineString') g.coordinates.forEach(see);
    else g.coordinates.forEach((l) => l.forEach(see));
  }
  return Number.isFinite(w) ? [w, s, e, n] : null;
}
