/**
 * Compares the PostgreSQL copy with the DynamoDB tables: every item has the row the feed would
 * write for it (typed columns, `record` by value, `inexact_fields`, `written_at`) and no row is
 * left alive without an item. The comparison is the reconcile's own (src/sql/reconcile.ts), over
 * the whole table at once and without a settle time. Used by the tests, the benchmark and
 * `npm run feed`'s wait (`differences` empty: the copy is what the feed would make of DynamoDB).
 */
import { type AttributeValue, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import type pg from 'pg';
import { KIND_TEXT, UNWRITABLE_TEXT } from '../shared/reconcile.js';
import type { Store } from '../store/index.js';
import type { FeedTable } from '../shared/change-event.js';
import { SYNCED_TABLES } from '../shared/tables.js';
import { itemEvent, keyText } from './reconcile.js';
import { compareAll, splitConvertible } from '../sql/reconcile.js';

/** Every item of `table` as the feed's compact events (consistent reads). */
async function tableEvents(store: Store, table: FeedTable): Promise<string[]> {
  const events: string[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out: ScanCommandOutput = await store.clients.raw.send(
      new ScanCommand({ TableName: store.names[table], ExclusiveStartKey: start, ConsistentRead: true }),
    );
    events.push(...(out.Items ?? []).map((i) => itemEvent(table, i)));
    start = out.LastEvaluatedKey;
  } while (start);
  return events;
}

/** Differences between one table's items and rows (at most `limit` described). */
async function tableDifferences(store: Store, pool: pg.Pool, table: FeedTable, limit: number) {
  const events = await tableEvents(store, table);
  const client = await pool.connect();
  try {
    const { ok, failed } = await splitConvertible(client, table, events);
    const out = failed.map((f) => `${keyText(table, f.key)}: ${UNWRITABLE_TEXT} (${f.reason})`);
    const unwritable = new Set(failed.map((f) => keyText(table, f.key)));
    for (const d of await compareAll(client, table, ok)) {
      const key = keyText(table, d.key);
      // An item the feed cannot write is named above; its row (if any) is not compared.
      if (unwritable.has(key)) continue;
      out.push(`${key}: ${KIND_TEXT[d.kind]}${d.kind === 'different' ? ` (${d.columns})` : ''}`);
    }
    return out.slice(0, limit);
  } finally {
    client.release();
  }
}

/** Every difference between the copy and DynamoDB (empty when they are equal), at most `limit` per table. */
export async function copyDifferences(store: Store, pool: pg.Pool, limit = 20): Promise<string[]> {
  const out: string[] = [];
  for (const table of SYNCED_TABLES) out.push(...(await tableDifferences(store, pool, table, limit)));
  return out;
}
