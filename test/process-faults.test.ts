/**
 * Process faults ("Survive faults"), with real process kills and no mocks: the production
 * worker runs as a separate node process, the Temporal CLI dev server and DynamoDB Local
 * keep their state on disk in a temporary folder, and the vendor simulator runs in this
 * process with some latency, so that a run lasts several seconds and a fault can hit it
 * in the middle. Every test starts its own servers on free loopback ports, and after each
 * test no process it started is left.
 */
import assert from 'node:assert/strict';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { runOutcome, startRun } from '../src/cli/runs.js';
import { DEFAULT_BRANCHES } from '../src/shared/branches.js';
import type { SyncSummary, TableCounts } from '../src/shared/summary.js';
import { type TaskQueues, taskQueues } from '../src/shared/task-queues.js';
import { type Dataset, VendorSimulator, type SimOptions } from '../src/sim/index.js';
import { Store, createDynamoClients, ensureTables, tableNames } from '../src/store/index.js';
import type { SalesSyncInput } from '../src/workflows/types.js';
import {
  Cleanup,
  OutputLog,
  RestartableDynamo,
  RestartableTemporal,
  type StopMode,
  WorkerProcess,
  alive,
  leftovers,
  removeDir,
  tempDir,
  waitFor,
} from './helpers/processes.js';
import { assertTablesMatch, expectedTables } from './helpers/truth.js';

const API_KEY = 'fault-key-5d1e';
/** Small pages, some latency and a modest quota: a full run makes ~370 requests and lasts well over 5 s. */
const PAGE_SIZE = 5;
const QUOTA_RPS = 40;
const LATENCY_MS = 40;
const DATASET: Partial<SimOptions> = { employeesPerBranch: 12, salesPerSalesperson: 20 };
/** Longest a run may take after its fault (a killed worker's activities wait out their 60 s start-to-close timeout). */
const RUN_DEADLINE_MS = 110_000;

/** Vendor requests a run over `branches` needs when nothing fails (one per page). */
function pagesOf(ds: Dataset, branches: readonly string[], window?: { from: string; to: string }): number {
  const ts = (iso: string) => iso.slice(0, 19).replace('T', ' ');
  const pages = (n: number) => Math.max(1, Math.ceil(n / PAGE_SIZE));
  let n = 0;
  for (const name of branches) {
    const b = ds.branchByName(name);
    n += 1;
    if (!b) continue;
    n += pages(ds.employeesByBranch.get(b.id)?.length ?? 0);
    for (const sp of ds.salespersonsOf(b.id)) {
      const sales = (ds.salesBySalesperson.get(sp.id) ?? []).filter(
        (s) =>
          !window ||
          (s.transaction_timestamp >= ts(window.from) && s.transaction_timestamp < ts(window.to)),
      );
      n += pages(sales.length);
    }
  }
  return n;
}

/** One test's stack: dev server and DynamoDB Local on disk, the simulator, fresh tables and queues. */
interface Stack {
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

describe('process faults (worker process, dev server and DynamoDB Local on disk, simulator)', function () {
  this.timeout(150_000);
  let cleanup = new Cleanup();
  let log = new OutputLog();
  let testNo = 0;

  beforeEach(() => {
    cleanup = new Cleanup();
    log = new OutputLog();
  });

  afterEach(async function () {
    const failed = this.currentTest?.state !== 'passed';
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

  async function stack(sim: Partial<SimOptions> = {}): Promise<Stack> {
    const n = ++testNo;
    const dir = tempDir();
    cleanup.add('remove the temp dir', () => removeDir(dir));
    const tag = `${process.pid}-${n}`;
    const [temporal, dynamo, simulator] = await Promise.all([
      RestartableTemporal.start(dir, log),
      RestartableDynamo.start(dir, log),
      VendorSimulator.start({
        apiKeys: [API_KEY],
        quota: 0,
        latencyMs: LATENCY_MS,
        seed: 20 + n,
        ...DATASET,
        ...sim,
      }),
    ]);
    cleanup.add('stop the dev server', () => temporal.stop());
    cleanup.add('stop DynamoDB Local', () => dynamo.stop());
    cleanup.add('stop the simulator', () => simulator.stop());

    const connection = await Connection.connect({ address: temporal.address });
    cleanup.add('close the client connection', () => connection.close());
    const client = new Client({ connection });

    const prefix = `pf${tag}-`;
    const clients = createDynamoClients({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      tablePrefix: prefix,
      tableSuffix: '',
    });
    cleanup.add('destroy the DynamoDB client', () => clients.raw.destroy());
    const names = tableNames(prefix, '');
    await ensureTables(clients.raw, names);
    const store = new Store(clients, names);
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
        },
        log,
      );
      workers.push(w);
      // Registered after the servers: cleanup runs in reverse, so workers stop first.
      cleanup.add(`stop ${w.label}`, () => w.stop());
      return w;
    };
    return { log, temporal, dynamo, sim: simulator, client, store, queues, startWorker, workers };
  }

  /**
   * The outcome of a run, waiting through a Temporal outage: a client call that fails
   * because the server is away is tried again until the deadline.
   */
  async function outcome(s: Stack, workflowId: string, timeoutMs = RUN_DEADLINE_MS) {
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
  async function midRun(s: Stack, expectedRequests: number, share: number): Promise<number> {
    const target = Math.ceil(expectedRequests * share);
    const total = await waitFor(`${target} vendor requests`, 60_000, () => {
      const t = s.sim.counters().total;
      return t >= target ? t : undefined;
    });
    s.log.note(`mid-run: ${total} of ~${expectedRequests} vendor requests made`);
    return total;
  }

  /** A clean summary of a complete run over `branches`: every item once, nothing failed or rewritten. */
  function assertCompleteSummary(
    summary: SyncSummary | undefined,
    expected: ReturnType<typeof expectedTables>,
    branches: readonly string[],
  ): asserts summary is SyncSummary {
    assert.ok(summary, 'the run has a summary');
    assert.deepEqual(summary.failedBranches, [], 'failed branches');
    assert.deepEqual(summary.unknownBranches, [], 'unknown branches');
    assert.deepEqual(summary.skippedBranches, [], 'skipped branches');
    assert.equal(summary.branchesSynced, branches.length, 'branches synced');
    assert.equal(summary.salespersonsSynced, expected.salespersons.size, 'salespersons synced');
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

  async function assertStored(s: Stack, expected: ReturnType<typeof expectedTables>): Promise<void> {
    await assertTablesMatch(s.store, expected);
    assert.deepEqual(await s.store.scanAll('quarantine'), [], 'nothing in quarantine');
  }

  function report(text: string): void {
    console.log(`      ${text}`);
  }

  it('kill -9 of the worker in the middle of a run: a new worker finishes it, the tables match the truth', async () => {
    const s = await stack();
    const expected = expectedTables(s.sim.dataset, DEFAULT_BRANCHES);
    const requests = pagesOf(s.sim.dataset, DEFAULT_BRANCHES);
    const first = await s.startWorker();

    // The pid is the node process running src/worker.ts, a direct child of this process: no npx, no shell.
    const { argv, parent } = first.identity();
    assert.equal(argv[0], process.execPath, `argv of pid ${first.pid}: ${argv.join(' ')}`);
    assert.ok(argv.includes('src/worker.ts'), `argv of pid ${first.pid}: ${argv.join(' ')}`);
    assert.equal(parent, process.pid, 'the worker is a direct child of the test process');

    const t0 = Date.now();
    const id = `kill9-${s.queues.workflows}`;
    await startRun(s.client, s.queues, { window: 'full' }, id);
    const atKill = await midRun(s, requests, 0.3);
    await first.kill9();
    const killedAt = Date.now();
    const { signal } = await first.exited;
    assert.equal(signal, 'SIGKILL');
    assert.ok(!alive(first.pid), 'the killed worker is gone');
    await first.reapHelpers();
    for (const pid of first.helpers) assert.ok(!alive(pid), `helper ${pid} of the killed worker is gone`);
    const requestsWhileDown = s.sim.counters().total;

    await s.startWorker();
    const restartedAt = Date.now();
    const o = await outcome(s, id);
    const doneAt = Date.now();
    assert.ok(o.ok, `the run failed: ${o.error}`);
    assertCompleteSummary(o.summary, expected, DEFAULT_BRANCHES);
    await assertStored(s, expected);
    const c = s.sim.counters();
    assert.ok(c.total > atKill, 'the new worker made requests');
    report(
      `killed at ${atKill}/${requests} requests (${((killedAt - t0) / 1000).toFixed(1)} s), new worker polling after ${((restartedAt - killedAt) / 1000).toFixed(1)} s, ` +
        `run done ${((doneAt - killedAt) / 1000).toFixed(1)} s after the kill; ${c.total} requests for ${o.summary.pages} pages ` +
        `(${requestsWhileDown - atKill} answered while no worker ran)`,
    );
  });

  it('DynamoDB Local stopped in the middle of a run and started again (same port, same data): activities retry, the tables match', async () => {
    const s = await stack();
    const expected = expectedTables(s.sim.dataset, DEFAULT_BRANCHES);
    const requests = pagesOf(s.sim.dataset, DEFAULT_BRANCHES);
    await s.startWorker();
    const id = `dynamo-${s.queues.workflows}`;
    await startRun(s.client, s.queues, { window: 'full' }, id);
    const atStop = await midRun(s, requests, 0.3);
    const stoppedAt = Date.now();
    await s.dynamo.stop('SIGTERM');
    // Vendor requests go on while DynamoDB is away; their writes fail and the activities retry.
    await waitFor('vendor requests while DynamoDB is down', 20_000, () =>
      s.sim.counters().total >= atStop + 10 ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 2000));
    const duringOutage = s.sim.counters().total - atStop;
    await s.dynamo.start();
    const restartedAt = Date.now();
    const o = await outcome(s, id);
    const doneAt = Date.now();
    assert.ok(o.ok, `the run failed: ${o.error}`);
    assertCompleteSummary(o.summary, expected, DEFAULT_BRANCHES);
    await assertStored(s, expected);
    const c = s.sim.counters();
    assert.ok(c.total > o.summary.pages, `some attempts were retried (${c.total} requests, ${o.summary.pages} pages)`);
    report(
      `DynamoDB down ${((restartedAt - stoppedAt) / 1000).toFixed(1)} s from ${atStop}/${requests} requests (${duringOutage} requests meanwhile), ` +
        `run done ${((doneAt - restartedAt) / 1000).toFixed(1)} s after the restart; ${c.total} requests for ${o.summary.pages} pages`,
    );
  });

  for (const mode of ['SIGTERM', 'SIGKILL'] as StopMode[]) {
    it(`the Temporal dev server stopped (${mode}) in the middle of a run and started again on the same ports and database: the run completes, the tables match`, async () => {
      const s = await stack();
      const expected = expectedTables(s.sim.dataset, DEFAULT_BRANCHES);
      const requests = pagesOf(s.sim.dataset, DEFAULT_BRANCHES);
      const worker = await s.startWorker();
      const id = `temporal-${mode}-${s.queues.workflows}`;
      await startRun(s.client, s.queues, { window: 'full' }, id);
      const atStop = await midRun(s, requests, 0.3);
      const stoppedAt = Date.now();
      await s.temporal.stop(mode);
      await s.temporal.start();
      const restartedAt = Date.now();
      const o = await outcome(s, id);
      const doneAt = Date.now();
      assert.ok(o.ok, `the run failed: ${o.error}`);
      assertCompleteSummary(o.summary, expected, DEFAULT_BRANCHES);
      await assertStored(s, expected);
      assert.ok(alive(worker.pid), 'the worker survived the outage (it reconnected by itself)');
      const c = s.sim.counters();
      report(
        `dev server (${mode}) down ${((restartedAt - stoppedAt) / 1000).toFixed(1)} s from ${atStop}/${requests} requests, ` +
          `run done ${((doneAt - restartedAt) / 1000).toFixed(1)} s after the restart; ${c.total} requests for ${o.summary.pages} pages`,
      );
    });
  }

  it('two runs over the same window at once: the second finds branches already running, no item is duplicated or lost', async () => {
    const anchor = Date.parse('2026-03-02T12:00:00Z');
    const s = await stack({ anchorTime: anchor, salesSpanHours: 30 });
    const windowEnd = new Date(anchor).toISOString();
    const window = { from: new Date(anchor - 24 * 3_600_000).toISOString(), to: windowEnd };
    const expected = expectedTables(s.sim.dataset, DEFAULT_BRANCHES, window);
    assert.ok(expected.sales.size < s.sim.dataset.allSales().length, 'some sales lie outside the window');
    const requests = pagesOf(s.sim.dataset, DEFAULT_BRANCHES, window);
    await s.startWorker();

    const input: SalesSyncInput = { windowEnd };
    const a = await startRun(s.client, s.queues, input);
    await midRun(s, requests, 0.15);
    // The same input again: the run's ID names the window, so Temporal refuses a duplicate parent.
    await assert.rejects(startRun(s.client, s.queues, input), WorkflowExecutionAlreadyStartedError);
    // A run over the same window under another ID (a manual trigger during a scheduled run).
    const b = await startRun(s.client, s.queues, input, `${a.workflowId}-second`);
    const [oa, ob] = [await outcome(s, a.workflowId), await outcome(s, b.workflowId)];
    assert.ok(oa.ok, `run A failed: ${oa.error}`);
    assert.ok(ob.ok, `run B failed: ${ob.error}`);
    const [sa, sb] = [oa.summary, ob.summary];
    assert.ok(sa && sb, 'both runs have a summary');
    assert.deepEqual(sa.window, window);
    assert.deepEqual(sb.window, window);

    for (const sum of [sa, sb]) {
      assert.deepEqual(sum.failedBranches, []);
      assert.equal(sum.branchesSynced + sum.skippedBranches.length, DEFAULT_BRANCHES.length);
    }
    assert.ok(
      sa.skippedBranches.length + sb.skippedBranches.length > 0,
      'the second run found branches already running',
    );
    for (const name of DEFAULT_BRANCHES)
      assert.ok(
        !(sa.skippedBranches.includes(name) && sb.skippedBranches.includes(name)),
        `branch ${name} was skipped by both runs: nobody synced it`,
      );
    for (const t of ['branches', 'salespersons', 'sales'] as const) {
      const ca: TableCounts = sa.counts[t];
      const cb: TableCounts = sb.counts[t];
      assert.equal(ca.inserted + cb.inserted, expected[t].size, `${t}: every item inserted exactly once`);
      assert.equal(ca.updated + cb.updated, 0, `${t}: nothing rewritten`);
    }
    await assertStored(s, expected);
    report(
      `run A synced ${sa.branchesSynced} branches (skipped ${sa.skippedBranches.length}), run B synced ${sb.branchesSynced} (skipped ${sb.skippedBranches.join(', ') || 'none'})`,
    );
  });
});
