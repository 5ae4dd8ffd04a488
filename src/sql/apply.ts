/**
 * Applies change events to the PostgreSQL copy, idempotently and in order per key.
 *
 * Version rule: a row keeps the stream sequence number of the change that produced it
 * (`version`), and a change is applied only when its sequence number is higher. Within a shard
 * DynamoDB Streams orders a key's changes by sequence number, and the consumer reads a child
 * shard only after its parent is finished (src/workflows/change-feed.ts), so a key's changes
 * arrive in increasing order; a replayed batch, a duplicated event or an older event after a
 * newer one carries a version at most the row's and changes nothing. A removal leaves a
 * tombstone (`deleted`) that keeps its version, so an older insert replayed later cannot bring
 * the row back. A row a repair wrote (src/sql/reconcile.ts) takes only the changes made since the
 * item was read (`repaired_at`, to the minute: a change's time is DynamoDB's approximate one, whole
 * seconds on AWS, whole minutes on DynamoDB Local) and, where both carry the sync's write time,
 * whose item was written after the one the repair wrote.
 *
 * A batch is one transaction: one statement per table for the last change of each key; when
 * that statement fails (a value that does not fit its typed column), the batch is applied event
 * by event, each under a savepoint, and each event that fails goes to `feed_dead_letter` with
 * the reason while the others are applied. The batch's row in `feed_batches` and the table's
 * `feed_progress` are written in the same transaction.
 */
import type pg from 'pg';
import { exactStringify } from '../shared/exact-json.js';
import { type ChangeEvent, type FeedTable, compareSeq } from '../feed/events.js';

export interface Column {
  name: string;
  type: 'numeric' | 'text' | 'timestamptz';
}

/** Typed columns per table: the contract's fields (docs/vendor-api.md). Keys are text. */
export const TYPED_COLUMNS: Record<FeedTable, { keys: string[]; typed: Column[] }> = {
  branches: {
    keys: ['branch_id'],
    typed: [
      { name: 'id', type: 'numeric' },
      { name: 'branch_name', type: 'text' },
      { name: 'employees', type: 'numeric' },
      { name: 'location', type: 'text' },
    ],
  },
  salespersons: {
    keys: ['employee_id', 'branch_id'],
    typed: [
      { name: 'id', type: 'numeric' },
      { name: 'name', type: 'text' },
      { name: 'occupation', type: 'text' },
    ],
  },
  sales: {
    keys: ['sale_id', 'employee_id'],
    typed: [
      { name: 'branch_id', type: 'text' },
      { name: 'id', type: 'numeric' },
      { name: 'transaction_timestamp', type: 'timestamptz' },
      { name: 'amount', type: 'numeric' },
      { name: 'product', type: 'text' },
      { name: 'quantity', type: 'numeric' },
      { name: 'customer', type: 'text' },
    ],
  },
};

/** SQL of a typed field of the event's new item `e->'n'`. A vendor timestamp is UTC without a zone. */
function fieldSql(c: Column): string {
  const raw = `e->'n'->>'${c.name}'`;
  if (c.type === 'text') return raw;
  if (c.type === 'numeric') return `(${raw})::numeric`;
  return `(${raw} || '+00')::timestamptz`;
}

/**
 * The item's columns as the feed writes them, each with its SQL over a compact event `e` (see
 * `compact`): typed fields, `record` and `written_at`. The reconcile compares and repairs with
 * the same expressions (src/sql/reconcile.ts), so the conversion exists once.
 */
export function itemColumns(table: FeedTable): { name: string; sql: string }[] {
  return [
    ...TYPED_COLUMNS[table].typed.map((c) => ({ name: c.name, sql: fieldSql(c) })),
    { name: 'record', sql: `e->'n'` },
    { name: 'written_at', sql: `(e->>'w')::timestamptz` },
  ];
}

/** One INSERT .. ON CONFLICT statement per table, over a jsonb array of compact events. */
function upsertSql(table: FeedTable): string {
  const { keys } = TYPED_COLUMNS[table];
  const item = itemColumns(table);
  const cols = [...keys, ...item.map((c) => c.name), 'version', 'changed_at', 'deleted'];
  const values = [
    ...keys.map((k) => `e->'k'->>'${k}'`),
    ...item.map((c) => c.sql),
    `(e->>'v')::numeric`,
    `(e->>'c')::timestamptz`,
    `(e->>'d')::boolean`,
  ];
  const updates = [...item.map((c) => c.name), 'version', 'changed_at', 'deleted']
    .map((c) => `${c} = EXCLUDED.${c}`)
    .join(', ');
  return `INSERT INTO ${table} AS t (${cols.join(', ')}, applied_at)
    SELECT ${values.join(', ')}, clock_timestamp() FROM jsonb_array_elements($1::jsonb) e
    ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${updates}, applied_at = EXCLUDED.applied_at, repaired_at = NULL
    WHERE t.version < EXCLUDED.version
      AND (t.repaired_at IS NULL OR (EXCLUDED.changed_at >= date_trunc('minute', t.repaired_at)
        AND (EXCLUDED.written_at IS NULL OR t.written_at IS NULL OR EXCLUDED.written_at > t.written_at)))`;
}

/** The event as the statement reads it: key, new item (none for a removal), version, times. */
export function compact(e: ChangeEvent): string {
  return exactStringify({
    k: e.key,
    n: e.op === 'REMOVE' ? null : (e.new ?? null),
    v: e.seq,
    c: e.changedAt,
    w: e.op === 'REMOVE' ? null : (e.writtenAt ?? null),
    d: e.op === 'REMOVE',
  });
}

/** What one batch did in PostgreSQL. */
export interface ApplyResult {
  /** Rows inserted or moved to a newer version. */
  applied: number;
  /** Events that changed nothing (their version was not newer than the row's). */
  skipped: number;
  deadLettered: number;
}

/** The batch being applied, for its bookkeeping rows. */
export interface BatchInfo {
  objectKey: string;
  table: FeedTable;
  shard: string;
  /** Age of the oldest change still waiting after this batch (ms). */
  lagMs: number;
}

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
       ON CONFLICT (table_name) DO UPDATE SET shard_id = EXCLUDED.shard_id,
         last_seq = COALESCE(EXCLUDED.last_seq, feed_progress.last_seq), lag_ms = EXCLUDED.lag_ms, updated_at = now()`,
      [batch.table, batch.shard, last?.seq ?? null, Math.round(batch.lagMs)],
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
  if (events.length === 0) return { applied: 0, skipped: 0, deadLettered: 0 };
  // The last change of each key wins within the batch (the version rule would give the same).
  const latest = new Map<string, ChangeEvent>();
  for (const e of events) {
    const had = latest.get(keyOf(e));
    if (!had || compareSeq(had.seq, e.seq) < 0) latest.set(keyOf(e), e);
  }
  await client.query('SAVEPOINT whole_batch');
  try {
    const r = await client.query(upsertSql(batch.table), [
      `[${[...latest.values()].map(compact).join(',')}]`,
    ]);
    const applied = r.rowCount ?? 0;
    return { applied, skipped: events.length - applied, deadLettered: 0 };
  } catch (err) {
    if (!isDataError(err)) throw err;
    await client.query('ROLLBACK TO SAVEPOINT whole_batch');
  }
  // One at a time, so the event that cannot be applied is found and set aside.
  const result: ApplyResult = { applied: 0, skipped: 0, deadLettered: 0 };
  for (const e of events) {
    await client.query('SAVEPOINT one_event');
    try {
      const r = await client.query(upsertSql(batch.table), [`[${compact(e)}]`]);
      if (r.rowCount) result.applied++;
      else result.skipped++;
    } catch (err) {
      if (!isDataError(err)) throw err;
      await client.query('ROLLBACK TO SAVEPOINT one_event');
      await client.query(
        `INSERT INTO feed_dead_letter (table_name, seq, key, reason, object_key, event)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (table_name, seq, key) DO NOTHING`,
        [
          batch.table,
          e.seq,
          JSON.stringify(e.key),
          (err as Error).message,
          batch.objectKey,
          exactStringify(e),
        ],
      );
      result.deadLettered++;
    }
  }
  return result;
}

/**
 * An error of the event's content (SQLSTATE class 22, data exception: a value that does not
 * fit its column; 23, integrity: a missing key), as opposed to the server being unavailable,
 * which must fail the attempt so it is retried.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
