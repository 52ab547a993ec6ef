// The report's figures, drawn in Node as SVG with Observable Plot on a jsdom document (no browser,
// no canvas). Each figure is one standalone SVG string: the same text goes into report.html and
// into its own .svg file. Geometry (scales, ticks, paths, projection) is Plot's; this module only
// says what to draw.
import * as Plot from '@observablehq/plot';
import { JSDOM } from 'jsdom';
import type { FlightData, Gap, Picture, TrackPoint } from './model.js';
import { isPartialPose, isPosed } from './pose-quality.js';
import type { DrawnTrackPoint, LocalProjection } from './track.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Page-wide figures, px. */
const WIDTH_PX = 900;
const SERIES_HEIGHT_PX = 220;
/** Buckets of a time series figure: ~1 per pixel column keeps the picture and bounds the SVG size. */
export const SERIES_BINS = 900;
/** ArduPilot's log checks warn above this HDOP. */
export const HDOP_WARN = 3;
const GAP_COLOR = '#d62728';
const INSTRUMENT_GAP_COLOR = '#ff7f0e';

/** One reusable document for every figure of a report (a jsdom window is costly to make). */
export class FigureRenderer {
  readonly #document: Document;
  constructor() {
    this.#document = new JSDOM('<!DOCTYPE html><body></body>').window.document as unknown as Document;
  }

  /** Plot's output as standalone SVG text. Plot leaves out xmlns (a browser's DOM has it implied): a file needs it. */
  render(options: Plot.PlotOptions): string {
    const el = Plot.plot({ ...options, document: this.#document });
    if (el.tagName.toLowerCase() !== 'svg') throw new Error('a figure drew HTML around its SVG (a legend or title option?): draw those as marks');
    el.setAttribute('xmlns', SVG_NS);
    return el.outerHTML;
  }
}

function date(tUs: number): Date {
  return new Date(tUs / 1000);
}

/** 1, 2 or 5 × 10^k, the largest not above `m`. */
export function niceLength(m: number): number {
  if (!(m > 0)) return 1;
  const k = 10 ** Math.floor(Math.log10(m));
  for (const f of [5, 2, 1]) if (f * k <= m) return f * k;
  return k;
}

function formatMetres(m: number): string {
  return m >= 1000 ? `${m / 1000} km` : `${m} m`;
}

export interface TrackMapInput {
  drawn: readonly DrawnTrackPoint[];
  projection: LocalProjection;
  /** The full track, for where instrument gaps lie. */
  track: readonly TrackPoint[];
  gaps: readonly Gap[];
  pictures: readonly Picture[];
  devices: readonly string[];
}

/** Points of the full track within [fromTUs, toTUs] (binary search: the track is sorted). */
function trackBetween(track: readonly TrackPoint[], fromTUs: number, toTUs: number): TrackPoint[] {
  let lo = 0;
  let hi = track.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (track[mid]!.tUs < fromTUs) lo = mid + 1;
    else hi = mid;
  }
  const out: TrackPoint[] = [];
  for (let i = Math.max(0, lo - 1); i < track.length && track[i]!.tUs <= toTUs + 1; i++) out.push(track[i]!);
  return out;
}

/** The track on projected lon/lat (metres east/north), pictures by camera, gaps, a scale bar and north. */
export function trackMapFigure(r: FigureRenderer, input: TrackMapInput): string {
  const { projection } = input;
  const xy = (latDeg: number, lonDeg: number): { x: number; y: number } => {
    const [x, y] = projection.toXY(latDeg, lonDeg);
    return { x, y };
  };
  const posed = input.pictures.filter(isPosed).map((p) => ({ ...xy(p.latDeg!, p.lonDeg!), device: p.device, isPartial: isPartialPose(p) }));
  const unposed = input.pictures.length - posed.length;
  const xs = [...input.drawn.map((p) => p.xM), ...posed.map((p) => p.x)];
  const ys = [...input.drawn.map((p) => p.yM), ...posed.map((p) => p.y)];
  let minX = Math.min(...xs, 0);
  let maxX = Math.max(...xs, 0);
  let minY = Math.min(...ys, 0);
  let maxY = Math.max(...ys, 0);
  const extent = Math.max(maxX - minX, maxY - minY, 10);
  // Room around the data for the scale bar (below) and the legend (above).
  minX -= extent * 0.04;
  maxX += extent * 0.04;
  minY -= extent * 0.1;
  maxY += extent * 0.12 + 0.05 * extent * input.devices.length;

  const gpsGapLinks = input.gaps
    .filter((g) => g.instrument === 'gps' && g.kind === 'data')
    .flatMap((g) => {
      const around = trackBetween(input.track, g.fromTUs, g.toTUs);
      const a = around.find((p) => p.tUs === g.fromTUs);
      const b = around.find((p) => p.tUs === g.toTUs);
      if (!a || !b) return [];
      const pa = xy(a.latDeg, a.lonDeg);
      const pb = xy(b.latDeg, b.lonDeg);
      return [{ x1: pa.x, y1: pa.y, x2: pb.x, y2: pb.y }];
    });
  const instrumentGapLines = input.gaps
    .filter((g) => g.instrument !== 'gps')
    .flatMap((g, k) => trackBetween(input.track, g.fromTUs, g.toTUs).map((p) => ({ ...xy(p.latDeg, p.lonDeg), gap: k })));

  const barM = niceLength((maxX - minX) / 5);
  const barY = minY + extent * 0.04;
  const barX = minX + extent * 0.02;
  const northLen = extent * 0.06;
  const northX = maxX - extent * 0.03;
  const northY = maxY - extent * 0.1;

  const legend: Plot.Markish[] = [];
  input.devices.forEach((device, k) => {
    const dy = 14 + 16 * k;
    legend.push(Plot.dot([device], { frameAnchor: 'top-left', dx: 14, dy, r: 4, fill: (d: string) => d }));
    legend.push(Plot.text([device], { frameAnchor: 'top-left', dx: 24, dy, text: (d: string) => d, textAnchor: 'start', fontSize: 11 }));
  });
  const dyNext = 14 + 16 * input.devices.length;
  legend.push(Plot.text(['— — GPS gap (no fix)'], { frameAnchor: 'top-left', dx: 10, dy: dyNext, textAnchor: 'start', fill: GAP_COLOR, fontSize: 11 }));
  legend.push(Plot.text(['▬ compass / altimeter gap'], { frameAnchor: 'top-left', dx: 10, dy: dyNext + 16, textAnchor: 'start', fill: INSTRUMENT_GAP_COLOR, fontSize: 11 }));
  legend.push(Plot.text(['○ pose partly missing'], { frameAnchor: 'top-left', dx: 10, dy: dyNext + 32, textAnchor: 'start', fontSize: 11 }));

  return r.render({
    width: WIDTH_PX,
    aspectRatio: 1,
    marginLeft: 60,
    x: { domain: [minX, maxX], label: 'east (m)', grid: true },
    y: { domain: [minY, maxY], label: 'north (m)', grid: true },
    color: { domain: [...input.devices], scheme: 'tableau10' },
    style: { background: 'white', fontFamily: 'DejaVu Sans, sans-serif' },
    marks: [
      Plot.frame({ stroke: '#999' }),
      Plot.line(input.drawn, { x: 'xM', y: 'yM', z: 'segment', stroke: '#444', strokeWidth: 1.2, className: 'track' }),
      Plot.link(gpsGapLinks, { x1: 'x1', y1: 'y1', x2: 'x2', y2: 'y2', stroke: GAP_COLOR, strokeWidth: 1.5, strokeDasharray: '4,3', className: 'gps-gap' }),
      Plot.line(instrumentGapLines, { x: 'x', y: 'y', z: 'gap', stroke: INSTRUMENT_GAP_COLOR, strokeWidth: 5, strokeOpacity: 0.7, className: 'instrument-gap' }),
      Plot.dot(posed.filter((p) => !p.isPartial), { x: 'x', y: 'y', fill: 'device', r: 2.2, className: 'picture' }),
      Plot.dot(posed.filter((p) => p.isPartial), { x: 'x', y: 'y', stroke: 'device', fill: 'white', r: 3, className: 'picture picture-partial' }),
      // Scale bar (metres on the projected plane) and north (the projection keeps north up).
      Plot.link([{ x1: barX, x2: barX + barM, y: barY }], { x1: 'x1', x2: 'x2', y1: 'y', y2: 'y', stroke: 'black', strokeWidth: 3 }),
      Plot.text([{ x: barX + barM / 2, y: barY }], { x: 'x', y: 'y', text: () => formatMetres(barM), dy: -10, fontSize: 11 }),
      Plot.arrow([{ x: northX, y1: northY, y2: northY + northLen }], { x1: 'x', x2: 'x', y1: 'y1', y2: 'y2', stroke: 'black', strokeWidth: 2, headLength: 10 }),
      Plot.text([{ x: northX, y: northY + northLen }], { x: 'x', y: 'y', text: () => 'N', dy: -10, fontWeight: 'bold', fontSize: 13 }),
      Plot.text([`${unposed} picture${unposed === 1 ? '' : 's'} without a position (not drawn, see the table)`], { frameAnchor: 'bottom-right', dx: -8, dy: -8, textAnchor: 'end', fontSize: 11, fill: unposed > 0 ? GAP_COLOR : '#555' }),
      ...legend,
    ],
  });
}

function seriesBase(label: string): Pick<Plot.PlotOptions, 'width' | 'height' | 'marginLeft' | 'marginBottom' | 'x' | 'style'> & { yLabel: string } {
  // The axis label centred below the ticks: at its default place (the right end) it overlaps the last tick.
  return { width: WIDTH_PX, height: SERIES_HEIGHT_PX, marginLeft: 60, marginBottom: 48, x: { type: 'utc', label: 'time (UTC)', labelAnchor: 'center', labelArrow: 'none', labelOffset: 44 }, style: { background: 'white', fontFamily: 'DejaVu Sans, sans-serif' }, yLabel: label };
}

export interface SeriesPoint {
  tUs: number;
  value: number;
}

/** GPS altitude (MSL) and pressure altitude over time, both binned. */
export function altitudeFigure(r: FigureRenderer, gps: readonly SeriesPoint[], pressure: readonly SeriesPoint[]): string {
  const rows = [
    ...gps.map((p) => ({ t: date(p.tUs), v: p.value, series: 'GPS altitude (MSL)' })),
    ...pressure.map((p) => ({ t: date(p.tUs), v: p.value, series: 'pressure altitude' })),
  ];
  const { yLabel, ...base } = seriesBase('altitude (m)');
  return r.render({
    ...base,
    y: { label: yLabel, grid: true },
    color: { domain: ['GPS altitude (MSL)', 'pressure altitude'], range: ['#1f77b4', '#9467bd'] },
    marks: [
      Plot.line(rows, { x: 't', y: 'v', z: 'series', stroke: 'series' }),
      Plot.text(['GPS altitude (MSL)'], { frameAnchor: 'top-left', dx: 8, dy: 8, textAnchor: 'start', fill: '#1f77b4', fontSize: 11 }),
      Plot.text(['pressure altitude'], { frameAnchor: 'top-left', dx: 8, dy: 22, textAnchor: 'start', fill: '#9467bd', fontSize: 11 }),
    ],
  });
}

/** A plain time series (fix quality, satellites, clock uncertainty). */
export function seriesFigure(r: FigureRenderer, points: readonly SeriesPoint[], label: string, options: { curve?: Plot.CurveName; color?: string } = {}): string {
  const rows = points.map((p) => ({ t: date(p.tUs), v: p.value }));
  const { yLabel, ...base } = seriesBase(label);
  return r.render({
    ...base,
    y: { label: yLabel, grid: true, zero: true },
    marks: [Plot.line(rows, { x: 't', y: 'v', stroke: options.color ?? '#1f77b4', curve: options.curve ?? 'linear' })],
  });
}

/** HDOP over time (worst per bucket), the region above HDOP_WARN shaded. */
export function hdopFigure(r: FigureRenderer, points: readonly SeriesPoint[]): string {
  const rows = points.map((p) => ({ t: date(p.tUs), v: p.value }));
  const finite = points.map((p) => p.value).filter(Number.isFinite);
  const top = Math.max(HDOP_WARN + 1, ...finite) * 1.05;
  const { yLabel, ...base } = seriesBase('HDOP');
  return r.render({
    ...base,
    y: { label: yLabel, grid: true, domain: [0, top] },
    marks: [
      Plot.rectY([{ y1: HDOP_WARN, y2: top }], { y1: 'y1', y2: 'y2', fill: GAP_COLOR, fillOpacity: 0.12 }),
      Plot.ruleY([HDOP_WARN], { stroke: GAP_COLOR, strokeDasharray: '4,3' }),
      Plot.text([`HDOP > ${HDOP_WARN}: weak geometry`], { frameAnchor: 'top-right', dx: -8, dy: 8, textAnchor: 'end', fill: GAP_COLOR, fontSize: 11 }),
      Plot.line(rows, { x: 't', y: 'v', stroke: '#1f77b4' }),
    ],
  });
}

export interface IntervalPoint {
  tUs: number;
  /** Seconds since the camera's previous picture. */
  intervalS: number;
  device: string;
  isPosed: boolean;
}

/** Time between consecutive pictures per camera (by capture time): a missed trigger is a spike. */
export function pictureIntervals(pictures: readonly Picture[]): IntervalPoint[] {
  const byDevice = new Map<string, Picture[]>();
  for (const p of pictures) if (p.captureTUs !== null) byDevice.set(p.device, [...(byDevice.get(p.device) ?? []), p]);
  const out: IntervalPoint[] = [];
  for (const [device, list] of byDevice) {
    list.sort((a, b) => a.captureTUs! - b.captureTUs!);
    for (let i = 1; i < list.length; i++) {
      out.push({ tUs: list[i]!.captureTUs!, intervalS: (list[i]!.captureTUs! - list[i - 1]!.captureTUs!) / 1e6, device, isPosed: isPosed(list[i]!) });
    }
  }
  return out;
}

export function intervalFigure(r: FigureRenderer, intervals: readonly IntervalPoint[], devices: readonly string[]): string {
  const rows = intervals.map((p) => ({ t: date(p.tUs), v: p.intervalS, device: p.device, isPosed: p.isPosed }));
  const { yLabel, ...base } = seriesBase('time since previous picture (s)');
  return r.render({
    ...base,
    height: SERIES_HEIGHT_PX + 40,
    y: { label: yLabel, grid: true, zero: true },
    color: { domain: [...devices], scheme: 'tableau10' },
    marks: [
      Plot.line(rows, { x: 't', y: 'v', z: 'device', stroke: 'device', strokeWidth: 1.2 }),
      Plot.dot(rows.filter((p) => !p.isPosed), { x: 't', y: 'v', symbol: 'times', stroke: GAP_COLOR, r: 4 }),
      ...devices.map((d, k) => Plot.text([d], { frameAnchor: 'top-left', dx: 8 + 70 * k, dy: 8, textAnchor: 'start', fill: (x: string) => x, fontSize: 11 })),
      Plot.text(['× no pose'], { frameAnchor: 'top-right', dx: -8, dy: 8, textAnchor: 'end', fill: GAP_COLOR, fontSize: 11 }),
    ],
  });
}

/** The figures a report has, by file name. */
export interface Figures {
  'track-map.svg': string;
  'altitude.svg': string;
  'fix-quality.svg': string;
  'satellites.svg': string;
  'hdop.svg': string;
  'picture-intervals.svg': string;
  'clock-uncertainty.svg': string;
}

export type FigureName = keyof Figures;

/** Used by report.ts; kept here so the list of figures and their drawing live together. */
export function devicesOf(data: FlightData): string[] {
  return [...new Set(data.pictures.map((p) => p.device))].sort();
}
