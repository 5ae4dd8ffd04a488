/**
 * The simulator's moving history (docs/vendor-api.md "History moves"): voids and their
 * reappearance, late sales, old corrections, and departures, each changing exactly what its
 * report names; the defaults leave every older mutation as it was.
 */
import assert from 'node:assert/strict';
import { parseVendorTimestamp } from '../src/vendor-api/schemas.js';
import type { Dataset, SaleRecord } from '../src/sim/index.js';
import { generateDataset } from '../src/sim/index.js';
import { ANCHOR, HOUR } from './helpers/sim-client.js';

const DAY = 24 * HOUR;
/** Every count of the older mutations at 0: a mutation that names only the history moves. */
const NOTHING_ELSE = { newSales: 0, correctedSales: 0, transfers: 0, departures: 0, branchChanges: 0 };

/** Sale id -> [employee id, record], over the listed sales. */
function listed(ds: Dataset): Map<number, [number, SaleRecord]> {
  const m = new Map<number, [number, SaleRecord]>();
  for (const [employeeId, sales] of ds.salesBySalesperson)
    for (const s of sales) m.set(s.id, [employeeId, s]);
  return m;
}

/** The listed sales' ids that differ between two datasets: [only before, only after, changed]. */
function saleDiff(before: Dataset, after: Dataset): [number[], number[], number[]] {
  const a = listed(before);
  const b = listed(after);
  const onlyBefore = [...a.keys()].filter((id) => !b.has(id)).sort((x, y) => x - y);
  const onlyAfter = [...b.keys()].filter((id) => !a.has(id)).sort((x, y) => x - y);
  const changed = [...a.keys()]
    .filter((id) => b.has(id) && JSON.stringify(a.get(id)) !== JSON.stringify(b.get(id)))
    .sort((x, y) => x - y);
  return [onlyBefore, onlyAfter, changed];
}

const ids = (changes: { saleId: number }[]) => changes.map((c) => c.saleId).sort((x, y) => x - y);

describe('simulator history moves', () => {
  it('defaults to none of them, and naming them does not change the older steps', () => {
    const plain = generateDataset({ anchorTime: ANCHOR, salesSpanHours: 40 * 24 });
    const moved = plain.clone();
    const options = { seed: 4, now: ANCHOR, newSales: 3, correctedSales: 2, transfers: 2, departures: 2 };
    const report = plain.mutate(options);
    assert.deepEqual(
      [report.voids, report.reappearances, report.lateSales, report.oldCorrections],
      [[], [], [], []],
    );
    assert.deepEqual([...plain.voidedSales.values()].flat(), []);
    const movedReport = moved.mutate({ ...options, voids: 2, lateSales: 2, oldCorrections: 2 });
    // The older steps chose the same changes; the history moves come on top.
    for (const key of ['newSales', 'correctedSales', 'transfers', 'departures', 'branchChanges'] as const)
      assert.deepEqual(movedReport[key], report[key], key);
    assert.deepEqual(moved.employeesByBranch, plain.employeesByBranch);
    assert.deepEqual(moved.branches, plain.branches);
    const [gone, added, changed] = saleDiff(plain, moved);
    assert.deepEqual(gone, ids(movedReport.voids));
    assert.deepEqual(added, ids(movedReport.lateSales));
    assert.deepEqual(changed, ids(movedReport.oldCorrections));
  });

  it('voids exactly the reported sales, keeps them aside, and brings them back unchanged', () => {
    const ds = generateDataset({ anchorTime: ANCHOR });
    const before = ds.clone();
    const report = ds.mutate({ seed: 1, now: ANCHOR, ...NOTHING_ELSE, voids: 4 });
    assert.equal(report.voids.length, 4);
    const [gone, added, changed] = saleDiff(before, ds);
    assert.deepEqual(gone, ids(report.voids));
    assert.deepEqual([added, changed], [[], []]);
    const was = listed(before);
    for (const v of report.voids) {
      const [owner, record] = was.get(v.saleId) ?? [];
      assert.equal(v.employeeId, owner);
      assert.equal(v.transactionTimestamp, record?.transaction_timestamp);
      assert.ok(ds.branchesOf(v.employeeId).length > 0, 'a void hits a salesperson some branch lists');
      assert.deepEqual(
        ds.voidedSales.get(v.employeeId)?.find((s) => s.id === v.saleId),
        record,
        'kept aside as it was',
      );
    }
    assert.deepEqual(ds.employeesByBranch, before.employeesByBranch);

    const back = ds.mutate({ seed: 2, now: ANCHOR, ...NOTHING_ELSE, reappearances: 10 });
    assert.deepEqual(ids(back.reappearances), ids(report.voids), 'only voided sales reappear, at most all');
    assert.deepEqual(
      back.reappearances,
      report.voids.slice().sort((x, y) => x.saleId - y.saleId),
    );
    assert.deepStrictEqual(
      ds.salesBySalesperson,
      before.salesBySalesperson,
      'listed again, unchanged, in order',
    );
    assert.deepEqual([...ds.voidedSales.values()].flat(), []);
    const none = ds.mutate({ seed: 3, now: ANCHOR, ...NOTHING_ELSE, reappearances: 1 });
    assert.deepEqual(none.reappearances, [], 'nothing voided, nothing to bring back');
  });

  it('lists late sales with a timestamp 3 to 30 days before now', () => {
    const ds = generateDataset({ anchorTime: ANCHOR });
    const before = ds.clone();
    const now = ANCHOR + 5 * HOUR;
    const report = ds.mutate({ seed: 5, now, ...NOTHING_ELSE, lateSales: 6 });
    assert.equal(report.lateSales.length, 6);
    const [gone, added, changed] = saleDiff(before, ds);
    assert.deepEqual([gone, changed], [[], []]);
    assert.deepEqual(added, ids(report.lateSales));
    const everId = new Set(before.allSales().map((s) => s.id));
    const after = listed(ds);
    for (const late of report.lateSales) {
      assert.ok(!everId.has(late.saleId), 'a new id');
      const [owner, record] = after.get(late.saleId) ?? [];
      assert.equal(owner, late.employeeId);
      assert.equal(record?.transaction_timestamp, late.transactionTimestamp);
      const ms = parseVendorTimestamp(late.transactionTimestamp) ?? Number.NaN;
      assert.ok(ms >= now - 30 * DAY && ms <= now - 3 * DAY, late.transactionTimestamp);
      assert.ok(ds.branchesOf(late.employeeId).length > 0);
    }
    for (const sales of ds.salesBySalesperson.values())
      assert.deepEqual(
        sales.map((s) => s.id),
        sales.map((s) => s.id).sort((x, y) => x - y),
      );
  });

  it('corrects only sales older than 7 days, and none when there are none', () => {
    const young = generateDataset({ anchorTime: ANCHOR });
    assert.deepEqual(
      young.mutate({ seed: 1, now: ANCHOR, ...NOTHING_ELSE, oldCorrections: 3 }).oldCorrections,
      [],
    );

    const ds = generateDataset({ anchorTime: ANCHOR, salesSpanHours: 14 * 24 });
    const before = ds.clone();
    const now = ANCHOR + HOUR;
    const report = ds.mutate({ seed: 6, now, ...NOTHING_ELSE, oldCorrections: 5 });
    assert.equal(report.oldCorrections.length, 5);
    const [gone, added, changed] = saleDiff(before, ds);
    assert.deepEqual([gone, added], [[], []]);
    assert.deepEqual(changed, ids(report.oldCorrections));
    const was = listed(before);
    const now2 = listed(ds);
    for (const c of report.oldCorrections) {
      const [owner, old] = was.get(c.saleId) ?? [];
      const [, fresh] = now2.get(c.saleId) ?? [];
      assert.ok(old && fresh);
      assert.equal(owner, c.employeeId);
      assert.ok((parseVendorTimestamp(old.transaction_timestamp) ?? now) < now - 7 * DAY);
      assert.notEqual(fresh.amount, old.amount);
      assert.notEqual(fresh.quantity, old.quantity);
      assert.deepEqual({ ...fresh, amount: old.amount, quantity: old.quantity }, old);
    }
  });

  it('touches each sale once per mutation, is deterministic, and clones what it keeps aside', () => {
    const ds = generateDataset({ anchorTime: ANCHOR, salesSpanHours: 20 * 24 });
    ds.mutate({ seed: 1, now: ANCHOR, ...NOTHING_ELSE, voids: 30 });
    const copy = ds.clone();
    assert.deepStrictEqual(copy, ds);
    const options = {
      seed: 7,
      now: ANCHOR,
      correctedSales: 20,
      newSales: 5,
      voids: 40,
      reappearances: 15,
      oldCorrections: 40,
      lateSales: 5,
    };
    const report = ds.mutate(options);
    assert.deepEqual(copy.mutate(options), report);
    assert.deepStrictEqual(copy, ds);
    const all = [
      ...report.newSales,
      ...report.correctedSales,
      ...report.voids,
      ...report.reappearances,
      ...report.oldCorrections,
      ...report.lateSales,
    ].map((c) => c.saleId);
    assert.equal(new Set(all).size, all.length, 'no sale in two lists');
    assert.equal(report.reappearances.length, 15);
  });

  it('rejects negative or fractional counts naming them', () => {
    const ds = generateDataset({ anchorTime: ANCHOR });
    assert.throws(() => ds.mutate({ voids: -1 }), /voids must be an integer >= 0/);
    assert.throws(() => ds.mutate({ lateSales: 1.5 }), /lateSales must be an integer >= 0/);
    assert.throws(() => ds.mutate({ reappearances: Number.NaN }), /reappearances/);
    assert.throws(() => ds.mutate({ oldCorrections: -2 }), /oldCorrections/);
  });

  it('remembers departed memberships; departures remove the membership only', () => {
    const ds = generateDataset({ anchorTime: ANCHOR });
    const before = ds.clone();
    const report = ds.mutate({ seed: 8, now: ANCHOR, ...NOTHING_ELSE, departures: 5 });
    assert.equal(report.departures.length, 5);
    assert.deepStrictEqual(ds.salesBySalesperson, before.salesBySalesperson, 'sales stay listed');
    for (const d of report.departures) {
      const record = before.employeesByBranch.get(d.branchId)?.find((e) => e.id === d.employeeId);
      assert.ok(record);
      assert.deepEqual(
        ds.formerMembers.get(d.branchId)?.find((e) => e.id === d.employeeId),
        record,
      );
      assert.ok(!ds.employeesByBranch.get(d.branchId)?.some((e) => e.id === d.employeeId));
    }
    // A transfer back under a branch it left makes it a member again, not a former one.
    const moved = ds.mutate({ seed: 9, now: ANCHOR, ...NOTHING_ELSE, transfers: 40, keepUnderOld: false });
    for (const t of moved.transfers) {
      assert.ok(!ds.formerMembers.get(t.toBranchId)?.some((e) => e.id === t.employeeId));
      assert.ok(ds.formerMembers.get(t.fromBranchId)?.some((e) => e.id === t.employeeId));
    }
  });
});
