/**
 * The statement that applies change events to one table of the copy, and the compact form of an
 * event it reads. Version rule and repair rule: docs/change-feed.md, "Order and versions".
 */
import { exactStringify } from '../shared/exact-json.js';
import type { ChangeEvent, FeedTable } from '../shared/change-event.js';
import { heldItem } from './values.js';

/** A typed column of the copy. */
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
 * One INSERT .. ON CONFLICT statement per table, over a jsonb array of compact events. A row
 * moves only to a higher version, and a row a repair wrote (`repaired_at`) only for a change
 * made in or after the second the repair read the item (the stream's `changed_at` has second
 * precision); an applied change clears `repaired_at`.
 */
export function upsertSql(table: FeedTable): string {
  const { keys, typed } = TYPED_COLUMNS[table];
  const bookkeeping = ['record', 'inexact_fields', 'version', 'changed_at', 'written_at', 'deleted'];
  const cols = [...keys, ...typed.map((c) => c.name), ...bookkeeping];
  const values = [
    ...keys.map((k) => `e->'k'->>'${k}'`),
    ...typed.map(fieldSql),
    `e->'n'`,
    `ARRAY(SELECT jsonb_array_elements_text(e->'x'))`,
    `(e->>'v')::numeric`,
    `(e->>'c')::timestamptz`,
    `(e->>'w')::timestamptz`,
    `(e->>'d')::boolean`,
  ];
  const updates = [...typed.map((c) => c.name), ...bookkeeping].map((c) => `${c} = EXCLUDED.${c}`).join(', ');
  return `INSERT INTO ${table} AS t (${cols.join(', ')}, applied_at)
    SELECT ${values.join(', ')}, clock_timestamp() FROM jsonb_array_elements($1::jsonb) e
    ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${updates}, repaired_at = NULL, applied_at = EXCLUDED.applied_at
    WHERE t.version < EXCLUDED.version
      AND (t.repaired_at IS NULL OR EXCLUDED.changed_at >= date_trunc('second', t.repaired_at))`;
}

/**
 * The event as the statement reads it: key, new item as PostgreSQL can hold it (none for a
 * removal) with the paths of the fields it cannot hold, version, times.
 */
export function compact(e: ChangeEvent): string {
  const held = e.op === 'REMOVE' || !e.new ? undefined : heldItem(e.new);
  return exactStringify({
    k: e.key,
    n: held?.item ?? null,
    x: held?.inexact ?? [],
    v: e.seq,
    c: e.changedAt,
    w: e.op === 'REMOVE' ? null : (e.writtenAt ?? null),
    d: e.op === 'REMOVE',
  });
}
