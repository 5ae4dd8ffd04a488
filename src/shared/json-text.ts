/**
 * The text and shape of a value parsed by parseExactJson (./exact-json.ts): a stable text for
 * content hashes, the exact text for the quarantine and the SQL copy, and its nesting depth.
 */
import { ExactNumber } from './exact-json.js';

/**
 * JSON with object keys sorted at every depth and numbers in canonical form: the same
 * content always gives the same text, whatever the key order or number spelling. Used for
 * content hashes and to tell exact duplicates from conflicting ones.
 */
export function stableStringify(value: unknown): string {
  if (value instanceof ExactNumber) return value.canonical;
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

/**
 * Nesting depth of a value (a scalar is 0, `{}` or `[]` is 1), counted without recursion
 * and only up to `limit + 1`, so a pathological value costs little.
 */
export function nestingDepth(value: unknown, limit: number): number {
  let max = 0;
  const todo: [unknown, number][] = [[value, 0]];
  while (todo.length > 0) {
    const [v, d] = todo.pop() as [unknown, number];
    if (v === null || typeof v !== 'object' || v instanceof ExactNumber) continue;
    const depth = d + 1;
    if (depth > max) max = depth;
    if (max > limit) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) todo.push([child, depth]);
  }
  return max;
}

/** JSON text of a parsed value with every number exactly as the vendor sent it (for the quarantine table). */
export function exactStringify(value: unknown): string {
  if (value instanceof ExactNumber) return value.text;
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(exactStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${exactStringify(v)}`).join(',')}}`;
}
