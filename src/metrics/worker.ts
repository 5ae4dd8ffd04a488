/**
 * The worker process's side of the metrics: the Temporal runtime's Prometheus exporter (one
 * endpoint serves the SDK's own metrics and the sync's), the vendor request metrics, the series
 * set to zero at start, and the change feed's lag and dead letters.
 */
import { createServer } from 'node:net';
import { Context } from '@temporalio/activity';
import type { MetricMeter } from '@temporalio/common';
import type { MetricsExporterConfig } from '@temporalio/worker';
import type { FeedTable } from '../shared/change-event.js';
import { SYNCED_TABLES } from '../shared/tables.js';
import { WORKFLOW_TYPES } from '../shared/workflow-types.js';
import {
  BRANCH_OUTCOMES,
  CHANGE_FEED,
  COMPLETENESS,
  FIRST_SIGHT_KINDS,
  GUARDED_LISTS,
  ITEM_OUTCOMES,
  NO_ANSWER,
  RUN,
  RUN_OUTCOMES,
  TABLES,
  VENDOR,
  VENDOR_PATHS,
  histogramBuckets,
} from './definitions.js';

/** Where `/metrics` listens: `host:port` for the exporter, and the URL to print. */
export interface MetricsAddress {
  bindAddress: string;
  url: string;
}

/**
 * The address of the endpoint for METRICS_BIND and METRICS_PORT; port 0 takes a free port now
 * (the exporter cannot say which port it bound, so it is chosen here and printed).
 */
export async function metricsAddress(bind: string, port: number): Promise<MetricsAddress> {
  const chosen = port || (await freePort(bind));
  const host = bind.includes(':') ? `[${bind}]` : bind;
  const shown = bind === '0.0.0.0' ? '127.0.0.1' : bind === '::' ? '[::1]' : host;
  return { bindAddress: `${host}:${chosen}`, url: `http://${shown}:${chosen}/metrics` };
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * The runtime's Prometheus exporter: counters end in `_total`, durations are in seconds, and
 * the sync's histograms get their own buckets.
 */
export function prometheusExporter(bindAddress: string): MetricsExporterConfig {
  return {
    prometheus: {
      bindAddress,
      countersTotalSuffix: true,
      unitSuffix: true,
      useSecondsForDurations: true,
      histogramBucketOverrides: histogramBuckets(),
    },
  };
}

/** One vendor HTTP request as the client saw it. `status` is null when no answer came. */
export interface VendorRequestOutcome {
  path: string;
  status: number | null;
  seconds: number;
}

/** The attempt number of the activity running this code (1 outside an activity). */
function activityAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

/**
 * Records each vendor request on `meter` (the runtime's): count by path and status, latency by
 * path, and whether a retry made it. Every request is counted, on every attempt: these are
 * requests, not pages (a page the run counts once may have taken several requests).
 */
export function vendorRequestMetrics(meter: MetricMeter): (r: VendorRequestOutcome) => void {
  const requests = meter.createCounter(VENDOR.requests.name, undefined, VENDOR.requests.help);
  const retries = meter.createCounter(VENDOR.retries.name, undefined, VENDOR.retries.help);
  const duration = meter.createHistogram(VENDOR.duration.name, 'float', undefined, VENDOR.duration.help);
  return (r) => {
    const path = (VENDOR_PATHS as readonly string[]).includes(r.path) ? r.path : 'other';
    requests.add(1, { path, status: r.status === null ? NO_ANSWER : String(r.status) });
    duration.record(r.seconds, { path });
    if (activityAttempt() > 1) retries.add(1, { path });
  };
}

/**
 * Sets the sync's counters to zero for every label value the alert rules read, so a series
 * exists before its first increment (Prometheus's increase() cannot see the step from no series
 * to 1). The run counters carry the labels the SDK adds to workflow metrics (namespace,
 * taskQueue, workflowType), so they are the very series the parent workflow increments; the
 * void alert's threshold (VOID_ALERT_THRESHOLD) is a gauge with the same labels, which
 * SalesSyncManyVoids compares the voids with.
 */
export function initialSeries(
  meter: MetricMeter,
  workflows: { namespace: string; taskQueue: string },
  voidAlertThreshold: number,
): void {
  const requests = meter.createCounter(VENDOR.requests.name, undefined, VENDOR.requests.help);
  const retries = meter.createCounter(VENDOR.retries.name, undefined, VENDOR.retries.help);
  for (const path of VENDOR_PATHS) {
    requests.add(0, { path, status: '429' });
    retries.add(0, { path });
  }
  const run = meter.withTags({ ...workflows, workflowType: WORKFLOW_TYPES.salesSync });
  const counter = (d: { name: string; help: string }) => run.createCounter(d.name, undefined, d.help);
  const runs = counter(RUN.runs);
  for (const outcome of RUN_OUTCOMES) runs.add(0, { outcome });
  const branches = counter(RUN.branches);
  for (const outcome of BRANCH_OUTCOMES) branches.add(0, { outcome });
  const fetched = counter(RUN.fetched);
  const items = counter(RUN.items);
  for (const table of TABLES) {
    fetched.add(0, { table });
    for (const outcome of ITEM_OUTCOMES) items.add(0, { table, outcome });
  }
  for (const d of [COMPLETENESS.voided, COMPLETENESS.restored, COMPLETENESS.departures, COMPLETENESS.widened])
    counter(d).add(0);
  const trips = counter(COMPLETENESS.guardTrips);
  for (const list of GUARDED_LISTS) trips.add(0, { list });
  const firstSight = counter(COMPLETENESS.firstSight);
  for (const kind of FIRST_SIGHT_KINDS) firstSight.add(0, { kind });
  const threshold = COMPLETENESS.voidAlertThreshold;
  run.createGauge(threshold.name, 'int', undefined, threshold.help).set(voidAlertThreshold);
}

/** What the feed's activities report to the metrics (feedMetrics below). */
export interface FeedMetrics {
  /** The age of the oldest change of `shard` not yet applied; `done`: the shard has no more. */
  lag(table: FeedTable, shard: string, ms: number, done: boolean): void;
  /** Events of `table` set aside in the dead letter. */
  deadLettered(table: FeedTable, count: number): void;
}

/** A shard's lag is forgotten when no read has reported it for this long (another process reads it now). */
const SHARD_LAG_KEPT_MS = 10 * 60_000;

/**
 * The change feed's metrics on `meter` (the runtime's): the lag per table (the largest of the shards this process read lately, a shard
 * read to its end dropped) and the dead-lettered changes per table, which exist at 0 from the
 * start so increase() sees the first.
 */
export function feedMetrics(meter: MetricMeter): FeedMetrics {
  const lag = meter.createGauge(CHANGE_FEED.lag.name, 'float', undefined, CHANGE_FEED.lag.help);
  const dead = meter.createCounter(CHANGE_FEED.deadLetters.name, undefined, CHANGE_FEED.deadLetters.help);
  for (const table of SYNCED_TABLES) dead.add(0, { table });
  const shards = new Map<FeedTable, Map<string, { ms: number; at: number }>>();
  return {
    lag(table, shard, ms, done) {
      const now = Date.now();
      const known = shards.get(table) ?? new Map<string, { ms: number; at: number }>();
      shards.set(table, known);
      if (done) known.delete(shard);
      else known.set(shard, { ms, at: now });
      let max = 0;
      for (const [id, s] of known)
        if (now - s.at > SHARD_LAG_KEPT_MS) known.delete(id);
        else max = Math.max(max, s.ms);
      lag.set(max / 1000, { table });
    },
    deadLettered(table, count) {
      dead.add(count, { table });
    },
  };
}
