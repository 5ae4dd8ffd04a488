/**
 * The lookback sweeps' schedules beside the hourly one (src/client/sweeps.ts), on the Temporal CLI
 * dev server (the time-skipping server has no schedules), with DynamoDB Local and the simulator.
 */
import assert from 'node:assert/strict';
import { ScheduleNotFoundError } from '@temporalio/client';
import { runOutcome, scheduleHandle, sweepScheduleId, upsertSyncSchedules } from '../src/client.js';
import { SCHEDULE_ID } from '../src/shared/ids.js';
import { waitFor } from '../scripts/lib/poll.js';
import { useStack } from './helpers/harness.js';

const HOUR = 3_600_000;

describe('sweep schedules (dev server, DynamoDB Local, simulator)', function () {
  this.timeout(240_000);
  const stack = useStack('dev-server');
  const pipeline = stack.pipeline;
  const until = <T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>) =>
    waitFor(what, timeoutMs, fn, 300);

  it('the lookback and full sweeps are created with the hourly schedule, off (0) means absent; a sweep run is a sweep', async () => {
    const p = await pipeline({ seed: 5, employeesPerBranch: 2, salesPerSalesperson: 3 });
    const client = stack.env.client;
    const suffix = p.queues.workflows.replace('sales-sync-workflows', '');
    const scheduleId = `hourly-sweeps-${p.queues.workflows}`;
    const input = { branches: ['Akron'], watermarkOverlapMinutes: 30, voidGuardPercent: 10 };
    const sweeps = { lookbackDays: 7, lookbackEveryHours: 24, fullEveryDays: 7 };
    const made = await upsertSyncSchedules(client, { scheduleId, queues: p.queues, input, suffix, sweeps });
    assert.equal(made.hourly, 'created');
    const [lookbackId, fullId] = [sweepScheduleId('lookback', suffix), sweepScheduleId('full', suffix)];
    assert.deepEqual(
      made.sweeps.map((x) => [x.scheduleId, x.what]),
      [
        [lookbackId, 'created'],
        [fullId, 'created'],
      ],
    );
    const hourlyArgs = { vendorTaskQueue: p.queues.vendor, ...input };
    const lookback = await client.schedule.getHandle(lookbackId).describe();
    const full = await client.schedule.getHandle(fullId).describe();
    for (const d of [lookback, full]) {
      assert.equal(d.policies.overlap, 'SKIP');
      assert.equal(d.policies.catchupWindow, HOUR);
      const wf = (d.action as { workflowId: string }).workflowId;
      assert.equal(wf, d.scheduleId);
      assert.ok(!wf.startsWith(SCHEDULE_ID) && !wf.startsWith(scheduleId), wf);
    }
    assert.deepEqual((lookback.action as { args?: unknown[] }).args?.[0], {
      ...hourlyArgs,
      sweep: 'lookback',
      windowHours: 7 * 24,
    });
    assert.deepEqual((full.action as { args?: unknown[] }).args?.[0], {
      ...hourlyArgs,
      sweep: 'full',
      window: 'full',
    });
    assert.match((lookback.action as { staticSummary?: string }).staticSummary ?? '', /last 7 days/);
    assert.match((full.action as { staticSummary?: string }).staticSummary ?? '', /every sale/);
    // Daily at 01:30 UTC, weekly on Sunday at 02:30 UTC: never on the hour the hourly runs start on.
    const lb = lookback.info.nextActionTimes.map((t) => t.getTime());
    assert.ok(lb.length >= 3);
    for (const t of lb) assert.equal(new Date(t).toISOString().slice(11, 19), '01:30:00');
    for (let i = 1; i < lb.length; i++) assert.equal((lb[i] ?? 0) - (lb[i - 1] ?? 0), 24 * HOUR);
    for (const t of full.info.nextActionTimes) {
      assert.equal(t.getUTCDay(), 0, t.toISOString());
      assert.equal(t.toISOString().slice(11, 19), '02:30:00');
    }
    // A sweep's run is named by its schedule and reports itself as a sweep.
    const summary = await p.withWorkers(async () => {
      const h = client.schedule.getHandle(lookbackId);
      await h.trigger();
      const id = await until('the sweep run', 30_000, async () => {
        const d = await h.describe();
        return [...d.info.runningActions, ...d.info.recentActions.map((a) => a.action)][0]?.workflow
          .workflowId;
      });
      assert.match(id, new RegExp(`^${lookbackId}-`));
      return (await runOutcome(client.workflow.getHandle(id))).summary;
    });
    assert.equal(summary?.kind, 'sweep');
    assert.equal(summary?.branchesSynced, 1);
    assert.equal(
      Date.parse(summary?.window.to ?? '') - Date.parse(summary?.window.from ?? ''),
      7 * 24 * HOUR,
    );
    // Switched off: deleted, and absent on the next upsert.
    const off = { ...sweeps, lookbackDays: 0 };
    const again = await upsertSyncSchedules(client, {
      scheduleId,
      queues: p.queues,
      input,
      suffix,
      sweeps: off,
    });
    assert.equal(again.hourly, 'updated');
    assert.deepEqual(
      again.sweeps.map((x) => x.what),
      ['deleted', 'updated'],
    );
    await assert.rejects(client.schedule.getHandle(lookbackId).describe(), ScheduleNotFoundError);
    const none = await upsertSyncSchedules(client, {
      scheduleId,
      queues: p.queues,
      input,
      suffix,
      sweeps: { ...off, fullEveryDays: 0 },
    });
    assert.deepEqual(
      none.sweeps.map((x) => x.what),
      ['off', 'deleted'],
    );
    await assert.rejects(client.schedule.getHandle(fullId).describe(), ScheduleNotFoundError);
    await (await scheduleHandle(client, scheduleId)).delete();
  });
});
