/**
 * Which values PostgreSQL can hold exactly. `text` and `jsonb` refuse U+0000, and a lone UTF-16
 * surrogate (valid in a JavaScript string and in JSON's \u escapes) has no UTF-8 form: the
 * driver would send U+FFFD instead, an altered value stored as if it were the vendor's. Such a
 * field is set to null in the row (typed column and `record`) and its path listed in
 * `inexact_fields`; the exact value stays in the change object.
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
