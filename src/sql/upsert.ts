/**
 * The statement that applies change events to one table of the copy, and the compact form of an
 * event it reads. Version rule and repair rule: docs/change-feed.md, "Order and versions".
 */
import { exactStringify } from '../shared/json-text.js';
import type { ChangeEvent, FeedTable } from '../shared/change-event.js';
import { LEFT_AT, VOIDED_AT } from '../shared/completeness.js';
import { heldItem, unreadableInstants } from './values.js';

/**
 * A typed column of the copy. `timestamptz`: a vendor timestamp (UTC, no zone), a value that is
 * not one sets the event aside (docs/change-feed.md, "Dead letter"). `instant`: a mark the sync
 * writes (`voided_at`, `left_at`: ISO with an offset), read only when it is an instant, else NULL
 * and listed in `inexact_fields` (src/sql/values.ts): a mark must never hold its row back.
 */
export interface Column {
  name: string;
  type: 'numeric' | 'text' | 'timestamptz' | 'instant';
}

/** Typed columns per table: the contract's fields (docs/vendor-api.md) and the sync's marks. Keys are text. */
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
      { name: LEFT_AT, type: 'instant' },
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
      { name: VOIDED_AT, type: 'instant' },
    ],
  },
};

/**
 * SQL of a typed field of the event's new item `e->'n'`. A vendor timestamp is UTC without a
 * zone; an instant listed in the event's inexact paths `e->'x'` is not read (see `compact`).
 */
function fieldSql(c: Column): string {
  const raw = `e->'n'->>'${c.name}'`;
  if (c.type === 'text') return raw;
  if (c.type === 'numeric') return `(${raw})::numeric`;
  if (c.type === 'instant') return `CASE WHEN NOT e->'x' ? '${c.name}' THEN (${raw})::timestamptz END`;
  return `(${raw} || '+00')::timestamptz`;
}

/** The names of a table's `instant` columns. */
const instantFields = (table: FeedTable) =>
  TYPED_COLUMNS[table].typed.filter((c) => c.type === 'instant').map((c) => c.name);

/**
 * The item's columns as the feed writes them, each with its SQL over a compact event `e` (see
 * `compact`): typed fields, `record`, `inexact_fields` and `written_at`. The reconcile compares
 * and repairs with the same expressions (src/sql/reconcile.ts), so the conversion exists once.
 */
export function itemColumns(table: FeedTable): { name: string; sql: string }[] {
  return [
    ...TYPED_COLUMNS[table].typed.map((c) => ({ name: c.name, sql: fieldSql(c) })),
    { name: 'record', sql: `e->'n'` },
    { name: 'inexact_fields', sql: `ARRAY(SELECT jsonb_array_elements_text(e->'x'))` },
    { name: 'written_at', sql: `(e->>'w')::timestamptz` },
  ];
}

/**
 * The repair rule, for the row `t` and the change `EXCLUDED`: a row a repair wrote
 * (`repaired_at`, src/sql/reconcile.ts) takes only a change made since the repair read the item.
 * A change's time is DynamoDB's approximate one (whole seconds on AWS, whole minutes on DynamoDB
 * Local), so it is compared to the minute; within that minute the item's own write time
 * (`written_at`, the sync's synced_at in ms) decides where both carry it. docs/change-feed.md,
 * "Order and versions".
 */
const MADE_AFTER_REPAIR = `(t.repaired_at IS NULL OR (EXCLUDED.changed_at >= date_trunc('minute', t.repaired_at)
        AND (EXCLUDED.written_at IS NULL OR t.written_at IS NULL OR EXCLUDED.written_at > t.written_at)))`;

/**
 * `ORDER BY` of rows read from a jsonb array of compact events: every statement that writes rows
 * of a table (a stream batch, a repair, the snapshot) takes their locks in key order, so two of
 * them writing the same keys concurrently wait for each other instead of deadlocking.
 */
export function inKeyOrder(keys: readonly string[], alias = 'e'): string {
  return keys.map((k) => `${alias}->'k'->>'${k}'`).join(', ');
}

/**
 * One INSERT .. ON CONFLICT statement per table, over a jsonb array of compact events. A row
 * moves only to a higher version and, when a repair wrote it, only for a change made after the
 * repair's read (MADE_AFTER_REPAIR); an applied change clears `repaired_at`.
 */
export function upsertSql(table: FeedTable): string {
  const { keys } = TYPED_COLUMNS[table];
  const item = itemColumns(table);
  const bookkeeping = ['version', 'changed_at', 'deleted'];
  const cols = [...keys, ...item.map((c) => c.name), ...bookkeeping];
  const values = [
    ...keys.map((k) => `e->'k'->>'${k}'`),
    ...item.map((c) => c.sql),
    `(e->>'v')::numeric`,
    `(e->>'c')::timestamptz`,
    `(e->>'d')::boolean`,
  ];
  const updates = [...item.map((c) => c.name), ...bookkeeping].map((c) => `${c} = EXCLUDED.${c}`).join(', ');
  return `INSERT INTO ${table} AS t (${cols.join(', ')}, applied_at)
    SELECT ${values.join(', ')}, clock_timestamp() FROM jsonb_array_elements($1::jsonb) e
    ORDER BY ${inKeyOrder(keys)}
    ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${updates}, repaired_at = NULL, applied_at = EXCLUDED.applied_at
    WHERE t.version < EXCLUDED.version AND ${MADE_AFTER_REPAIR}`;
}

/**
 * The event as the statement reads it: key, new item as PostgreSQL can hold it (none for a
 * removal) with the paths of the fields it cannot hold (an unreadable mark among them), version,
 * times.
 */
export function compact(e: ChangeEvent): string {
  const held = e.op === 'REMOVE' || !e.new ? undefined : heldItem(e.new);
  return exactStringify({
    k: e.key,
    n: held?.item ?? null,
    x: held ? [...held.inexact, ...unreadableInstants(held.item, instantFields(e.table))] : [],
    v: e.seq,
    c: e.changedAt,
    w: e.op === 'REMOVE' ? null : (e.writtenAt ?? null),
    d: e.op === 'REMOVE',
  });
}
