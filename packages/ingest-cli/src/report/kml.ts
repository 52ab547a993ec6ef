// KML 2.2 of a flight: the track as gx:Track (a time per position, so Google Earth plays the
// flight; gx:MultiTrack when GPS gaps break it) and the pictures as placemarks per camera. Pure.
import type { Picture, TrackPoint } from './model.js';
import { isPosed } from './pose-quality.js';
import { isoUtc } from './time.js';

/** Text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function num(v: number, decimals: number): string {
  return String(Math.round(v * 10 ** decimals) / 10 ** decimals);
}

/**
 * One gx:Track. KML's 'absolute' altitude is above sea level, which is what GGA gives; a segment
 * with an epoch lacking an altitude is clamped to the ground rather than drawn at a made-up height.
 */
function gxTrack(seg: readonly TrackPoint[]): string {
  const hasAltitude = seg.every((p) => p.altitudeMslM !== null);
  const whens = seg.map((p) => `<when>${isoUtc(p.tUs)}</when>`).join('');
  const coords = seg
    .map((p) => `<gx:coord>${num(p.lonDeg, 7)} ${num(p.latDeg, 7)} ${hasAltitude ? num(p.altitudeMslM!, 2) : '0'}</gx:coord>`)
    .join('');
  return `<gx:Track><altitudeMode>${hasAltitude ? 'absolute' : 'clampToGround'}</altitudeMode>${whens}${coords}</gx:Track>`;
}

export interface KmlInput {
  flightId: string;
  segments: readonly TrackPoint[][];
  pictures: readonly Picture[];
}

export function buildKml(input: KmlInput): string {
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push('<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">');
  out.push(`<Document><name>${escapeXml(`Flight ${input.flightId}`)}</name>`);
  out.push('<Style id="track"><LineStyle><color>ff2a7fff</color><width>2</width></LineStyle></Style>');
  out.push('<Style id="picture"><IconStyle><scale>0.5</scale></IconStyle><LabelStyle><scale>0</scale></LabelStyle></Style>');
  const segs = input.segments.filter((s) => s.length >= 1);
  if (segs.length > 0) {
    out.push(`<Placemark><name>Track</name><styleUrl>#track</styleUrl>`);
    // No interpolation across a gap: Google Earth draws the break.
    out.push(segs.length === 1 ? gxTrack(segs[0]!) : `<gx:MultiTrack><gx:interpolate>0</gx:interpolate>${segs.map(gxTrack).join('')}</gx:MultiTrack>`);
    out.push('</Placemark>');
  }
  const byDevice = new Map<string, Picture[]>();
  for (const p of input.pictures) if (isPosed(p)) byDevice.set(p.device, [...(byDevice.get(p.device) ?? []), p]);
  for (const [device, pictures] of [...byDevice.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`<Folder><name>${escapeXml(device)}</name>`);
    for (const p of pictures) {
      const when = p.captureTUs === null ? '' : `<TimeStamp><when>${isoUtc(p.captureTUs)}</when></TimeStamp>`;
      const alt = p.altitudeM;
      const description = `${p.device}/${p.relPath}; time ${p.captureTUs === null ? 'unknown' : isoUtc(p.captureTUs)} (${p.timeSource ?? 'none'}); pose quality ${JSON.stringify(p.quality.raw)}`;
      out.push(
        `<Placemark><name>${escapeXml(p.relPath)}</name>${when}<styleUrl>#picture</styleUrl>` +
          `<description>${escapeXml(description)}</description>` +
          `<Point><altitudeMode>${alt === null ? 'clampToGround' : 'absolute'}</altitudeMode><coordinates>${num(p.lonDeg!, 7)},${num(p.latDeg!, 7)},${alt === null ? 0 : num(alt, 2)}</coordinates></Point></Placemark>`,
      );
    }
    out.push('</Folder>');
  }
  out.push('</Document></kml>');
  return `${out.join('\n')}\n`;
}
