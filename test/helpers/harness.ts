/**
 * Real servers for the tests: Temporal's time-skipping test server or the CLI dev server,
 * DynamoDB Local in memory, and the vendor simulator, all on free loopback ports. Each test
 * gets fresh tables and task queues, so tests never see each other's data.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
// Default import: @temporalio/proto is CommonJS, and scripts run this file as ESM too (test/histories/record.ts).
import proto from '@temporalio/proto';
import {
  localLanding,
  freePort,
  startDynamoLocal,
  startObjectServer,
  temporalCliPath,
  testServerPath,
  type DynamoLocal,
  type ObjectServer,
} from '../../scripts/stack.js';
import type { Landing } from '../../src/landing/index.js';
import {
  type Activities,
  type ActivityDeps,
  type RunLanding,
  createActivities,
} from '../../src/activities/index.js';
import { type NotifyDeps, createNotifyActivities } from '../../src/activities/notify.js';
import { createStateActivities } from '../../src/activities/state.js';
import { StateStore } from '../../src/store/state.js';
import {
  CUSTOM_SEARCH_ATTRIBUTES,
  SYNC_BRANCH,
  SYNC_KIND,
  SYNC_WINDOW_END,
} from '../../src/shared/search-attributes.js';
import { rateLimitFor } from '../../src/config/vendor.js';
import { type TaskQueues, taskQueues } from '../../src/shared/task-queues.js';
import { Store, createDynamoClients, ensureTables, tableNames } from '../../src/store/index.js';
import { VendorSimulator, type SimOptions } from '../../src/sim/index.js';
import { VendorClient } from '../../src/vendor-api/client.js';
import type { SyncSummary } from '../../src/shared/summary.js';
import { createWorkers } from '../../src/worker.js';
import { salesSyncWorkflow } from '../../src/workflows/index.js';
import type { SalesSyncInput } from '../../src/workflows/types.js';

export const SIM_KEY = 'test-key-7f3a9c';

/** Activity input of a live run, for tests that run activities alone. */
export const LIVE: RunLanding = { run: { scope: '2026-01-01T00:00:00Z/1h', workflowId: 'wf-test' } };

/** Starts Temporal's official time-skipping test server from the installed wrapper. */
export async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  // The SDK gives the server 5 s to listen; on a loaded 2-core machine a JVM can miss that
  // once (setup's class archive makes it rare), so one more attempt is made.
  for (let attempt = 1; ; attempt++) {
    try {
      const env = await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path: testServerPath() } },
      });
      await registerSearchAttributes(env);
      return env;
    } catch (err) {
      if (attempt >= 3 || !/did not start within/.test((err as Error).message)) throw err;
    }
  }
}

/** Starts the Temporal CLI dev server (in memory) from the installed CLI, with the search attributes. */
export async function startDevServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      searchAttributes: [SYNC_BRANCH, SYNC_KIND, SYNC_WINDOW_END],
      extraArgs: ['--log-level', 'error'],
    },
  });
}

const INDEXED = proto.temporal.api.enums.v1.IndexedValueType;

async function registerSearchAttributes(env: TestWorkflowEnvironment): Promise<void> {
  const types = {
    Keyword: INDEXED.INDEXED_VALUE_TYPE_KEYWORD,
    Datetime: INDEXED.INDEXED_VALUE_TYPE_DATETIME,
  };
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      Object.entries(CUSTOM_SEARCH_ATTRIBUTES).map(([n, t]) => [n, types[t]]),
    ),
  });
}

/** DynamoDB Local in memory on a free port. */
export async function startDynamo(): Promise<DynamoLocal> {
  // Another process on the machine can take a free port before DynamoDB Local binds it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDynamoLocal({ port: await freePort() });
    } catch (err) {
      if (attempt >= 3 || !/is busy/.test((err as Error).message)) throw err;
    }
  }
}

/** The object server (versitygw) on a free port, its buckets in a fresh temporary folder. */
export async function startObjects(): Promise<ObjectServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sales-sync-objects-'));
  for (let attempt = 1; ; attempt++) {
    try {
      const srv = await startObjectServer({ port: await freePort(), dataDir });
      return {
        ...srv,
        stop: async () => {
          await srv.stop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      if (attempt >= 3 || !/is busy/.test((err as Error).message)) throw err;
    }
  }
}

/** A landing zone on a fresh bucket of `objects`, so tests never share objects. */
export function freshLanding(objects: ObjectServer): Promise<Landing> {
  return localLanding(objects, `t${randomUUID().slice(0, 8)}`, 30);
}

/** The state store of each fresh store: the same tables' sync_state, with clients of its own (as the worker has). */
const states = new WeakMap<Store, StateStore>();

/** The state store next to a store made by freshStore. */
export function stateOf(store: Store): StateStore {
  const state = states.get(store);
  if (!state) throw new Error('stateOf: the store was not made by freshStore');
  return state;
}

/** A store on fresh tables (a random name prefix) in DynamoDB Local, so tests never share data. */
export async function freshStore(dynamo: DynamoLocal): Promise<Store> {
  const config = { endpoint: dynamo.endpoint, region: 'us-east-1', tablePrefix: '', tableSuffix: '' };
  const clients = createDynamoClients(config);
  const names = tableNames(`t${randomUUID().slice(0, 8)}-`, '');
  await ensureTables(clients.raw, names);
  const store = new Store(clients, names);
  states.set(store, new StateStore(createDynamoClients(config), names.sync_state));
  return store;
}

/** One test's pipeline: simulator, fresh tables, fresh queues, and workers on demand. */
export class Pipeline {
  readonly queues: TaskQueues;
  readonly store: Store;
  /** The sync's state (watermarks, first loads) next to `store`. */
  readonly state: StateStore;
  private constructor(
    readonly env: TestWorkflowEnvironment,
    readonly sim: VendorSimulator,
    store: Store,
    readonly quotaRps: number,
    /** Where the workers' vendor client points: the simulator, or another server of the contract. */
    readonly vendorUrl: string,
    /** This pipeline's landing zone (a bucket of its own). */
    readonly landing: Landing,
  ) {
    this.store = store;
    this.state = stateOf(store);
    this.queues = taskQueues(`-${randomUUID().slice(0, 8)}`);
  }

  /** Starts a simulator and creates fresh tables on `dynamo`. */
  static async create(
    env: TestWorkflowEnvironment,
    dynamo: DynamoLocal,
    objects: ObjectServer,
    sim: Partial<SimOptions> = {},
    opts: PipelineOptions = {},
  ): Promise<Pipeline> {
    const simulator = await VendorSimulator.start({ apiKeys: [SIM_KEY], quota: 0, ...sim });
    return new Pipeline(
      env,
      simulator,
      await freshStore(dynamo),
      opts.quotaRps ?? 1000,
      opts.vendorUrl ?? simulator.url,
      await freshLanding(objects),
    );
  }

  /** Vendor client pointed at the simulator (or the pipeline's other vendor). */
  vendor(timeoutMs = 5000): VendorClient {
    return new VendorClient({ url: this.vendorUrl, apiKey: SIM_KEY, timeoutMs });
  }

  /** The sync's activities on this pipeline's vendor, tables, landing zone and state. */
  activities(pageSize = 50, deps: Partial<ActivityDeps> = {}): Activities {
    return createActivities({
      vendor: this.vendor(),
      store: this.store,
      pageSize,
      landing: this.landing,
      state: this.state,
      ...deps,
    });
  }

  /** Creates this test's workers (workflows + vendor activities). */
  async workers(
    pageSize = 50,
    notify: Partial<NotifyDeps> = {},
    deps: Partial<ActivityDeps> = {},
  ): Promise<Worker[]> {
    const activities = this.activities(pageSize, deps);
    const workflowActivities = {
      ...createNotifyActivities({ setAsideThreshold: 10, ...notify }),
      ...createStateActivities({ store: this.store, state: this.state }),
    };
    return createWorkers({
      connection: this.env.nativeConnection,
      namespace: this.env.namespace ?? 'default',
      queues: this.queues,
      activities,
      workflowActivities,
      rateLimitRps: rateLimitFor(this.quotaRps),
    });
  }

  /**
   * Runs the parent workflow on this pipeline's queues and waits for it: the summary whether
   * the run succeeded or failed (a failed run carries it in its failure's details).
   */
  async run(input: SalesSyncInput, workflowId = `run-${randomUUID().slice(0, 8)}`): Promise<RunOutcome> {
    const outcome = await this.env.client.workflow
      .execute(salesSyncWorkflow, {
        taskQueue: this.queues.workflows,
        workflowId,
        // No sync_runs row unless the test runs a feed and names its queue (nobody polls the default).
        args: [{ vendorTaskQueue: this.queues.vendor, feedTaskQueue: null, ...input }],
      })
      .then(
        (summary) => ({ ok: true as const, summary }),
        (err: unknown) => {
          if (!(err instanceof WorkflowFailedError)) throw err;
          const summary = (err.cause as { details?: unknown[] } | undefined)?.details?.[0] as SyncSummary;
          return { ok: false as const, summary, message: err.cause?.message ?? '' };
        },
      );
    return { ...outcome, workflowId };
  }

  /** Runs `fn` while this test's workers poll, then shuts them down. */
  async withWorkers<T>(
    fn: () => Promise<T>,
    pageSize = 50,
    notify: Partial<NotifyDeps> = {},
    deps: Partial<ActivityDeps> = {},
  ): Promise<T> {
    const [first, ...rest] = await this.workers(pageSize, notify, deps);
    if (!first) throw new Error('no workers');
    const others = rest.map((w) => w.run());
    try {
      return await first.runUntil(fn);
    } finally {
      for (const w of rest) w.shutdown();
      await Promise.all(others);
    }
  }

  async stop(): Promise<void> {
    await this.sim.stop();
    this.store.clients.raw.destroy();
    this.landing.s3.destroy();
  }
}

/** How a parent run ended, with its summary either way. */
export type RunOutcome = { workflowId: string; summary: SyncSummary } & (
  { ok: true } | { ok: false; message: string }
);

/** Options of one test's pipeline. */
export interface PipelineOptions {
  quotaRps?: number;
  /** A vendor other than the pipeline's simulator (a server of the contract started by the test). */
  vendorUrl?: string;
}

/** A suite's servers: Temporal and DynamoDB Local started once, and its pipelines. */
export interface Stack {
  readonly env: TestWorkflowEnvironment;
  readonly dynamo: DynamoLocal;
  readonly objects: ObjectServer;
  /** A fresh pipeline (simulator, tables, queues) on this stack, stopped after the suite. */
  readonly pipeline: (sim?: Partial<SimOptions>, opts?: PipelineOptions) => Promise<Pipeline>;
}

/**
 * Registers mocha hooks on the current suite: start Temporal (the time-skipping test server
 * or the CLI dev server) and DynamoDB Local before it, stop them and every pipeline after it.
 */
export function useStack(
  temporal: 'time-skipping' | 'dev-server',
  simDefaults: Partial<SimOptions> = {},
): Stack {
  let env: TestWorkflowEnvironment | undefined;
  let dynamo: DynamoLocal | undefined;
  let objects: ObjectServer | undefined;
  const pipelines: Pipeline[] = [];
  before(async () => {
    [env, dynamo, objects] = await Promise.all([
      temporal === 'time-skipping' ? startTimeSkipping() : startDevServer(),
      startDynamo(),
      startObjects(),
    ]);
  });
  after(async () => {
    await Promise.all(pipelines.map((p) => p.stop()));
    await env?.teardown();
    await dynamo?.stop();
    await objects?.stop();
  });
  const stack: Stack = {
    get env() {
      if (!env) throw new Error('the stack is not started: use it inside tests or hooks');
      return env;
    },
    get dynamo() {
      if (!dynamo) throw new Error('the stack is not started: use it inside tests or hooks');
      return dynamo;
    },
    get objects() {
      if (!objects) throw new Error('the stack is not started: use it inside tests or hooks');
      return objects;
    },
    pipeline: async (sim = {}, opts = {}) => {
      const p = await Pipeline.create(
        stack.env,
        stack.dynamo,
        stack.objects,
        { ...simDefaults, ...sim },
        opts,
      );
      pipelines.push(p);
      return p;
    },
  };
  return stack;
}
