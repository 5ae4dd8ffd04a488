/**
 * Compares the PostgreSQL copy with the DynamoDB tables, field by field: every item has a row
 * (and no row is left without an item), the row's `record` is the item (every attribute, numbers
 * by value), and every typed column holds its field's value. Used by the tests, the benchmark
 * and operators' checks (`differences` empty: the copy is exact).
 */
import type pg from 'pg';
import { parseExactJson, stableStringify } from '../shared/exact-json.js';
import type { Store } from '../store/index.js';
import { TABLE_KEYS } from '../store/tables.js';
import { FEED_TABLES, type FeedTable } from '../shared/change-event.js';
import { TYPED_COLUMNS } from './apply.js';

function keyOf(table: FeedTable, row: Record<string, unknown>): string {
  const k: { pk: string; sk?: string } = TABLE_KEYS[table];
  return k.sk ? `${String(row[k.pk])}|${String(row[k.sk])}` : String(row[k.pk]);
}

/** A number's canonical text, or the text itself when it is not a number. */
function numberText(text: string): string {
  try {
    return stableStringify(parseExactJson(text));
  } catch {
    return text;
  }
}

/** A typed column's value as text comparable with the field's (numbers canonical, times as ms). */
function typedText(type: string, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (type === 'timestamptz') {
    if (v instanceof Date) return String(v.getTime());
    return typeof v === 'string' ? String(Date.parse(`${v.replace(' ', 'T')}Z`)) : stableStringify(v);
  }
  if (type === 'numeric') return typeof v === 'string' ? numberText(v) : stableStringify(v);
  return typeof v === 'string' ? v : stableStringify(v);
}

/** Differences between one table's items and rows (at most `limit` described). */
async function tableDifferences(
  store: Store,
  pool: pg.Pool,
  table: FeedTable,
  limit: number,
): Promise<string[]> {
  const out: string[] = [];
  const items = new Map((await store.scanAll(table)).map((i) => [keyOf(table, i), i]));
  const typed = TYPED_COLUMNS[table].typed;
  const cols = typed.map((c) => c.name).join(', ');
  const rows = (
    await pool.query<Record<string, unknown>>(
      `SELECT ${TYPED_COLUMNS[table].keys.join(', ')}, record::text AS record_text, ${cols} FROM ${table} WHERE NOT deleted`,
    )
  ).rows;
  const seen = new Set<string>();
  for (const row of rows) {
    const key = keyOf(table, row);
    seen.add(key);
    const item = items.get(key);
    if (!item) {
      out.push(`${table} ${key}: a row without an item`);
      continue;
    }
    const record = parseExactJson(String(row.record_text)) as Record<string, unknown>;
    if (stableStringify(record) !== stableStringify(item))
      out.push(`${table} ${key}: the record differs from the item`);
    for (const c of typed) {
      const want = typedText(c.type, item[c.name]);
      const got = typedText(c.type, row[c.name]);
      if (want !== got) out.push(`${table} ${key}: column ${c.name} is ${got}, the item has ${want}`);
    }
  }
  for (const key of items.keys()) if (!seen.has(key)) out.push(`${table} ${key}: an item without a row`);
  return out.slice(0, limit);
}

/** Every difference between the copy and DynamoDB (empty when they are equal), at most `limit` per table. */
export async function copyDifferences(store: Store, pool: pg.Pool, limit = 20): Promise<string[]> {
  const out: string[] = [];
  for (const table of FEED_TABLES) out.push(...(await tableDifferences(store, pool, table, limit)));
  return out;
}
