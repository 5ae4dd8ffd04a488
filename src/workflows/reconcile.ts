/**
 * Reconcile and repair as a workflow (`reconcileWorkflow`, on the feed's task queue: its worker
 * has the PostgreSQL pool and DynamoDB): one activity per table, in parallel, each comparing the
 * copy with DynamoDB item by item and, with `repair`, making them equal (src/feed/reconcile.ts).
 * Started by its daily schedule (src/client/schedule.ts) or `npm run cli -- reconcile`. It records
 * what it found in the `sales_sync_reconcile_differences` gauge (by table and kind) and returns
 * the report: counts and a few example keys, never items.
 */
import { metricMeter, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import { RECONCILE } from '../metrics/definitions.js';
import { SYNCED_TABLES } from '../shared/tables.js';
import {
  DEFAULT_SETTLE_SECONDS,
  DIFFERENCE_KINDS,
  type ReconcileActivities,
  type ReconcileInput,
  type ReconcileReport,
  type TableReport,
} from '../shared/reconcile.js';

/** A lost worker is noticed within 2 minutes; an attempt starts the table again (it only compares, and repairs idempotently). */
const { reconcileTable } = proxyActivities<ReconcileActivities>({
  startToCloseTimeout: '12h',
  heartbeatTimeout: '2m',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 5 },
});

function describe(repair: boolean, tables: TableReport[]): string {
  return tables
    .map((t) => {
      const n = DIFFERENCE_KINDS.reduce((s, k) => s + t.found[k], 0);
      const kinds = DIFFERENCE_KINDS.filter((k) => t.found[k] > 0).map((k) => `${t.found[k]} ${k}`);
      return `${t.table}: ${t.items} items, ${n ? `${n} differences (${kinds.join(', ')})` : 'no difference'}${repair ? `, ${t.repaired} repaired` : ''}`;
    })
    .join('; ');
}

/** Compares (and with `repair`, repairs) each table of the copy; returns what it found. */
export async function reconcileWorkflow(input: ReconcileInput = {}): Promise<ReconcileReport> {
  const repair = input.repair ?? false;
  const settleSeconds = input.settleSeconds ?? DEFAULT_SETTLE_SECONDS;
  const tables = input.tables ?? [...SYNCED_TABLES];
  setCurrentDetails(`reconciling ${tables.join(', ')}${repair ? ' (repair)' : ' (report only)'}`);
  const reports = await Promise.all(tables.map((table) => reconcileTable({ table, repair, settleSeconds })));
  const gauge = metricMeter.createGauge(
    RECONCILE.differences.name,
    'int',
    undefined,
    RECONCILE.differences.help,
  );
  for (const t of reports)
    for (const kind of DIFFERENCE_KINDS) gauge.set(t.found[kind], { table: t.table, kind });
  setCurrentDetails(describe(repair, reports));
  return { repair, tables: reports };
}
