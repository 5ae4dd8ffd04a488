/**
 * The worker process: builds its dependencies once (vendor client, DynamoDB clients,
 * store), then polls two task queues: workflows, and vendor activities under a
 * server-side rate limit equal to the vendor quota. Run as many as you like, on as many
 * machines: the rate limit is enforced by the Temporal server for the whole queue.
 *
 *   npm run worker            (settings from the environment: README, "Configuration")
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { SNSClient } from '@aws-sdk/client-sns';
import type { DataConverter } from '@temporalio/common';
import { createActivities } from './activities/index.js';
import { type CodecConfig, dataConverterFor, describeCodecConfig, loadCodecConfig } from './codec/index.js';
import { type NotifyActivities, createNotifyActivities } from './activities/notify.js';
import { createStateActivities } from './activities/state.js';
import type { StateActivities } from './activities/types.js';
import { StateStore } from './store/state.js';
import { type Config, loadConfig } from './config/index.js';
import { temporalConnectionOptions } from './config/temporal.js';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from './config/worker.js';
import { installRuntime } from './metrics/runtime.js';
import { initialSeries, vendorRequestMetrics } from './metrics/worker.js';
import { type TaskQueues, taskQueues } from './shared/task-queues.js';
import { Store, createDynamoClients, tableNames } from './store/index.js';
import { VendorClient } from './vendor-api/client.js';
import { Landing, checkLandingBucket } from './landing/index.js';
import { workflowBundle } from './workflow-bundle.js';
import { WORKER_SHUTDOWN_OPTIONS, onStopSignals, shutdownWorker, within, workerEnded } from './shutdown.js';
import { exitWith } from './node/main.js';

/** Installs the Temporal runtime (logs, Prometheus endpoint): src/metrics/runtime.ts, shared with the feed service. */
export { installRuntime } from './metrics/runtime.js';

/** Options of one worker process. */
export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  queues: TaskQueues;
  activities: ReturnType<typeof createActivities>;
  /** Activities of the workflow queue (notices, follow-up, the sync's state): they make no vendor request. */
  workflowActivities: NotifyActivities & StateActivities;
  /** Vendor requests per second for the whole vendor queue (all workers): the quota less headroom. */
  rateLimitRps: number;
  /** Payload encryption (PAYLOAD_ENCRYPTION_KEY); plain payloads when absent. */
  dataConverter?: DataConverter;
  /** Workflow runs kept in memory (WORKER_MAX_CACHED_WORKFLOWS). */
  maxCachedWorkflows?: number;
}

/**
 * The options of a process's two workers, without the workflow code: createWorkers adds the
 * product's bundle. The vendor queue's `maxTaskQueueActivitiesPerSecond` is the vendor quota
 * less a small headroom: the server dispatches at most that many vendor activities per second
 * to all workers together, and each activity attempt is exactly one request.
 */
export function workerOptions(setup: WorkerSetup): {
  workflows: Omit<WorkerOptions, 'workflowBundle' | 'workflowsPath'>;
  vendor: WorkerOptions;
} {
  const { connection, namespace, queues } = setup;
  return {
    workflows: {
      connection,
      namespace,
      taskQueue: queues.workflows,
      dataConverter: setup.dataConverter,
      maxCachedWorkflows: setup.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS,
      activities: setup.workflowActivities,
      ...WORKER_SHUTDOWN_OPTIONS,
    },
    vendor: {
      connection,
      namespace,
      taskQueue: queues.vendor,
      dataConverter: setup.dataConverter,
      activities: setup.activities,
      maxTaskQueueActivitiesPerSecond: setup.rateLimitRps,
      // Enough slots that requests waiting on vendor latency never starve the rate limit.
      maxConcurrentActivityTaskExecutions: Math.max(8, Math.ceil(setup.rateLimitRps * 2)),
      ...WORKER_SHUTDOWN_OPTIONS,
    },
  };
}

/** Creates the two workers of a process (workerOptions) with the product's workflow bundle. */
export async function createWorkers(setup: WorkerSetup): Promise<Worker[]> {
  const options = workerOptions(setup);
  const workflowWorker = await Worker.create({
    ...options.workflows,
    workflowBundle: await workflowBundle(),
  });
  return [workflowWorker, await Worker.create(options.vendor)];
}

/** Builds the activities' dependencies from configuration. */
function buildActivities(config: Config) {
  const clients = createDynamoClients(config.dynamo);
  const names = tableNames(config.dynamo.tablePrefix, config.dynamo.tableSuffix);
  const store = new Store(clients, names);
  // Clients of its own: the state's bookkeeping is counted apart from the synced tables' requests.
  const state = new StateStore(createDynamoClients(config.dynamo), names.sync_state);
  const vendor = new VendorClient({
    url: config.vendor.url,
    apiKey: config.vendor.apiKey,
    timeoutMs: config.vendor.timeoutMs,
    allowInsecureHttp: config.vendor.allowInsecureHttp,
    maxAnswerBytes: config.vendor.maxAnswerBytes,
    onRequest: vendorRequestMetrics(Runtime.instance().metricMeter),
  });
  const landing = config.landing ? Landing.fromConfig(config.landing) : null;
  const n = config.notify;
  const notify = createNotifyActivities({
    webhookUrl: n.webhookUrl,
    sns: n.snsTopicArn
      ? { client: new SNSClient({ region: config.dynamo.region }), topicArn: n.snsTopicArn }
      : undefined,
    setAsideThreshold: n.setAsideThreshold,
    followUpUrl: n.followUpUrl,
  });
  return {
    store,
    state,
    landing,
    activities: createActivities({ vendor, store, pageSize: config.vendor.pageSize, landing, state }),
    workflowActivities: { ...notify, ...createStateActivities({ store, state }) },
  };
}

/**
 * Builds everything one worker process runs from configuration: the activities (with their
 * clients, built once), and the two workers on the deployment's task queues.
 */
export async function createWorkersFromConfig(
  config: Config,
  connection: NativeConnection,
  codec: CodecConfig | undefined,
) {
  const { store, state, landing, activities, workflowActivities } = buildActivities(config);
  const queues = taskQueues(config.taskQueueSuffix);
  initialSeries(
    Runtime.instance().metricMeter,
    { namespace: config.temporal.namespace, taskQueue: queues.workflows },
    config.voidAlertThreshold,
  );
  const workers = await createWorkers({
    connection,
    namespace: config.temporal.namespace,
    queues,
    activities,
    workflowActivities,
    rateLimitRps: config.vendor.rateLimitRps,
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    dataConverter: dataConverterFor(codec),
  });
  // `state` too: the benchmark reports its requests apart from the synced tables'.
  return { workers, store, state, landing, queues };
}

/**
 * Runs workers until `signal` aborts; resolves once they have shut down: `forced` when one was
 * left with activities that did not end within its grace and cancel periods (src/shutdown.ts).
 */
export async function runWorkers(workers: Worker[], signal: AbortSignal): Promise<'drained' | 'forced'> {
  const onAbort = () => workers.forEach(shutdownWorker);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  const ends = await Promise.all(workers.map((w) => workerEnded(w.run(), signal)));
  return ends.includes('forced') ? 'forced' : 'drained';
}

/**
 * SIGTERM or SIGINT (what a container orchestrator sends): stop polling, let the running
 * activities finish, cancel them after the grace period; exit 0 once drained, 1 when an activity
 * had to be left running. A second signal, or the stop deadline, exits at once.
 */
async function main(): Promise<number> {
  const config = loadConfig();
  const codec = loadCodecConfig();
  const metricsUrl = await installRuntime({ logLevel: config.worker.logLevel, metrics: config.metrics });
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const { workers, queues, landing } = await createWorkersFromConfig(config, connection, codec);
  if (landing) await checkLandingBucket(landing.s3, landing.bucket);
  const stop = new AbortController();
  onStopSignals(
    (sig) => {
      console.log(
        `${sig}: stopping (running activities get ${WORKER_SHUTDOWN_OPTIONS.shutdownGraceTime / 1000} s to finish, then are cancelled)`,
      );
      stop.abort();
    },
    (sig, why) => {
      console.error(
        why === 'signal' ? `${sig} again: exiting now` : 'the stop did not end in time: exiting now',
      );
      process.exit(1);
    },
  );
  console.log(
    `worker polling ${queues.workflows} and ${queues.vendor} (vendor quota ${config.vendor.quotaRps}/s, dispatched at ${config.vendor.rateLimitRps}/s) on ${config.temporal.address}; ${describeCodecConfig(codec)}; ${landing ? `answers land in s3://${landing.bucket}/${landing.prefix}raw/` : 'landing zone off (LANDING=off)'}; metrics ${metricsUrl ?? 'off (METRICS_PORT=off)'}`,
  );
  const ended = await runWorkers(workers, stop.signal);
  // A worker left running still holds the connection: the exit closes it.
  if (ended === 'drained') await within(connection.close(), 5_000, undefined);
  if (ended === 'forced') {
    console.error(
      'stopped with activities still running after the grace period: their attempts are retried elsewhere',
    );
    return 1;
  }
  console.log('stopped: every task finished or was handed back');
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  exitWith(main);
}
