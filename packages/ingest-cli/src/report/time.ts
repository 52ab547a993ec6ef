// Time formatting for the report (UTC always, as everything stored is).

/** ISO 8601 UTC with milliseconds, e.g. 2026-12-08T02:14:03.250Z. */
export function isoUtc(tUs: number): string {
  return new Date(Math.floor(tUs / 1000)).toISOString();
}

/** HH:MM:SS.s UTC, for tables. */
export function clockUtc(tUs: number): string {
  const iso = isoUtc(tUs);
  return `${iso.slice(11, 21)}`;
}

/** A duration for a person: "0.4 s", "2 min 05 s", "1 h 02 min". */
export function formatDurationUs(us: number): string {
  const s = us / 1e6;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : s.toFixed(0)} s`;
  const totalS = Math.round(s);
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const sec = totalS % 60;
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : `${m} min ${String(sec).padStart(2, '0')} s`;
}
