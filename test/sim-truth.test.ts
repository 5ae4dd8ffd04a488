/**
 * What the tables must hold (src/sim/expected.ts, test/helpers/truth.ts) once history moves:
 * "the records listed now" (the default, as before) and "every record ever listed", where a
 * voided sale is kept with `voided_at` and a departed membership with `left_at`.
 */
import assert from 'node:assert/strict';
import { ANY_INSTANT, expectedRecords, expectedTables } from '../src/sim/expected.js';
import { generateDataset } from '../src/sim/index.js';
import { assertTableMatches } from './helpers/truth.js';
import { ANCHOR, HOUR } from './helpers/sim-client.js';

const NOTHING_ELSE = { newSales: 0, correctedSales: 0, transfers: 0, departures: 0, branchChanges: 0 };
const NAMES = ['Scranton', 'Akron', 'Nashua'];

/** A stored item as the pipeline writes it: the expected fields plus its own attributes. */
function stored(item: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...item, ...extra };
  if (copy.voided_at === ANY_INSTANT) copy.voided_at = '2024-01-15T12:00:00.000Z';
  if (copy.left_at === ANY_INSTANT) copy.left_at = '2024-01-15T12:00:00.000Z';
  return { ...copy, content_hash: 'h', synced_at: 'now', synced_by: 'w', synced_run: 'r', fetched_at: 'now' };
}

describe('what the tables must hold when history moves', () => {
  it('yields voided sales flagged, only when asked for every record ever listed, in the window', () => {
    const ds = generateDataset({ anchorTime: ANCHOR });
    const plainBefore = [...expectedRecords(ds, NAMES)];
    const report = ds.mutate({ seed: 3, now: ANCHOR, ...NOTHING_ELSE, voids: 60 });
    const voided = new Set(report.voids.map((v) => `${v.saleId}|${v.employeeId}`));
    const listedNow = [...expectedRecords(ds, NAMES)];
    assert.deepEqual(
      listedNow.map((e) => e.key),
      plainBefore.map((e) => e.key).filter((k) => !voided.has(k)),
      'the default: what is listed now',
    );
    const ever = [...expectedRecords(ds, NAMES, undefined, { include: 'ever' })];
    assert.deepEqual(
      ever.map((e) => e.key).sort(),
      plainBefore.map((e) => e.key).sort(),
      'ever: the voided ones too',
    );
    const flagged = ever.filter((e) => e.table === 'sales' && e.voided === true).map((e) => e.key);
    assert.ok(flagged.length > 0 && flagged.length < voided.size, 'some voids are of the three branches');
    assert.ok(flagged.every((k) => voided.has(k)));

    const window = { from: new Date(ANCHOR - 8 * HOUR).toISOString(), to: new Date(ANCHOR).toISOString() };
    const inWindow = expectedTables(ds, NAMES, window, { include: 'ever' });
    for (const key of flagged) {
      const v = report.voids.find((x) => `${x.saleId}|${x.employeeId}` === key);
      const inside = (v?.transactionTimestamp ?? '') >= window.from.replace('T', ' ').slice(0, 19);
      assert.equal(inWindow.sales.has(key), inside, key);
      if (inside) assert.equal(inWindow.sales.get(key)?.voided_at, ANY_INSTANT);
    }
    const listedTables = expectedTables(ds, NAMES);
    for (const item of listedTables.sales.values()) assert.ok(!('voided_at' in item));
  });

  it('yields departed memberships flagged, with their sales, only for every record ever listed', () => {
    const ds = generateDataset({ anchorTime: ANCHOR });
    const report = ds.mutate({ seed: 4, now: ANCHOR, ...NOTHING_ELSE, departures: 40 });
    const names = ds.branches.map((b) => b.branch_name);
    const left = report.departures.filter(
      (d) =>
        ds.formerMembers.get(d.branchId)?.find((e) => e.id === d.employeeId)?.occupation === 'salesperson',
    );
    assert.ok(left.length > 0, 'some departures are of salespersons');
    const listed = expectedTables(ds, names);
    const ever = expectedTables(ds, names, undefined, { include: 'ever' });
    for (const d of left) {
      const key = `${d.employeeId}|${d.branchId}`;
      assert.ok(!listed.salespersons.has(key));
      assert.equal(ever.salespersons.get(key)?.left_at, ANY_INSTANT);
      for (const sale of ds.salesBySalesperson.get(d.employeeId) ?? [])
        assert.ok(ever.sales.has(`${sale.id}|${d.employeeId}`));
    }
    assert.equal(ever.salespersons.size, listed.salespersons.size + left.length);
  });

  it('assertTableMatches wants voided_at exactly where a sale is voided, as an ISO instant', () => {
    const ds = generateDataset({ anchorTime: ANCHOR });
    const report = ds.mutate({ seed: 3, now: ANCHOR, ...NOTHING_ELSE, voids: 60 });
    const ever = expectedTables(ds, NAMES, undefined, { include: 'ever' });
    const items = [...ever.sales.values()].map((i) => stored(i));
    assertTableMatches('sales', items, ever.sales);
    const voidedKey = [...ever.sales.entries()].find(([, i]) => i.voided_at === ANY_INSTANT)?.[0];
    assert.ok(voidedKey && report.voids.length > 0);
    const [saleId] = voidedKey.split('|');
    const without = items.map((i) => (String(i.sale_id) === saleId ? { ...i, voided_at: undefined } : i));
    for (const i of without) if (i.voided_at === undefined) delete i.voided_at;
    assert.throws(() => assertTableMatches('sales', without, ever.sales), /sales item .* differs/);
    const garbage = items.map((i) => (String(i.sale_id) === saleId ? { ...i, voided_at: 'yesterday' } : i));
    assert.throws(() => assertTableMatches('sales', garbage, ever.sales), /voided_at/);
    // The default (listed now) leaves a stored voided sale out: its key is one too many.
    assert.throws(
      () => assertTableMatches('sales', items, expectedTables(ds, NAMES).sales),
      /stored keys differ/,
    );
    const listedItems = [...expectedTables(ds, NAMES).sales.values()].map((i) => stored(i));
    assertTableMatches('sales', listedItems, expectedTables(ds, NAMES).sales);
  });
});
