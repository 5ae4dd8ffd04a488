/**
 * The change feed on real servers (DynamoDB Local's streams, the Temporal dev server, PostgreSQL,
 * the object store) with values and streams that used to stall it: U+0000 in a string and a 6 KB
 * indexed field beside normal sales, lag per shard and in the feed process's metrics, a stream of
 * another view type, and the first-start snapshot beside the stream's reading.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PutItemCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import type { ChildProcess } from 'node:child_process';
import { temporal } from '@temporalio/proto';
import { spawnWorker } from '../scripts/worker-command.js';
import { freePort, stopChild } from '../scripts/stack.js';
import { waitFor } from '../scripts/lib/poll.js';
import { feedWorkflowId } from '../src/feed/worker.js';
import { DEFAULT_BRANCHES } from '../src/shared/branches.js';
import { copyDifferences } from '../src/feed/compare.js';
import { feedStatusQuery } from '../src/workflows/change-feed.js';
import { useFeed } from './helpers/feed.js';
import { type Pipeline, useStack } from './helpers/harness.js';
import { scrape, total } from './helpers/prometheus.js';

const ALL = { window: 'full' as const, branches: [...DEFAULT_BRANCHES] };

/** A sale written by hand into DynamoDB, like the sync's (strings and numbers). */
async function putSale(p: Pipeline, id: string, fields: Record<string, string>): Promise<void> {
  await p.store.clients.raw.send(
    new PutItemCommand({
      TableName: p.store.names.sales,
      Item: {
        sale_id: { S: id },
        employee_id: { S: '1' },
        branch_id: { S: '1' },
        id: { N: id },
        amount: { N: '10.25' },
        quantity: { N: '1' },
        product: { S: 'pen' },
        customer: { S: 'Ann Lee' },
        transaction_timestamp: { S: '2026-01-01 00:00:00' },
        ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, { S: v }])),
      },
    }),
  );
}

describe('change feed: no value stalls it, lag per shard, other view types, the snapshot beside the stream', function () {
  this.timeout(600_000);
  const stack = useStack('dev-server', { seed: 21, employeesPerBranch: 2, salesPerSalesperson: 3 });
  const feeds = useFeed(stack);

  it('U+0000 in a sale and a 6 KB branch_id beside normal sales: the normal sales and the NUL sale arrive (inexact_fields), the big one is dead-lettered, later changes follow; lag per shard in feed_freshness and in the feed process metrics', async () => {
    const p = await stack.pipeline();
    const f = await feeds.feed(p, { start: false });
    await p.withWorkers(() => p.run(ALL));
    const metricsPort = await freePort();
    let output = '';
    const child: ChildProcess = spawnWorker(
      'src/feed/service.ts',
      feeds.processEnv(f, {
        FEED_BATCH_MAX_SECONDS: '1',
        METRICS_PORT: String(metricsPort),
        METRICS_BIND: '127.0.0.1',
      }),
      ['ignore', 'pipe', 'pipe'],
    );
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    try {
      await f.caughtUp(240_000);
      await putSale(p, '900001', { customer: 'Ann\u0000Lee' });
      await putSale(p, '900002', { branch_id: randomBytes(6000).toString('base64').slice(0, 6000) });
      await putSale(p, '900003', {});
      await putSale(p, '900004', {});
      p.sim.mutate({
        seed: 5,
        newSales: 2,
        correctedSales: 2,
        transfers: 0,
        departures: 0,
        branchChanges: 1,
      });
      await p.withWorkers(() => p.run(ALL));
      // Everything is what the feed would write (the later changes arrived) but the hand-written sale it
      // cannot write at all; the one with a field PostgreSQL cannot hold is no difference (inexact_fields).
      let last: string[] = [];
      const ours = (d: string) => /900002\|1/.test(d);
      const diff = await waitFor(
        'the later changes',
        180_000,
        async () => {
          last = await copyDifferences(p.store, f.pool, 50);
          return last.length > 0 && last.every(ours) ? last : undefined;
        },
        500,
        () => `the copy still differs: ${last.slice(0, 6).join('; ')}`,
      );
      assert.equal(diff.length, 1, diff.join('; '));
      assert.match(diff[0] ?? '', /^sales 900002\|1: the feed cannot write the item \(.*index row/);
      const nul = await f.pool.query<{
        customer: string | null;
        record: Record<string, unknown>;
        inexact_fields: string[];
      }>(`SELECT customer, record, inexact_fields FROM sales WHERE sale_id = '900001'`);
      assert.equal(nul.rows[0]?.customer, null);
      assert.equal(nul.rows[0]?.record.customer, null);
      assert.equal(nul.rows[0]?.record.amount, 10.25);
      assert.deepEqual(nul.rows[0]?.inexact_fields, ['customer']);
      const exact = (await f.events()).find((e) => e.key.sale_id === '900001');
      assert.equal(exact?.new?.customer, 'Ann\u0000Lee', 'the exact value is in the change object');
      const dead = await f.pool.query<{ key: string; reason: string }>(
        'SELECT key, reason FROM feed_dead_letter',
      );
      assert.equal(dead.rows.length, 1, JSON.stringify(dead.rows));
      assert.deepEqual(JSON.parse(dead.rows[0]?.key ?? ''), { sale_id: '900002', employee_id: '1' });
      assert.match(dead.rows[0]?.reason ?? '', /index row/);
      // Lag per shard: each table's shards have a row of their own.
      const status = await stack.env.client.workflow
        .getHandle(feedWorkflowId('sales', f.suffix))
        .query(feedStatusQuery);
      const shards = await f.pool.query<{ table_name: string; shard_id: string; lag_ms: string }>(
        'SELECT table_name, shard_id, lag_ms FROM feed_freshness',
      );
      // The first-start snapshot has a row of its own.
      const salesShards = shards.rows
        .filter((r) => r.table_name === 'sales' && r.shard_id !== 'snapshot')
        .map((r) => r.shard_id);
      assert.ok(salesShards.length > 0);
      for (const s of salesShards)
        assert.ok(
          status.shards.some((x) => x.id === s),
          `${s} is a shard of the sales stream`,
        );
      assert.deepEqual([...new Set(shards.rows.map((r) => r.table_name))].sort(), [
        'branches',
        'sales',
        'salespersons',
      ]);
      // The feed process serves its metrics: the lag per table and the dead letters.
      const samples = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
      for (const table of ['branches', 'salespersons', 'sales'])
        assert.ok(
          samples.some((s) => s.name === 'sales_sync_change_feed_lag_seconds' && s.labels.table === table),
          `no lag of ${table}`,
        );
      assert.equal(total(samples, 'sales_sync_change_feed_dead_letters_total', { table: 'sales' }), 1);
      assert.equal(total(samples, 'sales_sync_change_feed_dead_letters_total', { table: 'branches' }), 0);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- feed process ---\n${output.slice(-4000)}`, {
        cause: err,
      });
    } finally {
      await stopChild(child, 20_000);
    }
  });

  it('a stream whose view type is not NEW_AND_OLD_IMAGES is skipped and reported, never read', async () => {
    const p = await stack.pipeline();
    const f = await feeds.feed(p, { start: false });
    const spec = (StreamSpecification: {
      StreamEnabled: boolean;
      StreamViewType?: 'KEYS_ONLY' | 'NEW_AND_OLD_IMAGES';
    }) =>
      p.store.clients.raw.send(
        new UpdateTableCommand({ TableName: p.store.names.sales, StreamSpecification }),
      );
    // A KEYS_ONLY stream that saw the first run, then the right one for the next.
    await spec({ StreamEnabled: false });
    await spec({ StreamEnabled: true, StreamViewType: 'KEYS_ONLY' });
    await p.withWorkers(() => p.run(ALL));
    await spec({ StreamEnabled: false });
    await spec({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    await f.start();
    p.sim.mutate({ seed: 9, newSales: 2, correctedSales: 2, transfers: 0, departures: 0, branchChanges: 0 });
    await p.withWorkers(() => p.run(ALL));
    const handle = stack.env.client.workflow.getHandle(feedWorkflowId('sales', f.suffix));
    const status = await waitFor('the new stream read', 120_000, async () => {
      const s = await handle.query(feedStatusQuery);
      return s.totals.events > 0 ? s : undefined;
    });
    assert.equal(status.skippedStreams?.length, 1, JSON.stringify(status.skippedStreams));
    assert.equal(status.skippedStreams?.[0]?.viewType, 'KEYS_ONLY');
    assert.ok(
      status.shards.every((s) => s.stream !== status.skippedStreams?.[0]?.arn),
      'no shard of the skipped stream is followed',
    );
    const nulls = await f.pool.query(`SELECT sale_id FROM sales WHERE record IS NULL AND NOT deleted`);
    assert.equal(nulls.rowCount, 0, 'no row without its record');
    const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    assert.match(meta.currentDetails ?? '', /skipped 1 stream of view type KEYS_ONLY/);
  });

  it('the first-start snapshot runs beside the reading of the stream, not before it', async () => {
    const p = await stack.pipeline();
    // Items before the consumer starts: the snapshot has them to apply, while the stream has their changes.
    await p.withWorkers(() => p.run(ALL));
    const f = await feeds.feed(p);
    await f.caughtUp();
    const history = await stack.env.client.workflow
      .getHandle(feedWorkflowId('sales', f.suffix))
      .fetchHistory();
    const EventType = temporal.api.enums.v1.EventType;
    const scheduled = new Map<number, string>();
    let snapshotDone: number | undefined;
    let firstListing: number | undefined;
    for (const e of history.events ?? []) {
      const id = Number(e.eventId);
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        const name = e.activityTaskScheduledEventAttributes?.activityType?.name ?? '';
        scheduled.set(id, name);
        if (name === 'listShards') firstListing ??= id;
      }
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
        const of = scheduled.get(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId));
        if (of === 'snapshotTable') snapshotDone ??= id;
      }
    }
    assert.ok(snapshotDone && firstListing, 'a snapshot and a listing');
    assert.ok(firstListing < snapshotDone, 'the stream is listed before the snapshot has ended');
    const handle = stack.env.client.workflow.getHandle(feedWorkflowId('sales', f.suffix));
    const snapshot = await waitFor(
      'the snapshot recorded in the state',
      30_000,
      async () => (await handle.query(feedStatusQuery)).snapshot,
    );
    assert.equal(snapshot.items, (await p.store.scanAll('sales')).length);
  });
});
