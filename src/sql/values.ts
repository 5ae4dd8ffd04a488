/**
 * Which values PostgreSQL can hold exactly. `text` and `jsonb` refuse U+0000, and a lone UTF-16
 * surrogate (valid in a JavaScript string and in JSON's \u escapes) has no UTF-8 form: the
 * driver would send U+FFFD instead, an altered value stored as if it were the vendor's. Such a
 * field is set to null in the row (typed column and `record`) and its path listed in
 * `inexact_fields`; the exact value stays in the change object. A mark (`voided_at`, `left_at`)
 * that is no instant cannot be held by its `timestamptz` column: NULL there, its path listed, the
 * value kept in `record` (`unreadableInstants`).
 */

import { ExactNumber } from '../shared/exact-json.js';

/** U+0000, or a surrogate that is not half of a pair (with `u`, a pair is one code point). */
// eslint-disable-next-line no-control-regex -- U+0000 is exactly what PostgreSQL refuses
const UNHOLDABLE = /\u0000|[\uD800-\uDFFF]/u;

/** True when PostgreSQL's text and jsonb hold this string exactly. */
export function holdable(s: string): boolean {
  return !UNHOLDABLE.test(s);
}

/** The string with what PostgreSQL cannot hold written as JSON escapes (`\u0000`), for messages and paths. */
export function escapeUnholdable(s: string): string {
  // eslint-disable-next-line no-control-regex -- as above
  return s.replace(/\u0000|[\uD800-\uDFFF]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One path element: `.` and `\` escaped with `\`, and what PostgreSQL cannot hold as JSON escapes. */
function pathElement(name: string): string {
  return escapeUnholdable(name.replace(/[\\.]/g, (c) => `\\${c}`));
}

/** A copy of `item` in which PostgreSQL can hold every value, and the paths of the fields set to null. */
export interface HeldItem {
  item: Record<string, unknown>;
  /** Paths (`customer`, `items.0.name`) of the fields not held exactly. */
  inexact: string[];
}

/**
 * The item as PostgreSQL can hold it: each string it cannot hold becomes null; a field whose
 * name it cannot hold is left out (a renamed field would not be the vendor's), its path listed
 * with the name's JSON escapes. Other values (numbers, booleans) are kept as they are.
 * Recursive: DynamoDB nests at most 32 levels.
 */
export function heldItem(item: Record<string, unknown>): HeldItem {
  const inexact: string[] = [];
  const copy = (value: unknown, path: string[]): unknown => {
    if (typeof value === 'string') {
      if (holdable(value)) return value;
      inexact.push(path.join('.'));
      return null;
    }
    if (Array.isArray(value)) return value.map((v, i) => copy(v, [...path, String(i)]));
    if (value === null || typeof value !== 'object' || value instanceof ExactNumber) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const el = pathElement(k);
      if (holdable(k)) out[k] = copy(v, [...path, el]);
      else inexact.push([...path, el].join('.'));
    }
    return out;
  };
  return { item: copy(item, []) as Record<string, unknown>, inexact };
}

/** An ISO 8601 instant with its offset, as the sync writes marks (`2026-03-01T10:00:00.000Z`). */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:Z|[+-](\d{2}):(\d{2}))$/;

const leap = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysIn = (year: number, month: number) => (month === 2 && leap(year) ? 29 : (DAYS[month - 1] ?? 0));

/**
 * True when `s` is an instant `timestamptz` holds exactly: a real date and time (no 30 February,
 * no 25:00), years 1..9999, at most microseconds, an explicit offset. PostgreSQL itself would
 * also take `now`, `infinity`, or a time without an offset read in the session's zone: values
 * that are not the item's instant.
 */
export function isInstant(s: string): boolean {
  const m = INSTANT.exec(s);
  if (!m) return false;
  const n = (i: number) => Number(m[i] ?? 0);
  const [year, month, day] = [n(1), n(2), n(3)];
  const inDay = n(4) <= 23 && n(5) <= 59 && n(6) <= 59;
  const offset = n(7) <= 15 && n(8) <= 59;
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && inDay && offset;
}

/**
 * The top-level fields of `item` named in `fields` whose value is neither absent (undefined,
 * null) nor an instant (`isInstant`): their typed `timestamptz` column is NULL and their path
 * goes to `inexact_fields`, the value itself stays in `record`. A mark the feed cannot read
 * must not stop its row.
 */
export function unreadableInstants(item: Record<string, unknown>, fields: readonly string[]): string[] {
  return fields.filter((f) => {
    const v = item[f];
    return v !== undefined && v !== null && !(typeof v === 'string' && isInstant(v));
  });
}
