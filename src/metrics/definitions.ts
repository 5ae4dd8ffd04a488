/**
 * Every metric of the sync, in one place: name, help text, labels and their values, histogram
 * buckets. Pure data, so the workflows (src/metrics/run.ts), the worker (src/metrics/worker.ts),
 * the alert rules' and dashboard's tests read the same definitions.
 *
 * Names follow Prometheus conventions: base units (`_seconds`), and counters end in `_total`
 * once exported (the Temporal runtime's exporter adds it: `countersTotalSuffix`, so `name` here
 * is without it). Labels take a few values fixed by the code, never a record id, a salesperson
 * id or a branch name: a branch list can be `all` (as long as the vendor's), and which branch
 * failed is in the run's summary, its notice and the Web UI. docs/metrics.md lists them all.
 */

import { SYNCED_TABLES } from '../shared/tables.js';

/** The `table` label's values: the synced tables (the summary's names). */
export const TABLES = SYNCED_TABLES;
/** What happened to an item a run judged (inserted + updated + unchanged + set_aside = judged). */
export const ITEM_OUTCOMES = ['inserted', 'updated', 'unchanged', 'set_aside'] as const;
/** How a run ended. */
export const RUN_OUTCOMES = ['succeeded', 'failed'] as const;
/** What became of each requested branch (the summary's branchesSynced, unknown, failed, skipped). */
export const BRANCH_OUTCOMES = ['synced', 'unknown', 'failed', 'skipped'] as const;
/** The vendor paths the client calls (the path only: the query names ids). */
export const VENDOR_PATHS = ['/branches', '/employees', '/sales'] as const;
/** `status` of a request that got no HTTP answer (timeout, refused or dropped connection). */
export const NO_ANSWER = 'none';

/** Seconds above which a finished run is "slow" (the SalesSyncRunSlow alert): a bucket bound below. */
export const SLOW_RUN_SECONDS = 2700;

export interface MetricDef {
  /** Name as created; the exporter adds `_total` to counters. */
  name: string;
  kind: 'counter' | 'histogram' | 'gauge';
  help: string;
  /** Label names this metric is recorded with (besides those the Temporal SDK adds). */
  labels: readonly string[];
  /** Histogram bucket upper bounds, in the metric's unit. */
  buckets?: readonly number[];
}

/** Metrics recorded by the vendor client, once per HTTP request (every activity attempt makes one). */
export const VENDOR = {
  requests: {
    name: 'sales_sync_vendor_requests',
    kind: 'counter',
    help: 'HTTP requests to the vendor, by path and HTTP status ("none": no answer: timeout or connection lost)',
    labels: ['path', 'status'],
  },
  retries: {
    name: 'sales_sync_vendor_request_retries',
    kind: 'counter',
    help: 'Vendor requests made by a retry (activity attempt 2 or later), by path',
    labels: ['path'],
  },
  duration: {
    name: 'sales_sync_vendor_request_duration_seconds',
    kind: 'histogram',
    help: 'Time from sending a vendor request to having its whole body (or its failure), by path',
    labels: ['path'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40],
  },
} as const satisfies Record<string, MetricDef>;

/**
 * Metrics of whole runs, recorded by the parent workflow when a run ends, from its summary: they
 * equal the summary by construction (src/metrics/run.ts says why they are not counted earlier).
 */
export const RUN = {
  runs: {
    name: 'sales_sync_runs',
    kind: 'counter',
    help: 'Sync runs that ended, by outcome',
    labels: ['outcome'],
  },
  duration: {
    name: 'sales_sync_run_duration_seconds',
    kind: 'histogram',
    help: 'Duration of ended sync runs, from start (of the first run of a continue-as-new chain) to end',
    labels: [],
    buckets: [60, 300, 600, 900, 1200, 1800, SLOW_RUN_SECONDS, 3600, 5400, 7200],
  },
  lastSuccess: {
    name: 'sales_sync_last_success_timestamp_seconds',
    kind: 'gauge',
    help: 'Unix time at which the last successful sync run (seen by this worker process) ended',
    labels: [],
  },
  branches: {
    name: 'sales_sync_branches',
    kind: 'counter',
    help: 'Branches requested by ended runs, by outcome (synced, unknown to the vendor, failed, skipped: another run held it)',
    labels: ['outcome'],
  },
  fetched: {
    name: 'sales_sync_items_fetched',
    kind: 'counter',
    help: 'Records received from the vendor by ended runs, by table',
    labels: ['table'],
  },
  items: {
    name: 'sales_sync_items',
    kind: 'counter',
    help: 'Records judged by ended runs, by table and outcome (inserted, updated, unchanged, set_aside: quarantined)',
    labels: ['table', 'outcome'],
  },
} as const satisfies Record<string, MetricDef>;

/** The listings a void guard holds back: a salesperson's sales, or a branch's salespersons (departures). */
export const GUARDED_LISTS = ['sales', 'salespersons'] as const;
/** What was seen for the first time (its whole history read). */
export const FIRST_SIGHT_KINDS = ['branch', 'salesperson'] as const;

/**
 * Completeness of ended runs (first loads, widened windows, voids, departures), recorded with
 * RUN from the summary's `completeness` (absent in a run that reports none: nothing is added).
 */
export const COMPLETENESS = {
  voided: {
    name: 'sales_sync_sales_voided',
    kind: 'counter',
    help: 'Sales marked voided by ended runs (no longer listed by a complete listing of their window)',
    labels: [],
  },
  restored: {
    name: 'sales_sync_sales_restored',
    kind: 'counter',
    help: 'Voided sales listed again by ended runs (their mark cleared)',
    labels: [],
  },
  departures: {
    name: 'sales_sync_departures',
    kind: 'counter',
    help: 'Salesperson memberships marked left by ended runs (no longer listed under their branch)',
    labels: [],
  },
  guardTrips: {
    name: 'sales_sync_void_guard_trips',
    kind: 'counter',
    help: 'Complete listings whose voids (sales) or departures (salespersons) the guard held back, by list',
    labels: ['list'],
  },
  widened: {
    name: 'sales_sync_windows_widened',
    kind: 'counter',
    help: "Branch windows that reached back to the branch's watermark (after an outage or a failed run)",
    labels: [],
  },
  firstSight: {
    name: 'sales_sync_first_sight',
    kind: 'counter',
    help: 'Branches and salespersons seen for the first time, whose whole history was read, by kind',
    labels: ['kind'],
  },
  voidAlertThreshold: {
    name: 'sales_sync_void_alert_threshold',
    kind: 'gauge',
    help: 'Sales voided in an hour above which SalesSyncManyVoids fires (VOID_ALERT_THRESHOLD of the worker)',
    labels: [],
  },
} as const satisfies Record<string, MetricDef>;

/**
 * Metrics of the change feed, recorded by its activities (src/feed/activities.ts) in the process
 * that runs the feed worker (`npm start`'s, or `npm run feed`'s own endpoint), per table.
 */
export const CHANGE_FEED = {
  lag: {
    name: 'sales_sync_change_feed_lag_seconds',
    kind: 'gauge',
    help: 'Age of the oldest change not yet applied by the change feed, by table (the largest of its shards read by this process)',
    labels: ['table'],
  },
  deadLetters: {
    name: 'sales_sync_change_feed_dead_letters',
    kind: 'counter',
    help: 'Changes the change feed could not apply and set aside in feed_dead_letter, by table',
    labels: ['table'],
  },
} as const satisfies Record<string, MetricDef>;

/** Every metric of the sync. */
export const ALL_METRICS: readonly MetricDef[] = [
  ...Object.values(VENDOR),
  ...Object.values(RUN),
  ...Object.values(COMPLETENESS),
  ...Object.values(CHANGE_FEED),
];

/** The name a metric is scraped under (counters get `_total`). */
export function exportedName(def: MetricDef): string {
  return def.kind === 'counter' ? `${def.name}_total` : def.name;
}

/** Histogram bucket overrides for the Temporal runtime's Prometheus exporter. */
export function histogramBuckets(): Record<string, number[]> {
  return Object.fromEntries(
    ALL_METRICS.filter((d) => d.buckets).map((d) => [d.name, [...(d.buckets ?? [])]]),
  );
}

/**
 * The reconcile's findings (src/workflows/reconcile.ts, on the feed's worker): a gauge set by
 * each reconcile, per table and kind (missing, deleted, different, extra: src/shared/reconcile.ts),
 * so it says what the last one found and returns to 0 when one finds nothing. Not in ALL_METRICS:
 * the feed's worker serves it, not the sync's.
 */
export const RECONCILE = {
  differences: {
    name: 'sales_sync_reconcile_differences',
    kind: 'gauge',
    help: 'Differences between the SQL copy and DynamoDB found by the last reconcile (after its settle time), by table and kind',
    labels: ['table', 'kind'],
  },
} as const satisfies Record<string, MetricDef>;
