/**
 * A replay never moves data back and never notifies by accident, on real servers: the
 * time-skipping server, DynamoDB Local, versitygw, a scripted vendor whose records the test
 * corrects between runs, and HTTP receivers standing in for the notice and follow-up webhooks.
 */
import assert from 'node:assert/strict';
import { startReplay } from '../src/client.js';
import { describeSummary, type SyncSummary } from '../src/shared/summary.js';
import { toChangeEvent, windowOf } from '../src/feed/events.js';
import { branchWorkflowId, salespersonWorkflowId, windowScope } from '../src/shared/ids.js';
import { type Pipeline, SIM_KEY, useStack } from './helpers/harness.js';
import { type Receiver, receiver } from './helpers/receiver.js';
import { oneBranch, saleText, useScriptedVendors } from './helpers/scripted-vendor.js';

/** The stored sale `id`'s amount and fetched_at. */
async function sale(p: Pipeline, id: string): Promise<Record<string, unknown> | undefined> {
  return (await p.store.scanAll('sales')).find((s) => String(s.sale_id) === id);
}

describe('replay never regresses, and is quiet unless asked (time-skipping server, versitygw, DynamoDB Local)', function () {
  this.timeout(240_000);
  const stack = useStack('time-skipping');
  const scripted = useScriptedVendors(stack);
  const receivers: Receiver[] = [];
  after(() => Promise.all(receivers.map((r) => r.close())));

  it('replay --run A after a correction stored by run B keeps B, counted newer kept; a dry run counts it too and posts nothing; --force restores A and says so; --notify posts with the kind', async () => {
    const [hook, follow] = [await receiver(), await receiver()];
    receivers.push(hook, follow);
    // A threshold below zero: every run's notice is due, so a notice not sent is a notice withheld.
    const notify = { webhookUrl: hook.url, followUpUrl: follow.url, setAsideThreshold: -1 };
    const { vendor, p } = await scripted(oneBranch('7', '42', [saleText('1'), saleText('2')]), SIM_KEY);
    const run = (input: Parameters<Pipeline['run']>[0]) => p.withWorkers(() => p.run(input), 50, notify);
    const replay = (source: string, opts: { dryRun?: boolean; force?: boolean; notify?: boolean } = {}) =>
      p.withWorkers(
        async (): Promise<SyncSummary> =>
          (
            await startReplay(p.env.client, p.queues, {
              run: source,
              dryRun: false,
              feedTaskQueue: null,
              ...opts,
            })
          ).handle.result(),
        50,
        notify,
      );

    const a = await run({ branches: ['Akron'], window: 'full' });
    assert.ok(a.ok, a.ok ? '' : a.message);
    const v1 = await sale(p, '1');
    assert.equal(v1?.amount, '12.50');
    assert.equal(typeof v1?.fetched_at, 'string', 'the item records when its content was fetched');
    assert.equal(hook.bodies.at(-1)?.kind, 'manual', 'a live run started by hand says so');
    assert.equal(follow.bodies.at(-1)?.kind, 'manual');

    // The vendor corrects sale 1; run B stores the correction.
    vendor.data.sales['42'] = [saleText('1').replace('"12.50"', '"13.75"'), saleText('2')];
    const b = await run({ branches: ['Akron'], window: 'full' });
    assert.ok(b.ok, b.ok ? '' : b.message);
    assert.equal(b.summary.counts.sales.updated, 1);
    const v2 = await sale(p, '1');
    assert.equal(v2?.amount, '13.75');
    assert.ok(String(v2?.fetched_at) > String(v1?.fetched_at));
    const posted = [hook.bodies.length, follow.bodies.length];

    const dry = await replay(a.workflowId, { dryRun: true });
    assert.equal(dry.counts.sales.newerKept, 1, 'a dry run counts the newer item it would keep');
    assert.equal(dry.counts.sales.updated, 0);
    assert.equal(dry.counts.sales.unchanged, 1);
    assert.equal(dry.notice, null);
    assert.equal(dry.followUp, null);
    const kept = await replay(a.workflowId);
    assert.equal(kept.counts.sales.newerKept, 1);
    assert.equal(kept.counts.sales.updated, 0, 'nothing older is written');
    assert.match(kept.kind ?? '', /^replay$/);
    assert.deepEqual(await sale(p, '1'), v2, "run B's correction is kept, fetched_at and all");
    assert.deepEqual(
      [hook.bodies.length, follow.bodies.length],
      posted,
      'a replay and a dry run post nothing to the notice or follow-up webhooks',
    );

    const forced = await replay(a.workflowId, { force: true });
    assert.equal(forced.counts.sales.updated, 1, '--force restores the older content');
    assert.equal(forced.counts.sales.newerKept ?? 0, 0);
    assert.equal(forced.forced, true);
    assert.match(describeSummary(forced), /--force: older landed content written over newer/);
    const restored = await sale(p, '1');
    assert.equal(restored?.amount, '12.50');
    assert.equal(
      restored?.fetched_at,
      v1?.fetched_at,
      'the restored item records when its content was fetched',
    );

    // Asked for: a replay notifies, and says it is one.
    vendor.data.sales['42'] = [saleText('1').replace('"12.50"', '"13.75"'), saleText('2')];
    await replay(b.workflowId, { notify: true });
    assert.equal(hook.bodies.length, posted[0]! + 1, 'a replay with --notify sends its notice');
    assert.equal(hook.bodies.at(-1)?.kind, 'replay');
    assert.match(String(hook.bodies.at(-1)?.text), /replay/);
    assert.equal(follow.bodies.at(-1)?.kind, 'replay');
    const dryNotified = await replay(b.workflowId, { dryRun: true, notify: true });
    assert.equal(dryNotified.kind, 'dry-run replay');
    assert.equal(hook.bodies.at(-1)?.kind, 'dry-run replay');
  });
});

describe("change events written by a replay carry the replayed run's window", () => {
  const window = { from: '2026-11-20T05:00:00.000Z', to: '2026-11-21T05:00:00.000Z' };
  const scope = windowScope(window, window.to);

  it("the window of a live run's writers and of a replay's writers (children and parent) is the same", () => {
    const live = windowOf(branchWorkflowId(scope, 'Akron'));
    assert.equal(live, '2026-11-21T05:00:00Z/24h');
    // The IDs a replay's workflows take (src/workflows/sales-sync.ts, src/client/replay.ts).
    assert.equal(windowOf(branchWorkflowId(`replay/${scope}`, 'Akron')), live);
    assert.equal(windowOf(salespersonWorkflowId(`replay/${scope}`, 'run-1', '42')), live);
    const full = windowScope(null, '2026-11-21T05:00:07.000Z');
    assert.equal(windowOf(branchWorkflowId(`replay/${full}`, 'Akron')), 'full-2026-11-21T05:00:07Z');
  });

  it('an event of an item a replay child wrote carries the window', () => {
    const e = toChangeEvent('sales', 'shard-1', {
      eventName: 'MODIFY',
      dynamodb: {
        SequenceNumber: '100',
        Keys: { sale_id: { S: '1' }, employee_id: { S: '42' } },
        NewImage: {
          sale_id: { S: '1' },
          employee_id: { S: '42' },
          synced_by: { S: salespersonWorkflowId(`replay/${scope}`, 'run-1', '42') },
        },
      },
    });
    assert.equal(e.window, '2026-11-21T05:00:00Z/24h');
  });
});
