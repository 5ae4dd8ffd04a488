/**
 * The truth helpers against the real pipeline (time-skipping server, DynamoDB Local,
 * simulator): after the simulator's history moves, a run leaves exactly "every record ever
 * listed" in the tables, voided sales with `voided_at` and departed memberships with `left_at`.
 */
import assert from 'node:assert/strict';
import { DEFAULT_BRANCHES } from '../src/shared/branches.js';
import { salesSyncWorkflow } from '../src/workflows/index.js';
import type { SalesSyncInput, SyncSummary } from '../src/workflows/types.js';
import { type Pipeline, useStack } from './helpers/harness.js';
import { assertTablesMatch, expectedTables } from './helpers/truth.js';

const NOTHING_ELSE = { newSales: 0, correctedSales: 0, transfers: 0, departures: 0, branchChanges: 0 };

describe('what the tables hold once history moves (time-skipping server, DynamoDB Local, simulator)', function () {
  this.timeout(240_000);
  const stack = useStack('time-skipping', { seed: 13, employeesPerBranch: 6, salesPerSalesperson: 10 });

  let runs = 0;
  function run(p: Pipeline, input: SalesSyncInput): Promise<SyncSummary> {
    return stack.env.client.workflow.execute(salesSyncWorkflow, {
      taskQueue: p.queues.workflows,
      workflowId: `test-truth-${p.queues.workflows}-${++runs}`,
      args: [{ vendorTaskQueue: p.queues.vendor, feedTaskQueue: null, ...input }],
    });
  }

  it('voids, late sales, old corrections and departures: the tables hold every record ever listed', async () => {
    const p = await stack.pipeline({ salesSpanHours: 20 * 24 });
    await p.withWorkers(() => run(p, { window: 'full' }));
    await assertTablesMatch(p.store, expectedTables(p.sim.dataset, DEFAULT_BRANCHES));

    const moved = p.sim.mutate({
      seed: 2,
      ...NOTHING_ELSE,
      voids: 3,
      lateSales: 2,
      oldCorrections: 2,
      departures: 2,
    });
    const owners = moved.voids.map((v) => v.employeeId);
    assert.equal(new Set(owners).size, owners.length, 'one void per salesperson: under the void guard');
    await p.withWorkers(() => run(p, { window: 'full' }));
    await assertTablesMatch(
      p.store,
      expectedTables(p.sim.dataset, DEFAULT_BRANCHES, undefined, { include: 'ever' }),
    );

    p.sim.mutate({ seed: 3, ...NOTHING_ELSE, reappearances: 3 });
    await p.withWorkers(() => run(p, { window: 'full' }));
    const ever = expectedTables(p.sim.dataset, DEFAULT_BRANCHES, undefined, { include: 'ever' });
    assert.ok(![...ever.sales.values()].some((i) => 'voided_at' in i), 'every void came back');
    await assertTablesMatch(p.store, ever);
  });
});
