/**
 * The change feed as a service: migrates the PostgreSQL copy, enables the tables' streams
 * where missing, runs the feed worker and makes sure each table's consumer workflow runs.
 * `npm start` runs it in its own process; `npm run feed` runs it alone (production: beside the
 * sync's workers, with DATABASE_URL and the object store's settings).
 *
 *   npm run feed
 */
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type pg from 'pg';
import { connectClient } from '../client.js';
import { dataConverterFor, loadCodecConfig } from '../codec/index.js';
import { type DynamoConfig, loadDynamoConfig } from '../config/aws.js';
import { type FeedConfig, loadFeedConfig } from '../config/feed.js';
import { type LandingConfig, loadLandingConfig } from '../config/landing.js';
import { loadMetricsConfig } from '../config/metrics.js';
import { loadTemporalConfig, temporalConnectionOptions } from '../config/temporal.js';
import { loadLogLevel, loadTaskQueueSuffix } from '../config/worker.js';
import { ConfigError } from '../shared/errors.js';
import { createPool, migrate } from '../sql/db.js';
import { createDynamoClients } from '../store/client.js';
import { ensureTables, tableNames } from '../store/tables.js';
import type { ChangeObjectStore } from './objects.js';
import { s3ObjectStore } from './s3-store.js';
import { createS3Client } from '../landing/index.js';
import { installRuntime } from '../metrics/runtime.js';
import { onStopSignals, shutdownWorker, within, workerEnded } from '../shutdown.js';
import { createFeedWorker, ensureStreams, feedTaskQueue, startFeedWorkflows } from './worker.js';
import { exitWith } from '../node/main.js';

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
}

/** A running feed: its pool (for reports), what it did at start, and stop. */
export interface FeedService {
  pool: pg.Pool;
  migrations: string[];
  consumersStarted: string[];
  /** Resolves when the worker has stopped: `forced` when a read was left running (src/shutdown.ts). */
  done: Promise<'drained' | 'forced'>;
  /**
   * Stops the feed (once: a second call joins the first): reads end their long poll and hand
   * back what they have, the worker drains within its grace period, then the pool is closed
   * (not waiting for a connection stuck on an unanswering server).
   */
  stop(): Promise<'drained' | 'forced'>;
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
    const stopping = new AbortController();
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
      stopping: stopping.signal,
    });
    const done = workerEnded(worker.run(), stopping.signal);
    // A failed run is reported by whoever awaits `done` or `stop()`.
    done.catch(() => undefined);
    const consumersStarted = await startFeedWorkflows(
      o.client,
      taskQueue,
      o.feed.settings,
      o.taskQueueSuffix,
    );
    let stopped: Promise<'drained' | 'forced'> | undefined;
    return {
      pool,
      migrations,
      consumersStarted,
      done,
      stop: () =>
        (stopped ??= (async () => {
          stopping.abort();
          shutdownWorker(worker);
          const ended = await done;
          // A client stuck in a query keeps pool.end() waiting: the process exit closes it.
          await within(pool.end(), ended === 'forced' ? 0 : 5_000, undefined);
          return ended;
        })()),
    };
  } catch (err) {
    await pool.end();
    throw err;
  }
}

/**
 * Where change objects go with LANDING=off: nowhere. The feed still applies every change to
 * PostgreSQL; a batch keeps the key its object would have had as its ID (feed_batches), and
 * nothing can be re-read from objects (docs/change-feed.md).
 */
function noChangeObjects(): ChangeObjectStore {
  const none = () => {
    throw new ConfigError('there are no change objects: LANDING=off (set LANDING_BUCKET to keep them).');
  };
  return { where: 'none (LANDING=off)', put: () => Promise.resolve(), get: none, list: none };
}

/** The change objects' store and prefix: the landing bucket, under `<LANDING_PREFIX>changes/`; none with LANDING=off. */
export function changeObjects(landing: LandingConfig | null): { objects: ChangeObjectStore; prefix: string } {
  if (!landing) return { objects: noChangeObjects(), prefix: 'changes/' };
  return {
    objects: s3ObjectStore(createS3Client(landing), landing.bucket),
    prefix: `${landing.prefix}changes/`,
  };
}

/**
 * Runs the feed service process until it stops; resolves with its exit code. SIGTERM or SIGINT:
 * reads hand back what they have, the worker drains within its grace period; exit 0 once
 * drained, 1 when a read had to be left running. A second signal exits at once. `changes`: where
 * the change objects go (default: from the landing settings, see changeObjects).
 */
export async function runFeedService(changes?: {
  objects: ChangeObjectStore;
  prefix: string;
}): Promise<number> {
  const temporal = loadTemporalConfig();
  const feed = loadFeedConfig();
  if (!feed.databaseUrl)
    throw new ConfigError('DATABASE_URL is not set: the PostgreSQL copy to apply the feed to.');
  const codec = loadCodecConfig();
  // Its own endpoint, like a worker's: the feed's lag and dead letters, and the SDK's metrics.
  const metricsUrl = await installRuntime({ logLevel: loadLogLevel(), metrics: loadMetricsConfig() });
  const dataConverter = dataConverterFor(codec);
  const connection = await NativeConnection.connect(temporalConnectionOptions(temporal));
  const { client, close: closeClient } = await connectClient(temporal, codec);
  const objects = changes ?? changeObjects(loadLandingConfig());
  const service = await startFeedService({
    connection,
    client,
    namespace: temporal.namespace,
    dynamo: loadDynamoConfig(),
    feed: { ...feed, databaseUrl: feed.databaseUrl },
    ...objects,
    taskQueueSuffix: loadTaskQueueSuffix(),
    dataConverter,
  });
  onStopSignals(
    (sig) => {
      console.log(`${sig}: stopping (reads hand back what they have)`);
      void service.stop();
    },
    (sig, why) => {
      console.error(
        why === 'signal' ? `${sig} again: exiting now` : 'the stop did not end in time: exiting now',
      );
      process.exit(1);
    },
  );
  console.log(
    `change feed polling ${feedTaskQueue(loadTaskQueueSuffix())}; change objects: ${objects.objects.where}; migrations applied now: ${service.migrations.join(', ') || 'none'}; consumers started now: ${service.consumersStarted.join(', ') || 'none (already running)'}; metrics ${metricsUrl ?? 'off (METRICS_PORT=off)'}`,
  );
  await service.done;
  // Joins the stop a signal asked for (or closes the pool after a worker that ended by itself).
  const ended = await service.stop();
  await within(closeClient(), 5_000, undefined);
  // A worker left running still holds the connection: the exit closes it.
  if (ended === 'drained') await within(connection.close(), 5_000, undefined);
  if (ended === 'forced') {
    console.error(
      'stopped with a read still running after the grace period: it is retried on the next start',
    );
    return 1;
  }
  console.log('stopped: every read handed back what it had');
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  exitWith(() => runFeedService());
}
