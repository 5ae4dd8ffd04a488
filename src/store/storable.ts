/**
 * What DynamoDB can store exactly, checked per item before a batch is sent, so that one
 * record DynamoDB would refuse is set aside with its reason while the rest of its page is
 * stored. The writer also falls back to one put per item when DynamoDB refuses a batch for
 * a cause this check did not foresee (see upsert.ts).
 */
import { NumberValue } from '@aws-sdk/lib-dynamodb';
import { ExactNumber, dynamoNumberProblem } from '../shared/exact-json.js';

/** DynamoDB's item size limit, bytes (attribute names and values). */
const MAX_ITEM_BYTES = 400 * 1024;

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** A UTF-16 code unit of a surrogate pair without its other half: not encodable as UTF-8. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const wellFormed = (s: string) => !LONE_SURROGATE.test(s);

/** The text with every lone surrogate replaced by U+FFFD: for the pipeline's own texts (reasons). */
export function wellFormedText(s: string): string {
  return s.replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD');
}

/** At most `limit` UTF-16 units of `s`, never cutting a surrogate pair in half. */
export function truncateText(s: string, limit: number): string {
  if (s.length <= limit) return s;
  const end = /[\uD800-\uDBFF]/.test(s.charAt(limit - 1)) ? limit - 1 : limit;
  return `${s.slice(0, end)}…(${s.length} chars)`;
}

/** Bytes DynamoDB counts for a number: about one per two significant digits, plus one. */
function numberBytes(v: number | ExactNumber): number {
  const digits = (v instanceof ExactNumber ? v.digits : String(Math.abs(v)).replace(/[.e+-]|^0+/g, ''))
    .length;
  return Math.ceil(digits / 2) + 1;
}

/**
 * Why DynamoDB cannot store this item exactly as given, or undefined when it can: a number
 * out of DynamoDB's range or precision, a string or attribute name that is not well-formed
 * Unicode (it would be stored with replacement characters), a value of a type JSON does not
 * have, or more than 400 KB in all. Depth is checked before (validate.ts).
 */
export function itemProblem(item: Record<string, unknown>): string | undefined {
  let bytes = 0;
  let problem: string | undefined;
  const walk = (v: unknown, path: string): number => {
    if (problem) return 0;
    if (v === null || typeof v === 'boolean') return 1;
    if (typeof v === 'string') {
      if (!wellFormed(v)) problem = `${path} is not well-formed Unicode (a lone surrogate)`;
      return utf8(v);
    }
    if (typeof v === 'number' || v instanceof ExactNumber) {
      const p = dynamoNumberProblem(v);
      if (p) problem = `${path}: ${p}`;
      return numberBytes(v);
    }
    if (Array.isArray(v)) {
      let n = 3;
      v.forEach((e, i) => (n += 1 + walk(e, `${path}[${i}]`)));
      return n;
    }
    if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      let n = 3;
      for (const [k, e] of Object.entries(v)) {
        if (k === '')
          problem = `${path} has a field with an empty name (DynamoDB refuses empty attribute names)`;
        if (!wellFormed(k)) problem = `an attribute name in ${path} is not well-formed Unicode`;
        n += 1 + utf8(k) + walk(e, `${path}.${k}`);
      }
      return n;
    }
    problem = `${path} is a ${typeof v}, not a JSON value`;
    return 0;
  };
  for (const [k, v] of Object.entries(item)) {
    if (k === '') problem ??= 'a field has an empty name (DynamoDB refuses empty attribute names)';
    if (!wellFormed(k)) problem ??= 'an attribute name is not well-formed Unicode';
    bytes += utf8(k) + walk(v, k);
  }
  if (problem) return problem;
  if (bytes > MAX_ITEM_BYTES)
    return `the item would be ${Math.round(bytes / 1024)} KB, over DynamoDB's 400 KB limit`;
  return undefined;
}

/** The item as the DynamoDB document client marshals it: exact numbers as NumberValue (every digit kept). */
export function toDynamo(value: unknown): unknown {
  if (value instanceof ExactNumber) return NumberValue.from(value.text);
  if (Array.isArray(value)) return value.map(toDynamo);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toDynamo(v);
    return out;
  }
  return value;
}
