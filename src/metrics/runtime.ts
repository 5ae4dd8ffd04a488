/**
 * The Temporal runtime of a worker process (the sync's workers and the feed service): its
 * logger and its Prometheus endpoint, installed once before any worker or connection is made.
 */
import {
  DefaultLogger,
  GracefulShutdownPeriodExpiredError,
  Runtime,
  type LogLevel,
} from '@temporalio/worker';
import type { MetricsConfig } from '../config/metrics.js';
import { loadLogLevel } from '../config/worker.js';
import { ConfigError } from '../shared/errors.js';
import { metricsAddress, prometheusExporter } from './worker.js';

/**
 * Installs the Temporal runtime, once per process, with two things:
 * - its logs, the native core's included, to stderr at `logLevel` (WORKER_LOG_LEVEL, default
 *   WARN), leaving out notices that say nothing wrong: the two every split worker logs at start
 *   ("no activities/workflows registered": this process polls workflows and activities on
 *   separate queues on purpose), and the core's note that a server does not advertise a
 *   capability (the time-skipping test server, at every worker start);
 * - with `metrics`, its Prometheus endpoint: the SDK's own metrics and the sync's (src/metrics),
 *   on one port. Returns the endpoint's URL (null without `metrics`).
 */
export async function installRuntime(
  options: { logLevel?: LogLevel; metrics?: MetricsConfig | null } = {},
): Promise<string | null> {
  const level = options.logLevel ?? loadLogLevel();
  const expected =
    /^No (activities|workflows) registered|did not advertise the activity_failure_include_heartbeat capability/;
  const address = options.metrics ? await metricsAddress(options.metrics.bind, options.metrics.port) : null;
  try {
    Runtime.install({
      logger: new DefaultLogger(level, (entry) => {
        if (expected.test(entry.message)) return;
        // A worker left after its grace period: the process says so in its own words.
        if (entry.meta?.error instanceof GracefulShutdownPeriodExpiredError) return;
        const meta = entry.meta && Object.keys(entry.meta).length ? ` ${JSON.stringify(entry.meta)}` : '';
        console.error(
          `${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} [${entry.level}] ${entry.message}${meta}`,
        );
      }),
      telemetryOptions: {
        // The core's own logs go through the logger above instead of straight to the console.
        logging: { filter: { core: level, other: 'ERROR' }, forward: {} },
        ...(address ? { metrics: prometheusExporter(address.bindAddress) } : {}),
      },
    });
  } catch (err) {
    if (!address) throw err;
    throw new ConfigError(
      `the metrics endpoint cannot listen on ${address.bindAddress} (METRICS_BIND, METRICS_PORT): ${(err as Error).message}. Each worker on a machine needs its own METRICS_PORT (0: a free port; off: no endpoint).`,
      { cause: err },
    );
  }
  return address?.url ?? null;
}
