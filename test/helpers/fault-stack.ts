/**
 * The process-fault tests' stack and assertions (test/process-faults.test.ts,
 * test/stop-services.test.ts): the production worker as a separate node process, the Temporal
 * CLI dev server and DynamoDB Local keeping their state on disk in a temporary folder, and the
 * vendor simulator in this process with some latency, so that a run lasts several seconds and a
 * fault can hit it in the middle. Every test starts its own servers on free loopback ports, and
 * after each test no process it started is left.
 */
import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { runOutcome } from '../../src/client.js';
import type { SyncSummary, TableCounts } from '../../src/shared/summary.js';
import { type TaskQueues, taskQueues } from '../../src/shared/task-queues.js';
import { type SalesWindow, requestsNeeded } from '../../src/sim/expected.js';
import { type Dataset, VendorSimulator, type SimOptions } from '../../src/sim/index.js';
import { Store, createDynamoClients, ensureTables, tableNames } from '../../src/store/index.js';
import type { SalesSyncInput } from '../../src/workflows/types.js';
import {
  Cleanup,
  OutputLog,
  RestartableDynamo,
  RestartableTemporal,
  WorkerProcess,
  leftovers,
  removeDir,
  tempDir,
  waitFor,
} from './processes.js';
import { assertTablesMatch, type expectedTables } from './truth.js';
import { freshLanding, startObjects } from './harness.js';
import { localLandingEnv } from '../../scripts/stack.js';

export const API_KEY = 'fault-key-5d1e';
/**
 * Small pages, some latency and a modest quota: a full run over the 13 branches makes 195
 * requests (13 x (1 branch + 2 employee pages + 6 salespersons x 2 sales pages)), so it
 * lasts at least 195 / QUOTA_RPS s however fast the machine is.
 */
export const PAGE_SIZE = 10;
export const QUOTA_RPS = 25;
export const LATENCY_MS = 40;
export const DATASET: Partial<SimOptions> = { employeesPerBranch: 12, salesPerSalesperson: 20 };
/**
 * Longest a run may take after its fault: an activity lost with a killed worker (or a lost
 * poll answer) is retried only after its 60 s start-to-close timeout (src/workflows/common.ts).
 */
export const RUN_DEADLINE_MS = 180_000;
/**
 * Every fault run uses the default settings (branch concurrency 4): activities heartbeat
 * with a 15 s heartbeat timeout, so an attempt lost to a fault is retried within seconds
 * and does not stall the run behind a 60 s start-to-close timeout.
 */
export const FAULT_RUN: SalesSyncInput = { window: 'full' };

/** Vendor requests a run over `branches` needs when nothing fails (one per page). */
export function pagesOf(ds: Dataset, branches: readonly string[], window?: SalesWindow): number {
  return requestsNeeded(ds, branches, PAGE_SIZE, window).total;
}

/** One test's stack: dev server and DynamoDB Local on disk, the simulator, fresh tables and queues. */
export interface Stack {
  log: OutputLog;
  temporal: RestartableTemporal;
  dynamo: RestartableDynamo;
  sim: VendorSimulator;
  client: Client;
  store: Store;
  queues: TaskQueues;
  startWorker(): Promise<WorkerProcess>;
  workers: WorkerProcess[];
}

/** A clean summary of a complete run over `branches`: every item once, nothing failed or rewritten. */
export function assertCompleteSummary(
  summary: SyncSummary | undefined,
  expected: ReturnType<typeof expectedTables>,
  branches: readonly string[],
): asserts summary is SyncSummary {
  assert.ok(summary, 'the run has a summary');
  assert.deepEqual(summary.failedBranches, [], 'failed branches');
  assert.deepEqual(summary.unknownBranches, [], 'unknown branches');
  assert.deepEqual(summary.skippedBranches, [], 'skipped branches');
  assert.equal(summary.branchesSynced, branches.length, 'branches synced');
  assert.equal(
    summary.salespersonsSynced + summary.salespersonsShared,
    expected.salespersons.size,
    'salesperson listings synced',
  );
  for (const t of ['branches', 'salespersons', 'sales'] as const) {
    const c: TableCounts = summary.counts[t];
    assert.equal(
      c.inserted + c.updated + c.unchanged,
      expected[t].size,
      `${t}: each record counted once (${JSON.stringify(c)})`,
    );
    assert.equal(c.updated, 0, `${t}: a retried write of the same content is not an update`);
    assert.equal(c.setAside, 0, `${t}: nothing set aside`);
    assert.ok(c.inserted <= expected[t].size, `${t}: no item inserted twice`);
  }
}

/** Notes the simulator's request counts every 2 s while they change, until cleanup. */
function noteProgress(simulator: VendorSimulator, log: OutputLog, cleanup: Cleanup): void {
  let last = -1;
  const sampler = setInterval(() => {
    const c = simulator.counters();
    if (c.total !== last) log.note(`simulator: ${c.total} requests, by status ${JSON.stringify(c.byStatus)}`);
    last = c.total;
  }, 2000);
  cleanup.add('stop the progress sampler', () => clearInterval(sampler));
}

/**
 * Starts a test's stack: the dev server first (the worker connects to it at start), then
 * the worker, DynamoDB Local (with the tables) and the simulator side by side.
 */
export async function faultStack(
  ctx: { cleanup: Cleanup; log: OutputLog; n: number },
  sim: Partial<SimOptions> = {},
): Promise<Stack> {
  const { cleanup, log, n } = ctx;
  const dir = tempDir();
  cleanup.add('remove the temp dir', () => removeDir(dir));
  const tag = `${process.pid}-${n}`;
  const temporal = await RestartableTemporal.create(dir, log);
  const dynamo = await RestartableDynamo.create(dir, log);
  cleanup.add('stop the dev server', () => temporal.stop());
  cleanup.add('stop DynamoDB Local', () => dynamo.stop());
  const simulator = await VendorSimulator.start({
    apiKeys: [API_KEY],
    quota: 0,
    latencyMs: LATENCY_MS,
    seed: 20 + n,
    ...DATASET,
    ...sim,
  });
  cleanup.add('stop the simulator', () => simulator.stop());
  const objects = await startObjects();
  cleanup.add('stop the object server', () => objects.stop());
  const landing = await freshLanding(objects);
  cleanup.add('destroy the S3 client', () => landing.s3.destroy());
  noteProgress(simulator, log, cleanup);

  const prefix = `pf${tag}-`;
  const suffix = `-pf${tag}`;
  const queues = taskQueues(suffix);
  const workers: WorkerProcess[] = [];
  const startWorker = async () => {
    const w = await WorkerProcess.start(
      {
        TEMPORAL_ADDRESS: temporal.address,
        VENDOR_API_URL: simulator.url,
        VENDOR_API_KEY: API_KEY,
        VENDOR_QUOTA_RPS: String(QUOTA_RPS),
        VENDOR_PAGE_SIZE: String(PAGE_SIZE),
        DYNAMODB_ENDPOINT: dynamo.endpoint,
        TABLE_PREFIX: prefix,
        TABLE_SUFFIX: '',
        TASK_QUEUE_SUFFIX: suffix,
        ...localLandingEnv(objects, landing.bucket),
      },
      log,
    );
    workers.push(w);
    // Registered after the servers: cleanup runs in reverse, so workers stop first.
    cleanup.add(`stop ${w.label}`, () => w.stop());
    return w;
  };

  await temporal.start();
  // The worker is given DynamoDB's endpoint before DynamoDB Local listens: settle its port first.
  await dynamo.ensurePortFree();
  const connection = await Connection.connect({ address: temporal.address });
  cleanup.add('close the client connection', () => connection.close());
  const client = new Client({ connection });
  const clients = createDynamoClients({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    tablePrefix: prefix,
    tableSuffix: '',
  });
  cleanup.add('destroy the DynamoDB client', () => clients.raw.destroy());
  const names = tableNames(prefix, '');
  const started = await Promise.allSettled([
    startWorker(),
    dynamo.start().then(() => ensureTables(clients.raw, names)),
  ]);
  for (const r of started) if (r.status === 'rejected') throw r.reason;
  const store = new Store(clients, names);
  return { log, temporal, dynamo, sim: simulator, client, store, queues, startWorker, workers };
}

/**
 * The outcome of a run, waiting through a Temporal outage: a client call that fails
 * because the server is away is tried again until the deadline.
 */
export async function outcome(s: Stack, workflowId: string, timeoutMs = RUN_DEADLINE_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await runOutcome(s.client.workflow.getHandle(workflowId));
    } catch (err) {
      if (Date.now() > deadline) throw err;
      s.log.note(`waiting for ${workflowId}: ${(err as Error).message}; trying again`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Waits until the simulator has answered `share` of the requests a run needs. */
export async function midRun(s: Stack, expectedRequests: number, share: number): Promise<number> {
  const target = Math.ceil(expectedRequests * share);
  const total = await waitFor(`${target} vendor requests`, 60_000, () => {
    const t = s.sim.counters().total;
    return t >= target ? t : undefined;
  });
  s.log.note(`mid-run: ${total} of ~${expectedRequests} vendor requests made`);
  return total;
}

export async function assertStored(s: Stack, expected: ReturnType<typeof expectedTables>): Promise<void> {
  await assertTablesMatch(s.store, expected);
  assert.deepEqual(await s.store.scanAll('quarantine'), [], 'nothing in quarantine');
}

/**
 * What went wrong along the way in every workflow of the namespace (each test has its own
 * server): activity attempts that timed out or failed, workflow tasks that timed out.
 */
export async function trouble(s: Stack): Promise<string> {
  const counts = new Map<string, number>();
  const add = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
  for await (const wf of s.client.workflow.list()) {
    const history = await s.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    for (const e of history.events ?? []) {
      // Retried attempts leave no event of their own: the started event of the last attempt
      // carries the attempt number and the previous attempt's failure.
      const started = e.activityTaskStartedEventAttributes;
      if (started && (started.attempt ?? 1) > 1)
        add(`activity retried (previous attempt: ${(started.lastFailure?.message ?? '?').slice(0, 120)})`);
      if (e.activityTaskTimedOutEventAttributes) add('activity timed out for good');
      if (e.activityTaskFailedEventAttributes) add('activity failed for good');
      if (e.workflowTaskTimedOutEventAttributes) add('workflow task timed out');
      if (e.workflowTaskFailedEventAttributes) add('workflow task failed');
    }
  }
  const text = [...counts].map(([k, n]) => `${n} x ${k}`).join('; ') || 'none';
  s.log.note(`trouble in the histories: ${text}`);
  return text;
}

export function report(text: string): void {
  console.log(`      ${text}`);
}

/**
 * Registers the hooks of a fault suite (a fresh cleanup and output log per test, the output
 * shown when a test fails, no process left at the end) and returns its stack builder and checks.
 */
export function useFaultStacks() {
  let cleanup = new Cleanup();
  let log = new OutputLog();
  let testNo = 0;

  beforeEach(() => {
    cleanup = new Cleanup();
    log = new OutputLog();
  });

  afterEach(async function () {
    const failed = this.currentTest?.state !== 'passed' || Boolean(process.env.PROCESS_FAULTS_VERBOSE);
    try {
      await cleanup.run();
    } finally {
      if (failed) {
        console.log(`\n----- output of the processes of "${this.currentTest?.title}" -----`);
        console.log(log.text());
        console.log('----- end of output -----\n');
      }
    }
  });

  after(() => {
    assert.deepEqual(leftovers(), [], 'processes started by these tests are still alive');
  });

  /** Registers a step of the test's cleanup (undone in reverse order, after the test). */
  const later = (what: string, fn: () => unknown) => cleanup.add(what, fn);
  /** Starts a test's stack (faultStack), its processes stopped after the test. */
  const stack = (sim: Partial<SimOptions> = {}) => faultStack({ cleanup, log, n: ++testNo }, sim);

  return { stack, outcome, midRun, assertStored, trouble, report, later };
}
