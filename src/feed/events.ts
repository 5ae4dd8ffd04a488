/**
 * Change events: one per item the sync inserted, updated (or anything removed), built from a
 * DynamoDB Streams record (NEW_AND_OLD_IMAGES). An event carries the table, key, operation,
 * the new item and the old one where it existed, the stream position (shard, sequence number),
 * when DynamoDB recorded it, and from the item's provenance the run, its workflow and window.
 * Numbers keep every digit (ExactNumber), in memory and in the NDJSON text.
 */
import { numberOf, parseExactJson } from '../shared/exact-json.js';
import { exactStringify } from '../shared/json-text.js';
import type { ChangeEvent, FeedTable } from '../shared/change-event.js';
import { TABLE_KEYS } from '../store/tables.js';

/** The event's shape and the feed's table type (src/shared/change-event.ts), for the feed's modules. */
export { compareSeq, type ChangeEvent, type ChangeOp, type FeedTable } from '../shared/change-event.js';

/** A DynamoDB attribute value as the Streams API returns it. */
export interface AttributeValue {
  S?: string;
  N?: string;
  B?: Uint8Array;
  SS?: string[];
  NS?: string[];
  BS?: Uint8Array[];
  M?: Record<string, AttributeValue>;
  L?: AttributeValue[];
  NULL?: boolean;
  BOOL?: boolean;
}

/** The part of a Streams record an event is built from. */
export interface StreamRecordLike {
  eventName?: string;
  dynamodb?: {
    ApproximateCreationDateTime?: Date;
    Keys?: Record<string, AttributeValue>;
    NewImage?: Record<string, AttributeValue>;
    OldImage?: Record<string, AttributeValue>;
    SequenceNumber?: string;
  };
}

/** A JSON value of a DynamoDB attribute value: numbers exact, sets as sorted arrays, binary as base64. */
export function fromAttribute(v: AttributeValue): unknown {
  if (v.S !== undefined) return v.S;
  if (v.N !== undefined) return numberOf(v.N);
  if (v.BOOL !== undefined) return v.BOOL;
  if (v.NULL) return null;
  if (v.M) return fromItem(v.M);
  if (v.L) return v.L.map(fromAttribute);
  if (v.SS) return [...v.SS].sort();
  if (v.NS) return v.NS.map(numberOf);
  if (v.B) return Buffer.from(v.B).toString('base64');
  if (v.BS) return v.BS.map((b) => Buffer.from(b).toString('base64'));
  throw new Error(`unsupported DynamoDB attribute value: ${Object.keys(v).join(',')}`);
}

/** The JSON object of a DynamoDB item. */
export function fromItem(item: Record<string, AttributeValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) out[k] = fromAttribute(v);
  return out;
}

/**
 * The window of the run that wrote an item, from the workflow ID of its writer
 * (`sales-sync/<window end>/<span>/...` or `sales-sync/full-<start>/...`, src/shared/ids.ts).
 * A replay's children are `sales-sync/replay/<scope of the replayed run>/...`: their items
 * carry the replayed run's window.
 */
export function windowOf(workflowId: string | undefined): string | undefined {
  const m = /^sales-sync\/(?:replay\/)?([^/]+\/\d+[hs]|full-[^/]+)\//.exec(workflowId ?? '');
  return m?.[1];
}

const text = (v: unknown) => (typeof v === 'string' ? v : undefined);

/**
 * The event of one Streams record of `table`'s stream, read from `shard`. Throws when the
 * record lacks what every DynamoDB stream record has (a sequence number, keys, an event name).
 */
export function toChangeEvent(table: FeedTable, shard: string, r: StreamRecordLike): ChangeEvent {
  const d = r.dynamodb;
  const op = r.eventName;
  if (!d?.SequenceNumber || !d.Keys || (op !== 'INSERT' && op !== 'MODIFY' && op !== 'REMOVE'))
    throw new Error(`not a DynamoDB stream record of ${table}: ${JSON.stringify(r).slice(0, 200)}`);
  const keys: { pk: string; sk?: string } = TABLE_KEYS[table];
  const key: Record<string, string> = {};
  for (const name of keys.sk ? [keys.pk, keys.sk] : [keys.pk]) {
    const v = d.Keys[name];
    key[name] = v?.S ?? v?.N ?? '';
  }
  const newItem = d.NewImage ? fromItem(d.NewImage) : undefined;
  const oldItem = d.OldImage ? fromItem(d.OldImage) : undefined;
  const source = newItem ?? oldItem ?? {};
  const workflow = text(source.synced_by);
  return {
    table,
    op,
    key,
    seq: d.SequenceNumber,
    shard,
    changedAt: (d.ApproximateCreationDateTime ?? new Date(0)).toISOString(),
    writtenAt: text(source.synced_at),
    run: text(source.synced_run),
    workflow,
    window: windowOf(workflow),
    new: newItem,
    old: oldItem,
  };
}

/** One NDJSON line (no newline) of an event: every number with its digits. */
export function eventLine(e: ChangeEvent): string {
  return exactStringify(e);
}

/** The events of NDJSON text (numbers exact). */
export function parseEventLines(text: string): ChangeEvent[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => parseExactJson(l) as ChangeEvent);
}
