/**
 * The comparison of the real tables with what they should hold, field by field. What they
 * should hold is computed from the simulator's dataset by src/sim/expected.ts, the same
 * function the benchmark uses; it is re-exported here for the tests. `expectedTables(ds,
 * names, window)` is what the vendor lists now; add `{ include: 'ever' }` for every record
 * ever listed, where a voided sale must carry `voided_at` and a departed membership `left_at`.
 */
import assert from 'node:assert/strict';
import {
  ANY_INSTANT,
  type ExpectedTables,
  TABLES,
  type TableName,
  expectedTables,
  itemKey,
} from '../../src/sim/expected.js';
import type { Store } from '../../src/store/index.js';

export { ANY_INSTANT, expectedTables };

/** Attributes the pipeline adds to every item (keys are checked separately). */
const PIPELINE_ATTRIBUTES = ['content_hash', 'synced_at', 'synced_by', 'synced_run', 'fetched_at'];
/** Marks of history the pipeline sets: an ISO instant each, compared as ANY_INSTANT. */
const HISTORY_MARKS = ['voided_at', 'left_at'];

/** Scans the three tables and asserts they hold exactly the expected items, field by field. */
export async function assertTablesMatch(store: Store, expected: ExpectedTables): Promise<void> {
  for (const table of TABLES) assertTableMatches(table, await store.scanAll(table), expected[table]);
}

/**
 * Asserts that `items` (one table's stored items) are exactly the expected ones, field by
 * field: the pipeline's own attributes must be there and are not compared, and `voided_at`
 * or `left_at` must be an ISO instant where expected (ANY_INSTANT) and absent elsewhere.
 */
export function assertTableMatches(
  table: TableName,
  items: readonly Record<string, unknown>[],
  expected: ReadonlyMap<string, Record<string, unknown>>,
): void {
  const actual = new Map<string, Record<string, unknown>>();
  for (const item of items) {
    const key = itemKey(table, item);
    const copy = { ...item };
    for (const a of PIPELINE_ATTRIBUTES) {
      assert.ok(a in copy || a === 'synced_run', `${table} item ${key} lacks ${a}`);
      delete copy[a];
    }
    for (const mark of HISTORY_MARKS) {
      if (!(mark in copy)) continue;
      const value = copy[mark];
      assert.ok(
        typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value)),
        `${table} item ${key}: ${mark} is not an ISO instant: ${JSON.stringify(value)}`,
      );
      copy[mark] = ANY_INSTANT;
    }
    // branch_id on a sale is the branch it was reached through: checked by the caller when it matters.
    if (table === 'sales') delete copy.branch_id;
    actual.set(key, copy);
  }
  assert.deepEqual(
    [...actual.keys()].sort(),
    [...expected.keys()].sort(),
    `${table}: the stored keys differ from the simulator's`,
  );
  for (const [key, want] of expected) assert.deepEqual(actual.get(key), want, `${table} item ${key} differs`);
}
