/**
 * What analysts see of the runs, on real servers: the Temporal dev server, DynamoDB Local and
 * its streams, versitygw, PostgreSQL and the change feed's worker; a scripted vendor whose
 * records the test corrects between runs.
 */
import assert from 'node:assert/strict';
import { startReplay } from '../src/client.js';
import type { SyncSummary } from '../src/shared/summary.js';
import { useFeed } from './helpers/feed.js';
import { SIM_KEY, useStack } from './helpers/harness.js';
import { oneBranch, saleText, useScriptedVendors } from './helpers/scripted-vendor.js';

interface RunRow {
  workflow_id: string;
  kind: string;
  window_from: Date | null;
  window_to: Date;
  status: string;
  counts: SyncSummary['counts'];
  started_at: Date;
  ended_at: Date;
}

describe('sync_runs and replay events in the SQL copy (dev server, DynamoDB Local, versitygw, PostgreSQL)', function () {
  this.timeout(300_000);
  const stack = useStack('dev-server');
  const feeds = useFeed(stack);
  const scripted = useScriptedVendors(stack);

  it("every run writes its row in sync_runs; latest_complete_window names the latest live window; a replay's change events carry the replayed window", async () => {
    const { vendor, p } = await scripted(oneBranch('7', '42', [saleText('1'), saleText('2')]), SIM_KEY);
    const f = await feeds.feed(p);
    const window = { from: '2026-05-01T00:00:00.000Z', to: '2026-05-02T00:00:00.000Z' };
    const input = { branches: ['Akron'], window, feedTaskQueue: f.taskQueue };
    const a = await p.withWorkers(() => p.run(input));
    assert.ok(a.ok, a.ok ? '' : a.message);
    assert.match(a.summary.syncRun ?? '', /^handed to sales-sync-run-record\//);

    const rows = async () => (await f.pool.query<RunRow>('SELECT * FROM sync_runs ORDER BY ended_at')).rows;
    /** The rows, once there are `n` (each is written by a child on the feed's worker, just after its run). */
    const rowsWhen = async (n: number) => {
      const deadline = Date.now() + 30_000;
      while ((await rows()).length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      return rows();
    };
    const [row] = await rowsWhen(1);
    assert.ok(row, 'the run has its row');
    assert.equal(row.workflow_id, a.workflowId);
    assert.equal(row.kind, 'manual');
    assert.equal(row.status, 'succeeded');
    assert.equal(row.window_from?.toISOString(), window.from);
    assert.equal(row.window_to.toISOString(), window.to);
    assert.deepEqual(row.counts, a.summary.counts, "the counts per table are the summary's");
    assert.ok(row.started_at <= row.ended_at);
    const latest = (
      await f.pool.query<{ table_name: string; window_to: Date; workflow_id: string }>(
        'SELECT * FROM latest_complete_window ORDER BY table_name',
      )
    ).rows;
    assert.deepEqual(
      latest.map((l) => [l.table_name, l.window_to.toISOString(), l.workflow_id]),
      ['branches', 'sales', 'salespersons'].map((t) => [t, window.to, a.workflowId]),
    );

    // A correction stored by run B, then A restored on purpose: the replay's events name the window.
    vendor.data.sales['42'] = [saleText('1').replace('"12.50"', '"13.75"'), saleText('2')];
    const b = await p.withWorkers(() => p.run(input));
    assert.ok(b.ok, b.ok ? '' : b.message);
    await f.caughtUp();
    const replayed = await p.withWorkers(async () => {
      const { handle } = await startReplay(p.env.client, p.queues, {
        run: a.workflowId,
        dryRun: false,
        force: true,
        feedTaskQueue: f.taskQueue,
      });
      return handle.result();
    });
    assert.equal(replayed.counts.sales.updated, 1);
    await f.caughtUp();
    const byReplay = (await f.events()).filter((e) => e.workflow?.startsWith('sales-sync/replay/'));
    assert.equal(byReplay.length, 1, 'the restored sale is one change');
    assert.equal(byReplay[0]?.window, '2026-05-02T00:00:00Z/24h', "the replayed run's window");

    const all = await rowsWhen(3);
    assert.deepEqual(
      all.map((r) => [r.kind, r.status]),
      [
        ['manual', 'succeeded'],
        ['manual', 'succeeded'],
        ['replay', 'succeeded'],
      ],
    );
    assert.equal(all[2]?.window_to.toISOString(), window.to, "a replay's row names the replayed window");
    const after = (await f.pool.query<{ workflow_id: string }>('SELECT * FROM latest_complete_window')).rows;
    assert.ok(
      after.every((l) => l.workflow_id === b.workflowId),
      'a replay fetched nothing: the latest complete window stays the live run B',
    );
  });

  it('a run ends without waiting for the feed: its sync_runs row is written once a feed worker polls', async () => {
    const { p } = await scripted(oneBranch('7', '42', [saleText('1')]), SIM_KEY);
    const f = await feeds.feed(p, { start: false });
    // No feed worker yet: the run must not wait for one.
    const started = Date.now();
    const run = await p.withWorkers(() =>
      p.run({ branches: ['Akron'], window: 'full', feedTaskQueue: f.taskQueue }),
    );
    assert.ok(run.ok, run.ok ? '' : run.message);
    assert.ok(Date.now() - started < 12_000, `the run waited ${Date.now() - started} ms for the feed`);
    assert.match(run.summary.syncRun ?? '', /^handed to sales-sync-run-record\//);
    const count = async () =>
      Number(
        (
          await f.pool.query<{ n: string }>('SELECT count(*) AS n FROM sync_runs WHERE workflow_id = $1', [
            run.workflowId,
          ])
        ).rows[0]?.n,
      );
    assert.equal(await count(), 0);
    await f.start();
    const deadline = Date.now() + 60_000;
    while ((await count()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    assert.equal(await count(), 1, 'the row arrives once the feed worker polls');
  });
});
