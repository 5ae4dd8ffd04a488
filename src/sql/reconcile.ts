/**
 * The PostgreSQL side of reconcile and repair (docs/change-feed.md, "Reconcile and repair").
 * Items arrive as the feed's compact events (src/sql/apply.ts `compact`) and are turned into
 * columns by the feed's own expressions (`itemColumns`), so a row is compared with, and repaired
 * to, exactly what the feed would write for the item.
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
import type { FeedTable } from '../feed/events.js';
import type { DifferenceKind } from '../shared/reconcile.js';
import { TYPED_COLUMNS, isDataError, itemColumns } from './apply.js';

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
/** The rows of a jsonb array of compact events, as the feed writes them (alias `x`). */
const itemsSql = (table: FeedTable, param: string) =>
  `SELECT ${[
    ...keysOf(table).map((k) => `e->'k'->>'${k}' AS ${k}`),
    ...itemColumns(table).map((c) => `${c.sql} AS ${c.name}`),
  ].join(', ')} FROM jsonb_array_elements(${param}::jsonb) e`;
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
     WHERE t.${keysOf(table)[0]} IS NULL OR t.deleted OR ${differs(table, 't', 'x')}
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

/** Each key's difference now (keys without one left out), from the items read again (`events`). */
export async function classify(
  client: pg.PoolClient,
  table: FeedTable,
  keys: Record<string, string>[],
  events: string[],
): Promise<{ key: Record<string, string>; kind: DifferenceKind }[]> {
  const k0 = keysOf(table)[0] as string;
  const r = await client.query<Record<string, string> & { kind: DifferenceKind | null }>(
    `SELECT ${keysOf(table)
      .map((k) => `c.${k}`)
      .join(', ')}, CASE
       WHEN x.${k0} IS NULL THEN CASE WHEN t.${k0} IS NOT NULL AND NOT t.deleted THEN 'extra' END
       WHEN t.${k0} IS NULL THEN 'missing'
       WHEN t.deleted THEN 'deleted'
       WHEN ${differs(table, 't', 'x')} THEN 'different' END AS kind
     FROM (${keysSql(table, '$1')}) c
     LEFT JOIN (${itemsSql(table, '$2')}) x ON ${keyEq(table, 'x', 'c')}
     LEFT JOIN ${table} t ON ${keyEq(table, 't', 'c')}`,
    [JSON.stringify(keys), `[${events.join(',')}]`],
  );
  return r.rows.flatMap(({ kind, ...key }) => (kind ? [{ key, kind }] : []));
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

/** An item whose values do not fit the typed columns, with PostgreSQL's reason. */
export interface Unconvertible {
  key: Record<string, string>;
  reason: string;
}

/**
 * The events whose items fit the typed columns, and the others with the reason: the feed
 * dead-letters such an item's changes, so the reconcile neither compares nor writes it.
 */
export async function splitConvertible(
  client: pg.PoolClient,
  table: FeedTable,
  events: string[],
): Promise<{ ok: string[]; failed: Unconvertible[] }> {
  const check = (list: string[]) =>
    client.query(`SELECT count(*) FROM (${itemsSql(table, '$1')}) x`, [`[${list.join(',')}]`]);
  try {
    await check(events);
    return { ok: events, failed: [] };
  } catch (err) {
    if (!isDataError(err)) throw err;
  }
  const out: { ok: string[]; failed: Unconvertible[] } = { ok: [], failed: [] };
  for (const event of events) {
    try {
      await check([event]);
      out.ok.push(event);
    } catch (err) {
      if (!isDataError(err)) throw err;
      const key = (JSON.parse(event) as { k: Record<string, string> }).k;
      out.failed.push({ key, reason: (err as Error).message });
    }
  }
  return out;
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

/** Tombstones the rows of `keys` whose items were gone at `readAt` (like a removal: no content). */
export async function tombstone(
  client: pg.PoolClient,
  table: FeedTable,
  keys: Record<string, string>[],
  readAt: Date,
): Promise<number> {
  if (keys.length === 0) return 0;
  const r = await client.query(
    `UPDATE ${table} t SET ${itemColumns(table)
      .map((c) => `${c.name} = NULL`)
      .join(', ')}, deleted = true, repaired_at = $2::timestamptz, applied_at = clock_timestamp()
     FROM (${keysSql(table, '$1')}) c
     WHERE ${keyEq(table, 't', 'c')} AND NOT t.deleted
       AND ${repairable('$2::timestamptz', `t.written_at IS NULL OR t.written_at >= $2::timestamptz - interval '${CLOCK_SKEW_SECONDS} seconds'`)}`,
    [JSON.stringify(keys), readAt.toISOString()],
  );
  return r.rowCount ?? 0;
}
