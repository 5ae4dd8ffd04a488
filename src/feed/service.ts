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
import { type DynamoConfig, loadDynamoConfig } from '../config/aws.js';
import { type FeedConfig, loadFeedConfig } from '../config/feed.js';
import { type LandingConfig, loadLandingConfig } from '../config/landing.js';
import { loadMetricsConfig } from '../config/metrics.js';
import { loadTemporalConfig, temporalConnectionOptions } from '../config/temporal.js';
import { loadLogLevel, loadTaskQueueSuffix } from '../config/worker.js';
import { ConfigError } from '../shared/errors.js';
import { copyDifferences } from './compare.js';
import { createPool, migrate } from '../sql/db.js';
import type { Store } from '../store/index.js';
import type { FeedTable } from './events.js';
import { createDynamoClients } from '../store/client.js';
import { ensureTables, tableNames } from '../store/tables.js';
import type { ChangeObjectStore } from './objects.js';
import { s3ObjectStore } from './s3-store.js';
import { createS3Client } from '../landing/index.js';
import { installRuntime } from '../metrics/runtime.js';
import { onStopSignals, shutdownWorker, within, workerEnded } from '../shutdown.js';
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
      ...(o.afterPut ? { afterPut: o.afterPut } : {}),
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

/** One line for `npm start`: where the change objects go and the consumers. */
export function describeFeed(feed: FeedService, landing: LandingConfig | null): string {
  const path = landing
    ? `s3://${landing.bucket}/${landing.prefix}changes/<table>/<yyyy>/<mm>/<dd>/<hh>/ -> PostgreSQL`
    : 'PostgreSQL; no change objects (LANDING=off)';
  const started = feed.consumersStarted.length ? 'started now' : 'running';
  return `DynamoDB Streams -> ${path}; consumers ${feedWorkflowId('<table>' as FeedTable)} (${started})`;
}

/** Longest one comparison of the copy may wait on PostgreSQL before the check gives up. */
const COPY_CHECK_CALL_MS = 10_000;

/**
 * Waits until the SQL copy equals DynamoDB (at most `timeoutMs`) and says how it went: the rows
 * and the wait, or what still differs. It never waits longer: a PostgreSQL that fails or does not
 * answer within 10 s ends the check with what it said.
 */
export async function waitForCopy(store: Store, pool: pg.Pool, timeoutMs: number): Promise<string> {
  const t0 = Date.now();
  let diff: string[] = [];
  const late = Symbol('late');
  const call = async <T>(p: Promise<T>): Promise<T> => {
    const r = await within<T | typeof late>(p, COPY_CHECK_CALL_MS, late);
    if (r === late) throw new Error(`PostgreSQL did not answer within ${COPY_CHECK_CALL_MS / 1000} s`);
    return r;
  };
  try {
    while (Date.now() - t0 < timeoutMs) {
      diff = await call(copyDifferences(store, pool, 3));
      if (diff.length === 0) {
        const { rows } = await call(
          pool.query<{ t: string; n: string }>(
            `SELECT 'branches' t, count(*) n FROM branches UNION ALL SELECT 'salespersons', count(*) FROM salespersons UNION ALL SELECT 'sales', count(*) FROM sales`,
          ),
        );
        return `equals DynamoDB field by field (${rows.map((r) => `${r.n} ${r.t}`).join(', ')}), ${((Date.now() - t0) / 1000).toFixed(1)} s after the run`;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  } catch (err) {
    return `not checked: ${(err as Error).message}`;
  }
  return `not caught up after ${timeoutMs / 1000} s: ${diff.join('; ')}`;
}

/**
 * SIGTERM or SIGINT: reads hand back what they have, the worker drains within its grace period;
 * exit 0 once drained, 1 when a read had to be left running. A second signal exits at once.
 */
async function main(): Promise<number> {
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
  const objects = changeObjects(loadLandingConfig());
  const service = await startFeedService({
    connection,
    client,
    namespace: temporal.namespace,
    dynamo: loadDynamoConfig(),
    feed: { ...feed, databaseUrl: feed.databaseUrl },
    ...objects,
    taskQueueSuffix: loadTaskQueueSuffix(),
    dataConverter,
    afterPut: faultFromEnv(process.env),
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
  await within(clientConnection.close(), 5_000, undefined);
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
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : err);
      process.exit(1);
    },
  );
}
