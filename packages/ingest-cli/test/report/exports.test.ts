// GeoJSON against RFC 7946's rules, KML through a real XML parser (fast-xml-parser): both from a
// small flight in memory with a known place, a GPS gap, posed and unposed pictures.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { buildGeoJson } from '../../src/report/geojson.js';
import { buildKml, escapeXml } from '../../src/report/kml.js';
import type { Picture, TrackPoint } from '../../src/report/model.js';
import { readPoseQuality } from '../../src/report/pose-quality.js';
import { checkRfc7946 } from './rfc7946.js';

const T0 = Date.UTC(2026, 5, 1, 10) * 1000;
function pt(s: number, latDeg: number, lonDeg: number, altitudeMslM: number | null = 512.3): TrackPoint {
  return { tUs: T0 + s * 1e6, latDeg, lonDeg, altitudeMslM, fixQuality: 1, satellites: 10, hdop: 0.8 };
}
function pic(device: string, relPath: string, latDeg: number | null, lonDeg: number | null, quality: unknown): Picture {
  return { device, relPath, status: 'complete', captureTUs: T0 + 1e6, timeSource: 'exif', latDeg, lonDeg, altitudeM: latDeg === null ? null : 510, pressureAltitudeM: 490, headingDeg: 91, quality: readPoseQuality(quality) };
}

const segments = [
  [pt(0, 50.1, 8.6), pt(1, 50.1001, 8.6002), pt(2, 50.1002, 8.6004)],
  [pt(5, 50.1003, 8.6008), pt(6, 50.1004, 8.601)],
  [pt(9, 50.1005, 8.602)],
];
const pictures = [
  pic('cam1', 'IMG_0001.jpg', 50.1001, 8.6002, { isAwaitingData: false, missing: {}, positionErrorBoundM: 0.3 }),
  pic('cam<2>', 'a&b "x".jpg', 50.1002, 8.6004, { isAwaitingData: false, missing: { headingDeg: 'no-data' } }),
  pic('cam1', 'IMG_0002.jpg', null, null, { isAwaitingData: false, missing: { latDeg: 'gap', lonDeg: 'gap' } }),
];

describe('GeoJSON export', () => {
  const doc = buildGeoJson({ flightId: 'F1', segments, pictures });

  it('follows RFC 7946: closed structure, ranges, lines of two or more positions, a containing bbox', () => {
    expect(checkRfc7946(JSON.parse(JSON.stringify(doc)))).toEqual([]);
  });

  it('puts longitude first, breaks the track at gaps, and drops a lone fix from the lines', () => {
    const track = doc.features[0]!;
    expect(track.geometry.type).toBe('MultiLineString');
    const coords = track.geometry.coordinates as [number, number][][];
    expect(coords.length).toBe(2);
    expect(coords[0]![0]).toEqual([8.6, 50.1]);
    expect(track.properties.timesUtc).toEqual([
      ['2026-06-01T10:00:00.000Z', '2026-06-01T10:00:01.000Z', '2026-06-01T10:00:02.000Z'],
      ['2026-06-01T10:00:05.000Z', '2026-06-01T10:00:06.000Z'],
    ]);
  });

  it('has one Point per picture with a position, with device, file, time and pose quality (extra fields kept)', () => {
    const points = doc.features.filter((f) => f.geometry.type === 'Point');
    expect(points.length).toBe(2);
    expect(points[0]!.properties).toMatchObject({ device: 'cam1', file: 'IMG_0001.jpg', timeUtc: '2026-06-01T10:00:01.000Z', poseQuality: { positionErrorBoundM: 0.3 } });
    expect(points[0]!.geometry.coordinates).toEqual([8.6002, 50.1001]);
  });

  it('normalises a longitude past the antimeridian into range', () => {
    const far = buildGeoJson({ flightId: 'F', segments: [[pt(0, 10, 179.99999), pt(1, 10, 180.00001)]], pictures: [] });
    expect(checkRfc7946(far)).toEqual([]);
  });

  it('the checker itself catches lat/lon swapped out of range, a one-position line and a crs member', () => {
    expect(checkRfc7946({ type: 'FeatureCollection', crs: {}, features: [{ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[8, 50]] } }, { type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [50, 100] } }] }).length).toBe(3);
  });
});

describe('KML export', () => {
  const kml = buildKml({ flightId: 'F<1>', segments, pictures });
  const parser = new XMLParser({ ignoreAttributes: false, isArray: (name) => ['Placemark', 'Folder', 'gx:Track', 'when', 'gx:coord'].includes(name) });

  it('is well-formed XML with a gx:Track per segment, one <when> per gx:coord', () => {
    expect(XMLValidator.validate(kml)).toBe(true);
    const doc = parser.parse(kml) as { kml: { '@_xmlns': string; '@_xmlns:gx': string; Document: { name: string; Placemark: { 'gx:MultiTrack': { 'gx:Track': { when: string[]; 'gx:coord': string[]; altitudeMode: string }[] } }[]; Folder: { name: string; Placemark: unknown[] }[] } } };
    expect(doc.kml['@_xmlns']).toBe('http://www.opengis.net/kml/2.2');
    expect(doc.kml['@_xmlns:gx']).toBe('http://www.google.com/kml/ext/2.2');
    expect(doc.kml.Document.name).toBe('Flight F<1>');
    const tracks = doc.kml.Document.Placemark[0]!['gx:MultiTrack']['gx:Track'];
    expect(tracks.length).toBe(3);
    for (const t of tracks) expect(t.when.length).toBe(t['gx:coord'].length);
    expect(tracks[0]!.when[0]).toBe('2026-06-01T10:00:00.000Z');
    expect(tracks[0]!['gx:coord'][0]).toBe('8.6 50.1 512.3');
    expect(tracks[0]!.altitudeMode).toBe('absolute');
  });

  it('has the pictures with a position as placemarks in a folder per camera, names escaped', () => {
    const doc = parser.parse(kml) as { kml: { Document: { Folder: { name: string; Placemark: { name: string }[] }[] } } };
    const folders = doc.kml.Document.Folder;
    expect(folders.map((f) => f.name).sort()).toEqual(['cam1', 'cam<2>']);
    expect(folders.reduce((n, f) => n + f.Placemark.length, 0)).toBe(2);
    expect(folders.find((f) => f.name === 'cam<2>')!.Placemark[0]!.name).toBe('a&b "x".jpg');
    expect(escapeXml(`<&>"'`)).toBe('&lt;&amp;&gt;&quot;&apos;');
  });

  it('a single unbroken segment is one gx:Track; a segment without altitudes is clamped to the ground', () => {
    const one = buildKml({ flightId: 'F', segments: [[pt(0, 1, 2, null), pt(1, 1.1, 2.1, null)]], pictures: [] });
    expect(XMLValidator.validate(one)).toBe(true);
    expect(one).toContain('<gx:Track><altitudeMode>clampToGround</altitudeMode>');
    expect(one).not.toContain('gx:MultiTrack');
  });
});
