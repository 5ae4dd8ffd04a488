/**
 * The copy heals: reconcile compares the PostgreSQL copy with DynamoDB item by item and, with
 * repair, makes them equal, without ever moving a row the stream brought back in time. On real
 * servers: DynamoDB Local (its streams), the Temporal dev server (the feed worker runs the
 * reconcile workflow and its activities), PostgreSQL.
 */
import assert from 'node:assert/strict';
import { DeleteItemCommand, PutItemCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { main as cli } from '../src/cli/index.js';
import { reconcileScheduleId, upsertReconcileSchedule } from '../src/client.js';
import { reconcileTable } from '../src/feed/reconcile.js';
import { type SnapshotPosition, snapshotTable } from '../src/feed/snapshot.js';
import type { SnapshotResult } from '../src/feed/types.js';
import type { ReconcileReport } from '../src/shared/reconcile.js';
import { DEFAULT_BRANCHES } from '../src/shared/branches.js';
import { applyBatch } from '../src/sql/apply.js';
import { copyDifferences } from '../src/feed/compare.js';
import { CLOCK_SKEW_SECONDS } from '../src/sql/reconcile.js';
import { reconcileWorkflow } from '../src/workflows/index.js';
import { type Feed, useFeed } from './helpers/feed.js';
import { type Pipeline, useStack } from './helpers/harness.js';
import { waitFor } from '../scripts/lib/poll.js';

const ALL = { window: 'full' as const, branches: [...DEFAULT_BRANCHES] };
const TABLES = ['branches', 'salespersons', 'sales'] as const;

async function setStreams(p: Pipeline, enabled: boolean): Promise<void> {
  for (const table of TABLES)
    await p.store.clients.raw.send(
      new UpdateTableCommand({
        TableName: p.store.names[table],
        StreamSpecification: enabled
          ? { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' }
          : { StreamEnabled: false },
      }),
    );
}

/** Runs the reconcile workflow on the feed's worker and returns its report. */
function reconcile(f: Feed, repair: boolean, id: string): Promise<ReconcileReport> {
  return f.p.env.client.workflow.execute(reconcileWorkflow, {
    workflowId: `reconcile-${id}-${f.suffix}`,
    taskQueue: f.taskQueue,
    args: [{ repair, settleSeconds: 1 }],
  });
}

const found = (r: ReconcileReport) =>
  r.tables.reduce((n, t) => n + Object.values(t.found).reduce((a, b) => a + b, 0), 0);
const examples = (r: ReconcileReport) => r.tables.flatMap((t) => t.examples);

describe('reconcile and repair (DynamoDB -> PostgreSQL copy)', function () {
  this.timeout(300_000);
  const stack = useStack('dev-server', { seed: 21, employeesPerBranch: 3, salesPerSalesperson: 4 });
  const feeds = useFeed(stack);

  it('a stream disabled, items changed, stream enabled again: reconcile reports the gap, --repair closes it, an older change delivered later moves nothing back', async () => {
    const p = await stack.pipeline();
    const f = await feeds.feed(p);
    await p.withWorkers(() => p.run(ALL));
    await f.caughtUp();
    await setStreams(p, false);
    p.sim.mutate({ seed: 5, newSales: 3, correctedSales: 3, transfers: 1, departures: 1, branchChanges: 1 });
    await p.withWorkers(() => p.run(ALL));
    await setStreams(p, true);
    // The changes made while the streams were off never reach the copy.
    await new Promise((r) => setTimeout(r, 4000));
    const gap = await copyDifferences(p.store, f.pool, 100);
    assert.ok(gap.length >= 7, `the gap: ${gap.join('; ')}`);
    const report = await reconcile(f, false, 'report');
    assert.ok(found(report) >= 7, JSON.stringify(report));
    const sales = report.tables.find((t) => t.table === 'sales');
    assert.equal(sales?.found.missing, 3, 'the new sales are missing');
    assert.ok((sales?.found.different ?? 0) >= 3, 'the corrected sales differ');
    assert.deepEqual(await copyDifferences(p.store, f.pool, 100), gap, 'a report writes nothing');
    const repaired = await reconcile(f, true, 'repair');
    assert.equal(
      repaired.tables.reduce((n, t) => n + t.repaired, 0),
      found(repaired),
    );
    assert.deepEqual(await copyDifferences(p.store, f.pool), []);
    assert.equal(found(await reconcile(f, false, 'again')), 0, 'a second reconcile finds nothing');
    // An older change of a repaired sale arrives late (a seq above the row's version, made before the repair).
    const { rows } = await f.pool.query<{ sale_id: string; employee_id: string; version: string }>(
      `SELECT sale_id, employee_id, version::text FROM sales WHERE repaired_at IS NOT NULL AND NOT deleted LIMIT 1`,
    );
    const row = rows[0];
    assert.ok(row, 'a repaired sale');
    const item = (await p.store.scanAll('sales')).find(
      (i) => i.sale_id === row.sale_id && i.employee_id === row.employee_id,
    );
    assert.ok(item);
    const r = await applyBatch(f.pool, { objectKey: 'test/late', table: 'sales', shard: 'late', lagMs: 0 }, [
      {
        table: 'sales',
        op: 'MODIFY',
        key: { sale_id: row.sale_id, employee_id: row.employee_id },
        seq: `${row.version}1`,
        shard: 'late',
        changedAt: new Date(Date.now() - 3_600_000).toISOString(),
        new: { ...item, amount: '0.01' },
      },
    ]);
    assert.equal(r.applied, 0, 'an older change moved a repaired row back');
    assert.deepEqual(await copyDifferences(p.store, f.pool), []);
    // A change made after the repair is applied as usual.
    p.sim.mutate({ seed: 6, newSales: 1, correctedSales: 2, transfers: 0, departures: 0, branchChanges: 0 });
    await p.withWorkers(() => p.run(ALL));
    await f.caughtUp();
  });

  it('deleted items and edited rows: each is reported by kind and key, --repair fixes them, a second reconcile finds none', async () => {
    const p = await stack.pipeline();
    const f = await feeds.feed(p);
    await p.withWorkers(() => p.run(ALL));
    await f.caughtUp();
    await setStreams(p, false);
    const sales = await p.store.scanAll('sales');
    const [gone, edited, dropped, tombstoned] = sales.slice(0, 4).map((s) => ({
      sale_id: String(s.sale_id),
      employee_id: String(s.employee_id),
    }));
    assert.ok(gone && edited && dropped && tombstoned);
    await p.store.clients.raw.send(
      new DeleteItemCommand({
        TableName: p.store.names.sales,
        Key: { sale_id: { S: gone.sale_id }, employee_id: { S: gone.employee_id } },
      }),
    );
    const where = 'sale_id = $1 AND employee_id = $2';
    const k = (x: typeof gone) => [x.sale_id, x.employee_id];
    await f.pool.query(`UPDATE sales SET amount = amount + 1 WHERE ${where}`, k(edited));
    await f.pool.query(`DELETE FROM sales WHERE ${where}`, k(dropped));
    await f.pool.query(`UPDATE sales SET deleted = true WHERE ${where}`, k(tombstoned));
    const report = await reconcile(f, false, 'kinds');
    const t = report.tables.find((x) => x.table === 'sales');
    assert.deepEqual(t?.found, { missing: 1, deleted: 1, different: 1, extra: 1 });
    const text = (x: typeof gone) => `sales ${x.sale_id}|${x.employee_id}`;
    assert.deepEqual(
      [...(t?.examples ?? [])].sort(),
      [
        `${text(dropped)}: missing in the copy`,
        `${text(edited)}: the row differs from the item`,
        `${text(gone)}: alive in the copy, the item is gone`,
        `${text(tombstoned)}: deleted in the copy, the item exists`,
      ].sort(),
    );
    assert.equal(found(report), 4, 'nothing else differs');
    // A gone item's row is tombstoned only when it was written longer ago than the clocks may differ.
    const written = Date.parse(String(sales[0]?.synced_at));
    await new Promise((r) =>
      setTimeout(r, Math.max(0, written + (CLOCK_SKEW_SECONDS + 1) * 1000 - Date.now())),
    );
    const repaired = await reconcile(f, true, 'fix');
    assert.equal(found(repaired), 4);
    assert.equal(repaired.tables.find((x) => x.table === 'sales')?.repaired, 4);
    assert.deepEqual(await copyDifferences(p.store, f.pool), []);
    const { rows } = await f.pool.query<{ deleted: boolean }>(
      `SELECT deleted FROM sales WHERE ${where}`,
      k(gone),
    );
    assert.equal(rows[0]?.deleted, true, 'the row of the gone item is a tombstone');
    assert.equal(found(await reconcile(f, false, 'none')), 0);
  });

  it('a repair never overwrites a row the stream changed after the item was read', async () => {
    const p = await stack.pipeline();
    const f = await feeds.feed(p);
    await p.withWorkers(() => p.run(ALL));
    await f.caughtUp();
    await f.stopWorker();
    const { rows } = await f.pool.query<{ sale_id: string; employee_id: string }>(
      `UPDATE sales SET amount = 7, changed_at = now() + interval '1 hour', written_at = now() + interval '1 hour'
       WHERE sale_id = (SELECT min(sale_id) FROM sales) RETURNING sale_id, employee_id`,
    );
    const r = await reconcileTable(
      { dynamo: p.store.clients.raw, names: p.store.names, pool: f.pool },
      { table: 'sales', repair: true, settleSeconds: 0 },
    );
    assert.equal(r.found.different, rows.length);
    assert.equal(r.repaired, 0, 'the newer row was overwritten');
    const after = await f.pool.query<{ amount: string }>(
      'SELECT amount::text FROM sales WHERE sale_id = $1',
      [rows[0]?.sale_id],
    );
    assert.equal(after.rows[0]?.amount, '7');
  });

  it('a field PostgreSQL cannot hold is no difference (the row is what the feed would write); an item the feed cannot write is named, not compared', async () => {
    const p = await stack.pipeline();
    const f = await feeds.feed(p);
    await p.withWorkers(() => p.run(ALL));
    await f.caughtUp();
    await f.stopWorker();
    const put = (id: string, fields: Record<string, { S: string }>) =>
      p.store.clients.raw.send(
        new PutItemCommand({
          TableName: p.store.names.sales,
          Item: { sale_id: { S: id }, employee_id: { S: '1' }, amount: { N: '10.25' }, ...fields },
        }),
      );
    await put('900001', { customer: { S: 'Ann\u0000Lee' } });
    await put('900002', { amount: { S: 'twelve dollars' } });
    const deps = { dynamo: p.store.clients.raw, names: p.store.names, pool: f.pool };
    const r = await reconcileTable(deps, { table: 'sales', repair: true, settleSeconds: 0 });
    assert.deepEqual(r.found, { missing: 1, deleted: 0, different: 0, extra: 0 }, JSON.stringify(r));
    assert.equal(r.repaired, 1);
    assert.ok(
      r.examples.some((e) => /^sales 900002\|1: the feed cannot write the item \(.*numeric/.test(e)),
      r.examples.join('; '),
    );
    const row = await f.pool.query<{ customer: string | null; inexact_fields: string[] }>(
      `SELECT customer, inexact_fields FROM sales WHERE sale_id = '900001'`,
    );
    assert.deepEqual(row.rows, [{ customer: null, inexact_fields: ['customer'] }]);
    const again = await reconcileTable(deps, { table: 'sales', repair: false, settleSeconds: 0 });
    assert.deepEqual(again.found, { missing: 0, deleted: 0, different: 0, extra: 0 }, JSON.stringify(again));
    // The tests' comparison is the same: only the item the feed cannot write is left.
    const diff = await copyDifferences(p.store, f.pool);
    assert.equal(diff.length, 1, diff.join('; '));
    assert.match(diff[0] ?? '', /^sales 900002\|1: the feed cannot write the item \(.*numeric/);
  });

  it('a change the feed applies within the settle time is not a gap', async () => {
    const p = await stack.pipeline();
    const f = await feeds.feed(p);
    await p.withWorkers(() => p.run(ALL));
    await f.caughtUp();
    await f.stopWorker();
    p.sim.mutate({ seed: 8, newSales: 2, correctedSales: 2, transfers: 0, departures: 0, branchChanges: 0 });
    await p.withWorkers(() => p.run(ALL));
    let restarted: Promise<void> | undefined;
    const r = await reconcileTable(
      { dynamo: p.store.clients.raw, names: p.store.names, pool: f.pool },
      { table: 'sales', repair: false, settleSeconds: 20 },
      (progress) => {
        // The first pass saw the changes the feed has not applied; the feed catches up meanwhile.
        if (progress.phase === 'settle' && !restarted) restarted = f.start();
      },
    );
    assert.ok(restarted, 'the pass found the changes not yet applied');
    await restarted;
    assert.equal(r.candidates, 4, 'the first pass saw the four unapplied changes');
    assert.deepEqual(r.found, { missing: 0, deleted: 0, different: 0, extra: 0 });
  });

  it('the daily schedule runs the reconcile workflow on the feed queue; the CLI reports and repairs', async () => {
    const p = await stack.pipeline();
    const f = await feeds.feed(p);
    await p.withWorkers(() => p.run(ALL));
    await f.caughtUp();
    const client = stack.env.client;
    assert.equal(
      await upsertReconcileSchedule(client, { taskQueue: f.taskQueue, suffix: f.suffix, repair: false }),
      'created',
    );
    const handle = client.schedule.getHandle(reconcileScheduleId(f.suffix));
    const d = await handle.describe();
    assert.equal(d.action.type, 'startWorkflow');
    assert.equal(d.action.type === 'startWorkflow' && d.action.workflowType, 'reconcileWorkflow');
    assert.equal(d.action.type === 'startWorkflow' && d.action.taskQueue, f.taskQueue);
    assert.deepEqual(
      d.spec.intervals?.map((i) => i.every),
      [86_400_000],
    );
    await handle.trigger();
    const ran = await waitFor('the scheduled reconcile', 60_000, async () => {
      const r = (await handle.describe()).info.recentActions[0];
      return r ? r.action.workflow.workflowId : undefined;
    });
    const report = (await client.workflow.getHandle(ran).result()) as ReconcileReport;
    assert.equal(report.repair, false);
    assert.equal(found(report), 0);
    await handle.delete();
    // The CLI: a difference reported (exit 1), repaired (exit 0), gone (exit 0).
    await f.pool.query(
      'UPDATE branches SET location = $1 WHERE branch_id = (SELECT min(branch_id) FROM branches)',
      ['nowhere'],
    );
    const saved = { ...process.env };
    const out: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void out.push(a.join(' '));
    try {
      Object.assign(process.env, {
        TEMPORAL_ADDRESS: stack.env.address,
        PAYLOAD_ENCRYPTION: 'off',
        TASK_QUEUE_SUFFIX: f.suffix,
      });
      const args = ['reconcile', '--table', 'branches', '--settle-seconds', '0'];
      assert.equal(await cli(args), 1, out.join('\n'));
      assert.match(out.join('\n'), /branches \S+: the row differs from the item/);
      assert.equal(await cli([...args, '--repair']), 0, out.join('\n'));
      assert.match(out.join('\n'), /1 repaired/);
      out.length = 0;
      assert.equal(await cli(args), 0, out.join('\n'));
      assert.match(out.join('\n'), /no difference/);
    } finally {
      console.log = log;
      process.env = saved;
    }
    assert.deepEqual(await copyDifferences(p.store, f.pool), []);
    assert.equal(examples(await reconcile(f, false, 'cli')).length, 0);
  });
  it('the first-start snapshot resumes after a lost attempt from its last page, and repairs rows that exist', async () => {
    const p = await stack.pipeline();
    const f = await feeds.feed(p, { start: false });
    await p.withWorkers(() => p.run(ALL));
    const deps = { dynamo: p.store.clients.raw, names: p.store.names, pool: f.pool };
    const total = (await p.store.scanAll('sales')).length;
    assert.ok(total > 20, `${total} sales`);
    const count = async () =>
      Number((await f.pool.query<{ n: string }>('SELECT count(*) n FROM sales')).rows[0]?.n);
    // The first attempt dies after its second page (its worker lost: cancelled here).
    const first = new MockActivityEnvironment();
    const beats: unknown[] = [];
    first.on('heartbeat', (d: unknown) => {
      beats.push(d);
      if (beats.length === 2) first.cancel('WORKER_SHUTDOWN');
    });
    await assert.rejects(first.run(() => snapshotTable(deps, 'sales', Context.current(), 5)));
    assert.equal(await count(), 10, 'two pages applied');
    // The next attempt starts from the last heartbeat's position.
    const second = new MockActivityEnvironment({ heartbeatDetails: beats.at(-1) });
    const resumedBeats: SnapshotPosition[] = [];
    second.on('heartbeat', (d: SnapshotPosition) => resumedBeats.push(d));
    const r: SnapshotResult = await second.run(() => snapshotTable(deps, 'sales', Context.current(), 5));
    assert.equal(resumedBeats[0]?.result.items, 15, 'the second attempt went on after the first two pages');
    assert.equal(r.items, total, 'the counts carry over');
    assert.equal(await count(), total);
    const sales = async () => (await copyDifferences(p.store, f.pool)).filter((d) => d.startsWith('sales '));
    assert.deepEqual(await sales(), []);
    // A row that exists but differs is repaired by a snapshot (version 0 never could).
    await f.pool.query(
      'UPDATE sales SET amount = amount + 1 WHERE sale_id = (SELECT min(sale_id) FROM sales)',
    );
    assert.equal((await sales()).length, 1);
    await new MockActivityEnvironment().run(() => snapshotTable(deps, 'sales', Context.current()));
    assert.deepEqual(await sales(), []);
  });
});
