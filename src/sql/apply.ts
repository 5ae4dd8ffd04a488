/**
 * Applies change events to the PostgreSQL copy, idempotently and in order per key.
 *
 * Version rule: a row keeps the stream sequence number of the change that produced it
 * (`version`), and a change is applied only when its sequence number is higher (and, for a row
 * a repair wrote, only when it was made after the repair read the item: src/sql/upsert.ts,
 * MADE_AFTER_REPAIR).
 * Within a shard DynamoDB Streams orders a key's changes by sequence number, and the consumer
 * reads a child shard only after its parent is finished (src/workflows/change-feed.ts), so a
 * key's changes arrive in increasing order; a replayed batch, a duplicated event or an older
 * event after a newer one carries a version at most the row's and changes nothing. A removal
 * leaves a tombstone (`deleted`) that keeps its version, so an older insert replayed later
 * cannot bring the row back.
 *
 * A value PostgreSQL cannot hold exactly never fails a statement: the field is stored as null
 * and listed in `inexact_fields` (src/sql/values.ts). A batch is one transaction: one statement
 * per table for the last change of each key; when that statement fails for a reason that is not
 * the connection's (src/sql/errors.ts), the batch is applied event by event, each under a
 * savepoint, and each event that cannot be applied goes to `feed_dead_letter` with the reason
 * while the others are applied. The batch's row in `feed_batches` and the shard's
 * `feed_progress` are written in the same transaction.
 */
import type pg from 'pg';
import { exactStringify } from '../shared/json-text.js';
import { type ChangeEvent, type FeedTable, compareSeq } from '../shared/change-event.js';
import { MAX_EVENT_ATTEMPTS, classify } from './errors.js';
import { compact, upsertSql } from './upsert.js';
import { escapeUnholdable, holdable } from './values.js';

export { type Column, TYPED_COLUMNS } from './upsert.js';

/** What one batch did in PostgreSQL. */
export interface ApplyResult {
  /** Rows inserted or moved to a newer version. */
  applied: number;
  /** Events that changed nothing (their version was not newer than the row's). */
  skipped: number;
  /** Events that cannot be applied, set aside in `feed_dead_letter` (again, when a batch is applied again). */
  deadLettered: number;
}

/** The batch being applied, for its bookkeeping rows. */
export interface BatchInfo {
  objectKey: string;
  table: FeedTable;
  shard: string;
  /** Age of the oldest change still waiting after this batch (ms). */
  lagMs: number;
  /** The activity attempt applying it (default 1): an event's error other than a value error sets it aside from MAX_EVENT_ATTEMPTS on. */
  attempt?: number;
}

/** Rows of finished shards (lag 0) not written for this long are removed from `feed_progress`. */
const FINISHED_SHARD_KEPT = '2 days';

const keyOf = (e: ChangeEvent) => JSON.stringify(e.key);

/** Applies one batch of one table's events (in stream order) in one transaction. */
export async function applyBatch(
  pool: pg.Pool,
  batch: BatchInfo,
  events: ChangeEvent[],
): Promise<ApplyResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await applyEvents(client, batch, events);
    const first = events[0];
    const last = events.at(-1);
    if (first && last) {
      await client.query(
        `INSERT INTO feed_batches (object_key, table_name, shard_id, first_seq, last_seq, events, dead_letters)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (object_key) DO UPDATE SET last_seq = EXCLUDED.last_seq, events = EXCLUDED.events,
           dead_letters = EXCLUDED.dead_letters, applied_at = now()`,
        [batch.objectKey, batch.table, batch.shard, first.seq, last.seq, events.length, result.deadLettered],
      );
    }
    await client.query(
      `INSERT INTO feed_progress (table_name, shard_id, last_seq, lag_ms) VALUES ($1, $2, $3, $4)
       ON CONFLICT (table_name, shard_id) DO UPDATE SET
         last_seq = COALESCE(EXCLUDED.last_seq, feed_progress.last_seq), lag_ms = EXCLUDED.lag_ms, updated_at = now()`,
      [batch.table, batch.shard, last?.seq ?? null, Math.round(batch.lagMs)],
    );
    // Shards end (DynamoDB rolls them over every few hours): their rows would pile up.
    await client.query(
      `DELETE FROM feed_progress WHERE table_name = $1 AND shard_id <> $2 AND lag_ms = 0
         AND updated_at < now() - $3::interval`,
      [batch.table, batch.shard, FINISHED_SHARD_KEPT],
    );
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

async function applyEvents(
  client: pg.PoolClient,
  batch: BatchInfo,
  events: ChangeEvent[],
): Promise<ApplyResult> {
  const result: ApplyResult = { applied: 0, skipped: 0, deadLettered: 0 };
  // A key PostgreSQL cannot hold cannot make a row at all.
  const keyed: ChangeEvent[] = [];
  for (const e of events) {
    const bad = Object.values(e.key).find((v) => !holdable(v));
    if (bad === undefined) keyed.push(e);
    else {
      await deadLetter(
        client,
        batch,
        e,
        `the key holds a character PostgreSQL cannot hold (U+0000 or a lone surrogate): ${escapeUnholdable(bad)}`,
      );
      result.deadLettered++;
    }
  }
  if (keyed.length === 0) return result;
  // The last change of each key wins within the batch (the version rule would give the same).
  const latest = new Map<string, ChangeEvent>();
  for (const e of keyed) {
    const had = latest.get(keyOf(e));
    if (!had || compareSeq(had.seq, e.seq) < 0) latest.set(keyOf(e), e);
  }
  await client.query('SAVEPOINT whole_batch');
  try {
    const r = await client.query(upsertSql(batch.table), [
      `[${[...latest.values()].map(compact).join(',')}]`,
    ]);
    const applied = r.rowCount ?? 0;
    return { ...result, applied, skipped: keyed.length - applied };
  } catch (err) {
    if (classify(err) === 'retry') throw err;
    await client.query('ROLLBACK TO SAVEPOINT whole_batch');
  }
  // One at a time, so the event that cannot be applied is found and set aside.
  for (const e of keyed) {
    await client.query('SAVEPOINT one_event');
    try {
      const r = await client.query(upsertSql(batch.table), [`[${compact(e)}]`]);
      if (r.rowCount) result.applied++;
      else result.skipped++;
    } catch (err) {
      const verdict = classify(err);
      // Another class may be passing (a lock, a server state): the attempt fails, a later one may pass.
      if (verdict === 'retry' || (verdict === 'event' && (batch.attempt ?? 1) < MAX_EVENT_ATTEMPTS))
        throw err;
      await client.query('ROLLBACK TO SAVEPOINT one_event');
      await deadLetter(client, batch, e, (err as Error).message);
      result.deadLettered++;
    }
  }
  return result;
}

/**
 * Sets an event aside. Key and event are JSON text (escapes hold any character) and the primary
 * key is on the key's md5, so this insert cannot fail on the event's content.
 */
async function deadLetter(client: pg.PoolClient, batch: BatchInfo, e: ChangeEvent, reason: string) {
  await client.query(
    `INSERT INTO feed_dead_letter (table_name, seq, key, reason, object_key, event)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (table_name, seq, key_md5) DO NOTHING`,
    [batch.table, e.seq, JSON.stringify(e.key), escapeUnholdable(reason), batch.objectKey, exactStringify(e)],
  );
}
