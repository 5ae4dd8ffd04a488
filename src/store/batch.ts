/**
 * DynamoDB's batch calls, with what they leave undone retried: BatchGetItem and BatchWriteItem
 * answer a throttled table by returning part of the request as unprocessed, and a caller that
 * ignored it would read or write less than it asked without an error.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchGetCommand, type BatchGetCommandOutput, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoClients } from './client.js';

/** Keys one BatchGetItem may ask for. */
export const GET_BATCH = 100;
/** Items one BatchWriteItem may put. */
export const WRITE_BATCH = 25;
/** Requests of one batch before its unprocessed part is an error (the table is throttling hard). */
const MAX_ROUNDS = 8;

/**
 * Sends `first`, then what each answer left unprocessed, with capped full-jitter backoff, until
 * nothing is left; fails after MAX_ROUNDS requests naming the table and what was left.
 */
async function untilProcessed<T>(
  table: string,
  what: 'keys' | 'items',
  first: T[],
  send: (pending: T[]) => Promise<T[]>,
  signal: AbortSignal | undefined,
): Promise<void> {
  let pending = first;
  for (let round = 0; pending.length > 0; round++) {
    if (round >= MAX_ROUNDS)
      throw new Error(
        `DynamoDB left ${pending.length} ${what} of ${table} unprocessed after ${round} attempts (throttled).`,
      );
    // Capped full jitter; an abort ends the wait too.
    if (round > 0) await sleep(Math.random() * Math.min(2000, 50 * 2 ** round), undefined, { signal });
    signal?.throwIfAborted();
    pending = await send(pending);
  }
}

/** What a batch read asks of each item. */
export interface BatchRead {
  ProjectionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ConsistentRead?: boolean;
}

/** The items of `keys` (at most GET_BATCH) in `table` that exist, as `read` projects them. */
export async function batchGet(
  clients: DynamoClients,
  table: string,
  keys: Record<string, unknown>[],
  read: BatchRead,
  signal: AbortSignal | undefined,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  await untilProcessed(
    table,
    'keys',
    keys,
    async (pending) => {
      const out: BatchGetCommandOutput = await clients.doc.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ...read } } }),
        { abortSignal: signal },
      );
      items.push(...(out.Responses?.[table] ?? []));
      return (out.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
    },
    signal,
  );
  return items;
}

/** Puts `items` (at most WRITE_BATCH) into `table`, counted in the clients' stats as written. */
export async function batchPut(
  clients: DynamoClients,
  table: string,
  items: Record<string, unknown>[],
  signal: AbortSignal | undefined,
): Promise<void> {
  await untilProcessed(
    table,
    'items',
    items.map((Item) => ({ PutRequest: { Item } })),
    async (pending) => {
      const out = await clients.doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }), {
        abortSignal: signal,
      });
      const left = out.UnprocessedItems?.[table] ?? [];
      clients.stats.itemsWritten += pending.length - left.length;
      return left as typeof pending;
    },
    signal,
  );
}
