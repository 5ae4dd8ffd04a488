/**
 * Times on the command line: ISO 8601 with `Z` or an offset (2026-11-20T00:00:00Z,
 * 2026-11-20T01:00:00+01:00), or the vendor's form `YYYY-MM-DD HH:MM:SS`, which is UTC as in
 * the vendor's API. Never the local time zone of the machine: a time without a zone is refused
 * unless it has exactly the vendor's form.
 */

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):?(\d{2}))$/;
const VENDOR = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

export const TIME_FORMS =
  'ISO 8601 with Z or an offset (2026-11-20T00:00:00Z, 2026-11-20T01:00:00+01:00) or the vendor form "2026-11-20 00:00:00" (UTC)';

/** Parses a command-line time; returns undefined when `raw` is not one of TIME_FORMS or not a real date. */
export function parseCliTime(raw: string): Date | undefined {
  const text = raw.trim();
  const iso = ISO.exec(text);
  const vendor = iso ? undefined : VENDOR.exec(text);
  const m = iso ?? vendor;
  if (!m) return undefined;
  const [y, mo, d, h, mi] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const s = Number(m[6] ?? 0);
  const ms = iso && m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  // Day of month: the last day of that month in that year.
  if (d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return undefined;
  let offsetMinutes = 0;
  if (iso && m[8] !== 'Z') {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const utc = Date.UTC(y, mo - 1, d, h, mi, s, Math.floor(ms)) - offsetMinutes * 60_000;
  const date = new Date(utc);
  // Years before 100 would be mapped to 19xx by Date.UTC; the check keeps such input out.
  if (y < 1000 || Number.isNaN(date.getTime())) return undefined;
  return date;
}
