/**
 * The label names the worker's endpoint may serve and the values each may take (test/metrics.test.ts):
 * a fixed set, so no label carries an id or a branch name.
 */
import {
  BRANCH_OUTCOMES,
  FIRST_SIGHT_KINDS,
  GUARDED_LISTS,
  ITEM_OUTCOMES,
  RUN_OUTCOMES,
  TABLES,
  VENDOR_PATHS,
} from '../../src/metrics/definitions.js';
import { DIFFERENCE_KINDS } from '../../src/shared/reconcile.js';

/** Label name to a check of its value. */
export const ALLOWED_LABELS: Record<string, (v: string) => boolean> = {
  path: (v) => (VENDOR_PATHS as readonly string[]).includes(v),
  status: (v) => /^([1-5]\d\d|none)$/.test(v),
  table: (v) => (TABLES as readonly string[]).includes(v),
  outcome: (v) =>
    [...RUN_OUTCOMES, ...BRANCH_OUTCOMES, ...ITEM_OUTCOMES].includes(v as (typeof ITEM_OUTCOMES)[number]),
  le: (v) => v === '+Inf' || Number.isFinite(Number(v)),
  namespace: (v) => v === 'default',
  // The sync's run metrics come from its workflow queue; the copy's drift gauge from the feed's (the reconcile).
  taskQueue: (v) => v === 'sales-sync-workflows' || v === 'sales-sync-feed',
  // The change feed runs in the npm start process too: its queue, workflow and activities (src/feed).
  task_queue: (v) => /^sales-sync-(workflows|vendor|feed)$/.test(v),
  workflowType: (v) => v === 'salesSyncWorkflow' || v === 'reconcileWorkflow',
  workflow_type: (v) =>
    /^((sales|branch|salesperson)SyncWorkflow|changeFeedWorkflow|reconcileWorkflow|recordSyncRunWorkflow)$/.test(
      v,
    ),
  activity_type: (v) =>
    /^(lookupBranch|listBranchesPage|syncEmployeesPage|syncSalesPage|notify\w+|followUp|listShards|readShard|snapshotTable|recordSyncRun|reconcile\w+|branchState|checkVoids|markDepartures|markHistoryLoaded|advanceBranch)$/.test(
      v,
    ),
  service_name: (v) => v === 'temporal-core-sdk',
  worker_type: (v) => /^(WorkflowWorker|ActivityWorker|LocalActivityWorker|NexusWorker)$/.test(v),
  poller_type: (v) => /^\w+$/.test(v),
  operation: (v) => /^[A-Z]\w+$/.test(v),
  eager: (v) => v === 'true' || v === 'false',
  failure_reason: (v) => /^[A-Za-z]+$/.test(v),
  kind: (v) => [...DIFFERENCE_KINDS, ...FIRST_SIGHT_KINDS].includes(v as 'branch'),
  list: (v) => (GUARDED_LISTS as readonly string[]).includes(v),
};
