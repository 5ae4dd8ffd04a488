/**
 * Which run syncs what, on the CLI dev server (real time; runs side by side and resets need
 * a real server): runs over different windows that end together never skip each other, a
 * branch skipped because another run holds it is not a success, and a reset syncs again.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { SyncSummary } from '../src/shared/summary.js';
import type { SalesSyncInput } from '../src/workflows/types.js';
import { type Pipeline, SIM_KEY, useStack } from './helpers/harness.js';
import { receiver } from './helpers/receiver.js';
import { oneBranch, saleText, useScriptedVendors } from './helpers/scripted-vendor.js';

describe('run identity: windows, skipped branches, resets (dev server, DynamoDB Local)', function () {
  this.timeout(180_000);
  const stack = useStack('dev-server');
  const scripted = useScriptedVendors(stack);

  const run = (p: Pipeline, input: SalesSyncInput) =>
    p.run({ branches: ['Akron'], searchAttributes: false, ...input });

  it('runs over two windows that end at the same time never skip each other', async () => {
    const { p } = await scripted(oneBranch('7', '42', [saleText('1')]), SIM_KEY, async (req) => {
      if (req.path === '/sales') await new Promise((r) => setTimeout(r, 1000));
      return false;
    });
    const windowEnd = '2026-05-01T10:00:00Z';
    const [hourly, recovery] = await p.withWorkers(() =>
      Promise.all([
        run(p, { window: 'default', windowEnd, windowHours: 24 }),
        run(p, { window: 'default', windowEnd, windowHours: 72 }),
      ]),
    );
    assert.ok(hourly.ok && recovery.ok);
    assert.deepEqual(hourly.summary.skippedBranches, []);
    assert.deepEqual(recovery.summary.skippedBranches, []);
    assert.equal(hourly.summary.branchesSynced + recovery.summary.branchesSynced, 2);
  });

  it('a branch skipped because another run holds it is not a success: no follow-up', async () => {
    const follow = await receiver();
    try {
      // The first run's answers take a while, so the second finds its branch child running.
      const { p } = await scripted(oneBranch('7', '42', [saleText('1')]), SIM_KEY, async (req) => {
        if (req.path === '/sales') await new Promise((r) => setTimeout(r, 2000));
        return false;
      });
      const windowEnd = '2026-05-01T10:00:00Z';
      const results = await p.withWorkers(
        () =>
          Promise.all([
            run(p, { window: 'default', windowEnd }),
            new Promise((r) => setTimeout(r, 500)).then(() => run(p, { window: 'default', windowEnd })),
          ]),
        50,
        { followUpUrl: follow.url },
      );
      const skipped = results.filter((r) => r.summary.skippedBranches.length > 0);
      assert.equal(skipped.length, 1, 'the second run found the branch taken');
      assert.equal(skipped[0]?.summary.followUp, null, 'no follow-up after a skipped branch');
      assert.equal(follow.bodies.length, 1, 'only the run that synced everything followed up');
    } finally {
      await follow.close();
    }
  });

  /** Resets a closed run to its first workflow task; resolves with the new run's summary. */
  async function reset(workflowId: string): Promise<SyncSummary> {
    const client = stack.env.client;
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const firstTask = history.events?.find((e) => e.workflowTaskCompletedEventAttributes);
    assert.ok(firstTask?.eventId, `${workflowId} has a completed workflow task`);
    const { runId } = await client.workflowService.resetWorkflowExecution({
      namespace: stack.env.namespace ?? 'default',
      workflowExecution: { workflowId },
      reason: 'test: sync again',
      workflowTaskFinishEventId: firstTask.eventId,
      requestId: randomUUID(),
    });
    assert.ok(runId);
    return (await client.workflow.getHandle(workflowId, runId).result()) as SyncSummary;
  }

  it('a reset of the parent or of a branch syncs its salespersons again', async () => {
    const { vendor, p } = await scripted(oneBranch('7', '42', [saleText('1')]), SIM_KEY);
    await p.withWorkers(async () => {
      const first = await run(p, { window: 'full' });
      assert.ok(first.ok);
      assert.equal(first.summary.salespersonsSynced, 1);
      assert.equal(vendor.seen('/sales').length, 1);

      const again = await reset(first.workflowId);
      assert.equal(again.salespersonsSynced, 1, 'the reset parent synced the salesperson again');
      assert.equal(again.salespersonsShared, 0, 'not mistaken for a salesperson of another branch');
      assert.equal(vendor.seen('/sales').length, 2);

      // The branch child of the reset run: reset it alone.
      let branchId: string | undefined;
      const events =
        (await stack.env.client.workflow.getHandle(first.workflowId).fetchHistory()).events ?? [];
      for (const e of events) {
        branchId ??= e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? undefined;
      }
      assert.ok(branchId, 'the parent started a branch child');
      const branch = (await reset(branchId)) as unknown as {
        salespersons: number;
        salespersonsShared: number;
      };
      assert.equal(branch.salespersons, 1, 'the reset branch synced its salesperson again');
      assert.equal(branch.salespersonsShared, 0);
      assert.equal(vendor.seen('/sales').length, 3);
    });
  });
});
