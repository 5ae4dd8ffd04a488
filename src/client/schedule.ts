/**
 * The hourly schedule: create or update, pause, unpause, trigger, backfill, describe; and the
 * reconcile's daily schedule (create or update).
 * The same schedule can be driven by the official Temporal CLI (`temporal schedule ...`).
 */
import {
  type Client,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type ScheduleHandle,
  type ScheduleOptions,
} from '@temporalio/client';
import { SCHEDULE_ID } from '../shared/ids.js';
import type { TaskQueues } from '../shared/task-queues.js';
import { reconcileWorkflow, salesSyncWorkflow } from '../workflows/index.js';
import type { SalesSyncInput } from '../workflows/types.js';

/** What the schedule runs and how. */
export interface ScheduleSettings {
  scheduleId?: string;
  queues: TaskQueues;
  input: SalesSyncInput;
  /** Every how many minutes (default 60, on the hour). */
  everyMinutes?: number;
}

/**
 * Overlap policy BUFFER_ONE: if a run is still going when the next hour comes (a slow
 * vendor, a long backfill), the next run starts right after it instead of being dropped,
 * and at most one waits, so a stall never piles up a queue of runs. Each run syncs the
 * 24 hours before its scheduled time, so the windows overlap and a run that waited loses
 * nothing.
 *
 * Catchup window 1 hour: after an outage of the cluster or of all workers, only the most
 * recent missed hour is run (its 24-hour window covers the hours before it). An outage
 * longer than the window needs `backfill`.
 */
export const OVERLAP_POLICY = ScheduleOverlapPolicy.BUFFER_ONE;
export const CATCHUP_WINDOW = '1h';

function scheduleOptions(s: ScheduleSettings): ScheduleOptions {
  const every = s.everyMinutes ?? 60;
  return {
    scheduleId: s.scheduleId ?? SCHEDULE_ID,
    spec: { intervals: [{ every: `${every}m` }] },
    action: {
      type: 'startWorkflow',
      workflowType: salesSyncWorkflow,
      // Temporal appends the scheduled time: sales-sync-hourly-2026-11-21T05:00:00Z.
      workflowId: s.scheduleId ?? SCHEDULE_ID,
      taskQueue: s.queues.workflows,
      args: [{ vendorTaskQueue: s.queues.vendor, ...s.input }],
      staticSummary: 'Hourly sales sync: the 24 hours before the scheduled time',
    },
    policies: { overlap: OVERLAP_POLICY, catchupWindow: CATCHUP_WINDOW, pauseOnFailure: false },
    state: { note: 'Created by the sales-sync CLI' },
  };
}

/** Creates the schedule, or updates it in place when it exists. Returns 'created' or 'updated'. */
export async function upsertSchedule(client: Client, s: ScheduleSettings): Promise<'created' | 'updated'> {
  return upsertScheduleOptions(client, scheduleOptions(s));
}

/** Creates a schedule, or updates its spec, action and policies in place (its state is kept). */
export async function upsertScheduleOptions(
  client: Client,
  opts: ScheduleOptions,
): Promise<'created' | 'updated'> {
  const handle = client.schedule.getHandle(opts.scheduleId);
  try {
    await handle.update((prev) => ({
      ...prev,
      spec: opts.spec,
      action: opts.action,
      policies: { ...prev.policies, ...opts.policies },
    }));
    return 'updated';
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
  await client.schedule.create(opts);
  return 'created';
}

/** The schedule's handle, with a clear error when it does not exist. */
export async function scheduleHandle(client: Client, scheduleId = SCHEDULE_ID): Promise<ScheduleHandle> {
  const handle = client.schedule.getHandle(scheduleId);
  try {
    await handle.describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) {
      throw new Error(
        `Schedule ${scheduleId} does not exist. Create it with \`npm run cli -- schedule create\`.`,
        { cause: err },
      );
    }
    throw err;
  }
  return handle;
}

/**
 * Starts one run per scheduled hour in [from, to) (both rounded down to the hour). The
 * runs are buffered one after the other (BUFFER_ALL): they share the vendor quota anyway,
 * and each syncs the window before its own scheduled hour.
 */
export async function backfill(handle: ScheduleHandle, from: Date, to: Date): Promise<number> {
  if (!(from < to))
    throw new Error(`backfill: --from (${from.toISOString()}) must be before --to (${to.toISOString()}).`);
  await handle.backfill([
    { start: from, end: new Date(to.getTime() - 1), overlap: ScheduleOverlapPolicy.BUFFER_ALL },
  ]);
  const hour = 3_600_000;
  return Math.ceil(to.getTime() / hour) - Math.ceil(from.getTime() / hour);
}

/** ID of the reconcile's schedule (with the deployment's task queue suffix). */
export function reconcileScheduleId(suffix = ''): string {
  return `sales-sync-reconcile${suffix}`;
}

/** What the reconcile's schedule runs and how. */
export interface ReconcileScheduleSettings {
  /** The feed's task queue (its worker runs the workflow and activities). */
  taskQueue: string;
  /** The deployment's task queue suffix (part of the schedule's and the runs' IDs). */
  suffix?: string;
  /** Repair what is found (RECONCILE_REPAIR), or only report it. */
  repair: boolean;
  /** Every how many hours (default 24: daily, at 03:00 UTC). */
  everyHours?: number;
  settleSeconds?: number;
}

/**
 * The reconcile's own schedule (`sales-sync-reconcile`): daily at 03:00 UTC by default, away
 * from the hour the sync's runs start on. Overlap SKIP: a reconcile still going when the next is
 * due makes it pointless; catchup window 1 hour: a missed one waits for the next day.
 */
export async function upsertReconcileSchedule(
  client: Client,
  s: ReconcileScheduleSettings,
): Promise<'created' | 'updated'> {
  const every = s.everyHours ?? 24;
  const id = reconcileScheduleId(s.suffix);
  return upsertScheduleOptions(client, {
    scheduleId: id,
    spec: { intervals: [{ every: `${every}h`, offset: `${every === 24 ? 3 : 0}h` }] },
    action: {
      type: 'startWorkflow',
      workflowType: reconcileWorkflow,
      workflowId: id,
      taskQueue: s.taskQueue,
      args: [
        { repair: s.repair, ...(s.settleSeconds !== undefined ? { settleSeconds: s.settleSeconds } : {}) },
      ],
      staticSummary: `Reconcile the SQL copy with DynamoDB${s.repair ? ' and repair it' : ' (report only)'}`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1h', pauseOnFailure: false },
    state: { note: 'Created by the sales-sync CLI' },
  });
}
