/**
 * Voids and departures: a stored sale that a complete listing of its window no longer holds gets
 * `voided_at`; a stored membership that a complete employee listing of its branch no longer holds
 * gets `left_at`. Neither is deleted: the copy keeps what the vendor once said, and marks that
 * it stopped saying it. A record listed again is rewritten without the mark (upsert.ts).
 *
 * Never on partial evidence: the callers check the listing was complete; here a listing that
 * would mark more than the guarded share marks nothing (voidGuardTrips), and an item written
 * after the listing began (another run listed it meanwhile) is never marked.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, type QueryCommandOutput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LEFT_AT, VOIDED_AT, voidGuardTrips } from '../shared/completeness.js';
import { formatVendorTimestamp } from '../vendor-api/schemas.js';
import type { DynamoClients } from './client.js';
import { FETCHED_AT, SYNCED_AT } from './guarded.js';
import { TABLE_INDEXES } from './tables.js';

/** Which run marks: recorded on the item as its provenance, so the change feed names the run. */
export interface MarkWriter {
  workflowId: string;
  runId: string;
}

/** What a void or departure check did. */
export interface MarkResult {
  /** Stored items in scope that were not marked yet. */
  stored: number;
  /** Items marked now. */
  marked: number;
  /** Set when the guard held the marks back: how many would have been marked. */
  guardedWouldMark?: number;
}

/** A check of one listing against what is stored. */
interface MarkCheck {
  table: string;
  /** The index query that finds the stored items in scope. */
  query: { index: string; condition: string; values: Record<string, unknown> };
  /** The id of each stored item the listing is compared by (sale id, employee id). */
  idOf: (item: Record<string, unknown>) => string;
  /** The table key of a stored item. */
  keyOf: (item: Record<string, unknown>) => Record<string, string>;
  mark: typeof VOIDED_AT | typeof LEFT_AT;
  /** Ids the listing held (or that it set aside: not evidence either way). */
  listed: ReadonlySet<string>;
  since: string;
  guardPercent: number;
  writer: MarkWriter;
  /** Drops items the index query could not exclude itself. */
  keep?: (item: Record<string, unknown>) => boolean;
}

/** How many marks are written at once. */
const MARK_CONCURRENCY = 8;

/** Every item the index query finds (keys and the projected attributes). */
async function queryAll(clients: DynamoClients, c: MarkCheck): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out: QueryCommandOutput = await clients.doc.send(
      new QueryCommand({
        TableName: c.table,
        IndexName: c.query.index,
        KeyConditionExpression: c.query.condition,
        ExpressionAttributeValues: c.query.values,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** True when the item was written after the listing began: another run listed it meanwhile. */
function writtenSince(item: Record<string, unknown>, since: string): boolean {
  const at = item[FETCHED_AT] ?? item[SYNCED_AT];
  return typeof at === 'string' && at >= since;
}

/** Marks one item unless it was marked or rewritten meanwhile; true when it marked it. */
async function markOne(
  clients: DynamoClients,
  c: MarkCheck,
  key: Record<string, string>,
  now: string,
): Promise<boolean> {
  try {
    await clients.doc.send(
      new UpdateCommand({
        TableName: c.table,
        Key: key,
        UpdateExpression: 'SET #m = :now, #s = :now, synced_by = :wf, synced_run = :run',
        ConditionExpression:
          'attribute_exists(content_hash) AND attribute_not_exists(#m) AND (attribute_not_exists(#f) OR #f < :since) AND (attribute_not_exists(#s) OR #s < :since)',
        ExpressionAttributeNames: { '#m': c.mark, '#s': SYNCED_AT, '#f': FETCHED_AT },
        ExpressionAttributeValues: {
          ':now': now,
          ':since': c.since,
          ':wf': c.writer.workflowId,
          ':run': c.writer.runId,
        },
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

/** Compares a listing with the stored items in its scope and marks the unlisted ones (see the module comment). */
async function check(clients: DynamoClients, c: MarkCheck): Promise<MarkResult> {
  const inScope = (await queryAll(clients, c)).filter(
    (i) => i[c.mark] === undefined && (c.keep?.(i) ?? true),
  );
  const missing = inScope.filter((i) => !c.listed.has(c.idOf(i)) && !writtenSince(i, c.since));
  if (missing.length === 0) return { stored: inScope.length, marked: 0 };
  if (voidGuardTrips(missing.length, inScope.length, c.guardPercent, c.listed.size))
    return { stored: inScope.length, marked: 0, guardedWouldMark: missing.length };
  const now = new Date().toISOString();
  let marked = 0;
  for (let i = 0; i < missing.length; i += MARK_CONCURRENCY) {
    const done = await Promise.all(
      missing.slice(i, i + MARK_CONCURRENCY).map((m) => markOne(clients, c, c.keyOf(m), now)),
    );
    marked += done.filter(Boolean).length;
  }
  return { stored: inScope.length, marked };
}

/** The stored sales of one salesperson in a window (null: all of them) and the voids its complete listing shows. */
export function checkVoids(
  clients: DynamoClients,
  table: string,
  v: {
    employeeId: string;
    window: { from: string; to: string } | null;
    listedIds: readonly string[];
    listedSince: string;
    guardPercent: number;
    writer: MarkWriter;
  },
): Promise<MarkResult> {
  const ix = TABLE_INDEXES.sales;
  // The vendor's timestamps sort as text; `to` is exclusive, as the vendor filters.
  const from = v.window ? formatVendorTimestamp(Date.parse(v.window.from)) : undefined;
  const to = v.window ? formatVendorTimestamp(Date.parse(v.window.to)) : undefined;
  return check(clients, {
    table,
    query: {
      index: ix.name,
      condition: v.window ? `${ix.pk} = :e AND ${ix.sk} BETWEEN :from AND :to` : `${ix.pk} = :e`,
      values: { ':e': v.employeeId, ...(v.window ? { ':from': from, ':to': to } : {}) },
    },
    keep: to === undefined ? undefined : (i) => String(i[ix.sk]) < to,
    idOf: (i) => String(i.sale_id),
    keyOf: (i) => ({ sale_id: String(i.sale_id), employee_id: String(i.employee_id) }),
    mark: VOIDED_AT,
    listed: new Set(v.listedIds),
    since: v.listedSince,
    guardPercent: v.guardPercent,
    writer: v.writer,
  });
}

/** The stored memberships of one branch and the departures its complete employee listing shows. */
export function checkDepartures(
  clients: DynamoClients,
  table: string,
  d: {
    branchId: string;
    listedIds: readonly string[];
    keepIds: readonly string[];
    listedSince: string;
    guardPercent: number;
    writer: MarkWriter;
  },
): Promise<MarkResult> {
  const ix = TABLE_INDEXES.salespersons;
  return check(clients, {
    table,
    query: { index: ix.name, condition: `${ix.pk} = :b`, values: { ':b': d.branchId } },
    idOf: (i) => String(i.employee_id),
    keyOf: (i) => ({ employee_id: String(i.employee_id), branch_id: String(i.branch_id) }),
    mark: LEFT_AT,
    listed: new Set([...d.listedIds, ...d.keepIds]),
    since: d.listedSince,
    guardPercent: d.guardPercent,
    writer: d.writer,
  });
}
