// Reading asset.pose_quality defensively: the capture side defines its shape and keeps adding to
// it (error bounds, a timing-unreliable flag), so anything unknown is kept and shown, never an error.
import type { Picture, PoseQualityView } from './model.js';

/** Fields the report interprets itself; every other top-level field is shown as it is. */
const KNOWN_FIELDS = new Set(['isAwaitingData', 'missing', 'reason', 'join']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function readPoseQuality(raw: unknown): PoseQualityView {
  const view: PoseQualityView = { missing: {}, reason: null, extra: {}, raw: raw ?? null };
  if (!isRecord(raw)) return view;
  if (isRecord(raw.missing)) {
    for (const [field, why] of Object.entries(raw.missing)) view.missing[field] = typeof why === 'string' ? why : JSON.stringify(why);
  }
  if (typeof raw.reason === 'string') view.reason = raw.reason;
  for (const [k, v] of Object.entries(raw)) if (!KNOWN_FIELDS.has(k)) view.extra[k] = v;
  return view;
}

/** True when the picture has a position to draw. */
export function isPosed(p: Picture): boolean {
  return p.latDeg !== null && p.lonDeg !== null && Number.isFinite(p.latDeg) && Number.isFinite(p.lonDeg);
}

/** Why a picture has no position: the asset's reason, else why latDeg is missing, else 'unknown'. */
export function unposedReason(p: Picture): string {
  return p.quality.reason ?? p.quality.missing.latDeg ?? p.quality.missing.lonDeg ?? 'unknown';
}

/** Pictures without a position, counted per device and reason (sorted). */
export function unposedByReason(pictures: readonly Picture[]): { device: string; reason: string; count: number }[] {
  const counts = new Map<string, { device: string; reason: string; count: number }>();
  for (const p of pictures) {
    if (isPosed(p)) continue;
    const reason = unposedReason(p);
    const key = `${p.device}\u0000${reason}`;
    const row = counts.get(key) ?? { device: p.device, reason, count: 0 };
    row.count += 1;
    counts.set(key, row);
  }
  return [...counts.values()].sort((a, b) => a.device.localeCompare(b.device) || b.count - a.count);
}

/** The extra pose-quality fields seen (beyond the ones the report reads), with how many pictures carry each. */
export function extraQualityFields(pictures: readonly Picture[]): { field: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const p of pictures) for (const k of Object.keys(p.quality.extra)) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts.entries()].map(([field, count]) => ({ field, count })).sort((a, b) => a.field.localeCompare(b.field));
}

/** True when the picture's pose has some field missing although it has a position (drawn hollow). */
export function isPartialPose(p: Picture): boolean {
  return isPosed(p) && Object.keys(p.quality.missing).length > 0;
}
