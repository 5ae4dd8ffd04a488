/**
 * The first-start snapshot of a table: every item the table holds written to the copy as a
 * repair (src/sql/reconcile.ts), so items written before the table's stream existed reach the
 * copy, a row that exists but differs is fixed, and a row the stream changed after the page was
 * read is left alone. It resumes: each page's position (DynamoDB's LastEvaluatedKey) and the
 * counts so far are the heartbeat's details, and a retried attempt starts after the last page
 * it finished instead of at the first item.
 */
import type { Context } from '@temporalio/activity';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { repairItems, splitConvertible } from '../sql/reconcile.js';
import type { FeedTable } from './events.js';
import { type ReconcileDeps, SCAN_PAGE, scanPage } from './reconcile.js';
import type { SnapshotResult } from './types.js';

/** Items per page of the snapshot. */
export const SNAPSHOT_PAGE = SCAN_PAGE;

/** The heartbeat's details: where the next page starts (none: the scan is finished) and the counts. */
export interface SnapshotPosition {
  start?: Record<string, AttributeValue>;
  result: SnapshotResult;
}

/**
 * Writes every item of `table` as a repair, page by page (see the module comment), from the
 * position of the attempt before when there was one. `deadLettered` counts the items whose
 * values do not fit the typed columns (not written; reconcile names them).
 */
export async function snapshotTable(
  deps: ReconcileDeps,
  table: FeedTable,
  ctx: Context,
  pageSize = SNAPSHOT_PAGE,
): Promise<SnapshotResult> {
  const resumed = ctx.info.heartbeatDetails as SnapshotPosition | undefined;
  const result: SnapshotResult = { items: 0, applied: 0, deadLettered: 0, ...resumed?.result };
  if (resumed && !resumed.start) return result;
  let start = resumed?.start;
  const client = await deps.pool.connect();
  try {
    do {
      ctx.cancellationSignal.throwIfAborted();
      const readAt = new Date();
      const out = await scanPage(deps, table, start, pageSize);
      const { events } = out;
      const { ok, failed } = await splitConvertible(client, table, events);
      result.applied += await repairItems(client, table, ok, readAt);
      result.items += events.length;
      result.deadLettered += failed.length;
      start = out.LastEvaluatedKey;
      ctx.heartbeat({ start, result: { ...result } } satisfies SnapshotPosition);
    } while (start);
  } finally {
    client.release();
  }
  return result;
}
