/**
 * What the tables should hold, computed from the simulator's dataset, and the comparison
 * of the real tables with it, field by field.
 */
import assert from 'node:assert/strict';
import type { Dataset } from '../../src/sim/index.js';
import type { Store } from '../../src/store/index.js';

/** Attributes the pipeline adds to every item (keys are checked separately). */
const PIPELINE_ATTRIBUTES = ['content_hash', 'synced_at', 'synced_by', 'synced_run'];

/** Expected items per table, by key, for a sync of `branchNames` (sales in [from, to) when given). */
export function expectedTables(
  ds: Dataset,
  branchNames: readonly string[],
  window?: { from: string; to: string },
): Record<'branches' | 'salespersons' | 'sales', Map<string, Record<string, unknown>>> {
  const branches = new Map<string, Record<string, unknown>>();
  const salespersons = new Map<string, Record<string, unknown>>();
  const sales = new Map<string, Record<string, unknown>>();
  const ts = (iso: string) => iso.slice(0, 19).replace('T', ' ');
  for (const name of branchNames) {
    const b = ds.branchByName(name);
    if (!b) continue;
    branches.set(String(b.id), { ...b, branch_id: String(b.id) });
    for (const sp of ds.salespersonsOf(b.id)) {
      salespersons.set(`${sp.id}|${b.id}`, { ...sp, employee_id: String(sp.id), branch_id: String(b.id) });
      for (const sale of ds.salesBySalesperson.get(sp.id) ?? []) {
        if (
          window &&
          !(sale.transaction_timestamp >= ts(window.from) && sale.transaction_timestamp < ts(window.to))
        )
          continue;
        sales.set(`${sale.id}|${sp.id}`, { ...sale, sale_id: String(sale.id), employee_id: String(sp.id) });
      }
    }
  }
  return { branches, salespersons, sales };
}

function keyOf(table: 'branches' | 'salespersons' | 'sales', item: Record<string, unknown>): string {
  if (table === 'branches') return String(item.branch_id);
  if (table === 'salespersons') return `${String(item.employee_id)}|${String(item.branch_id)}`;
  return `${String(item.sale_id)}|${String(item.employee_id)}`;
}

/** Scans the three tables and asserts they hold exactly the expected items, field by field. */
export async function assertTablesMatch(
  store: Store,
  expected: ReturnType<typeof expectedTables>,
): Promise<void> {
  for (const table of ['branches', 'salespersons', 'sales'] as const) {
    const items = await store.scanAll(table);
    const actual = new Map<string, Record<string, unknown>>();
    for (const item of items) {
      const copy = { ...item };
      for (const a of PIPELINE_ATTRIBUTES) {
        assert.ok(a in copy || a === 'synced_run', `${table} item ${keyOf(table, item)} lacks ${a}`);
        delete copy[a];
      }
      // branch_id on a sale is the branch it was reached through: checked by the caller when it matters.
      if (table === 'sales') delete copy.branch_id;
      actual.set(keyOf(table, item), copy);
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
