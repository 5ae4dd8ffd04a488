/**
 * The cascade end to end on real servers: Temporal's time-skipping test server, DynamoDB
 * Local and the vendor simulator.
 */
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { DEFAULT_BRANCHES } from '../src/shared/branches.js';
import { branchWorkflowId, salespersonWorkflowId, windowScope } from '../src/shared/ids.js';
import { itemsWritten } from '../src/shared/summary.js';
import { requestsNeeded } from '../src/sim/expected.js';
import { salesSyncWorkflow } from '../src/workflows/index.js';
import type { SalesSyncInput, SyncSummary } from '../src/workflows/types.js';
import { type Pipeline, useStack } from './helpers/harness.js';
import { syncedBefore } from './helpers/synced-before.js';
import { assertTablesMatch, expectedTables } from './helpers/truth.js';

describe('cascading sync (time-skipping server, DynamoDB Local, simulator)', function () {
  this.timeout(180_000);
  const stack = useStack('time-skipping', { seed: 11, employeesPerBranch: 6, salesPerSalesperson: 8 });
  const pipeline = stack.pipeline;

  let runs = 0;
  function run(p: Pipeline, input: SalesSyncInput): Promise<SyncSummary> {
    return stack.env.client.workflow.execute(salesSyncWorkflow, {
      taskQueue: p.queues.workflows,
      workflowId: `test-run-${p.queues.workflows}-${++runs}`,
      // No feed worker polls in these tests: no sync_runs row (an abandoned child on an unpolled
      // queue would keep the time-skipping server from skipping time).
      args: [{ vendorTaskQueue: p.queues.vendor, feedTaskQueue: null, ...input }],
    });
  }

  it('a full run stores exactly the simulator data, field by field', async () => {
    const p = await pipeline({ extraFields: 2 });
    const summary = await p.withWorkers(() => run(p, { window: 'full' }));
    await assertTablesMatch(p.store, expectedTables(p.sim.dataset, DEFAULT_BRANCHES));
    const expected = expectedTables(p.sim.dataset, DEFAULT_BRANCHES);
    assert.equal(summary.branchesSynced, 13);
    assert.equal(summary.counts.branches.inserted, 13);
    assert.equal(summary.counts.salespersons.inserted, expected.salespersons.size);
    assert.equal(summary.counts.sales.inserted, expected.sales.size);
    assert.equal(summary.counts.sales.setAside, 0);
    assert.deepEqual(summary.failedBranches, []);
    // Sales carry the branch they were reached through.
    const sales = await p.store.scanAll('sales');
    for (const s of sales) {
      const branches = p.sim.dataset.branchesOf(Number(s.employee_id)).map(String);
      assert.ok(
        branches.includes(String(s.branch_id)),
        `sale ${String(s.sale_id)} has branch ${String(s.branch_id)}`,
      );
    }
  });

  it('a second run with nothing changed makes zero DynamoDB write requests', async () => {
    const p = await pipeline();
    await p.withWorkers(() => run(p, { window: 'full' }));
    const before = { ...p.store.clients.stats };
    const second = await p.withWorkers(() => run(p, { window: 'full' }));
    assert.equal(
      p.store.clients.stats.writeRequests - before.writeRequests,
      0,
      'write requests in the second run',
    );
    assert.equal(itemsWritten(second.counts), 0);
    assert.ok(second.counts.sales.unchanged > 0);
    assert.ok(p.store.clients.stats.readRequests > before.readRequests, 'the second run did read to compare');
  });

  it('after a known mutation exactly the changed items are written; a transfer adds the salesperson under the new branch', async () => {
    const p = await pipeline();
    await p.withWorkers(() => run(p, { window: 'full' }));
    const report = p.sim.mutate({
      seed: 5,
      newSales: 2,
      correctedSales: 2,
      transfers: 1,
      departures: 1,
      branchChanges: 1,
    });
    const itemsBefore = p.store.clients.stats.itemsWritten;
    const salesRequestsBefore = p.sim.counters().requests['/sales'];
    const summary = await p.withWorkers(() => run(p, { window: 'full' }));
    const salesRequests = p.sim.counters().requests['/sales'] - salesRequestsBefore;
    await assertTablesMatch(p.store, expectedTables(p.sim.dataset, DEFAULT_BRANCHES));

    const transfer = report.transfers[0];
    assert.ok(transfer, 'the mutation made a transfer');
    // New and corrected sales are written; the transferred salesperson gets a new item under the new branch.
    assert.equal(summary.counts.sales.inserted, report.newSales.length);
    assert.equal(summary.counts.sales.updated, report.correctedSales.length);
    assert.equal(summary.counts.salespersons.inserted, report.transfers.length);
    assert.equal(summary.counts.salespersons.updated, 0);
    assert.equal(summary.counts.branches.updated, new Set(report.branchChanges.map((b) => b.branchId)).size);
    assert.equal(
      p.store.clients.stats.itemsWritten - itemsBefore,
      itemsWritten(summary.counts),
      'items written to DynamoDB equal the items the summary says changed',
    );
    const sp = await p.store.scanAll('salespersons');
    const under = sp.filter((i) => i.employee_id === String(transfer.employeeId)).map((i) => i.branch_id);
    assert.ok(under.includes(String(transfer.toBranchId)), 'salesperson stored under the new branch');

    // The transferred salesperson is listed under both branches: its sales are fetched once.
    assert.ok(transfer.keptUnderOld, 'the transfer keeps the salesperson under the old branch too');
    const listings = expectedTables(p.sim.dataset, DEFAULT_BRANCHES).salespersons.size;
    // At most 12 sales per salesperson at the harness's page size 50: one page each.
    const needed = requestsNeeded(p.sim.dataset, DEFAULT_BRANCHES, 50);
    assert.equal(needed.uniqueSalespersons, listings - 1, 'one salesperson is listed twice');
    assert.equal(summary.salespersonsSynced, needed.uniqueSalespersons);
    assert.equal(summary.salespersonsShared, 1);
    assert.equal(needed.salesPages, needed.uniqueSalespersons);
    assert.equal(salesRequests, needed.salesPages, 'one /sales request per distinct salesperson');
  });

  it('a subset run touches only those branches; an unknown branch name shows in the summary', async () => {
    const p = await pipeline();
    const summary = await p.withWorkers(() =>
      run(p, { window: 'full', branches: ['Akron', 'Gotham', 'Utica'] }),
    );
    assert.deepEqual(summary.unknownBranches, ['Gotham']);
    assert.equal(summary.branchesSynced, 2);
    await assertTablesMatch(p.store, expectedTables(p.sim.dataset, ['Akron', 'Utica']));
  });

  it('the default window is the 24 hours before the window end; a branch synced up to its start stores only those sales', async () => {
    const anchor = Date.parse('2026-03-02T12:00:00Z');
    const p = await pipeline({ anchorTime: anchor, salesSpanHours: 48 });
    const windowEnd = new Date(anchor - 6 * 3_600_000).toISOString();
    const window = { from: new Date(Date.parse(windowEnd) - 24 * 3_600_000).toISOString(), to: windowEnd };
    // Both branches were synced before, up to the window's start (plus the watermark's overlap), and
    // their salespersons' histories read: the run reads its own window only.
    const watermark = new Date(Date.parse(window.from) + 3_600_000).toISOString();
    await syncedBefore(p.state, p.sim.dataset, ['Scranton', 'Nashua'], watermark);
    const summary = await p.withWorkers(() => run(p, { branches: ['Scranton', 'Nashua'], windowEnd }));
    assert.deepEqual(summary.completeness?.widened, []);
    assert.deepEqual(summary.window, window);
    const expected = expectedTables(p.sim.dataset, ['Scranton', 'Nashua'], window);
    assert.ok(expected.sales.size > 0 && expected.sales.size < p.sim.dataset.allSales().length);
    await assertTablesMatch(p.store, expected);
  });

  it('every level continues as new past its history budget, and the run is the same: no page fetched twice, nothing lost', async () => {
    const p = await pipeline();
    const branches = ['Akron', 'Albany', 'Buffalo', 'Utica', 'Nashua', 'Scranton'];
    const window = { from: '2000-01-01T00:00:00.000Z', to: '2099-01-01T00:00:05.000Z' };
    const workflowId = `test-can-${p.queues.workflows}`;
    const client = stack.env.client;
    // Page size 2: a salesperson's 8 sales take 4-5 pages, so every level passes 20 events.
    const handle = await client.workflow.start(salesSyncWorkflow, {
      taskQueue: p.queues.workflows,
      workflowId,
      args: [{ vendorTaskQueue: p.queues.vendor, feedTaskQueue: null, window, branches, historyBudget: 20 }],
    });
    const summary = await p.withWorkers(() => handle.result(), 2);

    const expected = expectedTables(p.sim.dataset, branches, window);
    await assertTablesMatch(p.store, expected);
    assert.equal(summary.branchesSynced, branches.length);
    assert.equal(summary.counts.branches.inserted, branches.length);
    assert.equal(summary.counts.salespersons.inserted, expected.salespersons.size);
    assert.equal(summary.counts.sales.inserted, expected.sales.size);
    assert.equal(summary.salespersonsSynced + summary.salespersonsShared, expected.salespersons.size);
    // Every request the vendor saw is a page the summary counted once: no page was fetched
    // again after a continue-as-new, and the counts survived each hand-over.
    assert.equal(p.sim.counters().total, summary.pages, 'vendor requests = pages counted');

    /** True when the latest run of `id` was started by a continue-as-new. */
    const continued = async (id: string) => {
      const history = await client.workflow.getHandle(id).fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      return Boolean(started?.continuedExecutionRunId);
    };
    assert.ok(await continued(workflowId), 'the parent continued as new');
    const scope = windowScope(window, '');
    assert.match(scope, /^2099-01-01T00:00:05Z\/\d+s$/);
    assert.ok(await continued(branchWorkflowId(scope, 'Akron')), 'a branch child continued as new');
    const akron = p.sim.dataset.branchByName('Akron');
    const sp = akron && p.sim.dataset.salespersonsOf(akron.id)[0];
    assert.ok(sp, 'Akron has a salesperson');
    assert.ok(
      await continued(salespersonWorkflowId(scope, handle.firstExecutionRunId, sp.id)),
      'a salesperson child continued as new',
    );
  });

  it('fails the run with the reason when a branch cannot be synced, and reports it', async () => {
    const p = await pipeline();
    // Every /employees answer is a 5xx: the branch child fails after its retries.
    p.sim.setFaults({ error5xx: 1 });
    const err = await p
      .withWorkers(() => run(p, { window: 'full', branches: ['Albany'] }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof WorkflowFailedError, `expected the run to fail, got ${String(err)}`);
    const summary = (err.cause as { details?: unknown[] } | undefined)?.details?.[0] as
      SyncSummary | undefined;
    assert.equal(summary?.failedBranches[0]?.branch, 'Albany');
    assert.match(summary?.failedBranches[0]?.reason ?? '', /500|502|503/);
  });
});
