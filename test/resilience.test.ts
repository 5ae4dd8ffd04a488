/**
 * Bad vendor answers, notices, the follow-up step and the vendor key, on real servers:
 * the time-skipping test server, DynamoDB Local, the simulator with its fault knobs, and a
 * local HTTP receiver standing in for Slack (a real server the notices are POSTed to).
 */
import assert from 'node:assert/strict';
import { DEFAULT_BRANCHES } from '../src/shared/branches.js';
import type { SyncSummary } from '../src/shared/summary.js';
import type { SalesSyncInput } from '../src/workflows/types.js';
import { type Pipeline, SIM_KEY, useStack } from './helpers/harness.js';
import { allHistories, captureOutput } from './helpers/evidence.js';
import { receiver } from './helpers/receiver.js';
import { assertTablesMatch, expectedTables } from './helpers/truth.js';

describe('faults, notices and secrets (time-skipping server, DynamoDB Local, simulator)', function () {
  this.timeout(180_000);
  const stack = useStack('time-skipping', { seed: 17, employeesPerBranch: 6, salesPerSalesperson: 12 });
  const pipeline = stack.pipeline;

  let runs = 0;
  const run = (
    p: Pipeline,
    input: SalesSyncInput,
    workflowId = `resilience-${++runs}-${p.queues.workflows}`,
  ) => p.run(input, workflowId);

  it('goes on through 5xx, drops, slow answers, HTML and truncated bodies and bad records; a clean run then stores everything', async () => {
    const p = await pipeline({ slowMs: 8000 });
    p.sim.setFaults({ error5xx: 0.08, drop: 0.04, slow: 0.03, html: 0.04, nonJson: 0.04, badRecord: 0.03 });
    const faulty = await p.withWorkers(() => run(p, { window: 'full' }), 5);
    assert.ok(faulty.ok, `the run failed: ${faulty.ok ? '' : faulty.message}`);
    const injected = p.sim.counters().faultsInjected;
    for (const kind of ['error5xx', 'drop', 'html', 'nonJson', 'badRecord'] as const) {
      assert.ok(injected[kind] > 0, `the simulator injected ${kind}`);
    }
    const badSales = p.sim.injectedBadRecords();
    const setAside =
      faulty.summary.counts.sales.setAside +
      faulty.summary.counts.salespersons.setAside +
      faulty.summary.counts.branches.setAside;
    assert.ok(
      setAside >= badSales.length - badSales.filter((b) => b.kind === 'duplicateId').length,
      `set aside ${setAside}`,
    );
    const quarantine = await p.store.scanAll('quarantine');
    assert.ok(
      quarantine.some((q) => q.kind === 'body'),
      'HTML/truncated bodies are in quarantine',
    );
    assert.ok(
      quarantine.some((q) => q.kind !== 'body'),
      'bad records are in quarantine',
    );
    // Nothing wrong was stored: every stored item equals the vendor's good record.
    const truth = expectedTables(p.sim.dataset, DEFAULT_BRANCHES);
    for (const s of await p.store.scanAll('sales')) {
      const want = truth.sales.get(`${String(s.sale_id)}|${String(s.employee_id)}`);
      assert.ok(want, `stored sale ${String(s.sale_id)} exists at the vendor`);
      assert.equal(s.amount, want.amount);
      assert.equal(s.quantity, want.quantity);
    }
    // The next run (faults gone) fills in what the bad records held back: nothing is lost.
    p.sim.setFaults({ error5xx: 0, drop: 0, slow: 0, html: 0, nonJson: 0, badRecord: 0 });
    const clean = await p.withWorkers(() => run(p, { window: 'full' }), 5);
    assert.ok(clean.ok);
    await assertTablesMatch(p.store, truth);
  });

  it('stops paging a list whose page token repeats, with the reason in the summary, instead of looping', async () => {
    const p = await pipeline({ salesPerSalesperson: 30 });
    p.sim.setFaults({ repeatToken: 1 });
    const r = await p.withWorkers(() => run(p, { window: 'full', branches: ['Utica'] }), 5);
    assert.ok(r.ok);
    assert.ok(r.summary.pagingStops.length > 0);
    assert.match(r.summary.pagingStops[0]?.reason ?? '', /repeated page token/);
    assert.ok(p.sim.counters().total < 100, `bounded: ${p.sim.counters().total} requests`);
  });

  it('asks again for a branch whose own record is invalid, then fails it (not "unknown") if it stays invalid', async () => {
    const p = await pipeline();
    p.sim.setBadRecordKinds(['stringNumber']);
    p.sim.setFaults({ badRecord: 1 });
    const r = await p.withWorkers(() => run(p, { window: 'full', branches: ['Akron', 'Gotham'] }));
    assert.equal(r.ok, false);
    assert.deepEqual(r.summary.unknownBranches, ['Gotham']);
    assert.equal(r.summary.failedBranches[0]?.branch, 'Akron');
    assert.match(
      r.summary.failedBranches[0]?.reason ?? '',
      /record of branch Akron was invalid 4 times and was set aside/,
    );
    assert.equal(r.summary.counts.branches.setAside, 4, 'each answer is counted');
    const q = await p.store.scanAll('quarantine');
    assert.ok(q.some((e) => e.kind === 'branch' && /employees/.test(String(e.reason))));
  });

  it('notifies the webhook with a Slack-compatible text when a run fails, and runs no follow-up', async () => {
    const hook = await receiver();
    const follow = await receiver();
    try {
      const p = await pipeline();
      p.sim.setFaults({ error5xx: 1 });
      const r = await p.withWorkers(() => run(p, { window: 'full', branches: ['Albany'] }), 50, {
        webhookUrl: hook.url,
        followUpUrl: follow.url,
      });
      assert.equal(r.ok, false);
      assert.equal(hook.bodies.length, 1);
      const body = hook.bodies[0] ?? {};
      assert.equal(typeof body.text, 'string');
      assert.match(String(body.text), /FAILED.*Albany/s);
      assert.equal(body.status, 'failed');
      assert.equal(follow.bodies.length, 0, 'no follow-up after a failed run');
      assert.equal(r.summary.notice, 'sent to webhook');
    } finally {
      await hook.close();
      await follow.close();
    }
  });

  it('notifies when a successful run sets aside more records than the threshold, and runs the follow-up', async () => {
    const hook = await receiver();
    const follow = await receiver();
    try {
      const p = await pipeline();
      p.sim.setBadRecordKinds(['missingId']);
      p.sim.setFaults({ badRecord: 0.2 });
      const r = await p.withWorkers(() => run(p, { window: 'full', branches: ['Akron'] }), 50, {
        webhookUrl: hook.url,
        followUpUrl: follow.url,
        setAsideThreshold: 2,
      });
      assert.ok(r.ok);
      const setAside =
        r.summary.counts.sales.setAside +
        r.summary.counts.salespersons.setAside +
        r.summary.counts.branches.setAside;
      assert.ok(setAside > 2, `set aside ${setAside}`);
      assert.equal(hook.bodies.length, 1);
      assert.match(String(hook.bodies[0]?.text), new RegExp(`set aside ${setAside} records`));
      assert.equal(follow.bodies.length, 1, 'the follow-up ran after an all-succeeded run');
      assert.equal((follow.bodies[0]?.summary as SyncSummary).branchesSynced, 1);
      assert.equal(r.summary.followUp, 'done');
    } finally {
      await hook.close();
      await follow.close();
    }
  });

  it('sends nothing for a clean run under the threshold; a failing webhook never fails the run', async () => {
    const hook = await receiver();
    await hook.close(); // nothing listens there any more
    const p = await pipeline();
    const r = await p.withWorkers(() => run(p, { window: 'full', branches: ['Akron'] }), 50, {
      webhookUrl: hook.url,
      setAsideThreshold: 0,
    });
    assert.ok(r.ok);
    assert.equal(r.summary.notice, null, 'no notice was due');
    p.sim.setFaults({ error5xx: 1 });
    const failed = await p.withWorkers(() => run(p, { window: 'full', branches: ['Akron'] }), 50, {
      webhookUrl: hook.url,
    });
    assert.equal(failed.ok, false);
    assert.match(failed.summary.notice ?? '', /could not be sent/);
  });

  it('tolerates a share of failed branches when told to (toleratedFailurePercent)', async () => {
    const p = await pipeline();
    const r = await p.withWorkers(async () => {
      // Buffalo fails (its employees cannot be read); Akron succeeds.
      p.sim.setFaults({ error5xx: 0 });
      const buffalo = p.sim.dataset.branchByName('Buffalo');
      assert.ok(buffalo);
      p.sim.dataset.employeesByBranch.delete(buffalo.id); // the vendor now answers 404 for its employees
      return run(p, { window: 'full', branches: ['Akron', 'Buffalo'], toleratedFailurePercent: 50 });
    });
    assert.ok(r.ok, 'one of two failed branches is within 50%');
    assert.deepEqual(
      r.summary.failedBranches.map((f) => f.branch),
      ['Buffalo'],
    );
    assert.match(r.summary.failedBranches[0]?.reason ?? '', /404/);
    assert.equal(r.summary.branchesSynced, 1);
  });

  it('keeps the vendor key out of histories, results, failures, logs and stored items', async () => {
    const p = await pipeline({ employeesPerBranch: 4, salesPerSalesperson: 4 });
    const { result, output } = await captureOutput(async () => {
      const ok = await p.withWorkers(() => run(p, { window: 'full', branches: ['Scranton', 'Atlantis'] }));
      p.sim.setFaults({ error5xx: 1 });
      const failed = await p.withWorkers(() => run(p, { window: 'full', branches: ['Nashua'] }));
      return { ok, failed };
    });
    const { ok, failed } = result;
    assert.ok(ok.ok && !failed.ok);
    // Every workflow of both runs: the parents and, through their histories, every child.
    const { text: histories, count } = await allHistories(stack.env.client, ok.workflowId, failed.workflowId);
    assert.ok(count > 4, `read ${count} histories`);
    assert.ok(histories.length > 1000, 'histories were read');
    assert.ok(
      histories.includes('Scranton'),
      'the histories hold the run data (decoded payloads are searchable)',
    );
    assert.ok(!histories.includes(SIM_KEY), 'the vendor key is in no history');
    assert.ok(!output.includes(SIM_KEY), 'the vendor key is in no log line');
    assert.ok(
      !JSON.stringify([ok.summary, failed.summary, failed.ok ? '' : failed.message]).includes(SIM_KEY),
    );
    for (const table of ['branches', 'salespersons', 'sales', 'quarantine'] as const) {
      assert.ok(
        !JSON.stringify(await p.store.scanAll(table)).includes(SIM_KEY),
        `the vendor key is in no ${table} item`,
      );
    }
  });
});
