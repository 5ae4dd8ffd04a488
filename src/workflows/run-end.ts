/**
 * The end of a parent run: its notices and follow-up step, and its row in `sync_runs`. None of
 * them ever fails the run: each outcome is written into the summary. Deterministic code only.
 */
import {
  ParentClosePolicy,
  log,
  patched,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { NotifyActivities, SyncRunActivities, SyncRunRecord } from '../activities/types.js';
import type { RunKind, SyncSummary } from '../shared/summary.js';
import { TEMPORAL_SCHEDULED_START_TIME } from '../shared/search-attributes.js';
import { feedQueueFor } from '../shared/task-queues.js';
import { reasonOf } from './common.js';
import { recordSyncRunWorkflow } from './sync-run.js';
import type { SalesSyncInput } from './types.js';

/** Notices and the follow-up step: on the workflow task queue, outside the vendor's rate limit. */
const notifier = proxyActivities<NotifyActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumAttempts: 5 },
});

/**
 * A schedule-started run that began this long after its scheduled time is a backfill: Temporal
 * marks backfilled runs no differently (temporalio/temporal#5005), and the schedule itself runs
 * a missed hour at most its catch-up window (1 h) late. A run buffered behind a slower one for
 * over an hour is called a backfill too.
 */
const BACKFILL_LAG_MS = 3_600_000;

/** What started this run, from its input, its ID and the schedule's search attribute. */
export function runKind(input: SalesSyncInput): RunKind {
  if (input.replay) return input.replay.dryRun ? 'dry-run replay' : 'replay';
  // A sweep is started by its own schedule (or triggered): what it is matters more than when.
  if (input.sweep) return input.sweep === 'full' ? 'full sweep' : 'sweep';
  const info = workflowInfo();
  if (info.workflowId.startsWith('sales-sync-backfill-')) return 'backfill';
  const scheduled = info.typedSearchAttributes.get(TEMPORAL_SCHEDULED_START_TIME);
  if (!scheduled) return 'manual';
  return info.startTime.getTime() - scheduled.getTime() > BACKFILL_LAG_MS ? 'backfill' : 'scheduled';
}

/** How the run ended, as notices and sync_runs say it. */
export interface RunEnd {
  status: 'succeeded' | 'failed';
  reason?: string;
}

/**
 * The run's notices (webhook, SNS) and its follow-up step. A replay or dry run sends neither
 * unless it was asked to (`--notify`): it fetched nothing new, and a follow-up job started on
 * would-be counts would act on data that was not written.
 */
export async function sendNotices(input: SalesSyncInput, summary: SyncSummary, end: RunEnd): Promise<void> {
  if (input.replay && input.replay.notify !== true && patched('replay-quiet-notices')) return;
  const workflowId = workflowInfo().workflowId;
  const kind = summary.kind ?? runKind(input);
  const noticeInput = { workflowId, kind, status: end.status, reason: end.reason, summary };
  const notices: string[] = [];
  for (const [name, step] of [
    ['webhook', notifier.notifyWebhook],
    ['sns', notifier.notifySns],
  ] as const) {
    try {
      if ((await step(noticeInput)) === 'sent') notices.push(`sent to ${name}`);
    } catch (err) {
      notices.push(`${name} could not be sent: ${reasonOf(err)}`);
      log.error('run notice could not be sent', { destination: name, error: reasonOf(err) });
    }
  }
  summary.notice = notices.length ? notices.join('; ') : null;
  // The follow-up step runs only when every branch succeeded: a branch skipped because another
  // run held it was not synced by this run, so it is not a success either.
  if (summary.failedBranches.length === 0 && summary.skippedBranches.length === 0) {
    try {
      summary.followUp = (await notifier.followUp({ workflowId, kind, summary })) ? 'done' : null;
    } catch (err) {
      summary.followUp = `failed: ${reasonOf(err)}`;
    }
  }
}

/** The run's row of `sync_runs`. */
function syncRunRecord(input: SalesSyncInput, summary: SyncSummary, end: RunEnd): SyncRunRecord {
  const info = workflowInfo();
  const status =
    end.status === 'failed'
      ? 'failed'
      : summary.failedBranches.length || summary.skippedBranches.length
        ? 'partial'
        : 'succeeded';
  return {
    workflowId: info.workflowId,
    runId: info.firstExecutionRunId,
    kind: summary.kind ?? runKind(input),
    window: summary.window,
    status,
    summary,
    startedAt: info.startTime.toISOString(),
    endedAt: new Date().toISOString(),
  };
}

/**
 * Writes the run's row into `sync_runs` through the change feed's worker (the one process with
 * PostgreSQL): a child workflow on the feed's task queue, started and abandoned, so the run never
 * waits for the feed and the row arrives whenever a feed worker polls. Runs that began before the
 * child existed keep the direct activity call they started with (patch `record-sync-run`).
 */
export async function recordSyncRun(input: SalesSyncInput, summary: SyncSummary, end: RunEnd): Promise<void> {
  if (input.feedTaskQueue === null) return;
  const info = workflowInfo();
  const taskQueue = input.feedTaskQueue ?? feedQueueFor(info.taskQueue);
  if (patched('sync-run-child')) {
    const workflowId = `sales-sync-run-record/${info.workflowId}/${info.firstExecutionRunId}`;
    try {
      await startChild(recordSyncRunWorkflow, {
        workflowId,
        taskQueue,
        args: [syncRunRecord(input, summary, end)],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        // A deployment that never runs the feed does not pile up waiting records for ever.
        workflowExecutionTimeout: '7 days',
      });
      summary.syncRun = `handed to ${workflowId}`;
    } catch (err) {
      summary.syncRun = `not recorded: ${reasonOf(err)}`;
      log.warn('the run could not be recorded in sync_runs', { error: reasonOf(err) });
    }
    return;
  }
  if (!patched('record-sync-run')) return;
  const recorder = proxyActivities<SyncRunActivities>({
    taskQueue,
    scheduleToCloseTimeout: '15s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5s' },
  });
  try {
    await recorder.recordSyncRun(syncRunRecord(input, summary, end));
    summary.syncRun = 'recorded';
  } catch (err) {
    summary.syncRun = `not recorded: ${reasonOf(err)}`;
    log.warn('the run could not be recorded in sync_runs', { error: reasonOf(err) });
  }
}
