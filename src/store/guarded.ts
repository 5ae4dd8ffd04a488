/**
 * A replay's writes: each changed item is put with a condition that the stored item was not
 * fetched later than the landed answer, so a replay of an older run never moves an item back.
 *
 * Why a condition and not only the read-compare of upsert.ts: the read and the write are two
 * requests, and a live run overlapping the replay may store a correction between them; the
 * replay would then put the older content over it. DynamoDB evaluates a condition atomically
 * with the put, so the newer item always wins, whichever run writes last. The price is one
 * PutItem per changed item instead of 25 per BatchWriteItem (batch writes take no condition);
 * replays are rare and write only what differs, so it stays small. Live runs keep the batches:
 * what they write is the newest.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoClients } from './client.js';
import { LEFT_AT, VOIDED_AT } from '../shared/completeness.js';

/** The counts a guarded write adds to (an UpsertResult). */
interface GuardedCounts {
  inserted: number;
  updated: number;
  restored: number;
  newerKept: number;
  rejected: { source: unknown; reason: string }[];
}

/** DynamoDB refused the request's content (not a throttle or an outage): retrying the same cannot help. */
export function isValidationError(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'ValidationException';
}

/** Item attribute: when the item's content was fetched from the vendor (the answer's fetchedAt, ISO). */
export const FETCHED_AT = 'fetched_at';
/** Item attribute: when the sync wrote the item (ISO). */
export const SYNCED_AT = 'synced_at';

/**
 * Puts each item unless the stored one was fetched after `fetchedAt` (or, written before
 * fetched_at existed, synced after it); counts inserted, updated, newer kept and refused items
 * into `result`. `pk` is the table's partition key: its absence means no item is stored.
 */
export async function writeGuarded(
  clients: DynamoClients,
  table: string,
  pk: string,
  fetchedAt: string,
  changes: { item: Record<string, unknown>; source: unknown; isNew: boolean; restores?: boolean }[],
  result: GuardedCounts,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (const c of changes) {
    signal?.throwIfAborted();
    try {
      await clients.doc.send(
        new PutCommand({
          TableName: table,
          Item: c.item,
          // A void or departure found after the answer was fetched is newer than it too.
          ConditionExpression:
            '(attribute_not_exists(#pk) OR #f <= :t OR (attribute_not_exists(#f) AND #s <= :t)) AND (attribute_not_exists(#v) OR #v <= :t) AND (attribute_not_exists(#l) OR #l <= :t)',
          ExpressionAttributeNames: {
            '#pk': pk,
            '#f': FETCHED_AT,
            '#s': SYNCED_AT,
            '#v': VOIDED_AT,
            '#l': LEFT_AT,
          },
          ExpressionAttributeValues: { ':t': fetchedAt },
        }),
        { abortSignal: signal },
      );
      clients.stats.itemsWritten++;
      if (c.isNew) result.inserted++;
      else result.updated++;
      if (c.restores) result.restored++;
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') result.newerKept++;
      else if (isValidationError(err))
        result.rejected.push({
          source: c.source,
          reason: `DynamoDB refused the item: ${(err as Error).message}`,
        });
      else throw err;
    }
  }
}
