/**
 * The PostgreSQL side of reconcile and repair (docs/change-feed.md, "Reconcile and repair").
 * Items arrive as the feed's compact events (src/sql/upsert.ts `compact`) and are turned into
 * columns by the feed's own expressions (`itemColumns`), so a row is compared with, and repaired
 * to, exactly what the feed would write for the item: a field PostgreSQL cannot hold is null and
 * listed in `inexact_fields` on both sides, so such a row is no difference. The comparison
 * (`KIND` below) is the only one: the tests' and the service's `copyDifferences` use it too.
 *
 * The pass keeps its state in two temporary tables of its session, never in memory: the keys
 * DynamoDB returned (`reconcile_seen`) and the keys that differed (`reconcile_candidates`).
 *
 * A repair writes the item as read at `readAt` (taken before the read was sent) and keeps the
 * row's version, only where no stream change made after the read was applied and no later repair
 * wrote the row. "Made after the read" is decided by the change's time (`changed_at`, DynamoDB's
 * approximate time: whole seconds on AWS, whole minutes on DynamoDB Local, so compared to the
 * minute) or, finer, by the item's own write time (`written_at`, the sync's synced_at, in ms): a
 * row whose item was written no later than the one read is not newer. A row whose item is gone
 * carries no item to compare with: its write time must be CLOCK_SKEW_SECONDS before
 * the read. The repair sets `repaired_at = readAt`, and the stream then applies only changes made
 * since (src/sql/apply.ts), so no older change delivered later moves the row back.
 */
import type pg from 'pg';
import type { FeedTable } from '../shared/change-event.js';
import type { DifferenceKind } from '../shared/reconcile.js';
import { classify as verdict } from './errors.js';
import { TYPED_COLUMNS, compact, inKeyOrder, itemColumns } from './upsert.js';

/** How far apart the sync's and the reconcile's clocks may be (a tombstone's margin, module comment). */
export const CLOCK_SKEW_SECONDS = 10;

const SEEN = 'reconcile_seen';
const CANDIDATES = 'reconcile_candidates';

const keysOf = (table: FeedTable) => TYPED_COLUMNS[table].keys;
const keyEq = (table: FeedTable, a: string, b: string) =>
  keysOf(table)
    .map((k) => `${a}.${k} = ${b}.${k}`)
    .join(' AND ');
/** The item columns of `a` differ from those of `b` (numbers, times and jsonb compared by value). */
const differs = (table: FeedTable, a: string, b: string) => {
  const cols = itemColumns(table).map((c) => c.name);
  return `(${cols.map((c) => `${a}.${c}`).join(', ')}) IS DISTINCT FROM (${cols.map((c) => `${b}.${c}`).join(', ')})`;
};
/**
 * The difference of row `t` from item `x` (either may be absent: its first key column NULL), or
 * NULL when the row is what the feed would write for the item.
 */
const kindSql = (table: FeedTable) => {
  const k0 = keysOf(table)[0] as string;
  return `CASE WHEN x.${k0} IS NULL THEN CASE WHEN t.${k0} IS NOT NULL AND NOT t.deleted THEN 'extra' END
    WHEN t.${k0} IS NULL THEN 'missing' WHEN t.deleted THEN 'deleted'
    WHEN ${differs(table, 't', 'x')} THEN 'different' END`;
};
/** The names of the item columns in which row `t` and item `x` differ, comma-separated. */
const columnsSql = (table: FeedTable) =>
  `array_to_string(ARRAY[${itemColumns(table)
    .map((c) => `CASE WHEN t.${c.name} IS DISTINCT FROM x.${c.name} THEN '${c.name}' END`)
    .join(', ')}], ', ')`;
/** The rows of a jsonb array of compact events, as the feed writes them (alias `x`). */
const itemsSql = (table: FeedTable, param: string) =>
  `SELECT ${[
    ...keysOf(table).map((k) => `e->'k'->>'${k}' AS ${k}`),
    ...itemColumns(table).map((c) => `${c.sql} AS ${c.name}`),
  ].join(', ')} FROM jsonb_array_elements(${param}::jsonb) e ORDER BY ${inKeyOrder(keysOf(table))}`;
/** The rows of a jsonb array of keys (`[{"sale_id": "1", "employee_id": "2"}]`). */
const keysSql = (table: FeedTable, param: string) =>
  `SELECT * FROM jsonb_to_recordset(${param}::jsonb) AS c(${keysOf(table)
    .map((k) => `${k} text`)
    .join(', ')})`;

/** Creates the session's scratch tables for `table` (empty). */
export async function createScratch(client: pg.PoolClient, table: FeedTable): Promise<void> {
  const cols = keysOf(table).join(', ');
  for (const name of [SEEN, CANDIDATES]) {
    await client.query(`DROP TABLE IF EXISTS pg_temp.${name}`);
    await client.query(
      `CREATE TEMP TABLE ${name} AS SELECT ${cols} FROM ${table} WITH NO DATA; ALTER TABLE ${name} ADD PRIMARY KEY (${cols})`,
    );
  }
}

/** Drops the scratch tables (the pooled session outlives the pass). */
export async function dropScratch(client: pg.PoolClient): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS pg_temp.${SEEN}, pg_temp.${CANDIDATES}`);
}

/** Records a page of items as seen and the keys whose row is missing, deleted or different; returns how many. */
export async function markPage(client: pg.PoolClient, table: FeedTable, events: string[]): Promise<number> {
  const keys = keysOf(table).join(', ');
  const r = await client.query(
    `WITH x AS (${itemsSql(table, '$1')}),
     seen AS (INSERT INTO ${SEEN} SELECT ${keys} FROM x ON CONFLICT DO NOTHING)
     INSERT INTO ${CANDIDATES} SELECT ${keysOf(table)
       .map((k) => `x.${k}`)
       .join(', ')} FROM x LEFT JOIN ${table} t ON ${keyEq(table, 't', 'x')}
     WHERE (${kindSql(table)}) IS NOT NULL
     ON CONFLICT DO NOTHING`,
    [`[${events.join(',')}]`],
  );
  return r.rowCount ?? 0;
}

/** After the pass: the rows alive without an item seen become candidates too; returns how many. */
export async function markExtras(client: pg.PoolClient, table: FeedTable): Promise<number> {
  const r = await client.query(
    `INSERT INTO ${CANDIDATES} SELECT ${keysOf(table)
      .map((k) => `t.${k}`)
      .join(', ')} FROM ${table} t
     WHERE NOT t.deleted AND NOT EXISTS (SELECT 1 FROM ${SEEN} s WHERE ${keyEq(table, 's', 't')})
     ON CONFLICT DO NOTHING`,
  );
  return r.rowCount ?? 0;
}

/** The next `limit` candidate keys after `after` (key order). */
export async function candidatePage(
  client: pg.PoolClient,
  table: FeedTable,
  after: Record<string, string> | undefined,
  limit: number,
): Promise<Record<string, string>[]> {
  const keys = keysOf(table);
  const cols = keys.join(', ');
  const where = after ? `WHERE (${cols}) > (${keys.map((_, i) => `$${i + 2}`).join(', ')})` : '';
  const r = await client.query<Record<string, string>>(
    `SELECT ${cols} FROM ${CANDIDATES} ${where} ORDER BY ${cols} LIMIT $1`,
    [limit, ...(after ? keys.map((k) => after[k]) : [])],
  );
  return r.rows;
}

/** A difference: the row's key, its kind and, for `different`, the columns that differ. */
export interface Difference {
  key: Record<string, string>;
  kind: DifferenceKind;
  columns: string;
}

/** Rows of key columns, `kind` and `columns`, from the comparison of `t` and `x` joined by `from`. */
async function differences(client: pg.ClientBase, table: FeedTable, from: string, params: string[]) {
  const r = await client.query<Record<string, string> & { kind: DifferenceKind | null; columns: string }>(
    `SELECT * FROM (SELECT ${keysOf(table)
      .map((k) => `COALESCE(x.${k}, t.${k}) AS ${k}`)
      .join(', ')}, ${kindSql(table)} AS kind, ${columnsSql(table)} AS columns ${from}) d
     WHERE kind IS NOT NULL`,
    params,
  );
  return r.rows.map(({ kind, columns, ...key }): Difference => ({
    key,
    kind: kind as DifferenceKind,
    columns,
  }));
}

/** Each key's difference now (keys without one left out), from the items read again (`events`). */
export async function classify(
  client: pg.ClientBase,
  table: FeedTable,
  keys: Record<string, string>[],
  events: string[],
): Promise<Difference[]> {
  return differences(
    client,
    table,
    `FROM (${keysSql(table, '$1')}) c
     LEFT JOIN (${itemsSql(table, '$2')}) x ON ${keyEq(table, 'x', 'c')}
     LEFT JOIN ${table} t ON ${keyEq(table, 't', 'c')}`,
    [JSON.stringify(keys), `[${events.join(',')}]`],
  );
}

/** Every difference between the whole table and its items (`events`: all of them, convertible). */
export async function compareAll(
  client: pg.ClientBase,
  table: FeedTable,
  events: string[],
): Promise<Difference[]> {
  return differences(
    client,
    table,
    `FROM (${itemsSql(table, '$1')}) x FULL JOIN ${table} t ON ${keyEq(table, 't', 'x')}`,
    [`[${events.join(',')}]`],
  );
}

/**
 * Neither a stream change made after `readAt` (${ts}) nor a later repair wrote the row `t`;
 * `newer` says, where it can, whether the row's item is newer than the one read.
 */
const repairable = (ts: string, newer: string) =>
  `(t.changed_at IS NULL OR t.changed_at < date_trunc('minute', ${ts}) OR NOT (${newer}))
   AND (t.repaired_at IS NULL OR t.repaired_at <= ${ts})`;

function repairSql(table: FeedTable): string {
  const keys = keysOf(table);
  const item = itemColumns(table).map((c) => c.name);
  const cols = [...keys, ...item, 'version', 'changed_at', 'deleted', 'repaired_at', 'applied_at'];
  return `INSERT INTO ${table} AS t (${cols.join(', ')})
    SELECT x.*, 0, NULL, false, $2::timestamptz, clock_timestamp() FROM (${itemsSql(table, '$1')}) x
    ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${item.map((c) => `${c} = EXCLUDED.${c}`).join(', ')},
      deleted = false, repaired_at = EXCLUDED.repaired_at, applied_at = EXCLUDED.applied_at
    WHERE ${repairable('EXCLUDED.repaired_at', 't.written_at IS NULL OR EXCLUDED.written_at IS NULL OR t.written_at > EXCLUDED.written_at')} AND (t.deleted OR ${differs(table, 't', 'EXCLUDED')})`;
}

/**
 * Writes items (compact events, convertible: see `splitConvertible`) read at `readAt` where
 * their row is missing, deleted or differs, and is repairable (see the module comment). Returns
 * the rows written.
 */
export async function repairItems(
  client: pg.PoolClient,
  table: FeedTable,
  events: string[],
  readAt: Date,
): Promise<number> {
  if (events.length === 0) return 0;
  const r = await client.query(repairSql(table), [`[${events.join(',')}]`, readAt.toISOString()]);
  return r.rowCount ?? 0;
}

/** An item the feed cannot write, with PostgreSQL's reason. */
export interface Unconvertible {
  key: Record<string, string>;
  reason: string;
}

/**
 * The events the feed can write, and the others with the reason (a value a typed column refuses,
 * a key too long for the index): the feed sets such an item's changes aside, so the reconcile
 * neither compares nor writes it. Tried for real, by the feed's own conversion, in a scratch copy
 * of the table inside a transaction rolled back.
 */
export async function splitConvertible(
  client: pg.PoolClient,
  table: FeedTable,
  events: string[],
): Promise<{ ok: string[]; failed: Unconvertible[] }> {
  const out: { ok: string[]; failed: Unconvertible[] } = { ok: [], failed: [] };
  if (events.length === 0) return out;
  const cols = [...keysOf(table), ...itemColumns(table).map((c) => c.name)].join(', ');
  const tryWrite = async (list: string[]) => {
    await client.query('SAVEPOINT one_try');
    try {
      await client.query(
        `INSERT INTO reconcile_check (${cols}, version) SELECT x.*, 0 FROM (${itemsSql(table, '$1')}) x`,
        [`[${list.join(',')}]`],
      );
      await client.query('RELEASE SAVEPOINT one_try');
      return undefined;
    } catch (err) {
      if (verdict(err) !== 'value') throw err;
      await client.query('ROLLBACK TO SAVEPOINT one_try');
      return (err as Error).message;
    }
  };
  await client.query('BEGIN');
  try {
    await client.query(
      `CREATE TEMP TABLE reconcile_check (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES) ON COMMIT DROP`,
    );
    if ((await tryWrite(events)) === undefined) return { ok: events, failed: [] };
    for (const event of events) {
      const reason = await tryWrite([event]);
      if (reason === undefined) out.ok.push(event);
      else out.failed.push({ key: (JSON.parse(event) as { k: Record<string, string> }).k, reason });
    }
    return out;
  } finally {
    await client.query('ROLLBACK');
  }
}

/** Records keys as seen by the pass without comparing them (items that cannot be converted). */
export async function markSeen(
  client: pg.PoolClient,
  table: FeedTable,
  keys: Record<string, string>[],
): Promise<void> {
  if (keys.length === 0) return;
  await client.query(`INSERT INTO ${SEEN} ${keysSql(table, '$1')} ON CONFLICT DO NOTHING`, [
    JSON.stringify(keys),
  ]);
}

/**
 * Tombstones the rows of `keys` whose items were gone at `readAt`: the row the feed writes for a
 * removal (its own conversion of a removal event), where the row is repairable.
 */
export async function tombstone(
  client: pg.PoolClient,
  table: FeedTable,
  keys: Record<string, string>[],
  readAt: Date,
): Promise<number> {
  if (keys.length === 0) return 0;
  const removals = keys.map((key) =>
    compact({ table, op: 'REMOVE', key, seq: '0', shard: 'reconcile', changedAt: readAt.toISOString() }),
  );
  const r = await client.query(
    `UPDATE ${table} t SET ${itemColumns(table)
      .map((c) => `${c.name} = x.${c.name}`)
      .join(', ')}, deleted = true, repaired_at = $2::timestamptz, applied_at = clock_timestamp()
     FROM (${itemsSql(table, '$1')}) x
     WHERE ${keyEq(table, 't', 'x')} AND NOT t.deleted
       AND ${repairable('$2::timestamptz', `t.written_at IS NULL OR t.written_at >= $2::timestamptz - interval '${CLOCK_SKEW_SECONDS} seconds'`)}`,
    [`[${removals.join(',')}]`, readAt.toISOString()],
  );
  return r.rowCount ?? 0;
}
