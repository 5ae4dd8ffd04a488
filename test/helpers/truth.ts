/**
 * The comparison of the real tables with what they should hold, field by field. What they
 * should hold is computed from the simulator's dataset by src/sim/expected.ts, the same
 * function the benchmark uses; it is re-exported here for the tests.
 */
import assert from 'node:assert/strict';
import { type ExpectedTables, TABLES, expectedTables, itemKey } from '../../src/sim/expected.js';
import type { Store } from '../../src/store/index.js';

export { expectedTables };

/** Attributes the pipeline adds to every item (keys are checked separately). */
const PIPELINE_ATTRIBUTES = ['content_hash', 'synced_at', 'synced_by', 'synced_run', 'fetched_at'];

/** Scans the three tables and asserts they hold exactly the expected items, field by field. */
export async function assertTablesMatch(store: Store, expected: ExpectedTables): Promise<void> {
  for (const table of TABLES) {
    const items = await store.scanAll(table);
    const actual = new Map<string, Record<string, unknown>>();
    for (const item of items) {
      const copy = { ...item };
      for (const a of PIPELINE_ATTRIBUTES) {
        assert.ok(a in copy || a === 'synced_run', `${table} item ${itemKey(table, item)} lacks ${a}`);
        delete copy[a];
      }
      // branch_id on a sale is the branch it was reached through: checked by the caller when it matters.
      if (table === 'sales') delete copy.branch_id;
      actual.set(itemKey(table, item), copy);
    }
    assert.deepEqual(
      [...actual.keys()].sort(),
      [...expected[table].keys()].sort(),
      `${table}: the stored keys differ from the simulator's`,
    );
    for (const [key, want] of expected[table])
      assert.deepEqual(actual.get(key), want, `${table} item ${key} differs`);
  }
}
