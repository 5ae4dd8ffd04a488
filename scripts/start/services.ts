/**
 * What `npm start` runs in its own process once the servers are up: the landing bucket checked
 * (created locally), the Temporal runtime and the sync's workers, the tables, the client and the
 * change feed; and how they stop (src/shutdown.ts: a grace period, then cancelled, then left).
 */
import { join } from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { connectClient } from '../../src/client.js';
import { type CodecConfig, dataConverterFor } from '../../src/codec/index.js';
import { changeObjects, startFeedService } from '../../src/feed/service.js';
import { describeFeed } from './feed-report.js';
import { checkLandingBucket, createS3Client, ensureLandingBucket } from '../../src/landing/index.js';
import type { FeedConfig } from '../../src/config/feed.js';
import type { Config } from '../../src/config/index.js';
import { temporalConnectionOptions } from '../../src/config/temporal.js';
import { within } from '../../src/shutdown.js';
import { ensureTables } from '../../src/store/index.js';
import { createWorkersFromConfig, installRuntime, runWorkers } from '../../src/worker.js';

/** Checks the landing bucket (creates it on the local object server) and says where answers land. */
export async function prepareLanding(config: Config, localObjects: boolean, dataDir: string): Promise<void> {
  if (!config.landing) {
    console.log('landing zone       off (LANDING=off): answers are not kept, runs cannot be replayed');
    return;
  }
  const s3 = createS3Client(config.landing);
  const where = `s3://${config.landing.bucket}/${config.landing.prefix}raw/`;
  if (localObjects) {
    const bucket = await ensureLandingBucket(s3, config.landing);
    const kept =
      bucket.retention === 'applied'
        ? `kept ${config.landing.retentionDays} days`
        : `${bucket.retention}: kept until deleted`;
    console.log(
      `landing zone       ${where} = ${join(dataDir, 'objects', config.landing.bucket, 'raw')}/ (${kept})`,
    );
  } else {
    await checkLandingBucket(s3, config.landing.bucket);
    console.log(`landing zone       ${where}`);
  }
  s3.destroy();
}

/** The running services: what the first run needs, and their stop. */
export type Services = Awaited<ReturnType<typeof startServices>>;

/** Starts the workers and the change feed; `stop()` stops both (bounded) and closes their clients. */
export async function startServices(
  config: Config,
  feedConfig: FeedConfig,
  databaseUrl: string,
  codec: CodecConfig | undefined,
) {
  const metricsUrl = await installRuntime({ logLevel: config.worker.logLevel, metrics: config.metrics });
  console.log(`worker metrics     ${metricsUrl ?? 'off (METRICS_PORT=off)'}`);
  const nativeConnection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const { workers, store, queues } = await createWorkersFromConfig(config, nativeConnection, codec);
  const created = await ensureTables(store.clients.raw, store.names);
  console.log(
    `tables             ${Object.values(store.names).join(', ')}${created.length ? ' (created now)' : ''}`,
  );
  const stopWorkers = new AbortController();
  const workersDone = runWorkers(workers, stopWorkers.signal);
  const { client } = await connectClient(config.temporal, codec);
  const feed = await startFeedService({
    connection: nativeConnection,
    client,
    namespace: config.temporal.namespace,
    dynamo: config.dynamo,
    feed: { ...feedConfig, databaseUrl },
    ...changeObjects(config.landing),
    taskQueueSuffix: config.taskQueueSuffix,
    dataConverter: dataConverterFor(codec),
  });
  console.log(`change feed        ${describeFeed(feed, config.landing)}`);
  const stop = async () => {
    // Both asked at once; each ends within its grace and cancel periods.
    stopWorkers.abort();
    const [workersEnded, feedEnded] = await Promise.all([workersDone, feed.stop()]);
    if (workersEnded === 'forced' || feedEnded === 'forced')
      console.error(
        'stopped with activities still running after the grace period: they are retried on the next start',
      );
    // A worker left running still holds the connection: the process exit closes it. The client
    // connection is left to process exit too: a progress poll may still be using it.
    else await within(nativeConnection.close(), 5_000, undefined);
    store.clients.raw.destroy();
  };
  return { client, store, queues, feed, feedConfig, stop };
}
