/**
 * The change feed end to end on real servers: DynamoDB Local's streams, the Temporal dev server
 * (the consumers run for ever), PostgreSQL, and the object store.
 */
import assert from 'node:assert/strict';
import { PutItemCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { compareSeq } from '../src/feed/events.js';
import { decodeBatch } from '../src/feed/objects.js';
import { ensureStreams, feedWorkflowId } from '../src/feed/worker.js';
import { DEFAULT_BRANCHES } from '../src/shared/branches.js';
import { applyBatch } from '../src/sql/apply.js';
import { copyDifferences } from '../src/feed/compare.js';
import { createPool } from '../src/sql/db.js';
import { changeFeedWorkflow, feedStatusQuery } from '../src/workflows/change-feed.js';
import { type Feed, assertNoDuplicates, hashes, itemState, useFeed } from './helpers/feed.js';
import { useStack } from './helpers/harness.js';
import { waitFor } from '../scripts/lib/poll.js';

const ALL = { window: 'full' as const, branches: [...DEFAULT_BRANCHES] };

const eventKey = (e: { table: string; key: Record<string, string> }) =>
  `${e.table}:${Object.entries(e.key)
    .sort()
    .map(([k, v]) => `${k}=${v}`)
    .join('|')}`;

describe('change feed (DynamoDB Streams -> Temporal consumer -> change objects -> PostgreSQL)', function () {
  this.timeout(300_000);
  const stack = useStack('dev-server', { seed: 13, employeesPerBranch: 3, salesPerSalesperson: 4 });
  const feeds = useFeed(stack);

  /** The events not in `before` (objects are listed by table and hour, not in time order). */
  async function changesSince(f: Feed, before: { shard: string; seq: string }[]) {
    const old = new Set(before.map((e) => `${e.shard}/${e.seq}`));
    return (await f.events()).filter((e) => !old.has(`${e.shard}/${e.seq}`));
  }

  it('a pooled connection PostgreSQL ends while it is checked out fails its next query, not the process; the pool connects again', async () => {
    const pool = createPool(feeds.postgres.url, 2);
    try {
      const held = await pool.connect();
      const pid = (await held.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      const ended = new Promise((resolve) => held.once('end', resolve));
      // As a PostgreSQL restart does to every connection; unhandled, the client's 'error' event ended the process.
      await pool.query('SELECT pg_terminate_backend($1)', [pid]);
      await ended;
      await assert.rejects(held.query('SELECT 1'));
      held.release(true);
      assert.equal((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one, 1);
    } finally {
      await pool.end();
    }
  });

  it('after a run the PostgreSQL tables equal the DynamoDB tables field by field; an unchanged run adds no event', async () => {
    const p = await stack.pipeline();
    const f = await feeds.feed(p);
    await p.withWorkers(() => p.run(ALL));
    await f.caughtUp();
    const first = await f.events();
    assert.equal(first.length, (await hashes(p)).size, 'one event per item');
    assert.ok(
      first.every(
        (e) => e.op === 'INSERT' && e.run && e.workflow && e.window?.startsWith('full-') && e.new && !e.old,
      ),
    );
    assertNoDuplicates(first);
    for (const e of first)
      assert.match(e.object, /^changes\/(branches|salespersons|sales)\/\d{4}\/\d{2}\/\d{2}\/\d{2}\//);
    await p.withWorkers(() => p.run(ALL));
    // Longer than a batch takes to be cut and applied, had anything changed.
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal((await f.events()).length, first.length, 'an unchanged run produced change events');
    await f.caughtUp();
    const status = await stack.env.client.workflow
      .getHandle(feedWorkflowId('sales', f.suffix))
      .query(feedStatusQuery);
    assert.equal(status.totals.events, first.filter((e) => e.table === 'sales').length);
    assert.equal(status.lagMs, 0);
    // The analysts' views add up to the sales DynamoDB holds (the README's query).
    const sales = await p.store.scanAll('sales');
    const cents = (a: unknown) => Math.round(Number(a) * 100);
    const { rows } = await f.pool.query<{ branch_name: string; day: Date; sales: string; amount: string }>(
      'SELECT branch_name, day, sales, amount FROM sales_per_branch_day ORDER BY day DESC, amount DESC',
    );
    assert.equal(
      rows.reduce((n, r) => n + Number(r.sales), 0),
      sales.length,
    );
    assert.equal(
      rows.reduce((n, r) => n + cents(r.amount), 0),
      sales.reduce((n, s) => n + cents(s.amount), 0),
    );
    assert.ok(
      rows.every((r) => r.branch_name),
      'every sale has its branch name',
    );
    const per = await f.pool.query<{ sales: string; name: string }>(
      'SELECT sales, name FROM sales_per_salesperson',
    );
    assert.equal(
      per.rows.reduce((n, r) => n + Number(r.sales), 0),
      sales.length,
    );
    assert.ok(per.rows.every((r) => r.name));
  });

  it('after a mutation the change objects hold exactly the changed items (new and old images) and the rows follow', async () => {
    const p = await stack.pipeline();
    const f = await feeds.feed(p);
    await p.withWorkers(() => p.run(ALL));
    await f.caughtUp();
    const before = await hashes(p);
    const n = await f.events();
    p.sim.mutate({ seed: 3, newSales: 3, correctedSales: 3, transfers: 1, departures: 1, branchChanges: 1 });
    await p.withWorkers(() => p.run(ALL));
    await f.caughtUp();
    const after = await hashes(p);
    const changed = [...after].filter(([k, h]) => before.get(k) !== h).map(([k]) => k);
    assert.ok(changed.length >= 7, `${changed.length} items changed`);
    const events = await changesSince(f, n);
    assert.deepEqual(events.map(eventKey).sort(), changed.sort(), 'the events are exactly the changed items');
    for (const e of events) {
      const k = eventKey(e);
      if (before.has(k)) {
        assert.equal(e.op, 'MODIFY');
        assert.equal(itemState(e.old), before.get(k));
      } else assert.equal(e.op, 'INSERT');
      assert.equal(itemState(e.new), after.get(k));
    }
  });

  it('a replayed, duplicated or older event never moves a row back', async () => {
    const p = await stack.pipeline();
    const f = await feeds.feed(p);
    await p.withWorkers(() => p.run(ALL));
    await f.caughtUp();
    p.sim.mutate({ seed: 4, newSales: 1, correctedSales: 4, transfers: 0, departures: 0, branchChanges: 2 });
    await p.withWorkers(() => p.run(ALL));
    await f.caughtUp();
    await f.stopWorker();
    // Every object applied again, newest first (the worst order), some twice.
    const keys = (await f.objects.list('changes/')).reverse();
    for (const key of [...keys, ...keys.slice(0, 3)]) {
      const events = decodeBatch(await f.objects.get(key));
      const first = events[0];
      assert.ok(first);
      const r = await applyBatch(
        f.pool,
        { objectKey: key, table: first.table, shard: first.shard, lagMs: 0 },
        events,
      );
      assert.equal(r.applied, 0, `${key} moved rows`);
    }
    // An older version of a corrected row, alone, after the newer one.
    const modified = (await f.events()).filter((e) => e.op === 'MODIFY' && e.table === 'sales');
    assert.ok(modified.length > 0);
    const older = {
      ...(modified[0] as (typeof modified)[0]),
      op: 'MODIFY' as const,
      seq: '1',
      new: modified[0]?.old,
    };
    const r = await applyBatch(
      f.pool,
      { objectKey: 'test/older', table: 'sales', shard: older.shard, lagMs: 0 },
      [older],
    );
    assert.equal(r.applied, 0);
    assert.deepEqual(await copyDifferences(p.store, f.pool), []);
    // The versions are the stream's sequence numbers of the last changes.
    const { rows } = await f.pool.query<{ version: string }>('SELECT version::text FROM sales');
    const maxSeq = modified
      .map((e) => e.seq)
      .sort(compareSeq)
      .at(-1) as string;
    assert.ok(rows.some((row) => compareSeq(row.version, maxSeq) === 0));
  });

  it('the consumer continues as new with its checkpoint and counts: nothing read twice, nothing skipped', async () => {
    const p = await stack.pipeline();
    const f = await feeds.feed(p, { start: false });
    const first = new Map<string, string>();
    for (const table of ['branches', 'salespersons', 'sales'] as const) {
      const h = await stack.env.client.workflow.start(changeFeedWorkflow, {
        workflowId: feedWorkflowId(table, f.suffix),
        taskQueue: f.taskQueue,
        args: [{ table, settings: f.settings, historyBudget: 40 }],
      });
      first.set(table, h.firstExecutionRunId);
    }
    await f.start();
    await p.withWorkers(() => p.run(ALL));
    p.sim.mutate({ seed: 7, newSales: 3, correctedSales: 3, transfers: 1, departures: 0, branchChanges: 1 });
    await p.withWorkers(() => p.run(ALL));
    await f.caughtUp();
    const events = await f.events();
    assertNoDuplicates(events);
    const handle = stack.env.client.workflow.getHandle(feedWorkflowId('sales', f.suffix));
    await waitFor('a continue-as-new', 60_000, async () =>
      (await handle.describe()).runId !== first.get('sales') ? true : undefined,
    );
    const status = await handle.query(feedStatusQuery);
    assert.equal(
      status.totals.events,
      events.filter((e) => e.table === 'sales').length,
      'counts carried over',
    );
    assert.ok(
      status.shards.every((s) => s.after),
      'checkpoints carried over',
    );
  });

  it('tables synced before their streams existed: the first start applies what they hold, then the changes', async () => {
    const p = await stack.pipeline();
    for (const table of ['branches', 'salespersons', 'sales'] as const)
      await p.store.clients.raw.send(
        new UpdateTableCommand({
          TableName: p.store.names[table],
          StreamSpecification: { StreamEnabled: false },
        }),
      );
    await p.withWorkers(() => p.run(ALL));
    const f = await feeds.feed(p, { start: false });
    assert.deepEqual((await ensureStreams(p.store.clients, p.store.names)).length, 3);
    await f.start();
    await f.caughtUp();
    assert.equal((await f.events()).length, 0, 'the snapshot is not a change');
    const sales = stack.env.client.workflow.getHandle(feedWorkflowId('sales', f.suffix));
    const recorded = async () => (await sales.query(feedStatusQuery)).snapshot;
    const snapshot = await waitFor('the snapshot recorded', 30_000, recorded);
    assert.equal(snapshot.items, (await p.store.scanAll('sales')).length);
    p.sim.mutate({ seed: 12, newSales: 2, correctedSales: 3, transfers: 0, departures: 0, branchChanges: 1 });
    await p.withWorkers(() => p.run(ALL));
    await f.caughtUp();
    assert.equal((await f.events()).length, 6, 'the changes after the streams were enabled');
  });

  it('a poisoned event lands in the dead letter with the reason while the rest flow', async () => {
    const p = await stack.pipeline();
    const f = await feeds.feed(p);
    await p.withWorkers(() => p.run(ALL));
    await f.caughtUp();
    // Someone writes an item by hand whose amount is not a number; the next sync's changes follow it.
    await p.store.clients.raw.send(
      new PutItemCommand({
        TableName: p.store.names.sales,
        Item: {
          sale_id: { S: '999999' },
          employee_id: { S: '1' },
          id: { N: '999999' },
          amount: { S: 'twelve dollars' },
          transaction_timestamp: { S: '2026-01-01 00:00:00' },
        },
      }),
    );
    p.sim.mutate({ seed: 6, newSales: 3, correctedSales: 2, transfers: 0, departures: 0, branchChanges: 0 });
    await p.withWorkers(() => p.run(ALL));
    const dead = await waitFor('the dead letter', 60_000, async () => {
      const { rows } = await f.pool.query<{
        key: Record<string, string>;
        reason: string;
        object_key: string;
      }>('SELECT key::jsonb AS key, reason, object_key FROM feed_dead_letter');
      return rows.length > 0 ? rows : undefined;
    });
    assert.equal(dead.length, 1);
    assert.deepEqual(dead[0]?.key, { sale_id: '999999', employee_id: '1' });
    assert.match(dead[0]?.reason ?? '', /numeric/);
    await waitFor('the other changes', 60_000, async () => {
      const d = await copyDifferences(p.store, f.pool);
      return d.length === 1 ? d : undefined;
    }).then((d) => assert.match(d[0] ?? '', /sales 999999\|1: the feed cannot write the item \(.*numeric/));
  });

  it('a stream disabled and enabled again: the closed shard is read to its end, then the new stream', async () => {
    const p = await stack.pipeline();
    const f = await feeds.feed(p);
    await p.withWorkers(() => p.run(ALL));
    p.sim.mutate({ seed: 8, newSales: 2, correctedSales: 2, transfers: 0, departures: 0, branchChanges: 0 });
    await p.withWorkers(() => p.run(ALL));
    // Before the consumer has necessarily read them all: the old stream's shard closes.
    for (const StreamSpecification of [
      { StreamEnabled: false },
      { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' as const },
    ])
      await p.store.clients.raw.send(
        new UpdateTableCommand({ TableName: p.store.names.sales, StreamSpecification }),
      );
    p.sim.mutate({ seed: 9, newSales: 3, correctedSales: 2, transfers: 0, departures: 0, branchChanges: 0 });
    await p.withWorkers(() => p.run(ALL));
    await f.caughtUp();
    const status = await stack.env.client.workflow
      .getHandle(feedWorkflowId('sales', f.suffix))
      .query(feedStatusQuery);
    assert.equal(new Set(status.shards.map((s) => s.stream)).size, 2, 'shards of both streams');
    assert.ok(
      status.shards.some((s) => s.done),
      'the closed shard is done',
    );
    assertNoDuplicates(await f.events());
  });
});
