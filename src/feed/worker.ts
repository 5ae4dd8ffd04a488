/**
 * The change feed's worker and consumers: one Temporal worker on the task queue
 * `sales-sync-feed` runs the consumer workflows and their activities, and one consumer
 * workflow per table (`sales-sync-feed/<table>`) is started if it is not running. Used by the
 * local stack (`npm start`), the tests and the benchmark.
 */
import { DescribeTableCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { type NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { feedMetrics } from '../metrics/worker.js';
import type pg from 'pg';
import { type DynamoClients, createDynamoClients } from '../store/client.js';
import type { TableNames } from '../store/tables.js';
import { workflowBundle } from '../workflow-bundle.js';
import { changeFeedWorkflow } from '../workflows/change-feed.js';
import { createFeedActivities, createStreamsClient } from './activities.js';
import { createSyncRunActivities } from '../activities/sync-runs.js';
import { SYNCED_TABLES } from '../shared/tables.js';
import type { FeedTable } from './events.js';
import { createReconcileActivities } from './reconcile.js';
import type { ChangeObjectStore } from './objects.js';
import type { FeedSettings } from './types.js';
import type { DynamoConfig } from '../config/aws.js';
import { WORKER_SHUTDOWN_OPTIONS } from '../shutdown.js';

/** The feed's task queue (workflows and activities), with the deployment's suffix. */
export { feedTaskQueue } from '../shared/task-queues.js';

/** ID of a table's consumer workflow. */
export function feedWorkflowId(table: FeedTable, suffix = ''): string {
  return `sales-sync-feed${suffix}/${table}`;
}

export interface FeedWorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  dynamo: DynamoConfig;
  names: TableNames;
  objects: ChangeObjectStore;
  prefix: string;
  pool: pg.Pool;
  dataConverter?: DataConverter;
  pollMs?: number;
  /** Aborted when the process stops: reads end their long poll at once (FeedDeps.stopping). */
  stopping?: AbortSignal;
}

/** The feed's worker (workflows and activities on one queue); its metrics go to the runtime's endpoint. */
export async function createFeedWorker(setup: FeedWorkerSetup): Promise<Worker> {
  const streams = createStreamsClient(setup.dynamo);
  const dynamo = createDynamoClients(setup.dynamo).raw;
  const activities = createFeedActivities({
    streams,
    dynamo,
    names: setup.names,
    objects: setup.objects,
    prefix: setup.prefix,
    pool: setup.pool,
    ...(setup.pollMs ? { pollMs: setup.pollMs } : {}),
    metrics: feedMetrics(Runtime.instance().metricMeter),
    ...(setup.stopping ? { stopping: setup.stopping } : {}),
  });
  return Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    dataConverter: setup.dataConverter,
    workflowBundle: await workflowBundle(),
    // recordSyncRun: the sync's parent runs write their sync_runs row here (the process with PostgreSQL).
    activities: {
      ...activities,
      ...createReconcileActivities({ dynamo, names: setup.names, pool: setup.pool }),
      ...createSyncRunActivities(setup.pool),
    },
    maxCachedWorkflows: 20,
    ...WORKER_SHUTDOWN_OPTIONS,
  });
}

/** Starts each table's consumer unless it runs already; returns the IDs started now. */
export async function startFeedWorkflows(
  client: Client,
  taskQueue: string,
  settings: FeedSettings,
  suffix = '',
): Promise<string[]> {
  const started: string[] = [];
  for (const table of SYNCED_TABLES) {
    const workflowId = feedWorkflowId(table, suffix);
    try {
      await client.workflow.start(changeFeedWorkflow, {
        workflowId,
        taskQueue,
        args: [{ table, settings }],
        staticSummary: `Change feed of ${table}: DynamoDB stream -> change objects -> PostgreSQL`,
      });
      started.push(workflowId);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  return started;
}

/** Streams of the synced tables, enabled where a table has none (tables created before the feed). */
export async function ensureStreams(clients: DynamoClients, names: TableNames): Promise<string[]> {
  const enabled: string[] = [];
  for (const table of SYNCED_TABLES) {
    const t = (await clients.raw.send(new DescribeTableCommand({ TableName: names[table] }))).Table;
    const spec = t?.StreamSpecification;
    if (spec?.StreamEnabled) {
      if (spec.StreamViewType !== 'NEW_AND_OLD_IMAGES')
        throw new Error(
          `the stream of ${names[table]} has view type ${spec.StreamViewType}: the change feed needs NEW_AND_OLD_IMAGES (disable the stream and start again)`,
        );
      continue;
    }
    await clients.raw.send(
      new UpdateTableCommand({
        TableName: names[table],
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    enabled.push(names[table]);
  }
  return enabled;
}
