/** The simulator's data: what it generates from a seed, and what its seeded mutations change and report. */
import assert from 'node:assert/strict';
import { parseVendorTimestamp, saleSchema } from '../src/vendor-api/schemas.js';
import type { Dataset, SaleRecord } from '../src/sim/index.js';
import { DEFAULT_BRANCHES } from '../src/shared/branches.js';
import { BRANCH_NAMES, generateDataset } from '../src/sim/index.js';
import { ANCHOR, HOUR, field, get, listOf, useSimulators } from './helpers/sim-client.js';

describe('simulator dataset', () => {
  it('has the 13 named branches in order, then generated names', () => {
    const ds = generateDataset({ anchorTime: ANCHOR });
    assert.deepEqual(
      ds.branches.map((b) => b.branch_name),
      [...DEFAULT_BRANCHES], // the 13 branches of the original pipeline, in its order
    );
    assert.deepEqual(
      BRANCH_NAMES,
      ds.branches.map((b) => b.branch_name),
    );
    const more = generateDataset({
      anchorTime: ANCHOR,
      branches: 15,
      employeesPerBranch: 2,
      salesPerSalesperson: 1,
    });
    assert.deepEqual(
      more.branches.slice(12).map((b) => b.branch_name),
      ['New York', 'Branch 14', 'Branch 15'],
    );
  });

  it('generates consistent ids, head counts, occupations, extra fields and timestamps', () => {
    const ds = generateDataset({ anchorTime: ANCHOR, extraFields: 3, salesSpanHours: 5 });
    const branchIds = ds.branches.map((b) => b.id);
    assert.equal(new Set(branchIds).size, branchIds.length);
    ds.branches.forEach((b, i) => assert.notEqual(b.id, i));
    const employeeIds = [...ds.employeesByBranch.values()].flat().map((e) => e.id);
    assert.equal(new Set(employeeIds).size, employeeIds.length, 'employee ids are globally unique');
    const saleIds = ds.allSales().map((s) => s.id);
    assert.equal(new Set(saleIds).size, saleIds.length, 'sale ids are globally unique');
    assert.equal(saleIds.length, 13 * 6 * 20);
    for (const branch of ds.branches) {
      const employees = ds.employeesByBranch.get(branch.id) ?? [];
      assert.equal(branch.employees, employees.length);
      assert.equal(employees.length, 12);
      assert.deepEqual(
        employees.map((e) => e.id),
        [...employees.map((e) => e.id)].sort((a, b) => a - b),
      );
      assert.equal(ds.salespersonsOf(branch.id).length, 6);
      assert.ok(employees.some((e) => e.occupation !== 'salesperson'));
      assert.equal(ds.branchByName(branch.branch_name), branch);
      for (const record of [branch, ...employees]) {
        assert.deepEqual(
          Object.keys(record).filter((k) => k.startsWith('extra_')),
          ['extra_1', 'extra_2', 'extra_3'],
        );
      }
    }
    for (const [employeeId, sales] of ds.salesBySalesperson) {
      assert.ok(ds.branchesOf(employeeId).length === 1);
      assert.equal(sales.length, 20);
      for (const sale of sales) {
        const ms = parseVendorTimestamp(sale.transaction_timestamp);
        assert.ok(ms !== undefined && ms >= ANCHOR - 5 * HOUR && ms < ANCHOR, sale.transaction_timestamp);
        assert.match(sale.amount, /^\d+\.\d{2}$/);
        assert.equal(typeof sale['extra_3'], 'string');
      }
    }
    assert.equal(ds.branchByName('scranton'), undefined);
  });

  it('rounds the salesperson share per branch', () => {
    const ds = generateDataset({ anchorTime: ANCHOR, employeesPerBranch: 5, salespersonShare: 0.3 });
    for (const b of ds.branches) assert.equal(ds.salespersonsOf(b.id).length, 2);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = generateDataset({ seed: 42, anchorTime: ANCHOR, extraFields: 1 });
    const b = generateDataset({ seed: 42, anchorTime: ANCHOR, extraFields: 1 });
    const c = generateDataset({ seed: 43, anchorTime: ANCHOR, extraFields: 1 });
    assert.deepStrictEqual(a, b);
    assert.notDeepStrictEqual(a.employeesByBranch, c.employeesByBranch);
    assert.notDeepStrictEqual(a.salesBySalesperson, c.salesBySalesperson);
  });

  it('rejects invalid options naming them', () => {
    assert.throws(() => generateDataset({ branches: 0 }), /branches must be an integer >= 1/);
    assert.throws(
      () => generateDataset({ salespersonShare: 2 }),
      /salespersonShare must be a number in 0..1/,
    );
  });
});

describe('simulator mutation', () => {
  const start = useSimulators();
  type Report = ReturnType<Dataset['mutate']>;

  /** Compares the dataset before and after and checks that the report names exactly the differences. */
  function checkReport(before: Dataset, after: Dataset, report: Report): void {
    checkSales(before, after, report);
    checkMemberships(before, after, report);
    checkBranches(before, after, report);
  }

  /** New sales and corrected sales are exactly the reported ones, and no sale vanished. */
  function checkSales(before: Dataset, after: Dataset, report: Report): void {
    const owner = (ds: Dataset): Map<number, number> => {
      const m = new Map<number, number>();
      for (const [employeeId, sales] of ds.salesBySalesperson) for (const s of sales) m.set(s.id, employeeId);
      return m;
    };
    const salesBefore = new Map(before.allSales().map((s) => [s.id, s]));
    const salesAfter = new Map(after.allSales().map((s) => [s.id, s]));
    const ownerAfter = owner(after);
    assert.deepEqual(owner(before), new Map([...ownerAfter].filter(([id]) => salesBefore.has(id))));
    for (const id of salesBefore.keys()) assert.ok(salesAfter.has(id), `sale ${id} vanished`);
    const added = [...salesAfter.keys()].filter((id) => !salesBefore.has(id));
    assert.deepEqual(
      added.map((saleId) => ({ saleId, employeeId: ownerAfter.get(saleId) })),
      report.newSales,
    );
    for (const { saleId } of report.newSales) {
      const ms = parseVendorTimestamp(salesAfter.get(saleId)?.transaction_timestamp ?? '');
      assert.ok(ms !== undefined && ms >= report.now - HOUR && ms < report.now);
      assert.ok(saleSchema.safeParse(salesAfter.get(saleId)).success);
    }
    const changed = [...salesBefore]
      .filter(([id, s]) => JSON.stringify(s) !== JSON.stringify(salesAfter.get(id)))
      .map(([id]) => id);
    assert.deepEqual(
      changed.sort((a, b) => a - b),
      report.correctedSales.map((c) => c.saleId).sort((a, b) => a - b),
    );
    for (const { saleId, employeeId } of report.correctedSales) {
      const was = salesBefore.get(saleId) as SaleRecord;
      const now = salesAfter.get(saleId) as SaleRecord;
      assert.equal(ownerAfter.get(saleId), employeeId);
      assert.notEqual(was.amount, now.amount);
      assert.notEqual(was.quantity, now.quantity);
      assert.deepEqual({ ...now, amount: was.amount, quantity: was.quantity }, was);
    }
  }

  /** Employee memberships added and removed are exactly the reported transfers and departures. */
  function checkMemberships(before: Dataset, after: Dataset, report: Report): void {
    const memberships = (ds: Dataset): Set<string> => {
      const s = new Set<string>();
      for (const [branchId, list] of ds.employeesByBranch) for (const e of list) s.add(`${e.id}@${branchId}`);
      return s;
    };
    const mBefore = memberships(before);
    const mAfter = memberships(after);
    const expectAdded = report.transfers.map((t) => `${t.employeeId}@${t.toBranchId}`).sort();
    const expectRemoved = [
      ...report.departures.map((d) => `${d.employeeId}@${d.branchId}`),
      ...report.transfers.filter((t) => !t.keptUnderOld).map((t) => `${t.employeeId}@${t.fromBranchId}`),
    ].sort();
    assert.deepEqual([...mAfter].filter((m) => !mBefore.has(m)).sort(), expectAdded);
    assert.deepEqual([...mBefore].filter((m) => !mAfter.has(m)).sort(), expectRemoved);
    for (const t of report.transfers) {
      const record = after.employeesByBranch.get(t.toBranchId)?.find((e) => e.id === t.employeeId);
      const old = before.employeesByBranch.get(t.fromBranchId)?.find((e) => e.id === t.employeeId);
      assert.deepEqual(record, old);
      assert.equal(record?.occupation, 'salesperson');
    }
    for (const d of report.departures)
      assert.ok(after.salesBySalesperson.has(d.employeeId) === before.salesBySalesperson.has(d.employeeId));
    // Every record that is still listed is unchanged.
    for (const [branchId, list] of after.employeesByBranch) {
      for (const e of list) {
        const prior = [...before.employeesByBranch.values()].flat().find((x) => x.id === e.id);
        assert.deepEqual(e, prior, `employee ${e.id} under ${branchId} changed`);
      }
      assert.deepEqual(
        list.map((e) => e.id),
        list.map((e) => e.id).sort((a, b) => a - b),
      );
    }
  }

  /** Changed branch fields are exactly the reported ones; head counts follow the lists. */
  function checkBranches(before: Dataset, after: Dataset, report: Report): void {
    const branchDiff = after.branches
      .map((b) => {
        const was = before.branchById(b.id) ?? {};
        const fields = Object.keys({ ...was, ...b })
          .filter((k) => (was as Record<string, unknown>)[k] !== b[k])
          .sort();
        return { branchId: b.id, fields };
      })
      .filter((c) => c.fields.length > 0);
    assert.deepEqual(branchDiff, report.branchChanges);
    for (const b of after.branches) assert.equal(b.employees, after.employeesByBranch.get(b.id)?.length);
  }

  it('changes exactly what it reports (transfers kept under both branches)', () => {
    const ds = generateDataset({ anchorTime: ANCHOR, extraFields: 2 });
    const before = ds.clone();
    assert.deepStrictEqual(before, ds);
    const report = ds.mutate({
      seed: 9,
      now: ANCHOR + 3 * HOUR + 123,
      newSales: 4,
      correctedSales: 3,
      transfers: 2,
      departures: 2,
      branchChanges: 3,
    });
    assert.equal(report.newSales.length, 4);
    assert.equal(report.correctedSales.length, 3);
    assert.equal(report.transfers.length, 2);
    assert.equal(report.departures.length, 2);
    assert.ok(report.branchChanges.length >= 3);
    for (const t of report.transfers) {
      assert.ok(t.keptUnderOld);
      assert.deepEqual(
        ds.branchesOf(t.employeeId),
        [t.fromBranchId, t.toBranchId].sort((a, b) => a - b),
      );
      assert.ok(
        report.branchChanges.some((c) => c.branchId === t.toBranchId && c.fields.includes('employees')),
      );
    }
    checkReport(before, ds, report);
  });

  it('changes exactly what it reports (transfers removed from the old branch), repeatedly', () => {
    const ds = generateDataset({ anchorTime: ANCHOR, seed: 3 });
    for (let round = 0; round < 5; round++) {
      const before = ds.clone();
      const report = ds.mutate({
        seed: round,
        now: ANCHOR + round * HOUR,
        keepUnderOld: false,
        transfers: 3,
      });
      for (const t of report.transfers) assert.deepEqual(ds.branchesOf(t.employeeId), [t.toBranchId]);
      checkReport(before, ds, report);
    }
  });

  it('is deterministic for a mutation seed', () => {
    const a = generateDataset({ anchorTime: ANCHOR });
    const b = a.clone();
    assert.deepEqual(a.mutate({ seed: 5, now: ANCHOR }), b.mutate({ seed: 5, now: ANCHOR }));
    assert.deepStrictEqual(a, b);
  });

  it('serves the mutated data, and departed salespersons keep their sales', async () => {
    const sim = await start();
    const report = sim.mutate({ seed: 1, now: ANCHOR, departures: 0, newSales: 1 });
    const sale = report.newSales[0];
    assert.ok(sale);
    const reply = await get(sim, `/sales?salespersonsID=${sale.employeeId}`);
    assert.ok(listOf('/sales', reply.json).some((s) => field(s, 'id') === sale.saleId));
    const t = report.transfers[0];
    assert.ok(t);
    const under = await get(sim, `/employees?branchID=${t.toBranchId}`);
    assert.ok(listOf('/employees', under.json).some((e) => field(e, 'id') === t.employeeId));

    const dep = sim.mutate({ seed: 2, now: ANCHOR, departures: 12 * 13, newSales: 0, transfers: 0 });
    const gone = dep.departures.find((d) => sim.dataset.salesBySalesperson.has(d.employeeId));
    assert.ok(gone);
    const branch = await get(sim, `/employees?branchID=${gone.branchId}`);
    assert.ok(!listOf('/employees', branch.json).some((e) => field(e, 'id') === gone.employeeId));
    assert.equal((await get(sim, `/sales?salespersonsID=${gone.employeeId}`)).status, 200);
  });
});
