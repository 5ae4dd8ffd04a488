/**
 * Splits one vendor page into good records and records to set aside. A bad record never
 * stops the good ones next to it, and is never stored as if it were good.
 */
import type { z } from 'zod';
import { parseProblem } from '../shared/exact-json.js';
import { nestingDepth, stableStringify } from '../shared/json-text.js';
import { idKey, recordSchemas, type RecordKind } from './schemas.js';

/** A record set aside: why, the raw fragment, and the request it came from. */
export interface SetAside {
  kind: 'branch' | 'employee' | 'sale' | 'body';
  reason: string;
  /** The record or body as received (JSON value, or text for a body that is not JSON). */
  raw: unknown;
  /** Path and query of the vendor request (no secret). */
  request: string;
  /** Key of the landed answer the record came from (the raw landing zone), when it landed. */
  landed?: string | null;
}

/** Good records of one kind, and what was set aside with the reason. */
export interface Validated<T> {
  good: T[];
  bad: SetAside[];
}

/**
 * Deepest nesting a record may have. DynamoDB stores at most 32 levels (the record itself is
 * one); deeper records are set aside here, before anything walks them recursively.
 */
const MAX_RECORD_DEPTH = 32;

/**
 * Validates each record against the schema of its kind, then sets aside every record
 * whose id appears more than once in the same response with different content (the
 * vendor's answer is ambiguous, so neither copy is trusted). Copies are compared by
 * content (key order and number spelling do not matter): exact copies are stored once and
 * the extra copies are set aside, so they are still counted and visible.
 */
export function validateRecords<K extends RecordKind>(
  kind: K,
  records: unknown[],
  request: string,
): Validated<z.infer<(typeof recordSchemas)[K]>> {
  type T = z.infer<(typeof recordSchemas)[K]>;
  const schema = recordSchemas[kind];
  const bad: SetAside[] = [];
  const parsed: { record: T; raw: unknown; text: string }[] = [];
  for (const raw of records) {
    const problem =
      parseProblem(raw) ??
      (nestingDepth(raw, MAX_RECORD_DEPTH) > MAX_RECORD_DEPTH
        ? `nested deeper than ${MAX_RECORD_DEPTH} levels (DynamoDB's limit)`
        : undefined);
    if (problem) {
      bad.push({ kind, reason: `invalid ${kind}: ${problem}`, raw, request });
      continue;
    }
    const r = schema.safeParse(raw);
    if (r.success) {
      parsed.push({ record: r.data as T, raw, text: stableStringify(raw) });
    } else {
      const reason = r.error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ');
      bad.push({ kind, reason: `invalid ${kind}: ${reason}`, raw, request });
    }
  }
  const byId = new Map<string, typeof parsed>();
  for (const p of parsed) {
    const id = idKey(p.record.id);
    const list = byId.get(id) ?? [];
    list.push(p);
    byId.set(id, list);
  }
  const good: T[] = [];
  for (const [id, copies] of byId) {
    const first = copies[0];
    if (!first) continue;
    if (copies.length === 1) {
      good.push(first.record);
      continue;
    }
    const identical = copies.every((c) => c.text === first.text);
    if (identical) {
      good.push(first.record);
      for (const c of copies.slice(1)) {
        bad.push({
          kind,
          reason: `duplicate ${kind} id ${id} in one response (exact copy; one stored)`,
          raw: c.raw,
          request,
        });
      }
    } else {
      for (const c of copies) {
        bad.push({
          kind,
          reason: `duplicate ${kind} id ${id} in one response with different content (none stored)`,
          raw: c.raw,
          request,
        });
      }
    }
  }
  return { good, bad };
}
