/**
 * Records the golden histories that test/workflow-histories.test.ts replays against the current
 * workflow code: real runs of every workflow type on the real servers (the Temporal CLI dev
 * server, DynamoDB Local, versitygw, PostgreSQL and the vendor simulator), written as JSON under
 * test/histories/. Run it with `npm run histories:record` when a workflow change is meant to
 * break old histories (after patching, or with a reason in the commit): docs/development.md.
 *
 * Histories carry plain payloads (no codec), so the replay needs no key.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { startPostgres } from '../../scripts/lib/postgres.js';
import { waitFor } from '../../scripts/lib/poll.js';
import { freePort } from '../../scripts/stack.js';
import { createStateActivities } from '../../src/activities/state.js';
import { createNotifyActivities } from '../../src/activities/notify.js';
import { s3ObjectStore } from '../../src/feed/s3-store.js';
import { createFeedWorker, feedTaskQueue } from '../../src/feed/worker.js';
import { createPool, migrate } from '../../src/sql/db.js';
import { createWorkers, installRuntime } from '../../src/worker.js';
import { changeFeedWorkflow, reconcileWorkflow } from '../../src/workflows/index.js';
import type { SalesSyncInput } from '../../src/workflows/types.js';
import { Pipeline, SIM_KEY, startDevServer, startDynamo, startObjects } from '../helpers/harness.js';
import { TEST_FEED_SETTINGS } from '../helpers/feed.js';

const OUT = dirname(fileURLToPath(import.meta.url));
type History = proto.temporal.api.history.v1.IHistory;

/**
 * A history as plain JSON (int64 as strings, bytes as base64, enums by name), read back by
 * `History.fromObject`. The SDK's historyToJSON is not used: with two protobufjs copies installed
 * (the SDK's and the proto package's), its type check refuses the proto package's types.
 */
function historyJson(history: History): object {
  const H = proto.temporal.api.history.v1.History;
  return H.toObject(H.fromObject(history), { longs: String, bytes: String, enums: String });
}

/** The histories to record: those named on the command line, or all. */
const only = new Set(process.argv.slice(2));
const wanted = (name: string) => only.size === 0 || only.has(name);

/** Writes one history as `<name>.json`, with the workflow ID it came from (when it is wanted). */
function save(name: string, workflowId: string, history: History): void {
  if (!wanted(name)) return;
  const json = historyJson(history);
  writeFileSync(join(OUT, `${name}.json`), `${JSON.stringify({ workflowId, history: json })}\n`);
  console.log(`recorded ${name}.json (${(history.events ?? []).length} events)`);
}

/** The first execution (before any continue-as-new) of a workflow. */
async function firstRun(client: Client, workflowId: string): Promise<History> {
  const desc = await client.workflow.getHandle(workflowId).describe();
  const first = desc.raw.workflowExecutionInfo?.firstRunId ?? undefined;
  return client.workflow.getHandle(workflowId, first ?? undefined).fetchHistory();
}

/** IDs of the child workflows a history started, in order. */
function children(history: History): string[] {
  return (history.events ?? [])
    .map((e) => e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId)
    .filter((id): id is string => typeof id === 'string');
}

/** Runs `input` with the pipeline's real activities; `failBranchId` makes that branch's employee list fail for good. */
async function runSync(
  p: Pipeline,
  input: SalesSyncInput,
  failBranchId?: string,
): Promise<{ workflowId: string; ok: boolean }> {
  const activities = p.activities(2);
  if (failBranchId) {
    const real = activities.syncEmployeesPage;
    activities.syncEmployeesPage = async (a) => {
      if (a.branchId === failBranchId)
        throw ApplicationFailure.nonRetryable(
          `branch ${failBranchId} refused (recorded failure)`,
          'Recorded',
        );
      return real(a);
    };
  }
  const workers = await createWorkers({
    connection: p.env.nativeConnection,
    namespace: p.env.namespace ?? 'default',
    queues: p.queues,
    activities,
    workflowActivities: {
      ...createNotifyActivities({ setAsideThreshold: 10 }),
      ...createStateActivities({ store: p.store, state: p.state }),
    },
    rateLimitRps: 1000,
  });
  const running = workers.map((w) => w.run());
  try {
    const r = await p.run({ window: 'full', ...input });
    return { workflowId: r.workflowId, ok: r.ok };
  } finally {
    workers.forEach((w) => w.shutdown());
    await Promise.all(running);
  }
}

/** The sync's three workflow types: a plain run, one that continues as new, one with a failed branch. */
async function recordSync(env: TestWorkflowEnvironment, p: Pipeline): Promise<void> {
  const names = p.sim.dataset.branches.map((b) => b.branch_name);
  const plain = await runSync(p, { branches: names.slice(0, 2) });
  if (!plain.ok) throw new Error(`the plain run ${plain.workflowId} failed`);
  const parent = await firstRun(env.client, plain.workflowId);
  save('sales-sync', plain.workflowId, parent);
  const branchId = children(parent)[0];
  if (!branchId) throw new Error('the plain run started no branch child');
  const branch = await firstRun(env.client, branchId);
  save('branch-sync', branchId, branch);
  const salespersonId = children(branch)[0];
  if (!salespersonId) throw new Error('the branch started no salesperson child');
  save('salesperson-sync', salespersonId, await firstRun(env.client, salespersonId));

  const long = await runSync(p, { branches: names, historyBudget: 20 });
  if (!long.ok) throw new Error(`the continue-as-new run ${long.workflowId} failed`);
  save('sales-sync-continued', long.workflowId, await firstRun(env.client, long.workflowId));

  const second = p.sim.dataset.branches[1];
  const failed = await runSync(p, { branches: names.slice(0, 2) }, String(second?.id));
  if (failed.ok) throw new Error(`the run ${failed.workflowId} should have failed on ${second?.branch_name}`);
  save('sales-sync-failed-branch', failed.workflowId, await firstRun(env.client, failed.workflowId));
}

/** The feed's worker (PostgreSQL, a fresh feed queue) and the workflows it runs. */
async function recordFeed(env: TestWorkflowEnvironment, p: Pipeline, dynamoEndpoint: string): Promise<void> {
  const pg = await startPostgres({ port: await freePort() });
  const pool = createPool(pg.url);
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  try {
    await migrate(pool);
    const taskQueue = feedTaskQueue(`-${randomUUID().slice(0, 8)}`);
    worker = await createFeedWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      dynamo: { endpoint: dynamoEndpoint, region: 'us-east-1', tablePrefix: '', tableSuffix: '' },
      names: p.store.names,
      objects: s3ObjectStore(p.landing.s3, p.landing.bucket),
      prefix: 'changes/',
      pool,
      pollMs: 200,
    });
    running = worker.run();
    if (wanted('change-feed')) await recordChangeFeed(env, p, taskQueue);
    await recordFeedQueueWorkflows(env, p, taskQueue);
  } finally {
    worker?.shutdown();
    await running;
    await pool.end();
    await pg.stop();
  }
}

/** The workflows the feed's worker runs besides the consumers: a run's sync_runs record and a reconcile. */
async function recordFeedQueueWorkflows(
  env: TestWorkflowEnvironment,
  p: Pipeline,
  taskQueue: string,
): Promise<void> {
  const names = p.sim.dataset.branches.map((b) => b.branch_name);
  const run = await runSync(p, { branches: names.slice(0, 1), feedTaskQueue: taskQueue });
  const recordId = children(await firstRun(env.client, run.workflowId)).find((id) =>
    id.startsWith('sales-sync-run-record/'),
  );
  if (!recordId) throw new Error(`the run ${run.workflowId} handed its sync_runs row to no child`);
  await env.client.workflow.getHandle(recordId).result();
  save('record-sync-run', recordId, await firstRun(env.client, recordId));
  const reconcileId = `history-reconcile-${randomUUID().slice(0, 8)}`;
  await env.client.workflow.execute(reconcileWorkflow, {
    workflowId: reconcileId,
    taskQueue,
    args: [{ tables: ['branches'], settleSeconds: 0 }],
  });
  save('reconcile', reconcileId, await firstRun(env.client, reconcileId));
}

/** The change feed of the sales table, past one continue-as-new, after a sync wrote changes. */
async function recordChangeFeed(env: TestWorkflowEnvironment, p: Pipeline, taskQueue: string): Promise<void> {
  const workflowId = `history-feed-${randomUUID().slice(0, 8)}`;
  const handle = await env.client.workflow.start(changeFeedWorkflow, {
    workflowId,
    taskQueue,
    args: [{ table: 'sales', settings: TEST_FEED_SETTINGS, historyBudget: 40 }],
  });
  await runSync(p, { branches: p.sim.dataset.branches.map((b) => b.branch_name).slice(0, 1) });
  await waitFor('the feed to continue as new', 120_000, async () => {
    const d = await handle.describe();
    return d.runId !== handle.firstExecutionRunId ? true : undefined;
  });
  save('change-feed', workflowId, await firstRun(env.client, workflowId));
  await handle.terminate('history recorded');
}

async function main(): Promise<void> {
  await installRuntime({ logLevel: 'ERROR' });
  const [env, dynamo, objects] = await Promise.all([startDevServer(), startDynamo(), startObjects()]);
  const p = await Pipeline.create(env, dynamo, objects, {
    apiKeys: [SIM_KEY],
    branches: 3,
    employeesPerBranch: 4,
    salesPerSalesperson: 5,
  });
  try {
    const sync = [
      'sales-sync',
      'branch-sync',
      'salesperson-sync',
      'sales-sync-continued',
      'sales-sync-failed-branch',
    ];
    if (sync.some(wanted)) await recordSync(env, p);
    if (['change-feed', 'record-sync-run', 'reconcile'].some(wanted))
      await recordFeed(env, p, dynamo.endpoint);
  } finally {
    await p.stop();
    await env.teardown();
    await dynamo.stop();
    await objects.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
