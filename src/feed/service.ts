/**
 * The change feed as a service: migrates the PostgreSQL copy, enables the tables' streams
 * where missing, runs the feed worker and makes sure each table's consumer workflow runs.
 * `npm start` runs it in its own process; `npm run feed` runs it alone (production: beside the
 * sync's workers, with DATABASE_URL and the object store's settings).
 *
 *   npm run feed
 */
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type pg from 'pg';
import { dataConverterFor, loadCodecConfig } from '../codec/index.js';
import {
  type DynamoConfig,
  type FeedConfig,
  type LandingConfig,
  loadDynamoConfig,
  loadLandingConfig,
  loadLogLevel,
  loadFeedConfig,
  loadMetricsConfig,
  loadTaskQueueSuffix,
  loadTemporalConfig,
} from '../shared/config.js';
import { ConfigError } from '../shared/errors.js';
import { temporalConnectionOptions } from '../shared/temporal-options.js';
import { copyDifferences } from '../sql/compare.js';
import { createPool, migrate } from '../sql/db.js';
import type { Store } from '../store/index.js';
import type { FeedTable } from './events.js';
import { createDynamoClients } from '../store/client.js';
import { ensureTables, tableNames } from '../store/tables.js';
import type { ChangeObjectStore } from './objects.js';
import { s3ObjectStore } from './s3-store.js';
import { createS3Client } from '../landing/index.js';
import { installRuntime } from '../metrics/runtime.js';
import {
  createFeedWorker,
  ensureStreams,
  feedTaskQueue,
  feedWorkflowId,
  startFeedWorkflows,
} from './worker.js';

/** What the service needs. */
export interface FeedServiceOptions {
  connection: NativeConnection;
  client: Client;
  namespace: string;
  dynamo: DynamoConfig;
  feed: FeedConfig & { databaseUrl: string };
  objects: ChangeObjectStore;
  /** Key prefix of the change objects: `<LANDING_PREFIX>changes/`. */
  prefix: string;
  taskQueueSuffix: string;
  dataConverter?: DataConverter;
  afterPut?: (key: string) => void;
}

/** A running feed: its pool (for reports), what it did at start, and stop. */
export interface FeedService {
  pool: pg.Pool;
  migrations: string[];
  consumersStarted: string[];
  /** Resolves when the worker has stopped. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Starts the feed (see the module comment). */
export async function startFeedService(o: FeedServiceOptions): Promise<FeedService> {
  const pool = createPool(o.feed.databaseUrl);
  try {
    const migrations = await migrate(pool);
    const clients = createDynamoClients(o.dynamo);
    const names = tableNames(o.dynamo.tablePrefix, o.dynamo.tableSuffix);
    await ensureTables(clients.raw, names);
    await ensureStreams(clients, names);
    clients.raw.destroy();
    const taskQueue = feedTaskQueue(o.taskQueueSuffix);
    const worker = await createFeedWorker({
      connection: o.connection,
      namespace: o.namespace,
      taskQueue,
      dynamo: o.dynamo,
      names,
      objects: o.objects,
      prefix: o.prefix,
      pool,
      dataConverter: o.dataConverter,
      ...(o.afterPut ? { afterPut: o.afterPut } : {}),
    });
    const done = worker.run();
    const consumersStarted = await startFeedWorkflows(
      o.client,
      taskQueue,
      o.feed.settings,
      o.taskQueueSuffix,
    );
    return {
      pool,
      migrations,
      consumersStarted,
      done,
      stop: async () => {
        // The SDK's signal handler may have asked already (Ctrl-C).
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await done;
        await pool.end();
      },
    };
  } catch (err) {
    await pool.end();
    throw err;
  }
}

/**
 * FEED_FAULT_KILL_AFTER_OBJECTS=n (fault injection, for the tests): the process kills itself
 * (SIGKILL) right after writing its n-th change object, before applying it or reporting it.
 */
function faultFromEnv(env: Record<string, string | undefined>): ((key: string) => void) | undefined {
  const n = Number(env.FEED_FAULT_KILL_AFTER_OBJECTS ?? 0);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  let written = 0;
  return (key) => {
    if (++written < n) return;
    console.error(`FEED_FAULT_KILL_AFTER_OBJECTS: killed after writing ${key}`);
    process.kill(process.pid, 'SIGKILL');
  };
}

/** The change objects' store and prefix: the landing bucket, under `<LANDING_PREFIX>changes/`. */
export function changeObjects(landing: LandingConfig | null): { objects: ChangeObjectStore; prefix: string } {
  if (!landing)
    throw new ConfigError(
      'the change feed writes its objects to the landing bucket: set LANDING_BUCKET (LANDING=off has none).',
    );
  return {
    objects: s3ObjectStore(createS3Client(landing), landing.bucket),
    prefix: `${landing.prefix}changes/`,
  };
}

/** One line for `npm start`: where the change objects go and the consumers. */
export function describeFeed(feed: FeedService, landing: LandingConfig | null): string {
  const where = landing ? `s3://${landing.bucket}/${landing.prefix}changes/` : '';
  const started = feed.consumersStarted.length ? 'started now' : 'running';
  return `DynamoDB Streams -> ${where}<table>/<yyyy>/<mm>/<dd>/<hh>/ -> PostgreSQL; consumers ${feedWorkflowId('<table>' as FeedTable)} (${started})`;
}

/**
 * Waits until the SQL copy equals DynamoDB (at most `timeoutMs`) and says how it went: the rows
 * and the wait, or what still differs.
 */
export async function waitForCopy(store: Store, pool: pg.Pool, timeoutMs: number): Promise<string> {
  const t0 = Date.now();
  let diff: string[] = [];
  while (Date.now() - t0 < timeoutMs) {
    diff = await copyDifferences(store, pool, 3);
    if (diff.length === 0) {
      const { rows } = await pool.query<{ t: string; n: string }>(
        `SELECT 'branches' t, count(*) n FROM branches UNION ALL SELECT 'salespersons', count(*) FROM salespersons UNION ALL SELECT 'sales', count(*) FROM sales`,
      );
      return `equals DynamoDB field by field (${rows.map((r) => `${r.n} ${r.t}`).join(', ')}), ${((Date.now() - t0) / 1000).toFixed(1)} s after the run`;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return `not caught up after ${timeoutMs / 1000} s: ${diff.join('; ')}`;
}

async function main(): Promise<void> {
  const temporal = loadTemporalConfig();
  const feed = loadFeedConfig();
  if (!feed.databaseUrl)
    throw new ConfigError('DATABASE_URL is not set: the PostgreSQL copy to apply the feed to.');
  const codec = loadCodecConfig();
  // Its own endpoint, like a worker's: the feed's lag and dead letters, and the SDK's metrics.
  const metricsUrl = await installRuntime({ logLevel: loadLogLevel(), metrics: loadMetricsConfig() });
  const dataConverter = dataConverterFor(codec);
  const connection = await NativeConnection.connect(temporalConnectionOptions(temporal));
  const clientConnection = await Connection.connect(temporalConnectionOptions(temporal));
  const client = new Client({ connection: clientConnection, namespace: temporal.namespace, dataConverter });
  const service = await startFeedService({
    connection,
    client,
    namespace: temporal.namespace,
    dynamo: loadDynamoConfig(),
    feed: { ...feed, databaseUrl: feed.databaseUrl },
    ...changeObjects(loadLandingConfig()),
    taskQueueSuffix: loadTaskQueueSuffix(),
    dataConverter,
    afterPut: faultFromEnv(process.env),
  });
  console.log(
    `change feed polling ${feedTaskQueue(loadTaskQueueSuffix())}; migrations applied now: ${service.migrations.join(', ') || 'none'}; consumers started now: ${service.consumersStarted.join(', ') || 'none (already running)'}; metrics ${metricsUrl ?? 'off (METRICS_PORT=off)'}`,
  );
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void service.stop());
  await service.done;
  await clientConnection.close();
  await connection.close();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : err);
    process.exit(1);
  });
}
