/**
 * Process faults ("Survive faults"), with real process kills and no mocks, on the stack of
 * test/helpers/fault-stack.ts: the production worker as a separate node process, the dev server
 * and DynamoDB Local on disk, the simulator with some latency.
 */
import assert from 'node:assert/strict';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { startRun } from '../src/client.js';
import { DEFAULT_BRANCHES } from '../src/shared/branches.js';
import type { TableCounts } from '../src/shared/summary.js';
import type { SalesSyncInput } from '../src/workflows/types.js';
import { type StopMode, alive, waitFor } from './helpers/processes.js';
import { expectedTables } from './helpers/truth.js';
import { FAULT_RUN, assertCompleteSummary, pagesOf, useFaultStacks } from './helpers/fault-stack.js';
import { workerNodeFlags } from '../scripts/worker-command.js';
import { compiledPath } from '../scripts/build.mjs';
import { StateStore } from '../src/store/state.js';
import { syncedBefore } from './helpers/synced-before.js';

describe('process faults (worker process, dev server and DynamoDB Local on disk, simulator)', function () {
  this.timeout(240_000);
  const { stack, outcome, midRun, assertStored, trouble, report } = useFaultStacks();

  it('kill -9 of the worker in the middle of a run: a new worker finishes it, the tables match the truth', async () => {
    const s = await stack();
    const expected = expectedTables(s.sim.dataset, DEFAULT_BRANCHES);
    const requests = pagesOf(s.sim.dataset, DEFAULT_BRANCHES);
    const first = s.workers[0];
    assert.ok(first);

    // The pid is the node process running the compiled worker as `npm run worker` does (its flags,
    // plain JavaScript: no tsx), a direct child of this process: no npx, no shell.
    const { argv, parent } = first.identity();
    assert.deepEqual(argv, [process.execPath, ...workerNodeFlags(), compiledPath('src/worker.ts')]);
    assert.equal(parent, process.pid, 'the worker is a direct child of the test process');

    const t0 = Date.now();
    const id = `kill9-${s.queues.workflows}`;
    await startRun(s.client, s.queues, FAULT_RUN, id);
    const atKill = await midRun(s, requests, 0.3);
    await first.kill9();
    const killedAt = Date.now();
    assert.equal((await first.exited).signal, 'SIGKILL');
    assert.ok(!alive(first.pid), 'the killed worker is gone');
    assert.deepEqual(await first.reapHelpers(), [], 'the killed worker left no child process behind');

    await s.startWorker();
    const restartedAt = Date.now();
    const o = await outcome(s, id);
    const doneAt = Date.now();
    assert.ok(o.ok, `the run failed: ${o.error}`);
    assertCompleteSummary(o.summary, expected, DEFAULT_BRANCHES);
    await assertStored(s, expected);
    const c = s.sim.counters();
    assert.ok(c.total > atKill, 'the new worker made requests');
    report(
      `killed at ${atKill}/${requests} requests (child processes of the worker: ${first.helpers.size}, none left), ${((killedAt - t0) / 1000).toFixed(1)} s into the run; new worker polling ${((restartedAt - killedAt) / 1000).toFixed(1)} s later; ` +
        `run done ${((doneAt - killedAt) / 1000).toFixed(1)} s after the kill; ${c.total} requests for ${o.summary.pages} pages; ${await trouble(s)}`,
    );
  });

  it('DynamoDB Local stopped in the middle of a run and started again (same port, same data): activities retry, the tables match', async () => {
    const s = await stack();
    const expected = expectedTables(s.sim.dataset, DEFAULT_BRANCHES);
    const requests = pagesOf(s.sim.dataset, DEFAULT_BRANCHES);
    const id = `dynamo-${s.queues.workflows}`;
    await startRun(s.client, s.queues, FAULT_RUN, id);
    const atStop = await midRun(s, requests, 0.3);
    const stoppedAt = Date.now();
    await s.dynamo.stop('SIGTERM');
    // Vendor requests go on while DynamoDB is away; their writes fail and the activities retry. One
    // is enough to show it (the state activities of the runs' children, DynamoDB only, back off
    // meanwhile, and a child waiting on one asks the vendor nothing).
    await waitFor('a vendor request while DynamoDB is down', 60_000, () =>
      s.sim.counters().total > atStop ? true : undefined,
    );
    const duringOutage = s.sim.counters().total - atStop;
    await s.dynamo.start();
    const restartedAt = Date.now();
    const o = await outcome(s, id);
    const doneAt = Date.now();
    assert.ok(o.ok, `the run failed: ${o.error}`);
    assertCompleteSummary(o.summary, expected, DEFAULT_BRANCHES);
    await assertStored(s, expected);
    const c = s.sim.counters();
    assert.ok(
      c.total > o.summary.pages,
      `attempts that could not write were retried (${c.total} requests for ${o.summary.pages} pages)`,
    );
    report(
      `DynamoDB down ${((restartedAt - stoppedAt) / 1000).toFixed(1)} s from ${atStop}/${requests} requests (${duringOutage} requests meanwhile); ` +
        `run done ${((doneAt - restartedAt) / 1000).toFixed(1)} s after the restart; ${c.total} requests for ${o.summary.pages} pages; ${await trouble(s)}`,
    );
  });

  it('the Temporal dev server stopped in the middle of a run (SIGTERM, later SIGKILL) and started again on the same ports and database: the run completes, the tables match', async () => {
    const s = await stack();
    const expected = expectedTables(s.sim.dataset, DEFAULT_BRANCHES);
    const requests = pagesOf(s.sim.dataset, DEFAULT_BRANCHES);
    const worker = s.workers[0];
    assert.ok(worker);
    const id = `temporal-${s.queues.workflows}`;
    await startRun(s.client, s.queues, FAULT_RUN, id);
    const outages: string[] = [];
    let lastRestart = Date.now();
    for (const [mode, share] of [
      ['SIGTERM', 0.25],
      ['SIGKILL', 0.6],
    ] as [StopMode, number][]) {
      const at = await midRun(s, requests, share);
      const stoppedAt = Date.now();
      await s.temporal.stop(mode);
      await s.temporal.start();
      lastRestart = Date.now();
      outages.push(
        `${mode} at ${at}/${requests} requests, down ${((lastRestart - stoppedAt) / 1000).toFixed(1)} s`,
      );
    }
    const o = await outcome(s, id);
    const doneAt = Date.now();
    assert.ok(o.ok, `the run failed: ${o.error}`);
    assertCompleteSummary(o.summary, expected, DEFAULT_BRANCHES);
    await assertStored(s, expected);
    assert.ok(alive(worker.pid), 'the worker lived through the outages (it reconnected by itself)');
    assert.equal(s.workers.length, 1);
    const c = s.sim.counters();
    report(
      `dev server ${outages.join('; ')}; run done ${((doneAt - lastRestart) / 1000).toFixed(1)} s after the last restart; ` +
        `${c.total} requests for ${o.summary.pages} pages; ${await trouble(s)}`,
    );
  });

  it('two runs over the same window at once: the second finds branches already running, no item is duplicated or lost', async () => {
    const anchor = Date.parse('2026-03-02T12:00:00Z');
    const s = await stack({ anchorTime: anchor, salesSpanHours: 30 });
    const windowEnd = new Date(anchor).toISOString();
    const window = { from: new Date(anchor - 24 * 3_600_000).toISOString(), to: windowEnd };
    const expected = expectedTables(s.sim.dataset, DEFAULT_BRANCHES, window);
    assert.ok(expected.sales.size < s.sim.dataset.allSales().length, 'some sales lie outside the window');
    const requests = pagesOf(s.sim.dataset, DEFAULT_BRANCHES, window);
    // Synced before up to the window's start: both runs read the window, not whole histories.
    const state = new StateStore(s.store.clients, s.store.names.sync_state);
    await syncedBefore(
      state,
      s.sim.dataset,
      DEFAULT_BRANCHES,
      new Date(Date.parse(window.from) + 3_600_000).toISOString(),
    );

    const input: SalesSyncInput = { windowEnd };
    const a = await startRun(s.client, s.queues, input);
    await midRun(s, requests, 0.15);
    // The same input again: the run's ID names the window, so Temporal refuses a duplicate parent.
    await assert.rejects(startRun(s.client, s.queues, input), WorkflowExecutionAlreadyStartedError);
    // A run over the same window under another ID (a manual trigger during a scheduled run).
    const b = await startRun(s.client, s.queues, input, `${a.workflowId}-second`);
    const [oa, ob] = [await outcome(s, a.workflowId), await outcome(s, b.workflowId)];
    assert.ok(oa.ok, `run A failed: ${oa.error}`);
    assert.ok(ob.ok, `run B failed: ${ob.error}`);
    const [sa, sb] = [oa.summary, ob.summary];
    assert.ok(sa && sb, 'both runs have a summary');
    assert.deepEqual(sa.window, window);
    assert.deepEqual(sb.window, window);

    for (const sum of [sa, sb]) {
      assert.deepEqual(sum.failedBranches, []);
      assert.deepEqual(sum.unknownBranches, []);
      assert.equal(sum.branchesSynced + sum.skippedBranches.length, DEFAULT_BRANCHES.length);
    }
    assert.ok(
      sa.skippedBranches.length + sb.skippedBranches.length > 0,
      'the second run found branches already running',
    );
    for (const name of DEFAULT_BRANCHES)
      assert.ok(
        !(sa.skippedBranches.includes(name) && sb.skippedBranches.includes(name)),
        `branch ${name} was skipped by both runs: nobody synced it`,
      );
    for (const t of ['branches', 'salespersons', 'sales'] as const) {
      const ca: TableCounts = sa.counts[t];
      const cb: TableCounts = sb.counts[t];
      assert.equal(ca.inserted + cb.inserted, expected[t].size, `${t}: every item inserted exactly once`);
      assert.equal(ca.updated + cb.updated, 0, `${t}: nothing rewritten`);
    }
    await assertStored(s, expected);
    report(
      `run A synced ${sa.branchesSynced} branches and skipped ${sa.skippedBranches.length}; ` +
        `run B synced ${sb.branchesSynced} and skipped ${sb.skippedBranches.length}`,
    );
  });

  it('two full resyncs at once (different IDs): each syncs everything, the tables match, no item is stored twice', async () => {
    const s = await stack();
    const expected = expectedTables(s.sim.dataset, DEFAULT_BRANCHES);
    const requests = pagesOf(s.sim.dataset, DEFAULT_BRANCHES);
    const a = await startRun(s.client, s.queues, { window: 'full' }, `full-a-${s.queues.workflows}`);
    await midRun(s, requests, 0.15);
    // A full resync's children are scoped by its start time, to the second: start B in a later second.
    const aStart = (await a.describe()).startTime.getTime();
    await waitFor('the next second', 2000, () =>
      Math.floor(Date.now() / 1000) > Math.floor(aStart / 1000) ? true : undefined,
    );
    const b = await startRun(s.client, s.queues, { window: 'full' }, `full-b-${s.queues.workflows}`);
    const [oa, ob] = [await outcome(s, a.workflowId), await outcome(s, b.workflowId)];
    assert.ok(oa.ok, `run A failed: ${oa.error}`);
    assert.ok(ob.ok, `run B failed: ${ob.error}`);
    const [sa, sb] = [oa.summary, ob.summary];
    assert.ok(sa && sb, 'both runs have a summary');
    // The two runs do not share children, so each syncs every branch and counts every record once.
    assertCompleteSummary(sa, expected, DEFAULT_BRANCHES);
    assertCompleteSummary(sb, expected, DEFAULT_BRANCHES);
    for (const t of ['branches', 'salespersons', 'sales'] as const) {
      const inserted = sa.counts[t].inserted + sb.counts[t].inserted;
      // Both may read "missing" for the same key before either writes; then both count an insert
      // of the same item (README: two identical puts). Never fewer than one insert per item.
      assert.ok(inserted >= expected[t].size, `${t}: ${inserted} inserts for ${expected[t].size} items`);
    }
    await assertStored(s, expected);
    const c = s.sim.counters();
    report(
      `${c.total} requests for ${sa.pages} + ${sb.pages} pages; sales inserted by A ${sa.counts.sales.inserted}, by B ${sb.counts.sales.inserted} (${expected.sales.size} items)`,
    );
  });
});
